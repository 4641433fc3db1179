"""`client.orders`: create, pay, retrieve and list orders."""

from __future__ import annotations

import urllib.parse
from collections.abc import Iterator, Mapping
from typing import Any

from payloops.sdk._http import Transport
from payloops.sdk._types import Order, OrderPage, order_from_json

PaymentMethodParam = Mapping[str, Any]


class Orders:
    def __init__(self, transport: Transport) -> None:
        self._transport = transport

    def create(
        self,
        amount: int,
        currency: str,
        *,
        capture_method: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, str] | None = None,
        return_url: str | None = None,
        idempotency_key: str | None = None,
    ) -> Order:
        """Creates an order in status requires_payment_method. `amount` is in minor units
        (4999 = $49.99); `capture_method` is "automatic" (default) or "manual"."""
        body: dict[str, object] = {"amount": amount, "currency": currency}
        if capture_method is not None:
            body["capture_method"] = capture_method.upper()
        if description is not None:
            body["description"] = description
        if metadata is not None:
            body["metadata"] = dict(metadata)
        if return_url is not None:
            body["return_url"] = return_url
        response = self._transport.request(
            "POST", "/v1/orders", body=body, idempotency_key=idempotency_key
        )
        return order_from_json(response.body)

    def pay(
        self,
        order_id: str,
        payment_method: PaymentMethodParam | str,
        *,
        idempotency_key: str | None = None,
    ) -> Order:
        """Pays an order, such as with `payment_method={"type": "card", "token":
        "pm_card_visa"}` (a bare token string means a card). Returns when the order is
        succeeded, failed, requires_action or requires_capture, or still processing after a
        bounded wait. A decline is not an exception: the order comes back failed."""
        method = (
            {"type": "card", "token": payment_method}
            if isinstance(payment_method, str)
            else dict(payment_method)
        )
        response = self._transport.request(
            "POST",
            f"{_order_path(order_id)}:pay",
            body={"payment_method": method},
            idempotency_key=idempotency_key,
        )
        return order_from_json(response.body)

    def retrieve(self, order_id: str) -> Order:
        return order_from_json(self._transport.request("GET", _order_path(order_id)).body)

    def list(
        self,
        page_size: int | None = None,
        status: str | None = None,
        page_token: str | None = None,
    ) -> OrderPage:
        """One page of orders, newest first; `status` (such as "succeeded") filters."""
        query = {
            "page_size": page_size,
            "page_token": page_token or None,
            "status": status.upper() if status else None,
        }
        body = self._transport.request("GET", "/v1/orders", query=query).body
        return OrderPage(
            data=[order_from_json(item) for item in body.get("orders") or []],
            next_page_token=str(body.get("next_page_token") or ""),
            _fetch_next=lambda token: self.list(
                page_size=page_size, status=status, page_token=token
            ),
        )

    def list_all(self, page_size: int | None = None, status: str | None = None) -> Iterator[Order]:
        """Every order, newest first, fetching pages as the iteration reaches them."""
        return self.list(page_size=page_size, status=status).auto_paging_iter()


def _order_path(order_id: str) -> str:
    if not isinstance(order_id, str) or not order_id:
        raise ValueError(f"order_id must be a non-empty string, got {order_id!r}")
    return "/v1/orders/" + urllib.parse.quote(order_id, safe="")
