"""SandboxControlService: test-only fault injection and a read of the charge ledger.

Served on the sandbox's Processor port. It is never subject to injected faults itself, so a
test can always clear what it armed. Refusals are the kit's ProcessorError, like the
Processor's.
"""

from __future__ import annotations

from typing import Any

import grpc

from payloops.sandbox.v1 import control_pb2, control_pb2_grpc
from processors.kit.errors import invalid
from processors.sandbox.faults import Fault, FaultMode, Faults
from processors.sandbox.ledger import Ledger

_MODES = {
    control_pb2.FAULT_MODE_HANG: FaultMode.HANG,
    control_pb2.FAULT_MODE_UNAVAILABLE: FaultMode.UNAVAILABLE,
    control_pb2.FAULT_MODE_ERROR_AFTER_CHARGE: FaultMode.ERROR_AFTER_CHARGE,
    control_pb2.FAULT_MODE_LATENCY: FaultMode.LATENCY,
}


class SandboxControlServicer(control_pb2_grpc.SandboxControlServiceServicer):
    def __init__(self, ledger: Ledger, faults: Faults) -> None:
        self._ledger = ledger
        self._faults = faults

    async def SetFault(
        self, request: control_pb2.SetFaultRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> control_pb2.SetFaultResponse:
        if request.count < 0 or request.latency_ms < 0:
            raise invalid("INVALID_FAULT", "count and latency_ms must be >= 0")
        if request.mode == control_pb2.FAULT_MODE_CLEAR:
            self._faults.clear()
            return control_pb2.SetFaultResponse()
        mode = _MODES.get(request.mode)
        if mode is None:
            raise invalid("INVALID_FAULT", "mode is required")
        self._faults.set(Fault(mode, latency_ms=request.latency_ms), request.count)
        return control_pb2.SetFaultResponse()

    async def ListCharges(
        self, request: control_pb2.ListChargesRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> control_pb2.ListChargesResponse:
        return control_pb2.ListChargesResponse(
            charges=[
                control_pb2.Charge(
                    attempt_key=p.attempt_key,
                    processor_reference=p.reference,
                    order_id=p.order_id,
                    amount=p.amount,
                    currency=p.currency,
                    state=p.ledger_state,
                    amount_captured=p.amount_captured,
                    amount_refunded=p.amount_refunded,
                    initiator=p.initiator,
                    network_transaction_id=p.network_transaction_id,
                    previous_network_transaction_id=p.previous_network_transaction_id,
                )
                for p in self._ledger.charges()
            ]
        )
