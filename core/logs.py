"""Structured JSON logs with the correlation id of the request being served."""

from __future__ import annotations

import contextvars
import json
import logging
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

from opentelemetry import baggage

from core.card_numbers import mask_card_numbers

correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="")
# The order the line is about, where the process knows it (a payment's activities).
order_id: contextvars.ContextVar[str] = contextvars.ContextVar("order_id", default="")
# The correlation id's name as trace baggage and span attribute (core.telemetry).
CORRELATION_ID = "payloops.correlation_id"


def current_correlation_id() -> str:
    """The correlation id of the request being served: set by the edge, or carried here in the
    trace's baggage (a workflow's activity, when tracing is on)."""
    carried = baggage.get_baggage(CORRELATION_ID)
    return correlation_id.get() or (carried if isinstance(carried, str) else "")


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str) -> None:
        super().__init__()
        self._service = service

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "service": self._service,
            "logger": record.name,
            "msg": masked_message(record),
            **record_fields(record),
        }
        if record.exc_info:
            entry["exc"] = mask_card_numbers(self.formatException(record.exc_info))
        return json.dumps(entry)


def masked_message(record: logging.LogRecord) -> str:
    # Every text that can quote a caller's input (the message, the fields, an error) is
    # masked: the last line of defence against a card number in the logs.
    return mask_card_numbers(record.getMessage())


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """What a log line says besides its message: the correlation id and order id it serves,
    and the structured fields of log.info(msg, extra={"fields": {...}}), masked."""
    fields: dict[str, Any] = {}
    if cid := current_correlation_id():
        fields["correlation_id"] = cid
    if order := order_id.get():
        fields["order_id"] = order
    for name, value in getattr(record, "fields", {}).items():
        fields[name] = mask_card_numbers(value) if isinstance(value, str) else value
    return fields


def configure_logging(service: str, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    logging.basicConfig(level=level, handlers=[handler], force=True)


def stack_without_messages(error: BaseException) -> str:
    """Where an unexpected error came from, for the operator: the types and stack frames of
    the exception and its causes, not their messages, which may quote the request (a database
    error quotes the value it refused)."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        kind = type(current)
        frames = "".join(traceback.format_tb(current.__traceback__))
        parts.append(f"{kind.__module__}.{kind.__qualname__}\n{frames}")
        current = current.__cause__ or current.__context__
    return "caused by ".join(parts)
