"""Log lines as key=value text carrying the correlation id of the RPC being served.

Adapters depend on the generated contract only, so this is their own small copy of the idea
PayLoops' services use. Nothing secret is ever passed to a logger: no keys, no webhook secrets,
no tokens.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Iterable

# Set by the ErrorInterceptor from the caller's `x-correlation-id` for the RPC it serves.
correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="")


class _CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get() or "-"
        return True


def configure_logging(level: int = logging.INFO, *, quiet: Iterable[str] = ()) -> None:
    """Key=value lines on stderr. `quiet`: loggers kept to warnings (an SDK that logs every
    request; the adapter's own line per RPC says what mattered)."""
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
