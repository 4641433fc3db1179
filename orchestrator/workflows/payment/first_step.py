"""The payment's first step: routing and, from the AUTHORIZE_LOCALLY patch on, the first
Authorize, sent by the routing step itself (route_and_authorize, a local activity): in the
worker that runs the workflow task, with no round trip through the Temporal server, so a
payment that succeeds at once is one workflow task.

A local activity's result is kept only when its workflow task completes: a worker that dies
before that runs it again, and the second answer may differ (a call that timed out may have
charged meanwhile). So (a) the first call depends only on the route, which routing decides
once and gives back unchanged when run again; (b) before any further processor call (a
re-send, a lookup, the next processor) the workflow task completes, so the first answer is
kept before anything is decided on it; every further call is a regular activity. (A re-send
or lookup follows a timer; the next processor follows its attempt's first write, which then
goes through the server as a regular activity: the dev server fires a 1 ms timer only about
1 s later.)"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

from orchestrator.workflows.payment.patches import AUTHORIZE_LOCALLY
from orchestrator.workflows.payment.state import PaymentState

with workflow.unsafe.imports_passed_through():
    from core.processors.registry import MAX_DEADLINE_MS
    from orchestrator.activities.first_call import FirstCallActivities
    from orchestrator.activities.routing import RoutingActivities
    from orchestrator.activities.types import RoutedFirstCall, RoutePlan, RouteRequest
    from orchestrator.workflows.policies import DB_RETRY

# Routing's database work, and the longest deadline a processor may have, with a margin.
_FIRST_CALL_TIMEOUT = timedelta(seconds=10) + timedelta(milliseconds=MAX_DEADLINE_MS + 1000)


async def route(state: PaymentState, request: RouteRequest) -> RoutePlan:
    """Routes the payment; from the patch on, the same step sends the first Authorize."""
    if not workflow.patched(AUTHORIZE_LOCALLY):
        return await workflow.execute_local_activity_method(
            RoutingActivities.route_payment,
            request,
            start_to_close_timeout=timedelta(seconds=10),
            retry_policy=DB_RETRY,
        )
    began = workflow.now()
    routed: RoutedFirstCall = await workflow.execute_local_activity_method(
        FirstCallActivities.route_and_authorize,
        request,
        start_to_close_timeout=_FIRST_CALL_TIMEOUT,
        # Safe to run again whole: the same plan, the same call under the same key.
        retry_policy=DB_RETRY,
    )
    state.first_call_local = True
    state.first_answer = routed.first
    state.routed_at = began
    return routed.plan
