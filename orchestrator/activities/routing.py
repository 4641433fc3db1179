"""The activity that decides where a payment goes (the merchant's routing configuration,
processor registrations, circuit breakers, recent success rates) and writes that decision and
the payment's first step to the read model, in one transaction.

It decides once per payment. The payment's first Authorize is sent right after it, in the
same local activity (first_call.py), and if the worker dies before Temporal keeps the answer,
both run again: the first call may already have reached the processor, so the second run
must route it to the same one with the same key. The whole plan is kept with the order and
given back unchanged."""

from __future__ import annotations

import dataclasses
import random
import time
from typing import Any, Literal

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.converter import value_to_type

from core import metrics
from core.config import Settings
from core.contracts import events
from core.contracts.vocabulary import (
    AttemptOutcome,
    BreakerVerdict,
    CandidateDecision,
    CandidateReason,
    FailureCode,
    OrderStatus,
)
from core.db import models
from core.routing_config import store
from orchestrator.activities.orders import record_order_event, write_attempt, write_order
from orchestrator.activities.types import (
    AttemptRecord,
    OrderUpdate,
    Route,
    RoutedCandidate,
    RoutePlan,
    RouteRequest,
)
from orchestrator.keys import attempt_key
from orchestrator.routing_engine import breaker
from orchestrator.routing_engine.engine import FAILURE_MESSAGES, failure_code
from orchestrator.routing_engine.facts import PaymentFacts, facts_for
from orchestrator.routing_engine.inputs import decide, routing_inputs

_ORDERS = models.table_of(models.Order)
# The row lock serializes two runs of the same routing step: the second sees the first's plan.
_PLAN_OF_ORDER = (
    select(_ORDERS.c.route_plan).where(_ORDERS.c.id == bindparam("order_id")).with_for_update()
)
_KEEP_PLAN = (
    update(_ORDERS)
    .where(_ORDERS.c.id == bindparam("order_id"))
    .values(route_plan=bindparam("plan"))
)


class RoutingActivities:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
        self._sessions = sessions
        self._settings = settings

    @activity.defn(name="route_payment")
    async def route_payment(self, request: RouteRequest) -> RoutePlan:
        plan, _ = await self.route_once(request)
        return plan

    async def route_once(self, request: RouteRequest) -> tuple[RoutePlan, bool]:
        """The payment's plan, and whether it was decided now (False: an earlier run of this
        step decided it, and may have sent its first call before its worker died)."""
        payment = request.payment
        began = time.monotonic()
        async with self._sessions.begin() as session:
            kept = await session.scalar(_PLAN_OF_ORDER, {"order_id": payment.order_id})
            if kept is not None:
                decided_before: RoutePlan = value_to_type(RoutePlan, kept)
                return decided_before, False
            # The order's own mode: a live payment is routed by the live configuration.
            stored = await store.latest_in(session, payment.merchant_id, payment.livemode)
            version, config = stored.version, stored.config
            inputs = await routing_inputs(session, payment.merchant_id, payment.livemode, config)
            registered, accounts, breakers = inputs.registered, inputs.accounts, inputs.breakers
            facts = facts_for(payment, request.payment_method)
            rule, decided = decide(
                config,
                inputs,
                facts,
                token=request.payment_method.token,
                livemode=payment.livemode,
                draw=random.random(),
                explore=random.random(),
            )
            targets = {p.name: p for p in registered}
            routes: list[Route] = []
            considered: list[RoutedCandidate] = []
            for candidate in decided.candidates if decided else []:
                reason = candidate.reason
                if breakers.get(candidate.processor) == BreakerVerdict.PROBE:
                    if routes:
                        # A fallback is called only if everything before it fails, so it
                        # claims nothing: a claim would lease the breaker half-open for
                        # PROBE_LEASE and block the processor for every other payment. The
                        # payment that does reach it reports the answer, which closes the
                        # breaker (or reopens it).
                        reason = CandidateReason.CIRCUIT_HALF_OPEN
                    elif not await breaker.claim_probe(session, candidate.processor):
                        # The first route is called for sure: it is the one probe a breaker
                        # past its cool-down lets through, and another payment got there first.
                        considered.append(
                            RoutedCandidate(
                                candidate.processor,
                                CandidateDecision.SKIPPED,
                                CandidateReason.CIRCUIT_OPEN,
                            )
                        )
                        continue
                processor = targets[candidate.processor]
                routes.append(
                    Route(
                        processor=processor.name,
                        target=processor.target,
                        deadline_ms=processor.deadline_ms,
                        account_id=accounts[processor.name] or "",
                        tls=processor.tls,
                        tls_ca_pem=processor.tls_ca_pem,
                        livemode=payment.livemode,
                    )
                )
                considered.append(
                    RoutedCandidate(candidate.processor, CandidateDecision.CANDIDATE, reason)
                )
            considered += [
                RoutedCandidate(s.processor, CandidateDecision.SKIPPED, s.reason)
                for s in (decided.skipped if decided else [])
            ]
            failure: FailureCode | Literal[""] = (
                "" if routes else failure_code(rule, decided, payment.livemode)
            )
            # The decision is written with the order's first step, in this same transaction:
            # PROCESSING and the first attempt, or FAILED when nothing can take the payment.
            change = OrderUpdate(
                order_id=payment.order_id,
                status=OrderStatus.FAILED if failure else OrderStatus.PROCESSING,
                failure_code=failure,
                failure_message=FAILURE_MESSAGES[failure] if failure else "",
                routing=routing_decision(version, rule.name if rule else "", considered, facts),
                event=events.ORDER_FAILED if failure else "",
            )
            if routes:
                # The first try before the order's update, which sums it up.
                await write_attempt(
                    session,
                    AttemptRecord(
                        order_id=payment.order_id,
                        seq=1,
                        processor=routes[0].processor,
                        attempt_key=attempt_key(payment.order_id, routes[0].processor, 1),
                        outcome=AttemptOutcome.PENDING,
                        account_id=routes[0].account_id,
                    ),
                    replace_try=True,
                    summarize=False,
                )
            await write_order(session, change, summarize_attempts=bool(routes))
            event_id = await record_order_event(session, change) if failure else None
            decision = RoutePlan(
                config_version=version,
                rule=rule.name if rule else "",
                routes=routes,
                considered=considered,
                unknown_outcome_policy=config.unknown_outcome_policy,
                max_attempts=config.max_attempts,
                payment_budget_seconds=config.payment_budget_seconds,
                resolution_budget_seconds=config.resolution_budget_seconds,
                three_ds_timeout_seconds=self._settings.three_ds_timeout_seconds,
                three_ds_poll_seconds=self._settings.three_ds_poll_seconds,
                authorization_ttl_seconds=self._settings.authorization_ttl_seconds,
                event_id=event_id,
                failure_code=failure,
            )
            await session.execute(
                _KEEP_PLAN, {"order_id": payment.order_id, "plan": dataclasses.asdict(decision)}
            )
        if failure:
            # Nothing can take the payment: it ends here, once (a later run finds the plan), and
            # this step is all of its time from pay to the final status.
            metrics.payment_settled(str(OrderStatus.FAILED), time.monotonic() - began)
        return decision, True


def routing_decision(
    version: int, rule: str, considered: list[RoutedCandidate], facts: PaymentFacts
) -> dict[str, Any]:
    """The order's RoutingDecision, as the read model stores it, with the payment method's
    facts the rule was matched on: the order itself does not keep its payment method, and a
    what-if replay of the order (edge/routing_what_if.py) routes it on the same facts."""
    return {
        "config_version": version,
        "rule": rule,
        "candidates": [
            {"processor": c.processor, "decision": c.decision, "reason": c.reason}
            for c in considered
        ],
        "facts": stored_facts(facts),
    }


def stored_facts(facts: PaymentFacts) -> dict[str, str]:
    """Amount, currency and metadata are the order's own columns; the rest is kept here."""
    return {
        "payment_method_type": facts.payment_method_type,
        "card_network": facts.card_network,
        "card_funding": facts.card_funding,
        "card_country": facts.card_country,
    }
