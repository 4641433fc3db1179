"""The one place errors become google.rpc.Status, and every request gets a correlation id."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from grpc_status import rpc_status

from core import errors
from core.logs import correlation_id
from edge.context import request_header, response_headers

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
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        if handler is None or handler.unary_unary is None:
            return handler
        inner = handler.unary_unary
        method = details.method

        async def serve(request: Any, context: grpc.aio.ServicerContext) -> Any:
            given = request_header(context.invocation_metadata(), "x-correlation-id")
            cid = given if given and _CORRELATION_ID.match(given) else uuid.uuid4().hex
            correlation_id.set(cid)
            headers = [("x-correlation-id", cid)]
            response_headers.set(headers)
            try:
                response = await inner(request, context)
            except errors.PayLoopsError as error:
                await _abort(context, headers, error.to_status())
            except StoredStatus as stored:
                await _abort(context, headers, stored.status)
            except grpc.aio.AbortError:
                raise
            except Exception:
                log.exception("unhandled error in %s", method)
                await _abort(context, headers, errors.PayLoopsError(
                    errors.INTERNAL, f"internal error; quote correlation id {cid}",
                    metadata={"correlationId": cid}).to_status())
            await context.send_initial_metadata(headers)
            return response

        return grpc.unary_unary_rpc_method_handler(
            serve, request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer)


async def _abort(context: grpc.aio.ServicerContext, headers: list[tuple[str, str]],
                 status: Any) -> None:
    await context.send_initial_metadata(headers)
    converted = rpc_status.to_status(status)
    await context.abort(converted.code, converted.details, converted.trailing_metadata)
