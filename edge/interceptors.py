"""The one place errors become google.rpc.Status, and every request gets a correlation id."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

import grpc
from grpc_status import rpc_status
from opentelemetry import context as otel_context

from core import errors
from core.logs import correlation_id
from core.telemetry import with_correlation_id
from edge import validation
from edge.context import ServicerContext, request_header, response_headers

log = logging.getLogger("payloops.edge")
_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


class StoredStatus(Exception):
    """A response replayed from an idempotency record that was an error."""

    def __init__(self, status: Any) -> None:
        super().__init__(status.message)
        self.status = status


class EdgeInterceptor(grpc.aio.ServerInterceptor):
    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        # grpc's stubs type handlers as plain functions; under grpc.aio they are coroutines.
        inner = cast(Callable[[Any, ServicerContext], Awaitable[Any]], handler.unary_unary)
        method = details.method

        async def serve(request: Any, context: ServicerContext) -> Any:
            metadata = context.invocation_metadata() or ()
            card_numbers = validation.header_violations(metadata)
            given = request_header(metadata, "x-correlation-id")
            cid = (
                given
                if given and _CORRELATION_ID.match(given) and not card_numbers
                else uuid.uuid4().hex
            )
            correlation_id.set(cid)
            # Carried on with the trace (into Temporal and the processor calls) when tracing is on.
            carried = with_correlation_id(cid)
            headers = [("x-correlation-id", cid)]
            response_headers.set(headers)
            started = time.monotonic()
            outcome = "OK"
            try:
                if card_numbers:
                    raise errors.invalid(card_numbers)
                response = await inner(request, context)
            except errors.PayLoopsError as error:
                outcome = error.kind.reason
                await _abort(context, headers, error.to_status())
            except StoredStatus as stored:
                outcome = "REPLAYED_ERROR"
                await _abort(context, headers, stored.status)
            except grpc.aio.AbortError:
                raise
            except Exception:
                outcome = errors.INTERNAL.reason
                log.exception("unhandled error in %s", method)
                await _abort(
                    context,
                    headers,
                    errors.PayLoopsError(
                        errors.INTERNAL,
                        f"internal error; quote correlation id {cid}",
                        metadata={"correlationId": cid},
                    ).to_status(),
                )
            finally:
                otel_context.detach(carried)
                # One line per call; request_id ties it to Envoy's access log line.
                log.info(
                    "rpc %s %s",
                    method,
                    outcome,
                    extra={
                        "fields": {
                            "rpc": method,
                            "outcome": outcome,
                            "request_id": request_header(metadata, "x-request-id") or "",
                            "duration_ms": round((time.monotonic() - started) * 1000, 1),
                        }
                    },
                )
            await context.send_initial_metadata(headers)
            return response

        return grpc.unary_unary_rpc_method_handler(
            serve,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


async def _abort(context: ServicerContext, headers: list[tuple[str, str]], status: Any) -> None:
    await context.send_initial_metadata(headers)
    converted = rpc_status.to_status(status)
    await context.abort(converted.code, converted.details, converted.trailing_metadata)
