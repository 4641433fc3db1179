"""Where a payment waiting for 3-D Secure sends the customer."""

from __future__ import annotations

from processors.kit.bounded import BoundedMap

_REMEMBERED = 10_000


class RedirectBook:
    """The `redirect` URL from the create answer when this process made the payment, otherwise
    the hosted authentication page Razorpay's redirects lead to, on the API's host
    (`/v1/payments/{id}/authenticate`), since a payment entity read later does not carry
    `next`."""

    def __init__(self, api_base: str) -> None:
        self._api_base = api_base.rstrip("/")
        self._urls: BoundedMap[str, str] = BoundedMap(_REMEMBERED)

    def remember(self, payment_id: str, url: str) -> None:
        self._urls.put(payment_id, url)

    def url_for(self, payment_id: str) -> str:
        return (
            self._urls.get(payment_id) or f"{self._api_base}/v1/payments/{payment_id}/authenticate"
        )
