"""Log lines as key=value text carrying the correlation id of the RPC being served.

Processors depend on gen only (docs/design.md, house style), so this is the adapter's own small
copy of the idea in core/logs.py. Nothing secret is ever passed to a logger: no keys, no webhook
secrets, no tokens.
"""

from __future__ import annotations

import contextvars
import logging

correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="")


class _CorrelationFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = correlation_id.get() or "-"
        return True


def configure_logging(level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_CorrelationFilter())
    handler.setFormatter(
        logging.Formatter(
            "ts=%(asctime)s level=%(levelname)s logger=%(name)s "
            "correlation_id=%(correlation_id)s %(message)s"
        )
    )
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # The SDK logs every request and error at INFO; the adapter's own line per RPC says what
    # mattered, with Stripe's request id in error details.
    logging.getLogger("stripe").setLevel(logging.WARNING)
