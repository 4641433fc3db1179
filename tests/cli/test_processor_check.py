"""The conformance kit against real gRPC servers on port 0: the sandbox (the reference
implementation must pass every check), and a Processor with one breakage at a time (each rule
broken must fail exactly the checks about it, and nothing else)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

import pytest

from cli.conformance import suite
from cli.conformance.session import Settings
from cli.conformance.verdicts import Verdict
from cli.processor_check import CannotRun, Options, Report, check
from processors.sandbox.config import SandboxConfig
from processors.sandbox.server import serve
from tests.cli.broken_processor import (
    SECRET_KEY,
    SUCCEED,
    Breakage,
    Features,
    running,
    self_signed_for_127_0_0_1,
)

# A refund stuck in PENDING must fail within the test, not after the real 30 s.
QUICK = Settings(deadline_s=5, settle_timeout_s=0.3, poll_interval_s=0.05)
ALL_CHECKS = [c.name for c in suite.CHECKS]


@contextlib.contextmanager
def sandbox_in_thread() -> Iterator[str]:
    """processors/sandbox in-process on its own event loop thread (the kit is synchronous);
    yields its gRPC target."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    ports: list[int] = []

    def on_ready(grpc_port: int, http_port: int) -> None:
        ports.append(grpc_port)
        ready.set()

    task = loop.create_task(serve(SandboxConfig(name="sandbox"), on_ready=on_ready))

    def run() -> None:
        with contextlib.suppress(asyncio.CancelledError):
            loop.run_until_complete(task)

    thread = threading.Thread(target=run, name="sandbox", daemon=True)
    thread.start()
    try:
        assert ready.wait(10), "sandbox did not start"
        yield f"127.0.0.1:{ports[0]}"
    finally:
        loop.call_soon_threadsafe(task.cancel)
        thread.join(10)
        loop.close()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    with sandbox_in_thread() as target:
        yield target


def verdicts(report: Report) -> dict[str, Verdict]:
    return {r.name: r.verdict for r in report.results}


def test_the_sandbox_passes_every_check(sandbox: str) -> None:
    # The sandbox's ParseWebhook checks an HMAC keyed with the `webhook_secret` credential.
    report = check(Options(sandbox, {"webhook_secret": "whsec_test"}))
    assert report.processor == "sandbox"
    assert [r.name for r in report.results] == ALL_CHECKS
    assert report.passed, [r for r in report.results if r.verdict is not Verdict.PASS]
    # The sandbox declares every capability and token kind, so nothing is skipped.
    assert set(verdicts(report).values()) == {Verdict.PASS}


def test_a_conforming_processor_that_is_not_the_sandbox_passes_too() -> None:
    # Other name, tokens, currencies (EUR first) and ErrorInfo reasons: nothing is assumed.
    with running() as target:
        report = check(Options(target), QUICK)
    assert report.processor == "broken"
    assert set(verdicts(report).values()) == {Verdict.PASS}


# Each breakage and the checks it must fail: a rule's check fails when that rule is broken, and
# the checks of the other rules do not.
EXPECTED_FAILURES = {
    Breakage.BAD_CAPABILITIES: {"capabilities.well-formed"},
    # Merchants could never pay with them (the token rule), or routing never sends them here.
    Breakage.TOKENS_THE_API_REFUSES: {"capabilities.well-formed"},
    Breakage.TOKENS_OUTSIDE_PREFIXES: {"capabilities.well-formed"},
    Breakage.HEALTH_NOT_SERVING: {"service.health"},
    Breakage.NO_REFLECTION: {"service.reflection"},
    Breakage.ECHOES_LOWER_CASE_CURRENCY: {"authorize.success"},
    Breakage.CHARGES_TWICE: {"authorize.idempotent", "authorize.key-reuse"},
    Breakage.KEY_REUSE_CHARGES: {"authorize.key-reuse"},
    # Also breaks the set-up of other checks that need a decline.
    Breakage.DECLINES_AS_ERRORS: {
        "authorize.declines",
        "authorize.idempotent",
        "capture.wrong-state",
    },
    Breakage.WRONG_DECLINE_CODE: {"authorize.declines"},
    Breakage.NOT_FOUND_AS_UNAVAILABLE: {"get-payment.not-found", "refund.get-refund"},
    Breakage.LOOKUP_BY_KEY_NOT_FOUND: {
        "get-payment.found",
        "authorize.idempotent",
        "authorize.key-reuse",
        "three-d-secure.challenge",
    },
    Breakage.CAPTURE_ANY_STATE: {"capture.wrong-state"},
    Breakage.PARTIAL_CAPTURE_TAKES_ALL: {"capture.partial"},
    Breakage.CAPTURE_NOT_IDEMPOTENT: {"capture.idempotent"},
    Breakage.VOID_NOT_IDEMPOTENT: {"void.idempotent"},
    Breakage.VOIDS_CAPTURED: {"void.captured"},
    Breakage.OVER_REFUNDS: {"refund.over-refund"},
    Breakage.REFUND_NOT_IDEMPOTENT: {"refund.idempotent"},
    # Every refund check waits for SUCCEEDED, boundedly.
    Breakage.REFUND_STAYS_PENDING: {
        "refund.full",
        "refund.partial",
        "refund.over-refund",
        "refund.idempotent",
        "refund.get-refund",
    },
    Breakage.RELATIVE_REDIRECT_URL: {"three-d-secure.challenge"},
    Breakage.CHARGES_AMOUNT_ZERO: {"errors.invalid-argument"},
    # Every check that expects an error also checks its shape.
    Breakage.ERRORS_WITHOUT_DETAILS: {
        "get-payment.not-found",
        "capture.wrong-state",
        "void.captured",
        "refund.over-refund",
        "refund.get-refund",
        "errors.invalid-argument",
        "webhook.signature-invalid",
    },
    Breakage.ACCEPTS_ANY_WEBHOOK: {"webhook.signature-invalid"},
    Breakage.WEBHOOK_WRONG_REASON: {"webhook.signature-invalid"},
}


def test_every_breakage_has_its_expectation() -> None:
    assert set(EXPECTED_FAILURES) == set(Breakage)


@pytest.mark.parametrize("breakage", list(Breakage))
def test_a_broken_rule_fails_exactly_its_checks(breakage: Breakage) -> None:
    with running({breakage}) as target:
        report = check(Options(target), QUICK)
    assert not report.passed
    assert set(report.failed()) == EXPECTED_FAILURES[breakage]
    assert all(r.detail for r in report.results if r.verdict is Verdict.FAIL)


@pytest.mark.parametrize(
    ("breakage", "name", "detail"),
    [
        (Breakage.CHARGES_TWICE, "authorize.idempotent", "made two payments"),
        (Breakage.DECLINES_AS_ERRORS, "authorize.declines", "a decline is a result"),
        (
            Breakage.WRONG_DECLINE_CODE,
            "authorize.declines",
            "decline code 'declined', GetCapabilities declares 'card_declined'",
        ),
        (
            Breakage.NOT_FOUND_AS_UNAVAILABLE,
            "get-payment.not-found",
            "UNAVAILABLE GATEWAY_ERROR: lookup failed (asked ",
        ),
        (Breakage.REFUND_STAYS_PENDING, "refund.full", "still PENDING after 0.3 s"),
        (
            Breakage.RELATIVE_REDIRECT_URL,
            "three-d-secure.challenge",
            "is not an absolute http(s) URL",
        ),
        (
            Breakage.ERRORS_WITHOUT_DETAILS,
            "errors.invalid-argument",
            "INVALID_ARGUMENT without a google.rpc.Status ErrorInfo",
        ),
        (Breakage.ACCEPTS_ANY_WEBHOOK, "webhook.signature-invalid", "expected UNAUTHENTICATED"),
        (
            Breakage.TOKENS_THE_API_REFUSES,
            "capabilities.well-formed",
            "test payment method 'tok:ok' is refused by the PayLoops API",
        ),
        (
            Breakage.TOKENS_OUTSIDE_PREFIXES,
            "capabilities.well-formed",
            "'tok_ok' starts with none of the declared token_prefixes ['card_']",
        ),
        (
            Breakage.WEBHOOK_WRONG_REASON,
            "webhook.signature-invalid",
            "reason 'BAD_SIGNATURE', expected 'SIGNATURE_INVALID'",
        ),
    ],
)
def test_a_failure_says_what_the_server_did(breakage: Breakage, name: str, detail: str) -> None:
    with running({breakage}) as target:
        report = check(Options(target), QUICK)
    [result] = [r for r in report.results if r.name == name]
    assert result.verdict is Verdict.FAIL
    assert detail in result.detail


def test_checks_for_capabilities_the_server_lacks_are_skipped_with_the_reason() -> None:
    bare = Features(
        manual_capture=False,
        partial_capture=False,
        partial_refund=False,
        three_d_secure=False,
        tokens=(SUCCEED,),
    )
    with running(features=bare) as target:
        report = check(Options(target), QUICK)
    skipped = {r.name: r.detail for r in report.results if r.verdict is Verdict.SKIP}
    assert skipped == {
        "authorize.declines": "no test payment method with outcome DECLINED",
        "capture.full": "manual_capture is false",
        "capture.partial": "manual_capture is false",
        "capture.wrong-state": "manual_capture is false",
        "capture.idempotent": "manual_capture is false",
        "void.authorized": "manual_capture is false",
        "void.idempotent": "manual_capture is false",
        "refund.partial": "partial_refund is false",
        "three-d-secure.challenge": "three_d_secure is false",
    }
    # What still applies runs, in its whole-amount variant, and passes: skips are not failures.
    assert report.passed
    assert verdicts(report)["refund.over-refund"] is Verdict.PASS


def test_without_partial_operations_the_idempotency_checks_use_whole_amounts() -> None:
    whole_only = Features(
        partial_capture=False, partial_refund=False, tokens=(SUCCEED,), three_d_secure=False
    )
    for breakage, name in (
        (Breakage.CAPTURE_NOT_IDEMPOTENT, "capture.idempotent"),
        (Breakage.REFUND_NOT_IDEMPOTENT, "refund.idempotent"),
    ):
        with running({breakage}, whole_only) as target:
            report = check(Options(target), QUICK)
        assert report.failed() == [name]


def test_declared_credential_fields_are_required_and_sent_on_every_call() -> None:
    with running(features=Features(needs_secret_key=True)) as target:
        with pytest.raises(CannotRun, match="broken needs credentials secret_key"):
            check(Options(target), QUICK)
        # The server refuses every call but GetCapabilities without the key: all pass only if
        # every call carried it.
        report = check(Options(target, {"secret_key": SECRET_KEY}), QUICK)
        assert set(verdicts(report).values()) == {Verdict.PASS}
        rejected = check(Options(target, {"secret_key": "sk_test_wrong"}), QUICK)
    assert (
        "UNAUTHENTICATED CREDENTIALS_INVALID"
        in {r.name: r.detail for r in rejected.results}["authorize.success"]
    )


def test_only_runs_the_checks_named_by_name_or_area() -> None:
    with running() as target:
        report = check(Options(target, only=("refund", "service.health")), QUICK)
    assert [r.name for r in report.results] == [
        "service.health",
        "refund.full",
        "refund.partial",
        "refund.over-refund",
        "refund.idempotent",
        "refund.get-refund",
    ]


def test_a_tls_server_is_checked_over_tls_trusting_the_given_ca() -> None:
    key_pem, cert_pem = self_signed_for_127_0_0_1()
    with running(tls_key_and_cert=(key_pem, cert_pem)) as target:
        report = check(Options(target, tls=True, tls_ca_pem=cert_pem), QUICK)
        assert set(verdicts(report).values()) == {Verdict.PASS}
        # Plaintext to a TLS port gets no answer.
        with pytest.raises(CannotRun, match=f"cannot reach {target}"):
            check(Options(target), Settings(deadline_s=2))


def test_an_unreachable_server_cannot_be_checked() -> None:
    with running() as target:
        pass  # stopped: nothing listens there any more
    with pytest.raises(CannotRun, match=f"cannot reach {target}: UNAVAILABLE"):
        check(Options(target), QUICK)
