"""PayLoops' words: every status, outcome, failure code, reason and error type that is stored in
the read model, shown by the API, or carried through Temporal, each family in one type.

They are StrEnums: a member *is* its string, so the values in the database, in API answers, in
webhook events and in Temporal payloads (recorded histories included) are exactly the strings
they always were, and Temporal's converter decodes an old payload's string into the member.
Where a family mirrors a protobuf enum, its values are the lower-cased enum names
(tests/core/test_vocabulary.py holds them to it).
"""

# No `from __future__ import annotations`: see core/contracts/payment.py (Temporal's converter
# resolves the annotations of the dataclasses that use these types).

from enum import StrEnum


class OrderStatus(StrEnum):
    """An order's status (payloops.v1.Order.Status)."""

    REQUIRES_PAYMENT_METHOD = "requires_payment_method"
    PROCESSING = "processing"
    REQUIRES_ACTION = "requires_action"
    REQUIRES_CAPTURE = "requires_capture"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


class AttemptOutcome(StrEnum):
    """An attempt's outcome as the read model and the API show it (payloops.v1.Attempt.Outcome)."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    AUTHORIZED = "authorized"
    REQUIRES_ACTION = "requires_action"
    DECLINED = "declined"
    FAILED = "failed"
    CANCELED = "canceled"


class GatewayOutcome(StrEnum):
    """What a processor's answer (or its absence) means to the payment workflow: the processor
    protocol's outcomes (payloops.processor.v1.Outcome), plus what only the orchestrator can
    tell. The workflow records each as an AttemptOutcome."""

    SUCCEEDED = "succeeded"
    AUTHORIZED = "authorized"
    REQUIRES_ACTION = "requires_action"
    DECLINED = "declined"
    PENDING = "pending"
    CANCELED = "canceled"
    # The processor answered, refusing the request itself: nothing was charged by it.
    FAILED = "failed"
    # The call may have reached the processor, and no answer came back: it may have charged.
    UNKNOWN = "unknown"
    # Provably never sent (the adapter said so, or no connection could be made).
    NOT_SENT = "not_sent"
    # A lookup by attempt key: the processor never saw the attempt.
    NOT_FOUND = "not_found"
    # A charge that was captured and then refunded in full: no money is held any more.
    REFUNDED = "refunded"


class RefundStatus(StrEnum):
    """A refund's status (payloops.v1.Refund.Status)."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RefundReason(StrEnum):
    """Why the merchant refunds (Refund.reason); the first is the default."""

    REQUESTED_BY_CUSTOMER = "requested_by_customer"
    DUPLICATE = "duplicate"
    FRAUDULENT = "fraudulent"


class CancellationReason(StrEnum):
    """Why an order was canceled (Order.cancellation_reason)."""

    REQUESTED_BY_MERCHANT = "requested_by_merchant"
    # A manual-capture authorization nobody captured in time: voided.
    AUTHORIZATION_EXPIRED = "authorization_expired"


class CaptureMethod(StrEnum):
    """How an order's authorization is captured (the lower-cased Order.CaptureMethod names)."""

    AUTOMATIC = "automatic"
    MANUAL = "manual"


class CandidateDecision(StrEnum):
    """What routing did with a processor it considered (RoutingCandidate.decision)."""

    # In line to be tried.
    CANDIDATE = "candidate"
    # Left out.
    SKIPPED = "skipped"


class CandidateReason(StrEnum):
    """Why routing put a processor in line or left it out (RoutingCandidate.reason)."""

    # In line (CANDIDATE):
    RULE_ORDER = "rule_order"
    SPLIT_DRAW = "split_draw"
    FALLBACK = "fallback"
    SUCCESS_RATE = "success_rate"
    # A fallback whose breaker is past its cool-down: in line, but it claims no probe.
    CIRCUIT_HALF_OPEN = "circuit_half_open"
    # Left out (SKIPPED):
    NOT_CONFIGURED = "not_configured"
    DISABLED = "disabled"
    # A test-only gateway (its capabilities say so, as the sandbox's do) and a live payment.
    TEST_ONLY = "test_only"
    NO_ACCOUNT = "no_account"
    CIRCUIT_OPEN = "circuit_open"
    CURRENCY_UNSUPPORTED = "currency_unsupported"
    # The processor cannot use the payment method in hand: a vaulted card at a gateway that
    # takes no raw card data, or another gateway's token (core/payment_method_tokens.py).
    PAYMENT_METHOD_UNSUPPORTED = "payment_method_unsupported"


class FailureCode(StrEnum):
    """PayLoops' own failure codes: an order's failure_code, an attempt's decline_code, a
    refund's failure_code, when PayLoops (not the gateway) decided. Gateways' decline codes
    ("insufficient_funds", …) are theirs and stay free strings beside these."""

    # Routing gave nothing to try (see orchestrator/routing_engine/engine.py).
    ROUTING_NO_MATCH = "routing_no_match"
    NO_PROCESSOR_AVAILABLE = "no_processor_available"
    NO_LIVE_PROCESSOR = "no_live_processor"
    # No processor the rule names can use the payment method (a token only other gateways
    # issued, a vaulted card and no gateway that takes card data).
    PAYMENT_METHOD_UNSUPPORTED = "payment_method_unsupported"
    # No processor could take the payment: unreachable, or its outcome stayed unknown.
    PROCESSOR_UNAVAILABLE = "processor_unavailable"
    # The payment's time budget ran out before any processor was tried.
    PAYMENT_BUDGET_SPENT = "payment_budget_spent"
    # The customer did not complete the 3-D Secure challenge in time.
    THREE_D_SECURE_TIMEOUT = "three_d_secure_timeout"
    # A vaulted card whose data could not be read for the call (no vault configured, or the
    # vault unreachable): nothing was sent.
    VAULT_UNAVAILABLE = "vault_unavailable"
    # The vault does not know the payment method for this merchant and mode: nothing was sent.
    PAYMENT_METHOD_NOT_FOUND = "payment_method_not_found"
    # A refund the processor made, and which then failed: its key is spent.
    REFUND_FAILED = "refund_failed"
    # The processor refused a capture without giving a reason.
    CAPTURE_FAILED = "capture_failed"


# Decline codes of the customer's own 3-D Secure authentication ("three_d_secure_failed", …,
# and PayLoops' THREE_D_SECURE_TIMEOUT) start with this: the payment stops, no failover.
THREE_D_SECURE_CODE_PREFIX = "three_d_secure"


class FailoverReason(StrEnum):
    """Why a payment moved on from an attempt to the next processor (Attempt.failover_reason);
    NONE for an attempt the payment did not move on from."""

    NONE = ""
    SOFT_DECLINE = "soft_decline"
    # The processor refused the request itself.
    REJECTED = "rejected"
    NOT_SENT = "not_sent"
    OUTCOME_UNKNOWN = "outcome_unknown"
    # A 3-D Secure challenge released unfinished.
    CANCELED = "canceled"
    # A charge refunded (outside PayLoops) before the payment could claim it.
    REFUNDED = "refunded"


class Compensation(StrEnum):
    """An attempt that was charged although another one won, and PayLoops undoes
    (Attempt.compensation); NONE for every other attempt."""

    NONE = ""
    # Owed: the undo is under way.
    PENDING = "pending"
    VOIDED = "voided"
    REFUNDED = "refunded"


class UndoMethod(StrEnum):
    """How a charge that must not survive is undone: an authorization is voided, a capture
    refunded. The value is part of the undo's idempotency key (orchestrator/keys.py)."""

    VOID = "void"
    REFUND = "refund"


class ProcessorCallError(StrEnum):
    """ApplicationError types a processor activity raises instead of answering; the payment
    workflow tells them apart (orchestrator/activities/types.py `unanswered`)."""

    # Provably never sent: the payment may move on at once.
    NOT_SENT = "NotSent"
    # It may have reached the processor: retried under the same key, never a failure.
    OUTCOME_UNKNOWN = "OutcomeUnknown"


class Refusal(StrEnum):
    """Why a workflow refuses a merchant's request: the ApplicationError type of a refused
    update (capture, cancel) and the error of a refused refund reservation. Each value is the
    reason of the same-named error in core/errors.py, which the edge answers with."""

    ORDER_NOT_FOUND = "ORDER_NOT_FOUND"
    ORDER_NOT_CAPTURABLE = "ORDER_NOT_CAPTURABLE"
    CAPTURE_AMOUNT_INVALID = "CAPTURE_AMOUNT_INVALID"
    ORDER_NOT_CANCELABLE = "ORDER_NOT_CANCELABLE"
    ORDER_NOT_REFUNDABLE = "ORDER_NOT_REFUNDABLE"
    REFUND_EXCEEDS_CAPTURED = "REFUND_EXCEEDS_CAPTURED"


class DeliveryStatus(StrEnum):
    """A webhook delivery's status (payloops.v1.EventDelivery.Status)."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class DeliveryAttemptOutcome(StrEnum):
    """What one POST of a webhook delivery came to."""

    # The endpoint answered 2xx.
    DELIVERED = "delivered"
    # Anything else: tried again later.
    FAILED = "failed"
    # The endpoint is disabled or deleted: nothing was sent.
    ENDPOINT_GONE = "endpoint_gone"


class EndpointStatus(StrEnum):
    """A webhook endpoint's status (payloops.v1.WebhookEndpoint.Status, and DELETED)."""

    ENABLED = "enabled"
    DISABLED = "disabled"
    # Kept for its deliveries' history; the API no longer shows it.
    DELETED = "deleted"


class BreakerState(StrEnum):
    """A processor's circuit breaker, as the processor_health table keeps it."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class BreakerVerdict(StrEnum):
    """What a breaker that is not closed lets routing do with its processor."""

    # Open and cooling down, or its one probe is taken: skip it.
    BLOCKED = "blocked"
    # Past its cool-down: one payment may probe it (after claiming the probe).
    PROBE = "probe"


class GatewayEventOutcome(StrEnum):
    """What became of a gateway's webhook about a payment (processor_events.outcome)."""

    # Handed to the payment's workflow.
    DELIVERED = "delivered"
    # No payment of ours matches it.
    UNMATCHED = "unmatched"
