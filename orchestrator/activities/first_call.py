"""A payment's first step as one local activity: route it, then send the first Authorize to the
first route. A payment that succeeds at once is then one workflow task with two local
activities (this one, and recording its answer) and no round trip through the Temporal server.

Run again (its worker died before Temporal kept the workflow task), it gives the same call:
routing decides once per payment and gives back the kept plan (orchestrator/activities/
routing.py), and the attempt key is derived from the order, processor and try. The processor's
idempotency makes the second send the first one's. The answer may still differ (a call that
timed out may have charged by then), which is why the payment workflow keeps this answer in its
history before it calls any processor again."""

from __future__ import annotations

from temporalio import activity

from orchestrator.activities.processors import ProcessorActivities
from orchestrator.activities.routing import RoutingActivities
from orchestrator.activities.types import AuthorizeCall, RoutedFirstCall, RouteRequest, unanswered
from orchestrator.keys import attempt_key


class FirstCallActivities:
    def __init__(self, routing: RoutingActivities, processors: ProcessorActivities) -> None:
        self._routing = routing
        self._processors = processors

    @activity.defn(name="route_and_authorize")
    async def route_and_authorize(self, request: RouteRequest) -> RoutedFirstCall:
        plan, decided_now = await self._routing.route_once(request)
        if not plan.routes:
            return RoutedFirstCall(plan)
        route = plan.routes[0]
        payment = request.payment
        call = AuthorizeCall(
            route=route,
            attempt_key=attempt_key(payment.order_id, route.processor, 1),
            payment=payment,
            payment_method=request.payment_method,
            # The payment's whole time budget is still ahead.
            deadline_ms=max(1, min(route.deadline_ms, int(plan.payment_budget_seconds * 1000))),
        )
        try:
            # A local activity runs again from its first try when its worker died before the
            # answer was kept: only a plan decided by this very run proves the key unsent.
            first = await self._processors.send_authorize(
                call, first_send=decided_now, route_is_fresh=decided_now
            )
        except Exception as error:  # classified as the workflow classifies a failed activity
            first = unanswered(error)
        return RoutedFirstCall(plan, first)
