"""Stripe clients: one StripeClient per secret key over one shared async HTTP connection pool,
and the record of what each call's attempts did on the wire.

Async approach: the SDK's native async path (`*_async` methods over `stripe.HTTPXClient`), on
the gRPC server's own event loop. A thread pool would cap concurrent Stripe calls at its size
(a slow Stripe would then queue every merchant's calls behind it) and put a blocking
`requests` session per thread; httpx gives one pooled, cancellable connection set. When PayLoops'
deadline cancels an RPC, the HTTP request is cancelled with it instead of running on in a
thread. `stripe[async]` brings httpx.

Why the HTTP client is wrapped: the contract says "NOT_SENT" only when the gateway provably
never received the request. The SDK retries (`max_network_retries`) and raises only the last
attempt's error, so a call whose first attempt timed out after sending and whose retry found
the port closed would look "refused". `Transport` remembers every attempt of the call.
"""

from __future__ import annotations

import contextvars
import hashlib
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import httpx
import stripe

from processors.kit.bounded import BoundedMap
from processors.stripe.errors import Op, classify

# Telemetry headers carry timings of earlier requests: not wanted in a payment path, and they
# make recorded traffic differ run to run.
stripe.enable_telemetry = False


def silence_sdk_console_log() -> None:
    """The SDK prints every request's parameters to stderr when `STRIPE_LOG=debug` (or
    `stripe.log`) is set, card numbers and CVCs included once cards are sent raw. No setting
    may turn that on in the adapter; its own log line per RPC says what mattered."""
    stripe.log = None
    # The SDK read the variable when it was imported; it checks both.
    stripe._util.STRIPE_LOG = None


silence_sdk_console_log()

_T = TypeVar("_T")
# Failures in these phases happen before a single byte of the request leaves this machine.
_BEFORE_SENDING = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Enough for every merchant account that is active at once; an evicted client is rebuilt on
# its next call (cheap: the connection pool is shared, not per client).
_MAX_CLIENTS = 1024


@dataclass
class Transport:
    """What the attempts of one SDK call did: how many, and whether any may have reached
    Stripe (anything but a connect-phase failure or a 429)."""

    attempts: int = 0
    may_have_arrived: bool = False
    replayed: bool = False

    def answered(self, status: int, headers: Mapping[str, str]) -> None:
        self.attempts += 1
        self.may_have_arrived |= status != 429
        self.replayed = str(headers.get("idempotent-replayed", "")).lower() == "true"

    def failed(self, cause: BaseException | None) -> None:
        self.attempts += 1
        self.may_have_arrived |= not isinstance(cause, _BEFORE_SENDING)


_transport: contextvars.ContextVar[Transport | None] = contextvars.ContextVar(
    "stripe_transport", default=None
)


class _TrackingHTTPXClient(stripe.HTTPXClient):
    """stripe.HTTPXClient that reports each attempt to the current call's Transport."""

    def _get_request_args_kwargs(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any
    ) -> list[Any]:
        args: list[Any] = super()._get_request_args_kwargs(method, url, headers, post_data)
        # The SDK hands its encoded form body to httpx as `data=`, which httpx deprecates for
        # raw text (and will drop); `content=` sends the same bytes. The SDK sets the headers.
        kwargs = args[1]
        data = kwargs.pop("data", None)
        if isinstance(data, (str, bytes)) and data:
            kwargs["content"] = data
        return args

    async def request_async(
        self, method: str, url: str, headers: Mapping[str, str], post_data: Any = None
    ) -> tuple[bytes, int, Mapping[str, str]]:
        record = _transport.get()
        try:
            content, status, response_headers = await super().request_async(
                method, url, headers, post_data
            )
        except stripe.APIConnectionError as error:
            if record is not None:
                record.failed(error.__cause__)
            raise
        if record is not None:
            record.answered(status, response_headers)
        return content, status, response_headers


class StripeClients:
    """StripeClient per secret key, cached by the key's hash (the cache's keys are never
    secrets, should anything print it), all sharing one HTTP client."""

    def __init__(self, api_base: str, timeout_s: float, max_network_retries: int) -> None:
        self._api_base = api_base.rstrip("/")  # a trailing slash makes "//v1/..."
        self._max_network_retries = max_network_retries
        self._http = _TrackingHTTPXClient(timeout=timeout_s)
        self._clients: BoundedMap[str, stripe.StripeClient] = BoundedMap(_MAX_CLIENTS)

    def for_key(self, secret_key: str) -> stripe.StripeClient:
        digest = hashlib.sha256(secret_key.encode()).hexdigest()
        client = self._clients.get(digest)
        if client is None:
            client = stripe.StripeClient(
                secret_key,
                base_addresses={"api": self._api_base},
                http_client=self._http,
                max_network_retries=self._max_network_retries,
            )
            self._clients.put(digest, client)
        return client

    @property
    def cached(self) -> int:
        return len(self._clients)

    async def close(self) -> None:
        await self._http.close_async()  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class Sent(Generic[_T]):
    """A Stripe answer and how it came: `replayed` when Stripe answered from its idempotency
    store (the object may have moved on since)."""

    value: _T
    replayed: bool


async def send(op: Op, call: Awaitable[_T]) -> Sent[_T]:
    """Awaits one SDK call (`client.v1....create_async(...)`: an SDK coroutine does nothing
    until awaited, so its attempts are all recorded here). A Stripe error comes out as the
    contract's ProcessorError, except a CardError during Authorize: a decline is a result,
    which only the caller can build."""
    record = Transport()
    token = _transport.set(record)
    try:
        value = await call
    except stripe.StripeError as error:
        if op is Op.AUTHORIZE and isinstance(error, stripe.CardError):
            raise
        raise classify(error, op, may_have_arrived=record.may_have_arrived) from error
    finally:
        _transport.reset(token)
    return Sent(value, record.replayed)
