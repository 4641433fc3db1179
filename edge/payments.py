"""Starts and joins payment workflows in Temporal with update-with-start: one RPC that starts the
order's workflow if it is not running yet and hands it the payment method. The workflow id is
the order's, so a second PayOrder joins the payment already under way instead of starting one."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from temporalio.client import (
    Client,
    WithStartWorkflowOperation,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from core import errors
from core.contracts import search_attributes
from core.contracts.payment import (
    PAY_UPDATE,
    WORKFLOW_TYPE,
    PaymentInput,
    PaymentMethod,
    PayRequest,
    PayResult,
    workflow_id,
)
from core.contracts.vocabulary import CaptureMethod
from core.db import models
from core.logs import correlation_id

log = logging.getLogger("payloops.edge")


class Payments:
    def __init__(self, client: Client, task_queue: str, wait_seconds: float) -> None:
        self._client = client
        self._task_queue = task_queue
        self._wait_seconds = wait_seconds

    async def pay(self, order: models.Order, method: PaymentMethod) -> bool:
        """Returns once the payment reached a status PayOrder answers with, or after the bounded
        wait while it is still processing. The read model holds the result either way. True when
        the payment is known to be under way (or done), False when Temporal never got it."""
        start = start_payment(order, self._task_queue, method)
        try:
            await asyncio.wait_for(
                self._client.execute_update_with_start_workflow(
                    PAY_UPDATE,
                    PayRequest(payment_method=method),
                    start_workflow_operation=start,
                    result_type=PayResult,
                    rpc_timeout=timedelta(seconds=self._wait_seconds),
                ),
                timeout=self._wait_seconds,
            )
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
            log.info("order %s still processing after %.1fs", order.id, self._wait_seconds)
            return await self._started(order.id)
        except WorkflowAlreadyStartedError:
            pass  # the order's payment already finished; the read model has its result
        except WorkflowUpdateFailedError as error:
            raise errors.PayLoopsError(
                errors.INTERNAL, "the payment could not be started"
            ) from error
        except RPCError as error:
            raise errors.PayLoopsError(
                errors.DEPENDENCY_UNAVAILABLE,
                "payments are briefly unavailable; retry with the same Idempotency-Key",
            ) from error
        return True

    async def _started(self, order_id: str) -> bool:
        """Whether the order's workflow exists: the update travels with its start, so a started
        workflow will take the payment method even if its first step has not run yet."""
        try:
            await asyncio.wait_for(
                self._client.get_workflow_handle(workflow_id(order_id)).describe(), timeout=2
            )
        except (TimeoutError, RPCError):
            return False
        return True


def start_payment(
    order: models.Order, task_queue: str, method: PaymentMethod | None = None
) -> WithStartWorkflowOperation[Any, Any]:
    """The start of the order's payment workflow, for an update-with-start (PayOrder's `pay`,
    or the cancel of an unpaid order): the one place a payment workflow is started."""
    payment = payment_input(order, method)
    return WithStartWorkflowOperation(
        WORKFLOW_TYPE,
        payment,
        id=workflow_id(order.id),
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        # A finished payment is never run again under the same order.
        id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
        # Temporal's index, so its UI finds the payment by order, merchant or request.
        search_attributes=search_attributes.at_start(payment),
    )


def payment_input(order: models.Order, method: PaymentMethod | None = None) -> PaymentInput:
    """The payment workflow's input: the order as it was created, and the payment method when
    PayOrder starts it."""
    return PaymentInput(
        order_id=order.id,
        merchant_id=order.merchant_id,
        amount=order.amount,
        currency=order.currency,
        capture_method=CaptureMethod(order.capture_method),
        livemode=order.livemode,
        description=order.description,
        return_url=order.return_url,
        metadata=dict(order.metadata_),
        payment_method=method,
        correlation_id=correlation_id.get(),
    )
