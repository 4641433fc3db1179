"""Finding a PaymentIntent by attempt key, and a Refund by refund key, when PayLoops has no
Stripe id: the way an unknown outcome is resolved (processor.proto, GetPayment / GetRefund).

Attempt keys: Authorize writes `metadata[payloops_attempt_key]` on the PaymentIntent, and the
lookup is Stripe's search (`metadata['payloops_attempt_key']:'<key>'`). Search is eventually
consistent: "under normal conditions data is searchable in less than a minute; during outages up
to an hour" (Stripe's API reference), and it is not offered to accounts in India. So a search
that finds nothing is followed by a scan of the PaymentIntents created in the last
RECENT_WINDOW, through the list endpoint, which is consistent. Only when both find nothing is
the answer NOT_FOUND; when the scan is cut short (too many recent payments) it is UNAVAILABLE
(unknown), which resolves itself once the payment is older than the window and searchable.
PayLoops adds its own margin on top: an unknown attempt that stays not found is looked up until
the workflow's horizon (ten resolution budgets), and after that still, less and less often, for
24 hours; a charge that turns up late is voided or refunded (orchestrator/workflows/payment/
obligations.py).

Refund keys: Stripe cannot search refunds, and GetRefund by key has no payment reference. So
Refund first tags the PaymentIntent with `metadata[payloops_refund_<hash of key>] = <key>`,
then creates the refund with `metadata[payloops_refund_key]`. A refund key is found by searching
PaymentIntents for the tag and listing that intent's refunds (consistent), or, within
RECENT_WINDOW, by scanning recently created refunds. A tag without a refund means the refund was
never created: NOT_FOUND, and a Refund with the same key then creates it once (Stripe's
idempotency on the refund key covers a create still in flight).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any

import grpc
import stripe
from stripe.params import PaymentIntentListParams, RefundListParams

from processors.kit.errors import ProcessorError
from processors.stripe.client import send
from processors.stripe.errors import Op
from processors.stripe.mapping import ATTEMPT_KEY, REFUND_KEY, as_dict

# Far beyond Stripe's normal search lag (under a minute), short enough to scan quickly.
RECENT_WINDOW = timedelta(minutes=15)
_PAGE = 100
_MAX_SCAN_PAGES = 5
_MAX_REFUND_PAGES = 10
_EXPAND = ["latest_charge"]
# Which of several intents with one attempt key to report (only possible after Stripe forgot the
# idempotency key, 24 h on): the one holding money first, so it gets voided or claimed.
_PREFERENCE = (
    "succeeded",
    "requires_capture",
    "processing",
    "requires_action",
    "requires_confirmation",
    "requires_payment_method",
    "canceled",
)


def search_literal(value: str) -> str:
    """A value as a quoted string of Stripe's search query language."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def refund_tag(refund_key: str) -> str:
    """The PaymentIntent metadata key that records a refund key: 40 characters, Stripe's limit
    for metadata keys, whatever the refund key's length."""
    return "payloops_refund_" + hashlib.sha256(refund_key.encode()).hexdigest()[:24]


def _incomplete(what: str) -> ProcessorError:
    return ProcessorError(
        grpc.StatusCode.UNAVAILABLE,
        "LOOKUP_INCOMPLETE",
        f"too many recent {what} at Stripe to be sure yet; ask again shortly",
    )


async def find_intent(client: stripe.StripeClient, attempt_key: str) -> dict[str, Any] | None:
    """The PaymentIntent made for an attempt key, fresh, or None when Stripe has none."""
    query = f"metadata['{ATTEMPT_KEY}']:{search_literal(attempt_key)}"
    found = await send(
        Op.GET_PAYMENT, client.v1.payment_intents.search_async({"query": query, "limit": 10})
    )
    ids = [str(pi.id) for pi in found.value.data]
    if not ids:

        def intents_page(after: str | None) -> Awaitable[stripe.ListObject[Any]]:
            params: PaymentIntentListParams = {"created": {"gte": _since()}, "limit": _PAGE}
            if after:
                params["starting_after"] = after
            return client.v1.payment_intents.list_async(params)

        recent = await _scan_recent(
            Op.GET_PAYMENT,
            intents_page,
            lambda pi: (pi.get("metadata") or {}).get(ATTEMPT_KEY) == attempt_key,
            "payments",
        )
        ids = [str(pi["id"]) for pi in recent]
    if not ids:
        return None
    # Search results can be stale in content too: read each one back.
    intents = []
    for intent_id in dict.fromkeys(ids):
        got = await send(
            Op.GET_PAYMENT, client.v1.payment_intents.retrieve_async(intent_id, {"expand": _EXPAND})
        )
        intents.append(as_dict(got.value))
    return min(intents, key=_rank)


def _rank(intent: Mapping[str, Any]) -> tuple[int, int]:
    status = str(intent.get("status"))
    order = _PREFERENCE.index(status) if status in _PREFERENCE else len(_PREFERENCE)
    return order, -int(intent.get("created") or 0)


async def find_refund(client: stripe.StripeClient, refund_key: str) -> dict[str, Any] | None:
    """The refund made under a refund key, or None when Stripe has none."""
    tag = refund_tag(refund_key)
    query = f"metadata['{tag}']:{search_literal(refund_key)}"
    found = await send(
        Op.GET_REFUND, client.v1.payment_intents.search_async({"query": query, "limit": 10})
    )
    for intent in found.value.data:
        refund = await _refund_of_intent(client, str(intent.id), refund_key)
        if refund is not None:
            return refund
    if found.value.data:
        return None  # tagged, and consistently listed: the refund was never created

    def refunds_page(after: str | None) -> Awaitable[stripe.ListObject[Any]]:
        params: RefundListParams = {"created": {"gte": _since()}, "limit": _PAGE}
        if after:
            params["starting_after"] = after
        return client.v1.refunds.list_async(params)

    recent = await _scan_recent(
        Op.GET_REFUND,
        refunds_page,
        lambda refund: (refund.get("metadata") or {}).get(REFUND_KEY) == refund_key,
        "refunds",
    )
    return recent[0] if recent else None


async def _refund_of_intent(
    client: stripe.StripeClient, intent_id: str, refund_key: str
) -> dict[str, Any] | None:
    params: RefundListParams = {"payment_intent": intent_id, "limit": _PAGE}
    for _ in range(_MAX_REFUND_PAGES):
        page = await send(Op.GET_REFUND, client.v1.refunds.list_async(params))
        for refund in map(as_dict, page.value.data):
            if (refund.get("metadata") or {}).get(REFUND_KEY) == refund_key:
                return refund
        if not page.value.has_more or not page.value.data:
            return None
        params = {**params, "starting_after": str(page.value.data[-1].id)}
    raise _incomplete("refunds on this payment")


def _since() -> int:
    return int(time.time() - RECENT_WINDOW.total_seconds())


async def _scan_recent(
    op: Op,
    list_page: Callable[[str | None], Awaitable[stripe.ListObject[Any]]],
    matches: Callable[[Mapping[str, Any]], bool],
    what: str,
) -> list[dict[str, Any]]:
    """Objects created within RECENT_WINDOW that match, newest first."""
    after: str | None = None
    hits: list[dict[str, Any]] = []
    for _ in range(_MAX_SCAN_PAGES):
        page = await send(op, list_page(after))
        hits.extend(item for item in map(as_dict, page.value.data) if matches(item))
        if hits or not page.value.has_more or not page.value.data:
            return hits
        after = str(page.value.data[-1].id)
    raise _incomplete(what)
