"""The one error type of every adapter: a failure as the Processor contract wants it reported.

Handlers raise `ProcessorError`; `interceptor.ErrorInterceptor` ends the RPC with it as a
google.rpc.Status. The contract's rules (processor.proto, "Outcomes and errors"), in short:

| gRPC code                                | meaning                          | nothing charged? |
| ---------------------------------------- | -------------------------------- | ---------------- |
| UNAVAILABLE with reason NOT_SENT         | the gateway never got it         | yes, provably    |
| DEADLINE_EXCEEDED, UNAVAILABLE, INTERNAL | the outcome is unknown           | unknown          |
| INVALID_ARGUMENT                         | the request is malformed         | yes              |
| FAILED_PRECONDITION                      | not in the payment's state       | yes              |
| NOT_FOUND                                | the gateway has no such object   | yes              |
| UNAUTHENTICATED                          | credentials or signature refused | yes              |

A decline is not an error: it is a Payment with outcome DECLINED.
"""

from __future__ import annotations

from collections.abc import Mapping

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

# The one reason that tells PayLoops the request never reached the gateway: it then tries the
# next processor at once. Any other failure of a call that may have been sent is "unknown".
NOT_SENT = "NOT_SENT"
OUTCOME_UNKNOWN_AFTER_REQUEST = "OUTCOME_UNKNOWN_AFTER_REQUEST"

# Answers that tell PayLoops this call charged nothing.
_NOTHING_CHARGED = frozenset(
    {
        grpc.StatusCode.INVALID_ARGUMENT,
        grpc.StatusCode.FAILED_PRECONDITION,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.PERMISSION_DENIED,
    }
)


class ProcessorError(Exception):
    """An RPC's failure: a gRPC code, a stable UPPER_SNAKE reason, a message for people and
    metadata for support (a gateway's request id and codes; never a secret)."""

    def __init__(
        self,
        code: grpc.StatusCode,
        reason: str,
        message: str,
        metadata: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.metadata = dict(metadata or {})

    def __repr__(self) -> str:
        return f"ProcessorError({self.code.name}, {self.reason!r}, {self.message!r})"

    def status(self, domain: str) -> grpc.Status:
        """The google.rpc.Status to end the RPC with; its ErrorInfo names the adapter by
        `domain` ("stripe.payloops.dev")."""
        detail = any_pb2.Any()
        detail.Pack(
            error_details_pb2.ErrorInfo(reason=self.reason, domain=domain, metadata=self.metadata)
        )
        status: grpc.Status = rpc_status.to_status(
            status_pb2.Status(code=self.code.value[0], message=self.message, details=[detail])
        )
        return status


def invalid(reason: str, message: str) -> ProcessorError:
    return ProcessorError(grpc.StatusCode.INVALID_ARGUMENT, reason, message)


def failed_precondition(reason: str, message: str) -> ProcessorError:
    return ProcessorError(grpc.StatusCode.FAILED_PRECONDITION, reason, message)


def not_found(reason: str, message: str) -> ProcessorError:
    return ProcessorError(grpc.StatusCode.NOT_FOUND, reason, message)


def unauthenticated(reason: str, message: str) -> ProcessorError:
    return ProcessorError(grpc.StatusCode.UNAUTHENTICATED, reason, message)


def not_sent(message: str, metadata: Mapping[str, str] | None = None) -> ProcessorError:
    """The gateway provably never got the request (refused connection, rate limited before
    acceptance): say so only when it is sure, since PayLoops then charges elsewhere at once."""
    return ProcessorError(grpc.StatusCode.UNAVAILABLE, NOT_SENT, message, metadata)


def _says_nothing_charged(error: ProcessorError) -> bool:
    return error.code in _NOTHING_CHARGED or error.reason == NOT_SENT


def unknown_after_money_request(error: ProcessorError) -> ProcessorError:
    """`error` for a call in which a request that can move money (a payment, a capture, a
    refund) may have taken effect. An answer saying nothing was charged ("not sent", "not
    found", "invalid") would be about a later request of the call only, and PayLoops could
    charge elsewhere while the gateway has charged: the outcome is unknown instead."""
    if not _says_nothing_charged(error):
        return error
    return ProcessorError(
        grpc.StatusCode.UNAVAILABLE,
        OUTCOME_UNKNOWN_AFTER_REQUEST,
        f"{error.message}, after a request that may have moved money; the outcome is unknown",
        {**error.metadata, "cause_reason": error.reason},
    )
