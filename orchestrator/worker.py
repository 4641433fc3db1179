"""The orchestrator worker process: runs payment workflows and their activities."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from datetime import timedelta
from pathlib import Path

from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from core import temporal
from core.config import Settings
from core.db.session import create_engine, session_factory
from core.logs import configure_logging
from core.payload_codec import CodecKeysInvalid
from core.payload_codec import parse_keys as parse_codec_keys
from core.processors.channels import ProcessorChannels
from core.secrets import SecretBox
from core.telemetry import Telemetry, configure_telemetry
from core.vaulted_cards import CardSource
from orchestrator.activities.first_call import FirstCallActivities
from orchestrator.activities.orders import OrderActivities
from orchestrator.activities.processors import ProcessorActivities
from orchestrator.activities.refunds import RefundActivities
from orchestrator.activities.routing import RoutingActivities
from orchestrator.activities.webhooks import WebhookActivities
from orchestrator.breaker_gauge import BreakerStates
from orchestrator.correlation import CorrelationInterceptor
from orchestrator.workflows.payment import PaymentWorkflow
from orchestrator.workflows.refund import RefundWorkflow
from orchestrator.workflows.webhook_delivery import WebhookDeliveryWorkflow
from vault import config as vault_config
from vault.client import VaultClient

log = logging.getLogger("payloops.worker")


async def run(
    settings: Settings,
    ready_file: Path | None = None,
    telemetry: Telemetry | None = None,
    cards: CardSource | None = None,
) -> None:
    """Runs the worker until SIGTERM/SIGINT. `cards`: where Authorize reads vaulted cards;
    without one, a payment with a vaulted card fails its attempts as "vault_unavailable"."""
    # With tracing, the client's interceptor continues the edge's trace in workflows and
    # activities, and the processor calls' spans join it (core.telemetry).
    client = await temporal.connect(
        settings,
        interceptors=telemetry.temporal_interceptors() if telemetry else (),
        runtime=telemetry.temporal_runtime() if telemetry else None,
    )
    # A connection the server closed is not handed out (core.db.session); one that breaks in
    # use fails its step, which is retried (DB_RETRY); an Authorize whose credentials read
    # fails that way is unknown, and resolved by re-sending it with its key, like any other.
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    channels = ProcessorChannels()
    processors = ProcessorActivities(
        sessions, SecretBox(settings.secrets_keys), channels, cards=cards
    )
    webhooks = WebhookActivities(sessions, SecretBox(settings.secrets_keys), settings)
    orders = OrderActivities(sessions)
    routing = RoutingActivities(sessions, settings)
    refunds = RefundActivities(sessions)
    first_call = FirstCallActivities(routing, processors)
    worker = Worker(
        client,
        task_queue=settings.task_queue,
        workflows=[PaymentWorkflow, RefundWorkflow, WebhookDeliveryWorkflow],
        activities=[
            routing.route_payment,
            first_call.route_and_authorize,
            orders.record_progress,
            processors.authorize,
            processors.get_payment,
            processors.void_payment,
            processors.refund_payment,
            processors.capture_payment,
            processors.refund,
            refunds.reserve_refund,
            refunds.finish_refund,
            webhooks.dispatch_event,
            webhooks.begin_delivery,
            webhooks.attempt_delivery,
            webhooks.record_lost_attempt,
            webhooks.give_up_delivery,
        ],
        interceptors=[CorrelationInterceptor()],
        graceful_shutdown_timeout=timedelta(seconds=5),
        # The sandbox re-imports the workflow module for every run and proxies its calls: about
        # half of a workflow task's CPU here, 15 ms of every payment. Determinism is checked
        # instead by replaying recorded payments under the sandbox (tests/orchestrator/
        # test_replay.py), which refuses clocks, randomness and I/O just the same.
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    breakers = None
    if telemetry is not None and telemetry.metrics_on:
        breakers = asyncio.create_task(BreakerStates(sessions).refresh_forever())
    async with worker:
        log.info("worker polling task queue %s", settings.task_queue)
        if ready_file is not None:
            await asyncio.to_thread(ready_file.touch)
        await stop.wait()
    if breakers is not None:
        breakers.cancel()
    await channels.close()
    await engine.dispose()


async def _run_with_vault(
    settings: Settings, ready_file: Path | None, telemetry: Telemetry
) -> None:
    """The worker, reading vaulted cards from the vault when one is configured
    (PAYLOOPS_VAULT_TARGET and the worker's service token; `payloops dev` sets both)."""
    if not os.environ.get(vault_config.TARGET_VAR):
        log.warning("no card vault configured: payments with vaulted cards will fail")
        await run(settings, ready_file, telemetry)
        return
    cards = VaultClient.from_env()
    try:
        await run(settings, ready_file, telemetry, cards)
    finally:
        await cards.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="payloops serve worker")
    parser.add_argument("--ready-file", type=Path, help="touched once the worker polls")
    args = parser.parse_args(argv)
    if args.ready_file is not None:
        # A restarted container keeps its /tmp: a file the process before this one touched
        # would pass the health check before this one polls.
        args.ready_file.unlink(missing_ok=True)
    configure_logging("worker")
    settings = Settings.from_env()
    try:
        parse_codec_keys(settings.temporal_codec_keys)
    except CodecKeysInvalid as error:
        raise SystemExit(f"payloops serve worker: {error}") from None
    telemetry = configure_telemetry("worker", settings)
    asyncio.run(_run_with_vault(settings, args.ready_file, telemetry))
    telemetry.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    # The Temporal bridge's threads can crash interpreter teardown (sdk-python#300).
    os._exit(0)


if __name__ == "__main__":
    main()
