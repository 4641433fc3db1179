"""A gateway's declines as the contract's Decline: a table of rules per adapter (declines.py),
one rule per gateway reason.

Soft means another processor might succeed with the same card now (the issuer or the gateway's
own route was unavailable, a processing error); hard means the answer is about the card or the
customer, so every processor would hear it again and trying elsewhere only adds declines.
"""

from __future__ import annotations

from dataclasses import dataclass

from payloops.processor.v1 import processor_pb2


@dataclass(frozen=True)
class DeclineRule:
    code: str  # PayLoops' processor-independent code, snake_case ("insufficient_funds")
    soft: bool
    message: str = ""  # said when the gateway gives no message of its own

    def decline(self, gateway_code: str, message: str = "") -> processor_pb2.Decline:
        """The Decline, keeping the gateway's own code for support."""
        return processor_pb2.Decline(
            code=self.code,
            soft=self.soft,
            message=message or self.message,
            gateway_code=gateway_code,
        )
