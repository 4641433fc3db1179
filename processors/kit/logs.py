"""Log lines as key=value text carrying the correlation id of the RPC being served.

Adapters depend on the generated contract only, so this is their own small copy of the idea
PayLoops' services use; the OTLP export (processors.kit.otlp) is the one part they share: with
OTEL_LOGS_EXPORTER=otlp every line also goes out as an OTLP log record, with the correlation id
and the trace of the call it served. Nothing secret is ever passed to a logger: no keys, no
webhook secrets, no tokens.
"""

from __future__ import annotations

import atexit
import contextvars
import logging
import os
from collections.abc import Iterable, Mapping

from opentelemetry.util.types import AnyValue

from processors.kit import otlp

# Set by the ErrorInterceptor from the caller's `x-correlation-id` for the RPC it serves.
correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="")


class _CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get() or "-"
        return True


def configure_logging(
    service: str, level: int = logging.INFO, *, quiet: Iterable[str] = ()
) -> None:
    """Key=value lines on stderr, and OTLP log records when OTEL_LOGS_EXPORTER=otlp, from the
    service named `payloops-<service>` unless OTEL_SERVICE_NAME names it. `quiet`: loggers
    kept to warnings (an SDK that logs every request; the adapter's own line per RPC says what
    mattered)."""
    handler = logging.StreamHandler()
    handler.addFilter(_CorrelationFilter())
    handler.setFormatter(
        logging.Formatter(
            "ts=%(asctime)s level=%(levelname)s logger=%(name)s "
            "correlation_id=%(correlation_id)s %(message)s"
        )
    )
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for name in quiet:
        logging.getLogger(name).setLevel(logging.WARNING)
    exporter = os.environ.get("OTEL_LOGS_EXPORTER", "none").strip().lower() or "none"
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        exporter = "none"
    if exporter not in ("none", "otlp"):
        raise SystemExit(f"OTEL_LOGS_EXPORTER={exporter!r} is not supported here: use none or otlp")
    if exporter == "otlp":
        provider = otlp.export_logs(
            f"payloops-{service}", _attributes, logging.LogRecord.getMessage
        )
        # Adapters end on a signal: what is still buffered goes out at exit.
        atexit.register(provider.shutdown)


def _attributes(record: logging.LogRecord) -> Mapping[str, AnyValue]:
    cid = correlation_id.get()
    return {"payloops.correlation_id": cid} if cid else {}
