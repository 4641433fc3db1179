"""The gateway kit's helpers, each on its own: bounded maps, keyed locks, the typed config
pattern, the shared request checks, the contract's error rules, declines and test methods."""

from __future__ import annotations

import argparse
import asyncio
import threading
from dataclasses import FrozenInstanceError, dataclass

import grpc
import pytest
from google.rpc import error_details_pb2, status_pb2

from payloops.processor.v1 import processor_pb2 as pb
from processors.kit.bounded import BoundedMap
from processors.kit.capabilities import TestMethod, advertised
from processors.kit.checks import lookup_required, non_negative, positive, required
from processors.kit.config import (
    ServerConfig,
    check_api_base,
    parse_config,
    server_arguments,
)
from processors.kit.declines import DeclineRule
from processors.kit.errors import (
    NOT_SENT,
    ProcessorError,
    failed_precondition,
    invalid,
    not_found,
    not_sent,
    unknown_after_money_request,
)
from processors.kit.locks import KeyedLocks, KeyedThreadLocks
from processors.kit.webhooks import lower_case, malformed, signature_invalid

# -- bounded maps ---------------------------------------------------------------------------


def test_a_bounded_map_drops_the_least_recently_used_entry() -> None:
    evicted: list[str] = []
    cache: BoundedMap[str, str] = BoundedMap(2, on_evict=evicted.append)
    cache.put("a", "A")
    cache.put("b", "B")
    assert cache.get("a") == "A"  # "a" is now the most recently used
    cache.put("c", "C")
    assert (cache.get("b"), cache.get("a"), cache.get("c")) == (None, "A", "C")
    assert evicted == ["B"]
    assert len(cache) == 2


def test_a_bounded_map_stays_bounded_under_threads() -> None:
    cache: BoundedMap[int, int] = BoundedMap(50)

    def fill(start: int) -> None:
        for n in range(start, start + 1000):
            cache.put(n, n)
            cache.get(n - 1)

    threads = [threading.Thread(target=fill, args=(i * 1000,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    kept = {n: cache.get(n) for n in range(4000)}
    assert len(cache) == 50
    assert sum(value is not None for value in kept.values()) == 50
    assert all(value in (None, n) for n, value in kept.items())


def test_a_bounded_map_needs_room() -> None:
    with pytest.raises(ValueError):
        BoundedMap[str, str](0)


# -- keyed locks ----------------------------------------------------------------------------


async def test_keyed_locks_serialize_one_key_and_forget_it_when_free() -> None:
    locks = KeyedLocks()
    order: list[str] = []
    release_first = await locks.acquire("pay_1")

    async def second() -> None:
        release = await locks.acquire("pay_1")
        order.append("second")
        release()

    waiting = asyncio.create_task(second())
    release_other = await locks.acquire("pay_2")  # another key is not held up
    order.append("other")
    release_other()
    await asyncio.sleep(0)
    assert order == ["other"]  # the second holder of pay_1 still waits
    order.append("first")
    release_first()
    await waiting
    assert order == ["other", "first", "second"]
    assert len(locks) == 0


async def test_a_cancelled_waiter_leaves_no_lock_behind() -> None:
    locks = KeyedLocks()
    release = await locks.acquire("pay_1")
    waiter = asyncio.create_task(locks.acquire("pay_1"))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    release()
    assert len(locks) == 0


def test_keyed_thread_locks_serialize_one_key() -> None:
    locks = KeyedThreadLocks()
    inside = 0
    most = 0
    guard = threading.Lock()

    def work() -> None:
        nonlocal inside, most
        for _ in range(200):
            with locks.hold("pay_1"):
                with guard:
                    inside += 1
                    most = max(most, inside)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 1
    assert len(locks) == 0


# -- the typed config pattern ---------------------------------------------------------------


@dataclass(frozen=True)
class ExampleConfig(ServerConfig):
    name: str = "example"
    timeout_ms: int = 1000

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.timeout_ms <= 0:
            raise ValueError("timeout_ms must be positive")


def parse(argv: list[str]) -> ExampleConfig:
    parser = server_arguments("example", "an example adapter", "example")
    parser.add_argument("--timeout-ms", type=int, default=1000)
    return parse_config(
        parser,
        argv,
        lambda args: ExampleConfig(
            name=args.name, host=args.host, port=args.port, timeout_ms=args.timeout_ms
        ),
    )


def test_a_config_is_read_from_the_command_line_and_frozen() -> None:
    config = parse(["--name", "acme", "--port", "50070", "--timeout-ms", "250"])
    assert config == ExampleConfig(name="acme", port=50070, timeout_ms=250)
    assert parse([]) == ExampleConfig()
    with pytest.raises(FrozenInstanceError):
        config.port = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    "argv", [["--timeout-ms", "0"], ["--port", "70000"], ["--name", ""], ["--port", "x"]]
)
def test_a_refused_setting_stops_the_start(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        parse(argv)
    assert stopped.value.code == 2


@pytest.mark.parametrize(
    "api_base", ["ftp://api.example.com", "http://api.example.com/v1", "api.example.com", ""]
)
def test_an_api_base_is_scheme_host_and_port(api_base: str) -> None:
    with pytest.raises(ValueError):
        check_api_base(api_base)


def test_an_api_base_may_end_in_a_slash() -> None:
    check_api_base("http://127.0.0.1:8080/")
    check_api_base("https://api.example.com")


def test_parse_config_passes_other_errors_through() -> None:
    def build(args: argparse.Namespace) -> ExampleConfig:
        raise KeyError("a bug, not a setting")

    with pytest.raises(KeyError):
        parse_config(server_arguments("x", "x", "x"), [], build)


# -- request checks -------------------------------------------------------------------------


def refused(error: ProcessorError) -> tuple[grpc.StatusCode, str]:
    return error.code, error.reason


def test_the_shared_request_checks() -> None:
    assert required("k", "attempt_key") == "k"
    assert positive(5) == 5
    assert non_negative(0) == 0
    with pytest.raises(ProcessorError) as missing:
        required("", "capture_key")
    assert refused(missing.value) == (grpc.StatusCode.INVALID_ARGUMENT, "CAPTURE_KEY_REQUIRED")
    with pytest.raises(ProcessorError) as zero:
        positive(0)
    assert refused(zero.value) == (grpc.StatusCode.INVALID_ARGUMENT, "AMOUNT_NOT_POSITIVE")
    with pytest.raises(ProcessorError) as negative:
        non_negative(-1)
    assert refused(negative.value) == (grpc.StatusCode.INVALID_ARGUMENT, "AMOUNT_NEGATIVE")
    lookup = lookup_required("refund_key", "processor_reference")
    assert refused(lookup) == (grpc.StatusCode.INVALID_ARGUMENT, "LOOKUP_REQUIRED")
    assert lookup.message == "set refund_key or processor_reference"


# -- the contract's error rules -------------------------------------------------------------


def test_a_status_carries_code_message_and_one_error_info() -> None:
    error = ProcessorError(
        grpc.StatusCode.FAILED_PRECONDITION, "REFUND_EXCEEDS_CAPTURED", "too much", {"a": "b"}
    )
    status = error.status("acme.payloops.dev")
    assert status.code == grpc.StatusCode.FAILED_PRECONDITION
    assert status.details == "too much"
    sent = status_pb2.Status.FromString(dict(status.trailing_metadata)["grpc-status-details-bin"])
    info = error_details_pb2.ErrorInfo()
    assert len(sent.details) == 1 and sent.details[0].Unpack(info)
    assert (info.reason, info.domain, dict(info.metadata)) == (
        "REFUND_EXCEEDS_CAPTURED",
        "acme.payloops.dev",
        {"a": "b"},
    )
    assert sent.code == grpc.StatusCode.FAILED_PRECONDITION.value[0]


@pytest.mark.parametrize(
    "error",
    [
        not_sent("refused"),
        invalid("GATEWAY_REJECTED_REQUEST", "no"),
        failed_precondition("PAYMENT_STATE_CONFLICT", "no"),
        not_found("PAYMENT_NOT_FOUND", "no"),
        ProcessorError(grpc.StatusCode.UNAUTHENTICATED, "CREDENTIALS_REJECTED", "no"),
        ProcessorError(grpc.StatusCode.PERMISSION_DENIED, "FORBIDDEN", "no"),
    ],
)
def test_after_a_money_request_nothing_may_say_nothing_was_charged(error: ProcessorError) -> None:
    unknown = unknown_after_money_request(error)
    assert (unknown.code, unknown.reason) == (
        grpc.StatusCode.UNAVAILABLE,
        "OUTCOME_UNKNOWN_AFTER_REQUEST",
    )
    assert unknown.metadata["cause_reason"] == error.reason
    assert unknown.reason != NOT_SENT


@pytest.mark.parametrize(
    "error",
    [
        ProcessorError(grpc.StatusCode.DEADLINE_EXCEEDED, "GATEWAY_TIMEOUT", "slow"),
        ProcessorError(grpc.StatusCode.UNAVAILABLE, "GATEWAY_CONNECTION_LOST", "lost"),
        ProcessorError(grpc.StatusCode.INTERNAL, "GATEWAY_ERROR", "500"),
    ],
)
def test_an_unknown_outcome_stays_as_it_is(error: ProcessorError) -> None:
    assert unknown_after_money_request(error) is error


# -- declines, test methods, webhooks -------------------------------------------------------


def test_a_decline_rule_makes_the_contracts_decline() -> None:
    rule = DeclineRule("try_again_later", soft=True, message="The issuer is unavailable.")
    assert rule.decline("gateway_technical_error") == pb.Decline(
        code="try_again_later",
        soft=True,
        message="The issuer is unavailable.",
        gateway_code="gateway_technical_error",
    )
    assert rule.decline("x", "The gateway's own words.").message == "The gateway's own words."


def test_test_methods_are_advertised_as_the_contract_says() -> None:
    methods = (
        TestMethod("pm_ok", pb.OUTCOME_SUCCEEDED, "succeeds"),
        TestMethod("pm_no", pb.OUTCOME_DECLINED, "declines", "insufficient_funds"),
    )
    assert advertised(methods) == [
        pb.TestPaymentMethod(token="pm_ok", outcome=pb.OUTCOME_SUCCEEDED, description="succeeds"),
        pb.TestPaymentMethod(
            token="pm_no",
            outcome=pb.OUTCOME_DECLINED,
            decline_code="insufficient_funds",
            description="declines",
        ),
    ]


def test_webhook_refusals_and_headers() -> None:
    assert lower_case({"X-Signature": "s", "content-type": "t"}) == {
        "x-signature": "s",
        "content-type": "t",
    }
    assert refused(signature_invalid()) == (grpc.StatusCode.UNAUTHENTICATED, "SIGNATURE_INVALID")
    assert refused(malformed("not an event")) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "WEBHOOK_MALFORMED",
    )
