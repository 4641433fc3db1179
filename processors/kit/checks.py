"""Request checks every adapter makes the same way, before anything goes to its gateway: each
failure is INVALID_ARGUMENT, with nothing sent and nothing charged. The gateway's own limits
(key lengths, id formats, currencies) stay in the adapter's params.py."""

from __future__ import annotations

from processors.kit.errors import ProcessorError, invalid


def required(value: str, field: str) -> str:
    """A key or reference the call cannot do without (`ATTEMPT_KEY_REQUIRED`, ...)."""
    if not value:
        raise invalid(f"{field.upper()}_REQUIRED", f"{field} is required")
    return value


def positive(amount: int) -> int:
    """An amount to authorize."""
    if amount <= 0:
        raise invalid("AMOUNT_NOT_POSITIVE", "amount must be positive")
    return amount


def non_negative(amount: int) -> int:
    """An amount to capture or refund, where 0 means all (of what remains)."""
    if amount < 0:
        raise invalid("AMOUNT_NEGATIVE", "amount must be >= 0 (0 means all)")
    return amount


def lookup_required(*fields: str) -> ProcessorError:
    """GetPayment or GetRefund with none of its lookup fields set."""
    return invalid("LOOKUP_REQUIRED", "set " + " or ".join(fields))
