"""Fault injection state, set through SandboxControlService.SetFault.

A fault applies to the next `count` calls of Authorize, Capture, Void, Refund, GetPayment and
GetRefund (count 0: until cleared). ERROR_AFTER_CHARGE only makes sense where something is
charged, so read calls pass through it without using up the count: a test can set "the next
Authorize fails after charging" and still resolve it with GetPayment.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum


class FaultMode(StrEnum):
    HANG = "hang"
    UNAVAILABLE = "unavailable"
    ERROR_AFTER_CHARGE = "error_after_charge"
    LATENCY = "latency"


@dataclass(frozen=True)
class Fault:
    mode: FaultMode
    latency_ms: int = 0


class Faults:
    def __init__(self) -> None:
        # SetFault and the Processor calls share one event loop today, but a lock keeps the
        # count exact should either ever run in a thread.
        self._lock = threading.Lock()
        self._fault: Fault | None = None
        self._remaining: int | None = None  # None: until cleared

    def set(self, fault: Fault, count: int = 0) -> None:
        if count < 0:
            raise ValueError("count must be >= 0")
        with self._lock:
            self._fault = fault
            self._remaining = count or None

    def clear(self) -> None:
        with self._lock:
            self._fault = None
            self._remaining = None

    def take(self, *, mutating: bool) -> Fault | None:
        """The fault this call suffers, if any, using up one of its count."""
        with self._lock:
            fault = self._fault
            if fault is None:
                return None
            if fault.mode is FaultMode.ERROR_AFTER_CHARGE and not mutating:
                return None
            if self._remaining is not None:
                self._remaining -= 1
                if self._remaining == 0:
                    self._fault, self._remaining = None, None
            return fault
