"""The idempotency keys sent to processors keep their formats: processors hold payments under
them, and recorded histories replay with them."""

from __future__ import annotations

from core.contracts.vocabulary import UndoMethod
from orchestrator.keys import attempt_key, capture_key, refund_key, undo_key

KEY = "ord_1:authorize:sandbox:2"


def test_an_attempts_key_names_its_order_processor_and_try() -> None:
    assert attempt_key("ord_1", "sandbox", 2) == KEY


def test_every_other_key_of_an_attempt_starts_with_the_attempts() -> None:
    assert capture_key(KEY, 1) == f"{KEY}:capture:1"
    assert undo_key(KEY, UndoMethod.VOID) == f"{KEY}:void"
    assert undo_key(KEY, UndoMethod.REFUND) == f"{KEY}:refund"
    assert refund_key(KEY, "re_9") == f"{KEY}:refund:re_9"


def test_the_undo_after_a_failed_refund_carries_its_number() -> None:
    assert undo_key(KEY, UndoMethod.REFUND, 2) == f"{KEY}:refund:2"
    # The number stays with whichever method the undo then takes.
    assert undo_key(KEY, UndoMethod.VOID, 3) == f"{KEY}:void:3"
