"""The payment workflow replays the histories of payments recorded with it, under Temporal's
sandbox. The worker runs workflows unsandboxed (half the CPU per workflow task); this is what
still catches non-deterministic workflow code (clocks, randomness, I/O: the sandbox refuses
them) and changes that would break payments already in flight (the replay diverges). A change
that is meant to diverge goes behind `workflow.patched`, or re-records the histories with
`python -m tests.orchestrator.record_histories` when no old payment can be in flight.

histories/ holds payments recorded with the current workflow; each subfolder, payments recorded
before a patch (histories/authorize-as-activity/: before authorizations were held and before
Authorize became a local activity; histories/before-index-status/: before the workflow upserted
its status as a search attribute), which must still replay for as long as such payments may
be in flight. Which history needs which patch, and when each can be retired:
orchestrator/workflows/payment/patches.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from core.payload_codec import PayloadEncryption, new_key
from orchestrator.workflows.payment import PaymentWorkflow

HISTORY_DIR = Path(__file__).parent / "histories"
HISTORIES = sorted(HISTORY_DIR.rglob("*.json"))
KINDS = {"succeeded", "hard_decline", "manual_capture", "three_d_secure", "failover_after_hang"}


def test_every_kind_of_payment_has_a_recorded_history_in_each_generation() -> None:
    generations = {path.parent for path in HISTORIES}
    assert HISTORY_DIR in generations
    for generation in generations:
        assert {path.stem for path in HISTORIES if path.parent == generation} >= KINDS


@pytest.mark.parametrize(
    "path", HISTORIES, ids=[str(path.relative_to(HISTORY_DIR)) for path in HISTORIES]
)
async def test_recorded_payment_replays_deterministically(path: Path) -> None:
    history = WorkflowHistory.from_json(f"payment-{path.stem}", _read(path))
    # The default runner is the sandboxed one; raise_on_replay_failure is on by default. The
    # worker's encryption, as the worker would replay them: the recorded payloads and headers are
    # plain, as those of payments started before they were encrypted, and must decode as they are.
    replayer = Replayer(workflows=[PaymentWorkflow], plugins=[PayloadEncryption([new_key()])])
    await replayer.replay_workflow(history)


def _read(path: Path) -> str:
    return path.read_text()
