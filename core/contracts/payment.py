"""What the edge and the orchestrator say to each other through Temporal: the payment workflow's
name, its id scheme, its input and its `pay` update. Plain dataclasses, so the edge needs no
import of the orchestrator."""

# No `from __future__ import annotations` here: Temporal's converter resolves these classes'
# annotations on every payload it decodes, and string annotations are compiled each time
# (three times slower on the payment's hot path).

from dataclasses import dataclass, field
from typing import Literal

from core.contracts.vocabulary import (
    CancellationReason,
    CaptureMethod,
    OrderStatus,
    RefundReason,
    Refusal,
)

WORKFLOW_TYPE = "PaymentWorkflow"
PAY_UPDATE = "pay"
CAPTURE_UPDATE = "capture"
CANCEL_UPDATE = "cancel"
GATEWAY_EVENT_SIGNAL = "gateway_event"
REFUND_WORKFLOW_TYPE = "RefundWorkflow"
RESERVE_UPDATE = "reserve"

# The order statuses at which PayOrder answers.
ANSWERABLE_STATUSES = frozenset(
    {
        OrderStatus.SUCCEEDED,
        OrderStatus.FAILED,
        OrderStatus.REQUIRES_ACTION,
        OrderStatus.REQUIRES_CAPTURE,
        OrderStatus.CANCELED,
    }
)
# The order statuses a cancel may reach the payment workflow in (an unpaid order, an
# authorization, a challenge under way).
CANCELABLE_STATUSES = frozenset(
    {OrderStatus.REQUIRES_PAYMENT_METHOD, OrderStatus.REQUIRES_CAPTURE, OrderStatus.REQUIRES_ACTION}
)


def workflow_id(order_id: str) -> str:
    """One payment workflow per order, ever: the id is the order's."""
    return f"payment-{order_id}"


def refund_workflow_id(refund_id: str) -> str:
    return f"refund-{refund_id}"


@dataclass(frozen=True)
class CardHints:
    network: str = ""
    funding: str = ""
    country: str = ""
    # First 6-8 digits of the card number. Defaulted, like every field added later, so the
    # inputs of workflows started before it existed still deserialize.
    bin: str = ""


@dataclass(frozen=True)
class PaymentMethod:
    type: str
    token: str
    card: CardHints = field(default_factory=CardHints)
    # Merchant-initiated (PayOrder's off_session): a card saved for the order's customer,
    # charged without the customer; with the network transaction id of its first
    # customer-present payment, where one was kept (the edge reads it when the payment starts).
    off_session: bool = False
    network_transaction_id: str = ""


@dataclass(frozen=True)
class PaymentInput:
    """The order being paid, as it was created."""

    order_id: str
    merchant_id: str
    amount: int
    currency: str
    capture_method: CaptureMethod
    livemode: bool = False
    description: str = ""
    return_url: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    # The payment method of the PayOrder that started the workflow. The `pay` update carries
    # it too, but an update is only kept once a workflow task accepts it: a worker that dies
    # during the first task could lose it, and the start input is kept from the first moment.
    payment_method: PaymentMethod | None = None
    # The correlation id of the request that started the workflow: the worker's log lines and
    # processor calls carry it whether or not tracing is on (orchestrator/correlation.py).
    # Empty in histories recorded before it existed.
    correlation_id: str = ""


@dataclass(frozen=True)
class PayRequest:
    payment_method: PaymentMethod


@dataclass(frozen=True)
class PayResult:
    status: OrderStatus


@dataclass(frozen=True)
class PaymentOutcome:
    """What the workflow returns when the payment is settled."""

    status: OrderStatus
    # A FailureCode, or the gateway's own decline code.
    failure_code: str = ""


@dataclass(frozen=True)
class CaptureRequest:
    """Capture `amount` minor units of the authorization; 0 captures all of it."""

    amount: int = 0


@dataclass(frozen=True)
class CancelRequest:
    reason: CancellationReason = CancellationReason.REQUESTED_BY_MERCHANT


@dataclass(frozen=True)
class LifecycleResult:
    """What a capture or cancel did: the order's status after it, or why it was refused
    (`error`: a processor's refusal code or FailureCode.CAPTURE_FAILED for a capture, a
    Refusal for a cancel)."""

    status: OrderStatus
    error: str = ""
    message: str = ""


@dataclass(frozen=True)
class RefundInput:
    refund_id: str
    order_id: str
    merchant_id: str
    livemode: bool
    amount: int  # 0: all that remains refundable
    reason: RefundReason
    # As PaymentInput.correlation_id: the CreateRefund request's.
    correlation_id: str = ""


@dataclass(frozen=True)
class ReserveRequest:
    pass


@dataclass(frozen=True)
class Reservation:
    """The refund's amount, reserved against the order's captured amount, or why not."""

    ok: bool
    amount: int = 0
    error: Refusal | Literal[""] = ""
    message: str = ""
