"""What the edge and the orchestrator say to each other through Temporal: the payment workflow's
name, its id scheme, its input and its `pay` update. Plain dataclasses, so the edge needs no
import of the orchestrator."""

# No `from __future__ import annotations` here: Temporal's converter resolves these classes'
# annotations on every payload it decodes, and string annotations are compiled each time
# (three times slower on the payment's hot path).

from dataclasses import dataclass, field

WORKFLOW_TYPE = "PaymentWorkflow"
PAY_UPDATE = "pay"
CAPTURE_UPDATE = "capture"
CANCEL_UPDATE = "cancel"
GATEWAY_EVENT_SIGNAL = "gateway_event"
REFUND_WORKFLOW_TYPE = "RefundWorkflow"
RESERVE_UPDATE = "reserve"

# Order statuses (lower-case names of payloops.v1.Order.Status) at which PayOrder answers.
ANSWERABLE_STATUSES = frozenset(
    {"succeeded", "failed", "requires_action", "requires_capture", "canceled"}
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


@dataclass(frozen=True)
class PaymentInput:
    """The order being paid, as it was created."""

    order_id: str
    merchant_id: str
    amount: int
    currency: str
    capture_method: str  # "automatic" | "manual"
    livemode: bool = False
    description: str = ""
    return_url: str = ""
    metadata: dict[str, str] = field(default_factory=dict)
    # The payment method of the PayOrder that started the workflow. The `pay` update carries
    # it too, but an update is only kept once a workflow task accepts it: a worker that dies
    # during the first task could lose it, and the start input is kept from the first moment.
    payment_method: PaymentMethod | None = None


@dataclass(frozen=True)
class PayRequest:
    payment_method: PaymentMethod


@dataclass(frozen=True)
class PayResult:
    status: str


@dataclass(frozen=True)
class PaymentOutcome:
    """What the workflow returns when the payment is settled."""

    status: str
    failure_code: str = ""


@dataclass(frozen=True)
class CaptureRequest:
    """Capture `amount` minor units of the authorization; 0 captures all of it."""

    amount: int = 0


@dataclass(frozen=True)
class CancelRequest:
    reason: str = "requested_by_merchant"


@dataclass(frozen=True)
class LifecycleResult:
    """What a capture or cancel did: the order's status after it, or why it was refused
    (`error` is a stable reason, such as a processor's refusal code)."""

    status: str
    error: str = ""
    message: str = ""


@dataclass(frozen=True)
class RefundInput:
    refund_id: str
    order_id: str
    merchant_id: str
    livemode: bool
    amount: int  # 0: all that remains refundable
    reason: str


@dataclass(frozen=True)
class ReserveRequest:
    pass


@dataclass(frozen=True)
class Reservation:
    """The refund's amount, reserved against the order's captured amount, or why not."""

    ok: bool
    amount: int = 0
    error: str = ""
    message: str = ""
