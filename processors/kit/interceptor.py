"""The one interceptor of every adapter: ends each RPC that raised with its google.rpc.Status.

A `ProcessorError` becomes its status, with an ErrorInfo in the adapter's domain. Any other
exception is INTERNAL (reason ADAPTER_ERROR): the contract reads that as "outcome unknown", the
only safe reading when the adapter may have been half-way through a charge. The exception is
logged; the request is not (it carries credentials). The interceptor also makes the caller's
`x-correlation-id` the correlation id of the RPC's log lines, and the caller's trace theirs, and
logs one line per RPC.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, cast

import grpc
from opentelemetry import context as otel_context
from opentelemetry import propagate

from processors.kit.errors import ProcessorError
from processors.kit.logs import correlation_id

log = logging.getLogger(__name__)

CORRELATION_HEADER = "x-correlation-id"
ADAPTER_ERROR = "ADAPTER_ERROR"
_MAX_CORRELATION_ID = 128

Context = grpc.aio.ServicerContext[Any, Any]
Handler = Callable[[Any, Context], Awaitable[Any]]
# grpc.RpcMethodHandler is generic in the stubs only.
Continuation = Callable[
    [grpc.HandlerCallDetails], Awaitable["grpc.RpcMethodHandler[Any, Any] | None"]
]


class ErrorInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, domain: str) -> None:
        self._domain = domain

    async def intercept_service(
        self, continuation: Continuation, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler  # streaming (reflection, health Watch): nothing of ours raises there
        # grpc's stubs type handlers as plain functions; under grpc.aio they are coroutines.
        inner = cast(Handler, handler.unary_unary)
        method = str(handler_call_details.method).rsplit("/", 1)[-1]
        guarded = self._guard(inner, method)
        return grpc.unary_unary_rpc_method_handler(
            guarded,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    def _guard(self, inner: Handler, method: str) -> Handler:
        async def guarded(request: Any, context: Context) -> Any:
            metadata = {str(k): str(v) for k, v in context.invocation_metadata() or ()}
            token = correlation_id.set(metadata.get(CORRELATION_HEADER, "")[:_MAX_CORRELATION_ID])
            # The caller's trace (W3C traceparent, sent when the caller traces): the RPC's log
            # records name it and the caller's span.
            traced = otel_context.attach(propagate.extract(metadata))
            try:
                return await self._answer(inner, request, context, method)
            finally:
                otel_context.detach(traced)
                correlation_id.reset(token)

        return guarded

    async def _answer(self, inner: Handler, request: Any, context: Context, method: str) -> Any:
        try:
            answer = await inner(request, context)
        except ProcessorError as error:
            failure = error
        except grpc.aio.AbortError:
            raise
        except Exception:
            log.exception("rpc=%s failed unexpectedly", method)
            failure = ProcessorError(
                grpc.StatusCode.INTERNAL,
                ADAPTER_ERROR,
                "the adapter failed unexpectedly; the outcome is unknown",
            )
        else:
            # One line per RPC, with the caller's correlation id: the call's trail in the
            # adapter's log even with tracing off.
            log.info("rpc=%s code=OK", method)
            return answer
        log.info("rpc=%s code=%s reason=%s", method, failure.code.name, failure.reason)
        await context.abort_with_status(failure.status(self._domain))
        raise AssertionError("abort_with_status returned")  # it raises AbortError
