"""The idempotency keys the orchestrator sends to processors, all built here.

Every key is derived from the order, the processor and the try number only, so a replayed,
retried or restarted workflow sends the same key for the same operation, and every key of an
attempt starts with the attempt's key (adapters expect that shape). The formats are stored
with the processors' payments and in recorded histories: they never change."""

from __future__ import annotations

from core.contracts.vocabulary import UndoMethod


def attempt_key(order_id: str, processor: str, seq: int) -> str:
    """The key of try number `seq` of the order's payment, at `processor`."""
    return f"{order_id}:authorize:{processor}:{seq}"


def capture_key(attempt_key: str, capture_number: int) -> str:
    """The key of the merchant's `capture_number`th capture of the attempt's authorization."""
    return f"{attempt_key}:capture:{capture_number}"


def undo_key(attempt_key: str, method: UndoMethod, undo_number: int = 1) -> str:
    """The key of the void or refund that undoes the attempt's charge. A refund that was made
    and failed holds its key for good, so the undo after it is number 2 (and so on), whichever
    method it then takes."""
    suffix = f":{undo_number}" if undo_number > 1 else ""
    return f"{attempt_key}:{method}{suffix}"


def refund_key(attempt_key: str, refund_id: str) -> str:
    """The key of a merchant's refund of the attempt's charge (refund ids start with "re_", so
    no refund key is ever an undo key)."""
    return f"{attempt_key}:refund:{refund_id}"
