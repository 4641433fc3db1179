"""Every call to the vault: decoded here (bytes that are not the method's message are refused
like any other bad input), refused when a text holds the NUL character (PostgreSQL text cannot
hold it), its errors turned into google.rpc.Status, one log line that names the method and the
outcome only. Unlike the edge, card numbers are not refused here: taking them is the vault's
job. Nothing a caller sent is ever logged or echoed: error texts name fields, not values."""

from __future__ import annotations

import logging
import time
import traceback
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, cast

import grpc
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from grpc_status import rpc_status

from core import errors
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
            request = _decode(parse, raw)
            if found := list(_nul_characters(request, "")):
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
                extra={"fields": {"exc": _frames_only(error)}},
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


def _decode(parse: Callable[[bytes], Any], raw: bytes) -> Any:
    try:
        return parse(raw)
    except Exception as error:  # any failure to parse is the request's
        raise errors.PayLoopsError(
            errors.REQUEST_MALFORMED,
            "the request could not be decoded: it is not valid protobuf, or holds text that "
            "is not UTF-8",
        ) from error


def _nul_characters(message: Message, path: str) -> Iterator[errors.FieldViolation]:
    for field, value in message.ListFields():
        field_path = f"{path}.{field.name}" if path else field.name
        if field.type == FieldDescriptor.TYPE_STRING and "\x00" in value:
            yield errors.FieldViolation(
                field_path, "NUL_CHARACTER_NOT_ALLOWED", "contains the NUL character (U+0000)"
            )
        elif field.type == FieldDescriptor.TYPE_MESSAGE and not field.is_repeated:
            yield from _nul_characters(value, field_path)


def _frames_only(error: BaseException) -> str:
    """The exception's type and stack, not its message (which may quote the request)."""
    frames = "".join(traceback.format_tb(error.__traceback__))
    return f"{type(error).__module__}.{type(error).__qualname__}\n{frames}"


async def _abort(context: ServicerContext, error: errors.PayLoopsError) -> None:
    converted = rpc_status.to_status(error.to_status())
    await context.abort(converted.code, converted.details, converted.trailing_metadata)
