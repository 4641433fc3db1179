"""The payment workflow's search attributes: what Temporal indexes, so that an operator finds a
payment in Temporal's UI or with `temporal workflow list --query 'PayLoopsOrderId="ord_…"'`
(docs/observability.md).

Temporal stores and shows them in clear by design: the payload codec never sees them. So they
hold identifiers and the status only, never an amount, metadata, card or customer data.

Custom attributes exist only once registered on the namespace, and starting a workflow with an
unregistered one fails: `payloops dev` registers them on its dev server (cli/dev_services.py),
docker-compose.yml's temporal-namespace job on the deployment's namespace
(deploy/temporal/create-namespace.sh, held to this list by tests/deploy).
"""

from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
)

from core.contracts.payment import PaymentInput
from core.contracts.vocabulary import OrderStatus

ORDER_ID = SearchAttributeKey.for_keyword("PayLoopsOrderId")
MERCHANT_ID = SearchAttributeKey.for_keyword("PayLoopsMerchantId")
CORRELATION_ID = SearchAttributeKey.for_keyword("PayLoopsCorrelationId")
# The order's status as the API names it (SUCCEEDED, REQUIRES_CAPTURE, …), upserted by the
# workflow each time it changes.
STATUS = SearchAttributeKey.for_keyword("PayLoopsStatus")

ALL: tuple[SearchAttributeKey[str], ...] = (ORDER_ID, MERCHANT_ID, CORRELATION_ID, STATUS)


def at_start(payment: PaymentInput) -> TypedSearchAttributes:
    """Those a payment workflow starts with: its ids (the status is the workflow's to set)."""
    pairs = [
        SearchAttributePair(ORDER_ID, payment.order_id),
        SearchAttributePair(MERCHANT_ID, payment.merchant_id),
    ]
    if payment.correlation_id:
        pairs.append(SearchAttributePair(CORRELATION_ID, payment.correlation_id))
    return TypedSearchAttributes(pairs)


def status_value(status: OrderStatus) -> str:
    return status.name


def dev_server_flags() -> list[str]:
    """`temporal server start-dev` registers them with these flags."""
    return [arg for key in ALL for arg in ("--search-attribute", f"{key.name}=Keyword")]
