"""Capture, cancel and refund, handed to the workflows that own each payment and refund.

The payment workflow serializes everything that happens to an order (pay, capture, cancel,
expiry), so a capture racing a cancel can never both happen; the edge only asks it, through
updates whose refusals name the order's current status. A refund is a workflow of its own,
started together with its `reserve` update: the caller learns at once whether the amount
could be reserved, and the refund carries on even if the caller goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError

from core import errors
from core.contracts.payment import (
    CANCEL_UPDATE,
    CANCELABLE_STATUSES,
    CAPTURE_UPDATE,
    REFUND_WORKFLOW_TYPE,
    RESERVE_UPDATE,
    CancelRequest,
    CaptureRequest,
    LifecycleResult,
    RefundInput,
    Reservation,
    ReserveRequest,
    refund_workflow_id,
    workflow_id,
)
from core.contracts.vocabulary import OrderStatus, Refusal
from core.db import models
from edge.payments import start_payment

# Just inside Envoy's 30 s route timeout for refunds.
RESERVE_WAIT_SECONDS = 25.0

# The catalogue's answer to each refusal a workflow gives (CAPTURE_AMOUNT_INVALID is a field
# violation: see `refusal_error`).
_REFUSALS = {
    Refusal.ORDER_NOT_CAPTURABLE: errors.ORDER_NOT_CAPTURABLE,
    Refusal.ORDER_NOT_CANCELABLE: errors.ORDER_NOT_CANCELABLE,
    Refusal.ORDER_NOT_REFUNDABLE: errors.ORDER_NOT_REFUNDABLE,
    Refusal.REFUND_EXCEEDS_CAPTURED: errors.REFUND_EXCEEDS_CAPTURED,
    Refusal.ORDER_NOT_FOUND: errors.ORDER_NOT_FOUND,
}
_REFUSAL_VALUES = frozenset(Refusal)


class Lifecycle:
    def __init__(self, client: Client, task_queue: str, wait_seconds: float) -> None:
        self._client = client
        self._task_queue = task_queue
        self._wait_seconds = wait_seconds

    async def capture(self, order: models.Order, amount: int) -> None:
        if order.status != OrderStatus.REQUIRES_CAPTURE:
            raise _refused(errors.ORDER_NOT_CAPTURABLE, order.status)
        result = await self._update(order, CAPTURE_UPDATE, CaptureRequest(amount=amount))
        if result is not None and result.error:
            raise errors.PayLoopsError(
                errors.CAPTURE_REFUSED,
                f"the processor refused the capture: {result.message}",
                metadata={"processorReason": result.error, "status": result.status},
            )

    async def cancel(self, order: models.Order) -> None:
        if order.status not in CANCELABLE_STATUSES:
            raise _refused(errors.ORDER_NOT_CANCELABLE, order.status)
        result = await self._update(
            order,
            CANCEL_UPDATE,
            CancelRequest(),
            start=order.status == OrderStatus.REQUIRES_PAYMENT_METHOD,
        )
        if result is not None and result.error:
            raise errors.PayLoopsError(
                errors.ORDER_NOT_CANCELABLE, result.message, metadata={"status": result.status}
            )

    async def refund(self, refund: RefundInput) -> None:
        """Reserves and starts a refund; returns once it settled or after the bounded wait
        (it is PENDING then, and settles on its own)."""
        start: WithStartWorkflowOperation[Any, Any] = WithStartWorkflowOperation(
            REFUND_WORKFLOW_TYPE,
            refund,
            id=refund_workflow_id(refund.refund_id),
            task_queue=self._task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        )
        try:
            # Reserving is quick, but its answer is awaited for longer than a payment's: the
            # merchant must learn whether the refund exists, not "maybe".
            reservation = await asyncio.wait_for(
                self._client.execute_update_with_start_workflow(
                    RESERVE_UPDATE,
                    ReserveRequest(),
                    start_workflow_operation=start,
                    result_type=Reservation,
                    rpc_timeout=timedelta(seconds=RESERVE_WAIT_SECONDS),
                ),
                timeout=RESERVE_WAIT_SECONDS,
            )
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError, RPCError) as error:
            raise errors.PayLoopsError(
                errors.DEPENDENCY_UNAVAILABLE,
                "refunds are briefly unavailable; retry with the same Idempotency-Key",
            ) from error
        if not reservation.ok:
            raise refusal_error(reservation.error, reservation.message, status="")
        handle = await start.workflow_handle()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(handle.result(), timeout=self._wait_seconds)

    async def _update(
        self,
        order: models.Order,
        update: str,
        request: CaptureRequest | CancelRequest,
        start: bool = False,
    ) -> LifecycleResult | None:
        """Sends the update to the order's payment workflow (starting it for a cancel of an
        unpaid order). None when the wait ran out: the workflow finishes it by itself."""
        try:
            if start:
                call = self._client.execute_update_with_start_workflow(
                    update,
                    request,
                    start_workflow_operation=start_payment(order, self._task_queue),
                    result_type=LifecycleResult,
                    rpc_timeout=timedelta(seconds=self._wait_seconds),
                )
            else:
                call = self._client.get_workflow_handle(workflow_id(order.id)).execute_update(
                    update,
                    request,
                    result_type=LifecycleResult,
                    rpc_timeout=timedelta(seconds=self._wait_seconds),
                )
            return await asyncio.wait_for(call, timeout=self._wait_seconds)
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            return None
        except WorkflowUpdateFailedError as error:
            cause = error.cause
            if isinstance(cause, ApplicationError) and cause.type in _REFUSAL_VALUES:
                status = str(cause.details[0]) if cause.details else order.status
                raise refusal_error(
                    cause.type, cause.message, status, authorized=order.amount
                ) from error
            raise errors.PayLoopsError(errors.INVALID_REQUEST, str(cause or error)) from error
        except (RPCError, WorkflowAlreadyStartedError) as error:
            # The payment's workflow has finished: the order is final, as the read model says.
            kind = (
                errors.ORDER_NOT_CAPTURABLE
                if update == CAPTURE_UPDATE
                else errors.ORDER_NOT_CANCELABLE
            )
            raise _refused(kind, order.status) from error


def refusal_error(
    refusal: str, message: str, status: str, authorized: int = 0
) -> errors.PayLoopsError:
    """The API's answer to a workflow's refusal (a Refusal value; anything else is a request
    the workflow could not take). `status` is the order's, when the refusal names it."""
    if refusal not in _REFUSAL_VALUES:
        return errors.PayLoopsError(errors.INVALID_REQUEST, message)
    if refusal == Refusal.CAPTURE_AMOUNT_INVALID:
        return errors.capture_amount_invalid(authorized)
    kind = _REFUSALS[Refusal(refusal)]
    metadata = {"status": status.upper()} if status else None
    return errors.PayLoopsError(kind, message, metadata=metadata)


_NOT_ALLOWED = {
    errors.ORDER_NOT_CAPTURABLE: "cannot be captured",
    errors.ORDER_NOT_CANCELABLE: "cannot be canceled",
}


def _refused(kind: errors.ErrorKind, status: str) -> errors.PayLoopsError:
    return errors.PayLoopsError(
        kind,
        f"an order in status {status.upper()} {_NOT_ALLOWED[kind]}",
        metadata={"status": status.upper()},
    )
