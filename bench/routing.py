"""(r) What the routing decision costs per payment, in two parts:

* the engine: `facts_for`, `match` and `plan`, pure Python in this process, on a 16-rule
  configuration with every kind of condition, volume splits and `*` fallbacks, in priority and
  in success-rate mode, over a mix of payments that match early, late or only the catch-all;
* the activity: `RoutingActivities.route_payment` called directly (`ActivityEnvironment`) on
  orders created through the API, against the mesh's PostgreSQL. That is the engine plus the
  database part: the configuration load, the processor and breaker reads, the success rates
  (success-rate mode) and the decision written with the first attempt. The worker runs it as a
  local activity; the workflow activation around it is not in this figure.

The activity leaves each order PROCESSING with a pending first attempt and no workflow behind
it: these are the bench's own orders, of a merchant of their own, in a mesh that is discarded.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import time
import uuid
from dataclasses import dataclass

import httpx
from google.protobuf import json_format
from temporalio.testing import ActivityEnvironment

from bench.load import Spread, spread
from bench.rest import response_body
from core.config import Settings
from core.contracts.payment import CardHints, PaymentInput, PaymentMethod
from core.contracts.vocabulary import CaptureMethod
from core.db.session import create_engine, session_factory
from core.routing_config.model import (
    ANY_PROCESSOR,
    PRIORITY,
    SUCCESS_RATE,
    Conditions,
    RoutingConfig,
    Rule,
    WeightedTarget,
)
from orchestrator.activities.routing import RoutingActivities
from orchestrator.activities.types import RouteRequest
from orchestrator.routing_engine.engine import ProcessorInfo, match, plan
from orchestrator.routing_engine.facts import facts_for
from tests.conftest import Mesh

SANDBOXES = ("sandbox", "sandbox-b", "sandbox-c")
_A, _B, _C = SANDBOXES
_WARM_UP_ORDERS = 10
_CREATE_CONCURRENCY = 8


def _split(*targets: tuple[str, int]) -> tuple[WeightedTarget, ...]:
    return tuple(WeightedTarget(name, weight) for name, weight in targets)


# What a merchant with several processors might configure: specific rules first, broad last.
CONFIG = RoutingConfig(
    rules=(
        Rule(
            "eur-high-value",
            Conditions(currencies=("EUR",), amount_min=100_000),
            split=_split((_A, 70), (_B, 30)),
        ),
        Rule("amex", Conditions(card_networks=("amex",)), failover=(_C, _A)),
        Rule(
            "rupay-india",
            Conditions(card_networks=("rupay",), card_countries=("IN",)),
            failover=(_B, ANY_PROCESSOR),
        ),
        Rule(
            "us-debit-small",
            Conditions(card_funding=("debit",), card_countries=("US",), amount_max=2_000),
            failover=(_B, _A),
        ),
        Rule("vip", Conditions(metadata={"tier": "vip"}), failover=(_A, _B, _C)),
        Rule(
            "marketplace",
            Conditions(currencies=("USD",), metadata={"channel": "marketplace"}),
            split=_split((_A, 50), (_B, 30), (_C, 20)),
        ),
        Rule("gbp", Conditions(currencies=("GBP",)), failover=(_C, ANY_PROCESSOR)),
        Rule("asia", Conditions(currencies=("JPY", "INR", "SGD")), failover=(_B, _C)),
        Rule(
            "mastercard-credit",
            Conditions(card_networks=("mastercard",), card_funding=("credit",)),
            split=_split((_A, 60), (_B, 40)),
        ),
        Rule("usd-large", Conditions(currencies=("USD",), amount_min=500_000), failover=(_A, _C)),
        Rule(
            "eu-cards", Conditions(card_countries=("DE", "FR", "NL", "ES", "IT")), failover=(_B, _A)
        ),
        Rule("recurring", Conditions(metadata={"recurring": "true"}), failover=(_C, _A)),
        Rule("prepaid", Conditions(card_funding=("prepaid",)), failover=(_B,)),
        Rule(
            "usd-mid",
            Conditions(currencies=("USD",), amount_min=2_000, amount_max=50_000),
            split=_split((_A, 80), (_B, 20)),
        ),
        Rule(
            "visa",
            Conditions(card_networks=("visa",), payment_method_types=("card",)),
            failover=(_A, _B),
        ),
        Rule("everything-else", failover=(_A, ANY_PROCESSOR)),
    ),
    max_attempts=3,
)
CONFIGS = {PRIORITY: CONFIG, SUCCESS_RATE: dataclasses.replace(CONFIG, mode=SUCCESS_RATE)}


@dataclass(frozen=True)
class Sale:
    """One kind of payment in the mix: its order and its payment method."""

    amount: int
    currency: str
    method: PaymentMethod
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)


def _card(token: str, **hints: str) -> PaymentMethod:
    return PaymentMethod(type="card", token=token, card=CardHints(**hints))


# The rule each sale matches: 1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 14, 15 and the catch-all, 16.
SALES = (
    Sale(150_000, "EUR", _card("pm_card_visa", country="DE")),
    Sale(4_999, "USD", _card("pm_card_amex")),
    Sale(80_000, "INR", _card("pm_card_rupay")),
    Sale(1_500, "USD", _card("pm_card_visa"), {"tier": "vip"}),
    Sale(12_000, "USD", _card("pm_card_visa"), {"channel": "marketplace"}),
    Sale(3_000, "GBP", _card("pm_card_visa", country="GB")),
    Sale(9_800, "JPY", _card("pm_card_visa", country="JP")),
    Sale(6_500, "USD", _card("pm_card_mastercard")),
    Sale(750_000, "USD", _card("pm_card_visa")),
    Sale(2_500, "EUR", _card("pm_card_visa", country="FR")),
    Sale(4_999, "USD", _card("pm_card_visa")),
    Sale(99_000, "USD", _card("pm_card_visa")),
    Sale(1_200, "CAD", _card("tok_from_another_vault")),
)
# The engine's other inputs as route_payment passes them: every processor registered and enabled,
# breakers closed (missing from `health`), success rates known for two of the three.
PROCESSORS = {name: ProcessorInfo() for name in SANDBOXES}
RATES: dict[str, float | None] = {_A: 0.97, _B: 0.93, _C: None}


@dataclass(frozen=True)
class RoutingRow:
    title: str
    timings: Spread
    # Shown in microseconds (the engine) or milliseconds (the activity).
    unit: str


def measure_engine(iterations: int) -> list[RoutingRow]:
    inputs = [(_payment(sale, "ord_bench", "mer_bench"), sale.method) for sale in SALES]
    rows = []
    for mode, config in CONFIGS.items():
        # Checked once, untimed: every sale is routed somewhere.
        for payment, method in inputs:
            if not _decide(config, payment, method):
                raise RuntimeError(f"the bench's config routes {payment} nowhere")
        elapsed_ms = []
        for i in range(iterations):
            payment, method = inputs[i % len(inputs)]
            began = time.perf_counter_ns()
            _decide(config, payment, method)
            elapsed_ms.append((time.perf_counter_ns() - began) / 1e6)
        rows.append(
            RoutingRow(f"engine, {mode} ({len(config.rules)} rules)", spread(elapsed_ms), "us")
        )
    return rows


async def measure_activity(mesh: Mesh, calls: int) -> list[RoutingRow]:
    merchant_id, api_key = await asyncio.to_thread(mesh.new_merchant, "bench routing")
    url = mesh.env["PAYLOOPS_DATABASE_URL"]
    engine = create_engine(url, pool_size=2)
    activities = RoutingActivities(session_factory(engine), Settings(database_url=url))
    environment = ActivityEnvironment()
    rows = []
    try:
        async with httpx.AsyncClient(
            base_url=mesh.api_url, timeout=30.0, headers={"Authorization": f"Bearer {api_key}"}
        ) as http:
            for mode, config in CONFIGS.items():
                body = json_format.MessageToDict(
                    config.to_proto(), preserving_proto_field_name=True
                )
                response_body(await http.put("/v1/routing", json=body))
                orders = await _create_orders(http, merchant_id, _WARM_UP_ORDERS + calls)
                elapsed_ms = []
                for n, (payment, method) in enumerate(orders):
                    began = time.perf_counter()
                    routed = await environment.run(
                        activities.route_payment, RouteRequest(payment, method)
                    )
                    if n >= _WARM_UP_ORDERS:
                        elapsed_ms.append((time.perf_counter() - began) * 1000)
                    if not routed.routes:
                        raise RuntimeError(f"{payment.order_id} not routed: {routed.failure_code}")
                rows.append(RoutingRow(f"route_payment activity, {mode}", spread(elapsed_ms), "ms"))
    finally:
        await engine.dispose()
    return rows


def _decide(config: RoutingConfig, payment: PaymentInput, method: PaymentMethod) -> list[str]:
    rule = match(config, facts_for(payment, method))
    if rule is None:
        return []
    decided = plan(
        config,
        rule,
        PROCESSORS,
        {},
        RATES,
        random.random(),
        random.random(),
        currency=payment.currency,
        livemode=payment.livemode,
    )
    return decided.processors


def _payment(sale: Sale, order_id: str, merchant_id: str) -> PaymentInput:
    return PaymentInput(
        order_id=order_id,
        merchant_id=merchant_id,
        amount=sale.amount,
        currency=sale.currency,
        capture_method=CaptureMethod.AUTOMATIC,
        metadata=sale.metadata,
    )


async def _create_orders(
    http: httpx.AsyncClient, merchant_id: str, count: int
) -> list[tuple[PaymentInput, PaymentMethod]]:
    """Real orders of the sales in the mix, created a few at a time, in mix order."""
    gate = asyncio.Semaphore(_CREATE_CONCURRENCY)

    async def create(sale: Sale) -> tuple[PaymentInput, PaymentMethod]:
        async with gate:
            order = response_body(
                await http.post(
                    "/v1/orders",
                    json={
                        "amount": sale.amount,
                        "currency": sale.currency,
                        "metadata": sale.metadata,
                    },
                    headers={"Idempotency-Key": str(uuid.uuid4())},
                )
            )
        return _payment(sale, order["id"], merchant_id), sale.method

    return await asyncio.gather(*(create(SALES[i % len(SALES)]) for i in range(count)))
