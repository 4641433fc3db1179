"""The correlation id and order id of a workflow, in every one of its activities' log lines and
processor calls, with tracing on or off.

The edge puts the request's correlation id in the workflow's input (PaymentInput, RefundInput).
This worker interceptor reads it (and the order id) when the workflow runs, sends both as
Temporal headers with every activity and local activity it starts, and sets them as the log
context (core.logs) of the activity that runs, so its log lines carry them and its processor
calls send the correlation id as `x-correlation-id` (core.processors.call_metadata). Headers
are not part of a workflow's determinism: histories recorded before this replay unchanged,
with an empty id. Headers go through the payload codec like any input (core.payload_codec's
PayloadEncryption): the history holds them encrypted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from temporalio import activity, workflow
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadConverter
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    ExecuteWorkflowInput,
    Interceptor,
    StartActivityInput,
    StartLocalActivityInput,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
    WorkflowOutboundInterceptor,
)

from core.logs import correlation_id, order_id

log = logging.getLogger("payloops.worker.activities")

CORRELATION_HEADER = "payloops-correlation-id"
ORDER_HEADER = "payloops-order-id"
# Only the payload converter: the worker's codec encrypts headers after this interceptor
# (outbound) and decrypts them before it (inbound).
_CONVERTER = PayloadConverter.default


class CorrelationInterceptor(Interceptor):
    """For `Worker(interceptors=...)`."""

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _ActivityInbound(next)

    def workflow_interceptor_class(
        self, input: WorkflowInterceptorClassInput
    ) -> type[WorkflowInboundInterceptor]:
        return _WorkflowInbound


class _Ids:
    """The ids of one workflow run, shared by its inbound and outbound interceptors."""

    def __init__(self) -> None:
        self.correlation_id = ""
        self.order_id = ""

    def headers(self, given: Mapping[str, Payload]) -> Mapping[str, Payload]:
        added = {
            name: _CONVERTER.to_payload(value)
            for name, value in (
                (CORRELATION_HEADER, self.correlation_id),
                (ORDER_HEADER, self.order_id),
            )
            if value
        }
        return {**given, **added} if added else given


class _WorkflowInbound(WorkflowInboundInterceptor):
    def init(self, outbound: WorkflowOutboundInterceptor) -> None:
        self._ids = _Ids()
        super().init(_WorkflowOutbound(outbound, self._ids))

    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        first = input.args[0] if input.args else None
        self._ids.correlation_id = _text(first, "correlation_id")
        self._ids.order_id = _text(first, "order_id")
        return await super().execute_workflow(input)


class _WorkflowOutbound(WorkflowOutboundInterceptor):
    def __init__(self, next: WorkflowOutboundInterceptor, ids: _Ids) -> None:
        super().__init__(next)
        self._ids = ids

    def start_activity(self, input: StartActivityInput) -> workflow.ActivityHandle[Any]:
        input.headers = self._ids.headers(input.headers)
        return super().start_activity(input)

    def start_local_activity(self, input: StartLocalActivityInput) -> workflow.ActivityHandle[Any]:
        input.headers = self._ids.headers(input.headers)
        return super().start_local_activity(input)


class _ActivityInbound(ActivityInboundInterceptor):
    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        cid = correlation_id.set(_header(input.headers, CORRELATION_HEADER))
        oid = order_id.set(_header(input.headers, ORDER_HEADER))
        started = time.monotonic()
        raised = True
        try:
            result = await super().execute_activity(input)
            raised = False
            return result
        finally:
            # One line per activity run: with the ids, an operator follows a payment through
            # the worker from its logs alone.
            info = activity.info()
            log.info(
                "activity %s %s",
                info.activity_type,
                "raised" if raised else "returned",
                extra={
                    "fields": {
                        "activity": info.activity_type,
                        "attempt": info.attempt,
                        "raised": raised,
                        "workflow_id": info.workflow_id,
                        "took_ms": round((time.monotonic() - started) * 1000, 1),
                    }
                },
            )
            order_id.reset(oid)
            correlation_id.reset(cid)


def _text(value: object, name: str) -> str:
    found = getattr(value, name, "")
    return found if isinstance(found, str) else ""


def _header(headers: Mapping[str, Payload], name: str) -> str:
    payload = headers.get(name)
    if payload is None:
        return ""
    value = _CONVERTER.from_payloads([payload], [str])[0]
    return value if isinstance(value, str) else ""
