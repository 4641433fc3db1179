"""Every call to a processor adapter carries the correlation id of the request or workflow it
serves as `x-correlation-id`, so the adapter's log lines name it (processors/kit/interceptor.py)
whether or not tracing is on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc

from core.logs import current_correlation_id

CORRELATION_HEADER = "x-correlation-id"


class CorrelationMetadata(grpc.aio.UnaryUnaryClientInterceptor):
    async def intercept_unary_unary(
        self,
        continuation: Callable[[grpc.aio.ClientCallDetails, Any], Any],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        cid = current_correlation_id()
        if cid:
            metadata = grpc.aio.Metadata(*tuple(client_call_details.metadata or ()))
            metadata[CORRELATION_HEADER] = cid
            client_call_details = grpc.aio.ClientCallDetails(
                method=client_call_details.method,
                timeout=client_call_details.timeout,
                metadata=metadata,
                credentials=client_call_details.credentials,
                wait_for_ready=client_call_details.wait_for_ready,
            )
        return await continuation(client_call_details, request)
