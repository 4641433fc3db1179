"""The StripeContract scenarios (test_stripe.py) against REAL Stripe test mode: it keeps the fake
honest. It runs only when STRIPE_TEST_SECRET_KEY holds a test-mode key (sk_test_… / rk_test_…);
without one every test here is reported as skipped, with that reason, and nothing else is
skipped anywhere (the fake suite always runs).

    STRIPE_TEST_SECRET_KEY=sk_test_... \
        .venv/bin/python -m pytest -q tests/processors/test_stripe_live.py

It creates PaymentIntents and refunds in that test account (metadata `payloops_attempt_key`
starting with `ord_`), and needs network access to api.stripe.com. A live-mode key is refused
outright: this suite must never move real money.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import grpc
import pytest

from payloops.processor.v1 import processor_pb2 as pb
from payloops.processor.v1 import processor_pb2_grpc
from processors.stripe.config import DEFAULT_API_BASE, StripeConfig
from tests.processors.test_stripe import Gateway, StripeContract, running_adapter

LIVE_KEY = os.environ.get("STRIPE_TEST_SECRET_KEY", "")

pytestmark = pytest.mark.skipif(
    not LIVE_KEY,
    reason="STRIPE_TEST_SECRET_KEY is not set: the suite against real Stripe test mode was "
    "NOT run (the same scenarios ran against the wire-level fake in test_stripe.py)",
)


@pytest.fixture(scope="module")
async def live_channel() -> AsyncIterator[grpc.aio.Channel]:
    if not LIVE_KEY.startswith(("sk_test_", "rk_test_")):
        pytest.fail(
            "STRIPE_TEST_SECRET_KEY is not a test-mode key (sk_test_/rk_test_): "
            "refusing to run payment tests against live mode"
        )
    config = StripeConfig(
        api_base=os.environ.get("STRIPE_API_BASE", DEFAULT_API_BASE),
        timeout_ms=20_000,
        max_network_retries=2,
    )
    async with running_adapter(config) as channel:
        yield channel


@pytest.fixture
def gw(live_channel: grpc.aio.Channel) -> Gateway:
    return Gateway(
        processor_pb2_grpc.ProcessorStub(live_channel),
        pb.Credentials(
            values={"secret_key": LIVE_KEY, "webhook_secret": "whsec_not_used_by_this_suite"}
        ),
        live_channel,
    )


class TestStripeAdapterAgainstStripeTestMode(StripeContract):
    """Every StripeContract scenario, through the adapter, against api.stripe.com."""
