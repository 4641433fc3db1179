"""The one place errors become google.rpc.Status, every request is decoded and checked
(edge.request_checks) before its handler runs, and every request gets a correlation id."""

from __future__ import annotations

import inspect
import logging
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import grpc
from grpc_status import rpc_status
from opentelemetry import context as otel_context

from core import api_keys, errors, metrics
from core.card_numbers import looks_like_card_number
from core.logs import correlation_id, order_id, stack_without_messages
from core.secret_shapes import secret_shapes_in
from core.telemetry import with_correlation_id
from edge import request_checks, validation
from edge.context import ServicerContext, request_header, response_headers, rpc_method

log = logging.getLogger("payloops.edge")
_CORRELATION_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_ORDER_ID = re.compile(r"^ord_[A-Za-z0-9]{1,64}$")


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
        if handler is None or handler.request_deserializer is None:
            return handler
        # The handler gets the raw bytes from grpc and the request is parsed here, where a
        # failure is an answer like any other (grpc's own would be UNKNOWN, naming a Python
        # class).
        parse = handler.request_deserializer
        if handler.unary_unary is not None:
            return _unary(handler, details.method, parse)
        return _streaming(handler, parse)


def _unary(
    handler: grpc.RpcMethodHandler[Any, Any],
    method: str,
    parse: Callable[[bytes], Any],
) -> grpc.RpcMethodHandler[Any, Any]:
    """A unary method: correlation id, decoding and checks, the handler, every error as its
    Status, one log line."""
    # grpc's stubs type handlers as plain functions; under grpc.aio they are coroutines.
    inner = cast(Callable[[Any, ServicerContext], Awaitable[Any]], handler.unary_unary)

    async def serve(raw: bytes, context: ServicerContext) -> Any:
        metadata = context.invocation_metadata() or ()
        card_numbers = validation.header_violations(metadata)
        given = request_header(metadata, "x-correlation-id")
        # Never adopted when it looks like a key or a token: it is in every log line of the call.
        cid = (
            given
            if given
            and _CORRELATION_ID.match(given)
            and not card_numbers
            and not secret_shapes_in(given)
            else _new_correlation_id()
        )
        correlation_id.set(cid)
        rpc_method.set(method)
        # Carried on with the trace (into Temporal and the processor calls) when tracing is on.
        carried = with_correlation_id(cid)
        headers = [("x-correlation-id", cid)]
        response_headers.set(headers)
        started = time.monotonic()
        outcome = "OK"
        code = grpc.StatusCode.OK.name
        try:
            _refuse_publishable_key(metadata)
            request = request_checks.decode(parse, raw)
            if found := card_numbers + request_checks.violations(request):
                raise errors.invalid(found)
            _name_the_order(request)
            response = await inner(request, context)
        except errors.PayLoopsError as error:
            outcome = error.kind.reason
            code = error.kind.code.name
            await _abort(context, headers, error.to_status())
        except StoredStatus as stored:
            outcome = "REPLAYED_ERROR"
            code = _code_name(stored.status.code)
            await _abort(context, headers, stored.status)
        except grpc.aio.AbortError:
            code = getattr(context.code(), "name", "UNKNOWN")
            raise
        except Exception as error:
            outcome = errors.INTERNAL.reason
            code = errors.INTERNAL.code.name
            log.error(
                "unhandled error in %s: %s",
                method,
                type(error).__name__,
                extra={"fields": {"exc": stack_without_messages(error)}},
            )
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
            seconds = time.monotonic() - started
            metrics.edge_rpc(method, code, seconds)
            # One line per call; request_id ties it to Envoy's access log line.
            log.info(
                "rpc %s %s",
                method,
                outcome,
                extra={
                    "fields": {
                        "rpc": method,
                        "outcome": outcome,
                        "request_id": _loggable_request_id(metadata),
                        "duration_ms": round(seconds * 1000, 1),
                    }
                },
            )
        await context.send_initial_metadata(headers)
        return response

    return grpc.unary_unary_rpc_method_handler(
        serve, request_deserializer=None, response_serializer=handler.response_serializer
    )


def _streaming(
    handler: grpc.RpcMethodHandler[Any, Any], parse: Callable[[bytes], Any]
) -> grpc.RpcMethodHandler[Any, Any]:
    """The same decoding and checks for the streaming methods (health's Watch, reflection)."""

    async def checked(raw: bytes, context: ServicerContext) -> Any:
        try:
            request = request_checks.decode(parse, raw)
            if found := request_checks.violations(request):
                raise errors.invalid(found)
        except errors.PayLoopsError as error:
            converted = rpc_status.to_status(error.to_status())
            await context.abort(converted.code, converted.details, converted.trailing_metadata)
        return request

    async def each_checked(
        raws: AsyncIterator[bytes], context: ServicerContext
    ) -> AsyncIterator[Any]:
        async for raw in raws:
            yield await checked(raw, context)

    async def all_checked(raws: AsyncIterator[bytes], context: ServicerContext) -> Any:
        return each_checked(raws, context)

    serializer = handler.response_serializer
    if handler.unary_stream is not None:
        return grpc.unary_stream_rpc_method_handler(
            _feeding(handler.unary_stream, checked), None, serializer
        )
    if handler.stream_unary is not None:
        return grpc.stream_unary_rpc_method_handler(
            _feeding(handler.stream_unary, all_checked), None, serializer
        )
    assert handler.stream_stream is not None
    return grpc.stream_stream_rpc_method_handler(
        _feeding(handler.stream_stream, all_checked), None, serializer
    )


def _feeding(
    behaviour: Callable[..., Any],
    prepare: Callable[[Any, ServicerContext], Awaitable[Any]],
) -> Callable[..., Any]:
    """`behaviour` given what `prepare` makes of its first argument. grpc.aio tells a
    streaming handler that yields from one that writes by its kind, so the wrapper keeps it."""
    if inspect.isasyncgenfunction(behaviour):

        async def yielding(given: Any, context: ServicerContext) -> AsyncIterator[Any]:
            async for response in behaviour(await prepare(given, context), context):
                yield response

        return yielding

    async def returning(given: Any, context: ServicerContext) -> Any:
        return await behaviour(await prepare(given, context), context)

    return returning


def _refuse_publishable_key(metadata: Any) -> None:
    """A publishable key is for browsers, which may only tokenize cards (at the vault, never
    here): every call of the edge refuses it, whether or not the method reads a key at all."""
    given = request_header(metadata, "authorization") or ""
    scheme, _, token = given.partition(" ")
    if scheme.lower() == "bearer" and api_keys.is_publishable(token.strip()):
        raise errors.PayLoopsError(
            errors.API_KEY_PUBLISHABLE, "a publishable key can only tokenize cards"
        )


def _name_the_order(request: Any) -> None:
    """The order a request is about (PayOrder's, GetOrder's… `order`), for its log lines: only
    a well-formed order id, since the field is the caller's text."""
    given = getattr(request, "order", None)
    if isinstance(given, str) and _ORDER_ID.match(given):
        order_id.set(given)


def _code_name(code: int) -> str:
    """The name of a google.rpc.Status code (a gRPC status code's number)."""
    return next((c.name for c in grpc.StatusCode if c.value[0] == code), "UNKNOWN")


def _new_correlation_id() -> str:
    # About one random hex id in a thousand holds a digit run that passes for a card number,
    # and would be masked where the merchant should quote it.
    while looks_like_card_number(cid := uuid.uuid4().hex):
        pass
    return cid


def _loggable_request_id(metadata: Any) -> str:
    """Envoy's request id, to join this log line to its access log line; a client may have
    set it, so it is logged only in the form Envoy gives it."""
    given = request_header(metadata, "x-request-id") or ""
    return given if _CORRELATION_ID.match(given) and not looks_like_card_number(given) else ""


async def _abort(context: ServicerContext, headers: list[tuple[str, str]], status: Any) -> None:
    await context.send_initial_metadata(headers)
    converted = rpc_status.to_status(status)
    await context.abort(converted.code, converted.details, converted.trailing_metadata)
