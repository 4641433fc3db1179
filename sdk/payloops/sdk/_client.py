"""The client object: `PayLoops("sk_test_…")`."""

from __future__ import annotations

import os

from payloops.sdk._http import Transport
from payloops.sdk._orders import Orders

DEFAULT_BASE_URL = "http://127.0.0.1:8080"


class PayLoops:
    """A client for the PayLoops REST API.

    `base_url` defaults to the environment's PAYLOOPS_API_URL, then to a local `payloops dev`.
    Retries (up to `max_retries`) happen only where they cannot charge twice: every POST
    carries an Idempotency-Key that stays the same across retries.
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
    ) -> None:
        api_key = api_key or os.environ.get("PAYLOOPS_API_KEY")
        if not api_key:
            raise ValueError(
                "an API key is required: PayLoops('sk_test_…') "
                "or the PAYLOOPS_API_KEY environment variable"
            )
        if max_retries < 0:
            raise ValueError("max_retries must not be negative")
        self._transport = Transport(
            api_key=api_key,
            base_url=base_url or os.environ.get("PAYLOOPS_API_URL") or DEFAULT_BASE_URL,
            timeout=timeout,
            max_retries=max_retries,
        )
        self.orders = Orders(self._transport)

    @property
    def base_url(self) -> str:
        return self._transport.base_url

    def __repr__(self) -> str:
        return f"PayLoops(base_url={self.base_url!r})"  # never the key
