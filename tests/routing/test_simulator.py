"""The routing simulator: the odds it reports, the draw it shows, the reasons it gives, and that
it answers what the payment activity decides, both run against the real SQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.contracts.vocabulary import BreakerState, BreakerVerdict, CandidateReason
from core.db import models
from core.db.session import create_engine, session_factory
from core.merchants import create_merchant
from core.processors.registry import register
from core.routing_config import store
from core.routing_config.model import SUCCESS_RATE, RoutingConfig, Rule, WeightedTarget
from edge import routing_simulator
from orchestrator.routing_engine import Candidate, Plan, ProcessorInfo, plan
from orchestrator.routing_engine.inputs import RoutingInputs
from payloops.v1 import routing_pb2
from tests.routing.orders import new_order, route


def split_rule(*weights: tuple[str, int]) -> Rule:
    return Rule("split", split=tuple(WeightedTarget(name, weight) for name, weight in weights))


def test_a_failover_list_goes_to_its_first_processor_for_sure() -> None:
    rule = Rule("all", failover=("a", "b"))
    decided = Plan("all", [Candidate(n, CandidateReason.RULE_ORDER) for n in "ab"], [])
    assert routing_simulator.first_choice_shares(RoutingConfig(rules=(rule,)), rule, decided) == [
        ("a", 1.0),
        ("b", 0.0),
    ]


def test_a_split_shares_its_weights_among_the_processors_that_can_take_the_payment() -> None:
    rule = split_rule(("a", 20), ("b", 30), ("c", 50))
    decided = Plan(
        "split",
        [Candidate("b", CandidateReason.SPLIT_DRAW), Candidate("a", CandidateReason.FALLBACK)],
        [Candidate("c", CandidateReason.CIRCUIT_OPEN)],
    )
    assert routing_simulator.first_choice_shares(RoutingConfig(rules=(rule,)), rule, decided) == [
        ("b", 0.6),
        ("a", 0.4),
    ]


def test_success_rate_mode_leaves_the_exploration_share_to_the_others() -> None:
    rule = Rule("all", failover=("a", "b", "c"))
    decided = Plan("all", [Candidate(n, CandidateReason.SUCCESS_RATE) for n in "abc"], [])
    shares = routing_simulator.first_choice_shares(
        RoutingConfig(rules=(rule,), mode=SUCCESS_RATE), rule, decided
    )
    assert shares == [("a", pytest.approx(0.9)), ("b", 0.05), ("c", 0.05)]


@pytest.mark.parametrize(
    ("weights", "heaviest"),
    [
        ((("a", 30), ("b", 70)), "b"),
        ((("a", 70), ("b", 30)), "a"),
        ((("b", 50), ("a", 50)), "a"),  # a tie goes to the name first in order
        ((("a", 1), ("b", 98), ("c", 1)), "b"),
    ],
)
def test_the_plan_shown_is_the_engines_plan_for_the_heaviest_draw(
    weights: tuple[tuple[str, int], ...], heaviest: str
) -> None:
    rule = split_rule(*weights)
    config = RoutingConfig(rules=(rule,))
    processors = {name: ProcessorInfo() for name, _ in weights}

    def planned(draw: float) -> Plan:
        return plan(config, rule, processors, {}, {}, draw, 1.0, currency="USD", livemode=False)

    shown = planned(routing_simulator.heaviest_draw(rule, planned(0.0)))
    assert shown.candidates[0] == Candidate(heaviest, CandidateReason.SPLIT_DRAW)


def test_a_fallback_whose_breaker_may_be_probed_is_half_open_as_the_activity_marks_it() -> None:
    decided = Plan(
        "all",
        [Candidate("a", CandidateReason.RULE_ORDER), Candidate("b", CandidateReason.RULE_ORDER)],
        [Candidate("c", CandidateReason.NO_ACCOUNT)],
    )
    inputs = RoutingInputs(
        registered=[],
        accounts={},
        breakers={"a": BreakerVerdict.PROBE, "b": BreakerVerdict.PROBE},
        success_rates={},
    )
    assert [
        (c.processor, c.decision, c.reason) for c in routing_simulator.candidates(decided, inputs)
    ] == [
        ("a", "candidate", "rule_order"),
        ("b", "candidate", "circuit_half_open"),
        ("c", "skipped", "no_account"),
    ]


def test_a_sandbox_token_supplies_the_card_facts_left_empty() -> None:
    payment = routing_pb2.SimulatedPayment(
        amount=2500, currency="eur", payment_method="pm_card_rupay", card_country="de"
    )
    facts = routing_simulator.facts_of(payment)
    assert (
        facts.currency,
        facts.payment_method_type,
        facts.card_network,
        facts.card_funding,
        facts.card_country,
    ) == ("EUR", "card", "rupay", "debit", "DE")


def test_a_payment_is_checked_in_the_vocabulary_of_the_rules() -> None:
    found = routing_simulator.payment_violations(
        routing_pb2.SimulatedPayment(
            amount=-1, currency="EURO", card_funding="gold", card_country="DEU"
        )
    )
    assert {(v.field, v.reason) for v in found} == {
        ("payment.amount", "AMOUNT_INVALID"),
        ("payment.currency", "CURRENCY_UNKNOWN"),
        ("payment.card_funding", "CARD_FUNDING_UNKNOWN"),
        ("payment.card_country", "CARD_COUNTRY_INVALID"),
    }
    fine = routing_pb2.SimulatedPayment(amount=1, currency="jpy", card_network="VISA")
    assert routing_simulator.payment_violations(fine) == []


@dataclass
class Registered:
    sessions: async_sessionmaker[AsyncSession]
    merchant_id: str
    up: str
    down: str


@pytest.fixture
async def registered(postgres_url: str) -> AsyncIterator[Registered]:
    engine = create_engine(postgres_url, pool_size=5)
    sessions = session_factory(engine)
    suffix = uuid.uuid4().hex[:8]
    up, down = f"up-{suffix}", f"down-{suffix}"
    for name, port in ((up, 50071), (down, 50072)):
        await register(sessions, name, f"127.0.0.1:{port}", capabilities={})
    async with sessions.begin() as session:
        session.add(models.ProcessorHealth(processor=down, state=BreakerState.OPEN))
        await session.flush()
        opened = await session.scalar(select(func.now()))
        (await session.get_one(models.ProcessorHealth, down)).opened_at = opened
    merchant = await create_merchant(sessions, "simulator")
    yield Registered(sessions, merchant.id, up, down)
    async with sessions.begin() as session:
        await session.delete(await session.get_one(models.ProcessorHealth, down))
    await engine.dispose()


async def test_the_simulator_answers_the_activitys_decision(registered: Registered) -> None:
    config = RoutingConfig(
        rules=(Rule("all", failover=(registered.down, registered.up, "not-registered")),)
    )
    version, _ = await store.save(registered.sessions, registered.merchant_id, False, config)
    order_id = await new_order(registered.sessions, registered.merchant_id)
    await route(registered.sessions, registered.merchant_id, order_id)
    async with registered.sessions() as session:
        order = await session.get_one(models.Order, order_id)
        simulated = await routing_simulator.simulate(
            session,
            registered.merchant_id,
            False,
            config,
            routing_pb2.SimulatedPayment(
                amount=1500, currency="USD", payment_method="pm_card_visa"
            ),
        )
    assert order.routing["config_version"] == version
    assert simulated.rule == order.routing["rule"] == "all"
    assert [
        {"processor": c.processor, "decision": c.decision, "reason": c.reason}
        for c in simulated.candidates
    ] == order.routing["candidates"]
    assert order.routing["candidates"] == [
        {"processor": registered.up, "decision": "candidate", "reason": "rule_order"},
        {"processor": registered.down, "decision": "skipped", "reason": "circuit_open"},
        {"processor": "not-registered", "decision": "skipped", "reason": "not_configured"},
    ]
    assert simulated.failure_code == ""
