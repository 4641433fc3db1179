"""The test payment methods an adapter advertises in GetCapabilities: one table per adapter
(payment_methods.py) that both the advertisement and the adapter's tests read, so the two
cannot drift apart."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from payloops.processor.v1 import processor_pb2


@dataclass(frozen=True)
class TestMethod:
    token: str
    # What Authorize gives under automatic capture (AUTHORIZED under manual, for SUCCEEDED).
    outcome: processor_pb2.Outcome.ValueType
    description: str
    decline_code: str = ""  # the PayLoops code, for DECLINED (and a challenge that declines)

    __test__ = False  # a table row, not something for pytest to collect

    def message(self) -> processor_pb2.TestPaymentMethod:
        return processor_pb2.TestPaymentMethod(
            token=self.token,
            outcome=self.outcome,
            decline_code=self.decline_code,
            description=self.description,
        )


def advertised(methods: Iterable[TestMethod]) -> list[processor_pb2.TestPaymentMethod]:
    return [method.message() for method in methods]
