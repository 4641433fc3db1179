"""What-if's arithmetic (splits, the expected success rate, the fixed draw), the facts it replays
an order on, and that the routing step records those facts on the order, against the real SQL."""

from __future__ import annotations

import uuid

from core.db import models
from core.db.session import create_engine, session_factory
from core.merchants import create_merchant
from core.processors.registry import register
from core.routing_config import store
from core.routing_config.model import RoutingConfig, Rule
from edge import routing_what_if
from edge.routing_what_if import Rate, Replayed
from orchestrator.routing_engine import PaymentFacts
from tests.routing.orders import new_order, route


def payment(order_id: str, actual: str, amount: int, currency: str = "USD") -> Replayed:
    return Replayed(order_id, PaymentFacts(amount=amount, currency=currency), actual)


def test_splits_count_payments_and_amounts_per_processor_and_currency() -> None:
    drafted = [
        (payment("ord_1", "a", 100), "b"),
        (payment("ord_2", "a", 200), "a"),
        (payment("ord_3", "", 300, "EUR"), "b"),
    ]
    assert [
        (
            s.processor,
            s.currency,
            s.actual_payments,
            s.actual_amount,
            s.draft_payments,
            s.draft_amount,
        )
        for s in routing_what_if.splits(drafted)
    ] == [
        ("", "EUR", 1, 300, 0, 0),
        ("a", "USD", 2, 300, 1, 200),
        ("b", "EUR", 0, 0, 1, 300),
        ("b", "USD", 0, 0, 1, 100),
    ]


def test_the_expected_rate_averages_the_first_processors_observed_rates() -> None:
    rates = {"a": Rate(attempts=4, successes=3), "b": Rate(attempts=2, successes=1)}
    assert routing_what_if.expected_rate(["a", "a", "b"], rates) == (0.75 + 0.75 + 0.5) / 3
    # Nothing known about c, nor about a payment no processor takes: left out of the mean.
    assert routing_what_if.expected_rate(["a", "c", ""], rates) == 0.75
    assert routing_what_if.expected_rate(["c"], rates) == 0.0


def test_each_order_draws_the_same_number_every_time() -> None:
    draws = [routing_what_if.order_draw(f"ord_{n}") for n in range(200)]
    assert draws == [routing_what_if.order_draw(f"ord_{n}") for n in range(200)]
    assert all(0 <= draw < 1 for draw in draws)
    assert 0.3 < sum(draws) / len(draws) < 0.7


def test_an_order_is_replayed_on_the_facts_its_routing_recorded() -> None:
    routing = {
        "rule": "all",
        "candidates": [
            {"processor": "a", "decision": "skipped", "reason": "circuit_open"},
            {"processor": "b", "decision": "candidate", "reason": "rule_order"},
        ],
        "facts": {
            "payment_method_type": "card",
            "card_network": "visa",
            "card_funding": "debit",
            "card_country": "DE",
        },
    }
    replayed = routing_what_if.replayed("ord_1", 990, "eur", {"plan": "pro"}, routing)
    assert replayed == Replayed(
        "ord_1",
        PaymentFacts(990, "EUR", "card", "visa", "debit", "DE", {"plan": "pro"}),
        "b",
    )
    # Routed before the facts were recorded, and by no processor.
    older = routing_what_if.replayed("ord_2", 5, "USD", {}, {"rule": "", "candidates": []})
    assert older == Replayed("ord_2", PaymentFacts(5, "USD"), "")


async def test_the_routing_step_records_the_facts_it_matched_on(postgres_url: str) -> None:
    engine = create_engine(postgres_url, pool_size=2)
    sessions = session_factory(engine)
    name = f"facts-{uuid.uuid4().hex[:8]}"
    await register(sessions, name, "127.0.0.1:50081", capabilities={})
    merchant = await create_merchant(sessions, "what-if facts")
    await store.save(
        sessions, merchant.id, False, RoutingConfig(rules=(Rule("all", failover=(name,)),))
    )
    order_id = await new_order(sessions, merchant.id)
    await route(sessions, merchant.id, order_id)
    async with sessions() as session:
        order = await session.get_one(models.Order, order_id)
    await engine.dispose()
    assert order.routing["facts"] == {
        "payment_method_type": "card",
        "card_network": "visa",
        "card_funding": "credit",
        "card_country": "US",
    }
