"""What the edge and the orchestrator say to each other through Temporal: the payment workflow's
name, its id scheme, its input and its `pay` update. Plain dataclasses, so the edge needs no
import of the orchestrator."""

from __future__ import annotations

from dataclasses import dataclass, field

WORKFLOW_TYPE = "PaymentWorkflow"
PAY_UPDATE = "pay"
GATEWAY_EVENT_SIGNAL = "gateway_event"

# Order statuses (lower-case names of payloops.v1.Order.Status) at which PayOrder answers.
ANSWERABLE_STATUSES = frozenset({"succeeded", "failed", "requires_action", "requires_capture",
                                 "canceled"})


def workflow_id(order_id: str) -> str:
    """One payment workflow per order, ever: the id is the order's."""
    return f"payment-{order_id}"


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
