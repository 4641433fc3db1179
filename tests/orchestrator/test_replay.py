"""The payment workflow replays the histories of payments recorded with it, under Temporal's
sandbox. The worker runs workflows unsandboxed (half the CPU per workflow task); this is what
still catches non-deterministic workflow code (clocks, randomness, I/O: the sandbox refuses
them) and changes that would break payments already in flight (the replay diverges). A change
that is meant to diverge goes behind `workflow.patched`, or re-records the histories with
`python -m tests.orchestrator.record_histories` when no old payment can be in flight."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from orchestrator.workflows.payment import PaymentWorkflow

HISTORIES = sorted((Path(__file__).parent / "histories").glob("*.json"))


def test_every_kind_of_payment_has_a_recorded_history() -> None:
    assert {path.stem for path in HISTORIES} >= {
        "succeeded",
        "hard_decline",
        "manual_capture",
        "three_d_secure",
        "failover_after_hang",
    }


@pytest.mark.parametrize("path", HISTORIES, ids=[path.stem for path in HISTORIES])
async def test_recorded_payment_replays_deterministically(path: Path) -> None:
    history = WorkflowHistory.from_json(f"payment-{path.stem}", _read(path))
    # The default runner is the sandboxed one; raise_on_replay_failure is on by default.
    await Replayer(workflows=[PaymentWorkflow]).replay_workflow(history)


def _read(path: Path) -> str:
    return path.read_text()
