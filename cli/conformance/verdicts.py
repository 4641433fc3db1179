"""How a check ends, and the assertions checks are written with.

A check returns a one-line detail when the server honoured the rule, raises `CheckFailed` with
what it did instead, or `CheckSkipped` with the capability it lacks.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

import grpc

from cli.conformance.client import RpcFailure
from payloops.processor.v1 import processor_pb2 as pb

UPPER_SNAKE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*")
SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")

_T = TypeVar("_T")


class Verdict(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True)
class CheckResult:
    name: str
    verdict: Verdict
    detail: str


class CheckFailed(Exception):
    """The server broke the rule the check is about (or one the check needed on the way)."""


class CheckSkipped(Exception):
    """The rule does not apply: the server does not declare the capability it needs."""


def outcome_name(outcome: pb.Outcome.ValueType) -> str:
    return (
        pb.Outcome.Name(outcome).removeprefix("OUTCOME_")
        if outcome in pb.Outcome.values()
        else str(outcome)
    )


def refund_status_name(status: pb.Refund.Status.ValueType) -> str:
    return (
        pb.Refund.Status.Name(status).removeprefix("STATUS_")
        if status in pb.Refund.Status.values()
        else str(status)
    )


def answered(reply: _T | RpcFailure, what: str) -> _T:
    """The response of a call that had to succeed."""
    if isinstance(reply, RpcFailure):
        raise CheckFailed(f"{what}: {reply.describe()}")
    return reply


def refused(reply: object, what: str, codes: Collection[grpc.StatusCode]) -> RpcFailure:
    """The error of a call that had to be refused with one of `codes`, carrying a
    google.rpc.Status with an UPPER_SNAKE ErrorInfo reason."""
    expected = " or ".join(code.name for code in codes)
    if not isinstance(reply, RpcFailure):
        raise CheckFailed(f"{what}: answered {describe(reply)}, expected {expected}")
    if reply.code not in codes:
        raise CheckFailed(f"{what}: {reply.describe()}, expected {expected}")
    error_shape(reply, what)
    return reply


def error_shape(failure: RpcFailure, what: str) -> None:
    """Errors carry a google.rpc.Status whose ErrorInfo reason is stable UPPER_SNAKE."""
    if failure.details_problem:
        raise CheckFailed(f"{what}: {failure.code.name}, but {failure.details_problem}")
    if not failure.reason:
        raise CheckFailed(
            f"{what}: {failure.code.name} without a google.rpc.Status ErrorInfo "
            "(grpc-status-details-bin)"
        )
    if not UPPER_SNAKE.fullmatch(failure.reason):
        raise CheckFailed(f"{what}: ErrorInfo reason {failure.reason!r} is not UPPER_SNAKE")


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def describe(value: object) -> str:
    """A response in a few words, for failure messages."""
    if isinstance(value, pb.Payment):
        return (
            f"payment {value.processor_reference or '(no reference)'} {outcome_name(value.outcome)}"
        )
    if isinstance(value, pb.Refund):
        return (
            f"refund {value.processor_reference or '(no reference)'} "
            f"{refund_status_name(value.status)}"
        )
    return f"a {type(value).__name__}"
