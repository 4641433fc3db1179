"""Every call to the vault: decoded and checked field by field as the edge checks its requests
(edge.request_checks: NUL characters, unknown enum numbers, out-of-range timestamps), its
errors turned into google.rpc.Status, one log line that names the method and the outcome only.
Unlike the edge, card numbers are not refused here: taking them is the vault's job. Nothing a
caller sent is ever logged or echoed: error texts name fields, not values."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

import grpc
from grpc_status import rpc_status

from core import errors
from core.logs import stack_without_messages
from edge import request_checks
from edge.context import ServicerContext

log = logging.getLogger("payloops.vault")


class VaultInterceptor(grpc.aio.ServerInterceptor):
    async def intercept_service(
        self,
        continuation: Callable[
            [grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any] | None]
        ],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = await continuation(details)
        # Health checks (streaming too) are served as they are.
        if handler is None or handler.unary_unary is None or handler.request_deserializer is None:
            return handler
        return _unary(handler, details.method, handler.request_deserializer)


def _unary(
    handler: grpc.RpcMethodHandler[Any, Any], method: str, parse: Callable[[bytes], Any]
) -> grpc.RpcMethodHandler[Any, Any]:
    inner = cast(Callable[[Any, ServicerContext], Awaitable[Any]], handler.unary_unary)

    async def serve(raw: bytes, context: ServicerContext) -> Any:
        started = time.monotonic()
        outcome = "OK"
        try:
            request = request_checks.decode(parse, raw)
            if found := request_checks.violations(request, card_numbers_allowed=True):
                raise errors.invalid(found)
            return await inner(request, context)
        except errors.PayLoopsError as error:
            outcome = error.kind.reason
            await _abort(context, error)
        except grpc.aio.AbortError:
            raise
        except Exception as error:
            outcome = errors.INTERNAL.reason
            log.error(
                "unhandled error in %s: %s",
                method,
                type(error).__name__,
                extra={"fields": {"exc": stack_without_messages(error)}},
            )
            await _abort(context, errors.PayLoopsError(errors.INTERNAL, "internal error"))
        finally:
            log.info(
                "rpc %s %s",
                method,
                outcome,
                extra={
                    "fields": {
                        "rpc": method,
                        "outcome": outcome,
                        "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    }
                },
            )

    return grpc.unary_unary_rpc_method_handler(
        serve, request_deserializer=None, response_serializer=handler.response_serializer
    )


async def _abort(context: ServicerContext, error: errors.PayLoopsError) -> None:
    converted = rpc_status.to_status(error.to_status())
    await context.abort(converted.code, converted.details, converted.trailing_metadata)
