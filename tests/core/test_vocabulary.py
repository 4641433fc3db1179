"""The vocabulary's values are the strings the database, the API and Temporal payloads hold: a
family that mirrors a protobuf enum has exactly its lower-cased names, and a dataclass typed with
the vocabulary encodes to the JSON it always had and decodes that JSON into members."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from enum import StrEnum
from typing import Any

import pytest
from google.protobuf.descriptor import EnumDescriptor
from temporalio.api.common.v1 import Payload
from temporalio.converter import DataConverter

from core import errors
from core.contracts.payment import (
    CancelRequest,
    CardHints,
    LifecycleResult,
    PaymentInput,
    PaymentMethod,
    PaymentOutcome,
    PayResult,
    RefundInput,
    Reservation,
)
from core.contracts.vocabulary import (
    AttemptOutcome,
    CancellationReason,
    CandidateDecision,
    CandidateReason,
    CaptureMethod,
    Compensation,
    DeliveryAttemptOutcome,
    DeliveryStatus,
    EndpointStatus,
    FailoverReason,
    FailureCode,
    GatewayOutcome,
    OrderStatus,
    RefundReason,
    RefundStatus,
    Refusal,
)
from core.webhooks.deliveries import DeliveryResult
from orchestrator.activities.types import (
    AttemptRecord,
    GatewayResult,
    OrderUpdate,
    RefundOutcome,
    RefundPlan,
    RefundResult,
    RoutedCandidate,
    RoutePlan,
)
from orchestrator.activities.webhooks import AttemptResult
from payloops.processor.v1 import processor_pb2
from payloops.v1 import orders_pb2, refunds_pb2, webhooks_pb2


def _names(enum: EnumDescriptor, prefix: str = "") -> set[str]:
    """The lower-cased names of a protobuf enum, without its UNSPECIFIED zero value."""
    return {
        value.name.removeprefix(prefix).lower()
        for value in enum.values
        if not value.name.endswith("UNSPECIFIED")
    }


def _values(family: type[StrEnum]) -> set[str]:
    return {member.value for member in family}


@pytest.mark.parametrize(
    ("family", "proto"),
    [
        (OrderStatus, orders_pb2.Order.Status.DESCRIPTOR),
        (AttemptOutcome, orders_pb2.Attempt.Outcome.DESCRIPTOR),
        (CaptureMethod, orders_pb2.Order.CaptureMethod.DESCRIPTOR),
        (RefundStatus, refunds_pb2.Refund.Status.DESCRIPTOR),
        (DeliveryStatus, webhooks_pb2.EventDelivery.Status.DESCRIPTOR),
    ],
)
def test_a_family_that_the_api_shows_is_its_enums_lower_cased_names(
    family: type[StrEnum], proto: EnumDescriptor
) -> None:
    assert _values(family) == _names(proto)


def test_endpoint_statuses_are_the_apis_and_deleted() -> None:
    assert _values(EndpointStatus) == _names(webhooks_pb2.WebhookEndpoint.Status.DESCRIPTOR) | {
        "deleted"
    }


def test_gateway_outcomes_are_the_processor_protocols_and_what_only_the_orchestrator_knows() -> (
    None
):
    protocol = _names(processor_pb2.Outcome.DESCRIPTOR, prefix="OUTCOME_")
    assert protocol <= _values(GatewayOutcome)
    assert _values(GatewayOutcome) - protocol == {
        "failed",
        "unknown",
        "not_sent",
        "not_found",
        "refunded",
    }
    # Every attempt outcome the read model shows is also one a processor's answer can mean.
    assert _values(AttemptOutcome) <= _values(GatewayOutcome)


def test_the_stored_and_sent_values_stay_the_same_strings() -> None:
    assert _values(RefundReason) == {"requested_by_customer", "duplicate", "fraudulent"}
    assert next(iter(RefundReason)) == "requested_by_customer"  # the default comes first
    assert _values(CancellationReason) == {"requested_by_merchant", "authorization_expired"}
    assert _values(Compensation) == {"", "pending", "voided", "refunded"}
    assert _values(FailoverReason) == {
        "",
        "soft_decline",
        "rejected",
        "not_sent",
        "outcome_unknown",
        "canceled",
        "refunded",
    }
    assert _values(FailureCode) == {
        "routing_no_match",
        "no_processor_available",
        "no_live_processor",
        "payment_method_unsupported",
        "processor_unavailable",
        "payment_budget_spent",
        "three_d_secure_timeout",
        "refund_failed",
        "capture_failed",
        "vault_unavailable",
        "payment_method_not_found",
    }
    assert _values(DeliveryAttemptOutcome) == {"delivered", "failed", "endpoint_gone"}
    assert _values(CandidateDecision) == {"candidate", "skipped"}


def test_every_refusal_but_a_field_problem_is_an_error_of_the_catalogue_by_the_same_name() -> None:
    for refusal in Refusal:
        if refusal is Refusal.CAPTURE_AMOUNT_INVALID:
            continue  # a field violation of `amount`: errors.capture_amount_invalid
        kind = getattr(errors, refusal.name)
        assert isinstance(kind, errors.ErrorKind) and kind.reason == refusal


_CONVERTER = DataConverter.default.payload_converter
_METHOD = PaymentMethod(type="card", token="pm_card_visa", card=CardHints(network="visa"))

# Each dataclass typed with the vocabulary that crosses Temporal, and the JSON it has always had.
_PAYLOADS: list[tuple[object, dict[str, Any]]] = [
    (
        PaymentInput("ord_1", "mer_1", 100, "USD", CaptureMethod.MANUAL),
        {"capture_method": "manual"},
    ),
    (PayResult(OrderStatus.REQUIRES_ACTION), {"status": "requires_action"}),
    (
        PaymentOutcome(OrderStatus.FAILED, FailureCode.NO_PROCESSOR_AVAILABLE),
        {"status": "failed", "failure_code": "no_processor_available"},
    ),
    (CancelRequest(), {"reason": "requested_by_merchant"}),
    (
        LifecycleResult(OrderStatus.REQUIRES_CAPTURE, FailureCode.CAPTURE_FAILED),
        {"status": "requires_capture", "error": "capture_failed"},
    ),
    (
        RefundInput("re_1", "ord_1", "mer_1", False, 0, RefundReason.DUPLICATE),
        {"reason": "duplicate"},
    ),
    (
        Reservation(ok=False, error=Refusal.REFUND_EXCEEDS_CAPTURED),
        {"error": "REFUND_EXCEEDS_CAPTURED"},
    ),
    (Reservation(ok=True, amount=5), {"error": ""}),
    (
        GatewayResult(GatewayOutcome.NOT_SENT, decline_code=FailureCode.PROCESSOR_UNAVAILABLE),
        {"outcome": "not_sent", "decline_code": "processor_unavailable"},
    ),
    (
        AttemptRecord(
            "ord_1",
            2,
            "sandbox",
            "ord_1:authorize:sandbox:2",
            AttemptOutcome.CANCELED,
            failover_reason=FailoverReason.OUTCOME_UNKNOWN,
            compensation=Compensation.VOIDED,
        ),
        {"outcome": "canceled", "failover_reason": "outcome_unknown", "compensation": "voided"},
    ),
    (
        AttemptRecord("ord_1", 1, "sandbox", "k", AttemptOutcome.PENDING),
        {"outcome": "pending", "failover_reason": "", "compensation": ""},
    ),
    (
        OrderUpdate(
            "ord_1",
            OrderStatus.CANCELED,
            cancellation_reason=CancellationReason.AUTHORIZATION_EXPIRED,
        ),
        {"status": "canceled", "cancellation_reason": "authorization_expired"},
    ),
    (OrderUpdate("ord_1", OrderStatus.PROCESSING), {"cancellation_reason": ""}),
    (
        RoutePlan(
            config_version=1,
            rule="default",
            routes=[],
            considered=[
                RoutedCandidate("stripe", CandidateDecision.SKIPPED, CandidateReason.NO_ACCOUNT)
            ],
            unknown_outcome_policy="failover",
            max_attempts=3,
            payment_budget_seconds=60,
            resolution_budget_seconds=10,
            three_ds_timeout_seconds=600,
            three_ds_poll_seconds=5,
            failure_code=FailureCode.NO_PROCESSOR_AVAILABLE,
        ),
        {
            "considered": [{"processor": "stripe", "decision": "skipped", "reason": "no_account"}],
            "failure_code": "no_processor_available",
        },
    ),
    (RefundResult(RefundStatus.PENDING), {"status": "pending"}),
    (
        RefundPlan(reserved=False, error=Refusal.ORDER_NOT_REFUNDABLE),
        {"error": "ORDER_NOT_REFUNDABLE"},
    ),
    (RefundOutcome("re_1", RefundStatus.SUCCEEDED), {"status": "succeeded"}),
    (DeliveryResult(DeliveryStatus.FAILED, attempts=3), {"status": "failed"}),
    (AttemptResult(DeliveryAttemptOutcome.ENDPOINT_GONE), {"outcome": "endpoint_gone"}),
]


@pytest.mark.parametrize(("value", "json_fields"), _PAYLOADS)
def test_a_typed_dataclass_encodes_to_the_json_it_always_had(
    value: object, json_fields: dict[str, Any]
) -> None:
    (payload,) = _CONVERTER.to_payloads([value])
    encoded = json.loads(payload.data)
    assert {name: encoded[name] for name in json_fields} == json_fields


@pytest.mark.parametrize(("value", "json_fields"), _PAYLOADS)
def test_the_json_of_old_histories_decodes_into_the_members(
    value: object, json_fields: dict[str, Any]
) -> None:
    """A payload recorded before the vocabulary holds plain strings: Temporal's converter gives
    back the members."""
    (payload,) = _CONVERTER.to_payloads([value])
    plain = json.dumps(json.loads(payload.data)).encode()
    (decoded,) = _CONVERTER.from_payloads(
        [Payload(metadata=payload.metadata, data=plain)], [type(value)]
    )
    assert decoded == value
    assert _bare_strings(decoded) == []


def _bare_strings(value: object) -> list[str]:
    """The fields typed with the vocabulary that hold a plain str instead of a member."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return []
    found = []
    hints = typing.get_type_hints(type(value))
    for field in dataclasses.fields(value):
        held = getattr(value, field.name)
        typed = [t for t in _alternatives(hints[field.name]) if _is_family(t)]
        if typed and held and not isinstance(held, tuple(typed)):
            found.append(f"{type(value).__name__}.{field.name}")
        for item in held if isinstance(held, list) else [held]:
            found += _bare_strings(item)
    return found


def _alternatives(hint: object) -> tuple[object, ...]:
    is_union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    return typing.get_args(hint) if is_union else (hint,)


def _is_family(hint: object) -> typing.TypeGuard[type[StrEnum]]:
    return isinstance(hint, type) and issubclass(hint, StrEnum)
