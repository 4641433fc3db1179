"""Idempotency keys the orchestrator sends to processors."""

from __future__ import annotations


def attempt_key(order_id: str, processor: str, seq: int) -> str:
    """Built from the order, processor and try number only, so a replayed, retried or
    restarted workflow sends the same key for the same try."""
    return f"{order_id}:authorize:{processor}:{seq}"
