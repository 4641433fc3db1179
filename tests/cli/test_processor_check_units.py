"""The conformance kit's client logic, unit-tested with grpcio-testing: the test plays the
Processor server on a grpc_testing channel, sees exactly what a check sent, and answers the way
a conforming or a broken adapter would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import grpc
import grpc_testing
import pytest
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import error_details_pb2, status_pb2

from cli.conformance.client import ProcessorClient, RpcFailure
from cli.conformance.session import Session, Settings
from cli.conformance.suite import CHECKS, run_check
from cli.conformance.verdicts import Verdict
from payloops.processor.v1 import processor_pb2 as pb

PROCESSOR = pb.DESCRIPTOR.services_by_name["Processor"]
CHECK = {check.name: check for check in CHECKS}
CREDENTIALS = {"secret_key": "sk_test_unit"}
CAPABILITIES = pb.GetCapabilitiesResponse(
    name="unit",
    currencies=["INR"],
    test_payment_methods=[
        pb.TestPaymentMethod(token="tok_ok", outcome=pb.OUTCOME_SUCCEEDED),
        pb.TestPaymentMethod(
            token="tok_no", outcome=pb.OUTCOME_DECLINED, decline_code="generic_decline"
        ),
        pb.TestPaymentMethod(
            token="tok_funds", outcome=pb.OUTCOME_DECLINED, decline_code="insufficient_funds"
        ),
    ],
)


@pytest.fixture
def channel() -> grpc_testing.Channel:
    return grpc_testing.channel([PROCESSOR], grpc_testing.strict_real_time())


@pytest.fixture
def session(channel: grpc_testing.Channel) -> Session:
    return Session(
        ProcessorClient(channel, CREDENTIALS, deadline_s=2),
        CAPABILITIES,
        Settings(deadline_s=2, settle_timeout_s=5, poll_interval_s=0),
        sleep=lambda _: None,
    )


InThread = Callable[..., Future[Any]]


@pytest.fixture
def in_thread() -> Iterator[InThread]:
    """The kit blocks until the test (the server) answers, so it runs on another thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit


def error_metadata(
    code: grpc.StatusCode, reason: str, *, status_code: int | None = None
) -> tuple[tuple[str, bytes], ...]:
    """Trailing metadata carrying a google.rpc.Status with an ErrorInfo."""
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.ErrorInfo(reason=reason, domain="unit.test"))
    status = status_pb2.Status(
        code=code.value[0] if status_code is None else status_code,
        message="refused",
        details=[detail],
    )
    return (("grpc-status-details-bin", status.SerializeToString()),)


def answer(
    channel: grpc_testing.Channel,
    method: str,
    response: Message | None = None,
    code: grpc.StatusCode = grpc.StatusCode.OK,
    reason: str | None = None,
) -> Any:
    """Takes the next `method` call, answers it, and returns its request."""
    _, request, rpc = channel.take_unary_unary(PROCESSOR.methods_by_name[method])
    trailing = error_metadata(code, reason) if reason else ()
    rpc.terminate(response, trailing, code, "" if code is grpc.StatusCode.OK else "refused")
    return request


def declined(code: str) -> pb.AuthorizeResponse:
    return pb.AuthorizeResponse(
        payment=pb.Payment(
            processor_reference="pay_1",
            outcome=pb.OUTCOME_DECLINED,
            amount=2000,
            currency="INR",
            decline=pb.Decline(code=code),
        )
    )


def test_declines_authorizes_every_declining_token_with_fresh_keys_and_credentials(
    channel: grpc_testing.Channel, session: Session, in_thread: InThread
) -> None:
    done = in_thread(run_check, session, CHECK["authorize.declines"])
    first = answer(channel, "Authorize", declined("generic_decline"))
    second = answer(channel, "Authorize", declined("insufficient_funds"))
    result = done.result(timeout=5)
    assert result.verdict is Verdict.PASS, result.detail
    assert [first.payment_method.token, second.payment_method.token] == ["tok_no", "tok_funds"]
    assert first.attempt_key.startswith("pcheck_att_")
    assert first.attempt_key != second.attempt_key
    # The first listed currency, test-mode credentials on the call, automatic capture.
    assert (first.currency, first.amount, first.capture_method) == (
        "INR",
        2000,
        pb.CAPTURE_METHOD_AUTOMATIC,
    )
    assert first.credentials == pb.Credentials(values=CREDENTIALS, livemode=False)


def test_a_decline_returned_as_a_grpc_error_fails_declines(
    channel: grpc_testing.Channel, session: Session, in_thread: InThread
) -> None:
    done = in_thread(run_check, session, CHECK["authorize.declines"])
    answer(channel, "Authorize", code=grpc.StatusCode.FAILED_PRECONDITION, reason="CARD_DECLINED")
    result = done.result(timeout=5)
    assert result.verdict is Verdict.FAIL
    assert result.detail == (
        "Authorize tok_no: gRPC error FAILED_PRECONDITION CARD_DECLINED: "
        "refused; a decline is a result, outcome DECLINED"
    )


def test_a_decline_with_another_code_than_declared_fails(
    channel: grpc_testing.Channel, session: Session, in_thread: InThread
) -> None:
    done = in_thread(run_check, session, CHECK["authorize.declines"])
    answer(channel, "Authorize", declined("do_not_honor"))
    result = done.result(timeout=5)
    assert result.verdict is Verdict.FAIL
    assert (
        "decline code 'do_not_honor', GetCapabilities declares 'generic_decline'" in result.detail
    )


@pytest.mark.parametrize(
    ("code", "reason", "verdict", "detail"),
    [
        (
            grpc.StatusCode.NOT_FOUND,
            "PAYMENT_NOT_FOUND",
            Verdict.PASS,
            "NOT_FOUND PAYMENT_NOT_FOUND",
        ),
        (
            grpc.StatusCode.NOT_FOUND,
            None,
            Verdict.FAIL,
            "GetPayment of an unknown attempt_key: NOT_FOUND without a google.rpc.Status ErrorInfo",
        ),
        (
            grpc.StatusCode.UNAVAILABLE,
            "BACKEND_DOWN",
            Verdict.FAIL,
            "GetPayment of an unknown attempt_key: UNAVAILABLE BACKEND_DOWN: refused, "
            "expected NOT_FOUND",
        ),
    ],
)
def test_not_found_must_be_not_found_with_an_error_info(
    channel: grpc_testing.Channel,
    session: Session,
    in_thread: InThread,
    code: grpc.StatusCode,
    reason: str | None,
    verdict: Verdict,
    detail: str,
) -> None:
    # Asked once: an unsure answer is not asked again within a settle timeout of 0.
    impatient = Session(session.client, CAPABILITIES, Settings(deadline_s=2, settle_timeout_s=0))
    done = in_thread(run_check, impatient, CHECK["get-payment.not-found"])
    request = answer(channel, "GetPayment", code=code, reason=reason)
    result = done.result(timeout=5)
    assert request.WhichOneof("lookup") == "attempt_key"
    assert request.attempt_key.startswith("pcheck_att_")
    assert request.credentials.values["secret_key"] == "sk_test_unit"
    assert (result.verdict, result.detail.startswith(detail)) == (verdict, True), result.detail


def test_an_unsure_lookup_is_asked_again_with_the_same_key(
    channel: grpc_testing.Channel, session: Session, in_thread: InThread
) -> None:
    done = in_thread(run_check, session, CHECK["get-payment.not-found"])
    first = answer(
        channel, "GetPayment", code=grpc.StatusCode.UNAVAILABLE, reason="LOOKUP_INCOMPLETE"
    )
    again = answer(
        channel, "GetPayment", code=grpc.StatusCode.NOT_FOUND, reason="PAYMENT_NOT_FOUND"
    )
    result = done.result(timeout=5)
    assert result.verdict is Verdict.PASS, result.detail
    assert again.attempt_key == first.attempt_key


def test_a_payment_for_an_unknown_key_fails_not_found(
    channel: grpc_testing.Channel, session: Session, in_thread: InThread
) -> None:
    done = in_thread(run_check, session, CHECK["get-payment.not-found"])
    answer(
        channel,
        "GetPayment",
        pb.GetPaymentResponse(
            payment=pb.Payment(processor_reference="pay_9", outcome=pb.OUTCOME_SUCCEEDED)
        ),
    )
    result = done.result(timeout=5)
    assert result.verdict is Verdict.FAIL
    assert "answered payment pay_9 SUCCEEDED, expected NOT_FOUND" in result.detail


def test_the_webhook_check_sends_junk_signatures_then_none(
    channel: grpc_testing.Channel, session: Session, in_thread: InThread
) -> None:
    done = in_thread(run_check, session, CHECK["webhook.signature-invalid"])
    forged = answer(
        channel, "ParseWebhook", code=grpc.StatusCode.UNAUTHENTICATED, reason="SIGNATURE_INVALID"
    )
    unsigned = answer(
        channel, "ParseWebhook", code=grpc.StatusCode.UNAUTHENTICATED, reason="SIGNATURE_INVALID"
    )
    result = done.result(timeout=5)
    assert result.verdict is Verdict.PASS, result.detail
    assert {
        "stripe-signature",
        "x-razorpay-signature",
        "x-sandbox-signature",
        "x-webhook-signature",
    } <= set(forged.headers)
    assert forged.headers["stripe-signature"].startswith("t=")
    assert unsigned.headers == {"content-type": "application/json"}
    assert forged.body == unsigned.body and forged.body.startswith(b"{")
    assert forged.credentials.values["secret_key"] == "sk_test_unit"


def test_a_pending_refund_is_followed_with_get_refund_by_its_key(
    channel: grpc_testing.Channel, session: Session, in_thread: InThread
) -> None:
    pending = pb.Refund(processor_reference="re_1", status=pb.Refund.STATUS_PENDING)
    done = in_thread(session.settled_refund, pending, "pcheck_ref_1")
    polls = [
        answer(channel, "GetRefund", pb.GetRefundResponse(refund=pending)),
        answer(
            channel,
            "GetRefund",
            pb.GetRefundResponse(
                refund=pb.Refund(processor_reference="re_1", status=pb.Refund.STATUS_SUCCEEDED)
            ),
        ),
    ]
    assert done.result(timeout=5).status == pb.Refund.STATUS_SUCCEEDED
    assert [p.refund_key for p in polls] == ["pcheck_ref_1", "pcheck_ref_1"]


def test_an_error_whose_status_details_disagree_with_its_code_is_reported(
    channel: grpc_testing.Channel, session: Session, in_thread: InThread
) -> None:
    done = in_thread(session.client.payment_by_key, "pcheck_att_x")
    _, _, rpc = channel.take_unary_unary(PROCESSOR.methods_by_name["GetPayment"])
    rpc.terminate(
        None,
        error_metadata(
            grpc.StatusCode.NOT_FOUND,
            "PAYMENT_NOT_FOUND",
            status_code=grpc.StatusCode.INTERNAL.value[0],
        ),
        grpc.StatusCode.NOT_FOUND,
        "no such payment",
    )
    failure = done.result(timeout=5)
    assert isinstance(failure, RpcFailure)
    assert (failure.code, failure.reason) == (grpc.StatusCode.NOT_FOUND, "PAYMENT_NOT_FOUND")
    assert (
        failure.details_problem
        == "google.rpc.Status code 13 differs from the gRPC code 5 (NOT_FOUND)"
    )
