"""Everything a routing decision reads besides the payment and the configuration: the
registered processors, the merchant's usable accounts, circuit breakers and recent success
rates. The payment activity and the edge's simulator both decide through `decide`, so a
simulated payment can never be routed by other rules than a real one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.contracts.vocabulary import AttemptOutcome, BreakerState, BreakerVerdict
from core.db import models
from core.payment_method_tokens import forms_of
from core.processors import accounts as processor_accounts
from core.routing_config.model import SUCCESS_RATE, RoutingConfig, Rule
from orchestrator.routing_engine import breaker
from orchestrator.routing_engine.engine import Plan, ProcessorInfo, match, plan
from orchestrator.routing_engine.facts import PaymentFacts

# Success rates are computed over this much recent history, and need this many attempts to count.
SUCCESS_RATE_WINDOW = timedelta(minutes=15)
SUCCESS_RATE_MIN_ATTEMPTS = 5
# Attempts that count as a success: the processor took the payment (or asked for 3-D Secure).
ANSWERED_OK = (AttemptOutcome.SUCCEEDED, AttemptOutcome.AUTHORIZED, AttemptOutcome.REQUIRES_ACTION)
_PROCESSORS = select(models.Processor)


@dataclass(frozen=True)
class RoutingInputs:
    registered: list[models.Processor]
    # Processor name -> the account its payments use (None: needs no credentials).
    accounts: dict[str, str | None]
    # Only the breakers that are not closed.
    breakers: dict[str, BreakerVerdict]
    success_rates: dict[str, float | None]


async def routing_inputs(
    session: AsyncSession, merchant_id: str, livemode: bool, config: RoutingConfig
) -> RoutingInputs:
    registered = list((await session.execute(_PROCESSORS)).scalars())
    names = [p.name for p in registered]
    return RoutingInputs(
        registered=registered,
        accounts=await processor_accounts.usable(session, merchant_id, livemode, registered),
        breakers=await breaker.availability(session, names),
        success_rates=await success_rates(session, names) if config.mode == SUCCESS_RATE else {},
    )


def decide(
    config: RoutingConfig,
    inputs: RoutingInputs,
    facts: PaymentFacts,
    *,
    token: str | None,
    livemode: bool,
    draw: float,
    explore: float,
) -> tuple[Rule | None, Plan | None]:
    """The rule a payment matches and its plan. `token` None: the payment method is not known,
    so none of its forms rules a processor out (the simulator without a token)."""
    rule = match(config, facts)
    if rule is None:
        return None, None
    decided = plan(
        config,
        rule,
        processors={
            p.name: ProcessorInfo(
                enabled=p.enabled,
                currencies=frozenset(map(str, p.capabilities.get("currencies", []))),
                has_account=p.name in inputs.accounts,
                test_only=bool(p.capabilities.get("test_only", False)),
                can_use_method=token is None or forms_of(p.capabilities).can_use(token),
            )
            for p in inputs.registered
        },
        health={
            name: BreakerState.OPEN
            for name, verdict in inputs.breakers.items()
            if verdict == BreakerVerdict.BLOCKED
        },
        success_rates=inputs.success_rates,
        draw=draw,
        explore=explore,
        currency=facts.currency,
        livemode=livemode,
    )
    return rule, decided


async def success_rates(session: AsyncSession, names: list[str]) -> dict[str, float | None]:
    """Each processor's share of answered-OK attempts over SUCCESS_RATE_WINDOW, across every
    merchant; None below SUCCESS_RATE_MIN_ATTEMPTS."""
    ok = func.sum(case((models.Attempt.outcome.in_(ANSWERED_OK), 1), else_=0))
    rows = await session.execute(
        select(models.Attempt.processor, ok, func.count())
        .where(
            models.Attempt.processor.in_(names),
            models.Attempt.outcome != AttemptOutcome.PENDING,
            models.Attempt.created_at > func.now() - SUCCESS_RATE_WINDOW,
        )
        .group_by(models.Attempt.processor)
    )
    rates: dict[str, float | None] = dict.fromkeys(names)
    for name, succeeded, total in rows:
        if total >= SUCCESS_RATE_MIN_ATTEMPTS:
            rates[name] = succeeded / total
    return rates
