"""A synchronous client for the Processor server under test.

Every call carries the run's credentials and deadline, and comes back as a value: the response,
or an `RpcFailure` with the gRPC code and the google.rpc.Status ErrorInfo the contract asks
for. Checks then judge both alike, because for the contract an error is as much an answer as a
result.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeVar

import grpc
from google.protobuf.message import DecodeError, Message
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2

from payloops.processor.v1 import processor_pb2 as pb
from payloops.processor.v1 import processor_pb2_grpc

PROCESSOR_SERVICE = pb.DESCRIPTOR.services_by_name["Processor"].full_name
_STATUS_DETAILS_KEY = "grpc-status-details-bin"
_HEALTH_CHECK_METHOD = "/grpc.health.v1.Health/Check"
# v1alpha is what every gRPC implementation serves (grpc-python serves only it); v1 has the
# same messages on the wire, so it is tried with the same serializers when v1alpha is absent.
_REFLECTION_METHODS = (
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
)

_Response = TypeVar("_Response")


@dataclass(frozen=True)
class RpcFailure:
    """A call that ended with a gRPC error."""

    code: grpc.StatusCode
    message: str
    # ErrorInfo.reason / .domain from the google.rpc.Status details; "" when there is none.
    reason: str = ""
    domain: str = ""
    # Why the status details could not be read, when they were present but broken.
    details_problem: str = ""

    def describe(self) -> str:
        reason = f" {self.reason}" if self.reason else " (no ErrorInfo)"
        message = " ".join(self.message.split())
        return f"{self.code.name}{reason}" + (f": {message}" if message else "")


def failure_of(error: grpc.RpcError) -> RpcFailure:
    """The code, message and ErrorInfo of a failed call."""
    if not isinstance(error, grpc.Call):
        return RpcFailure(grpc.StatusCode.UNKNOWN, str(error))
    code, message = error.code(), error.details() or ""
    raw: str | bytes | None = None
    for key, value in error.trailing_metadata() or ():
        if key == _STATUS_DETAILS_KEY:
            raw = value
    if raw is None:
        return RpcFailure(code, message)
    status = status_pb2.Status()
    try:
        status.ParseFromString(raw if isinstance(raw, bytes) else raw.encode())
    except DecodeError:
        return RpcFailure(
            code, message, details_problem=f"{_STATUS_DETAILS_KEY} is not a google.rpc.Status"
        )
    problem = ""
    if status.code != code.value[0]:
        problem = (
            f"google.rpc.Status code {status.code} differs from the gRPC code "
            f"{code.value[0]} ({code.name})"
        )
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return RpcFailure(code, message, info.reason, info.domain, problem)
    return RpcFailure(code, message, details_problem=problem)


class ProcessorClient:
    """The Processor, health and reflection services of one server, called with the run's
    credentials (test mode) and deadline."""

    def __init__(
        self, channel: grpc.Channel, credentials: Mapping[str, str], deadline_s: float
    ) -> None:
        self._channel = channel
        self._stub = processor_pb2_grpc.ProcessorStub(channel)
        self._credentials = pb.Credentials(values=dict(credentials), livemode=False)
        self.deadline_s = deadline_s

    # -- Processor -----------------------------------------------------------------------------

    def capabilities(self) -> pb.GetCapabilitiesResponse | RpcFailure:
        return self._call(self._stub.GetCapabilities, pb.GetCapabilitiesRequest())

    def authorize(self, request: pb.AuthorizeRequest) -> pb.Payment | RpcFailure:
        sent = pb.AuthorizeRequest()
        sent.CopyFrom(request)
        sent.credentials.CopyFrom(self._credentials)
        reply = self._call(self._stub.Authorize, sent)
        return reply if isinstance(reply, RpcFailure) else reply.payment

    def capture(
        self, capture_key: str, processor_reference: str, amount: int = 0
    ) -> pb.Payment | RpcFailure:
        reply = self._call(
            self._stub.Capture,
            pb.CaptureRequest(
                capture_key=capture_key,
                processor_reference=processor_reference,
                amount=amount,
                credentials=self._credentials,
            ),
        )
        return reply if isinstance(reply, RpcFailure) else reply.payment

    def void(self, void_key: str, processor_reference: str) -> pb.Payment | RpcFailure:
        reply = self._call(
            self._stub.Void,
            pb.VoidRequest(
                void_key=void_key,
                processor_reference=processor_reference,
                credentials=self._credentials,
            ),
        )
        return reply if isinstance(reply, RpcFailure) else reply.payment

    def refund(
        self, refund_key: str, processor_reference: str, amount: int = 0
    ) -> pb.Refund | RpcFailure:
        reply = self._call(
            self._stub.Refund,
            pb.RefundRequest(
                refund_key=refund_key,
                processor_reference=processor_reference,
                amount=amount,
                reason="payloops processor-check",
                credentials=self._credentials,
            ),
        )
        return reply if isinstance(reply, RpcFailure) else reply.refund

    def payment_by_key(self, attempt_key: str) -> pb.Payment | RpcFailure:
        reply = self._call(
            self._stub.GetPayment,
            pb.GetPaymentRequest(attempt_key=attempt_key, credentials=self._credentials),
        )
        return reply if isinstance(reply, RpcFailure) else reply.payment

    def payment_by_reference(self, processor_reference: str) -> pb.Payment | RpcFailure:
        reply = self._call(
            self._stub.GetPayment,
            pb.GetPaymentRequest(
                processor_reference=processor_reference, credentials=self._credentials
            ),
        )
        return reply if isinstance(reply, RpcFailure) else reply.payment

    def refund_by_key(self, refund_key: str) -> pb.Refund | RpcFailure:
        reply = self._call(
            self._stub.GetRefund,
            pb.GetRefundRequest(refund_key=refund_key, credentials=self._credentials),
        )
        return reply if isinstance(reply, RpcFailure) else reply.refund

    def refund_by_reference(self, processor_reference: str) -> pb.Refund | RpcFailure:
        reply = self._call(
            self._stub.GetRefund,
            pb.GetRefundRequest(
                processor_reference=processor_reference, credentials=self._credentials
            ),
        )
        return reply if isinstance(reply, RpcFailure) else reply.refund

    def parse_webhook(
        self, headers: Mapping[str, str], body: bytes
    ) -> pb.ParseWebhookResponse | RpcFailure:
        return self._call(
            self._stub.ParseWebhook,
            pb.ParseWebhookRequest(headers=dict(headers), body=body, credentials=self._credentials),
        )

    # -- health and reflection -------------------------------------------------------------

    def health(self, service: str = "") -> health_pb2.HealthCheckResponse | RpcFailure:
        check = self._channel.unary_unary(
            _HEALTH_CHECK_METHOD,
            request_serializer=health_pb2.HealthCheckRequest.SerializeToString,
            response_deserializer=health_pb2.HealthCheckResponse.FromString,
        )
        return self._call(check, health_pb2.HealthCheckRequest(service=service))

    def reflected_services(self) -> list[str] | RpcFailure:
        """The services server reflection lists (v1alpha, else v1)."""
        failure: RpcFailure | None = None
        for method in _REFLECTION_METHODS:
            info = self._channel.stream_stream(
                method,
                request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
                response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
            )
            request = reflection_pb2.ServerReflectionRequest(list_services="")
            try:
                responses: Iterator[reflection_pb2.ServerReflectionResponse] = info(
                    iter([request]), timeout=self.deadline_s
                )
                for response in responses:
                    if response.HasField("error_response"):
                        return RpcFailure(
                            grpc.StatusCode.UNKNOWN, response.error_response.error_message
                        )
                    return [s.name for s in response.list_services_response.service]
                return RpcFailure(grpc.StatusCode.UNKNOWN, "reflection sent no response")
            except grpc.RpcError as error:
                failure = failure_of(error)
                if failure.code != grpc.StatusCode.UNIMPLEMENTED:
                    return failure
        assert failure is not None
        return failure

    # -- internals -------------------------------------------------------------------------

    def _call(self, method: Callable[..., _Response], request: Message) -> _Response | RpcFailure:
        try:
            return method(request, timeout=self.deadline_s)
        except grpc.RpcError as error:
            return failure_of(error)
