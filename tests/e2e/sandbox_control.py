"""Reads a running sandbox's ledger and switches its faults, over its control service."""

from __future__ import annotations

import grpc

from payloops.sandbox.v1 import control_pb2, control_pb2_grpc
from tests.conftest import Mesh


def _stub(mesh: Mesh, name: str) -> control_pb2_grpc.SandboxControlServiceStub:
    target = mesh.env[f"PAYLOOPS_PROCESSOR_{name.upper().replace('-', '_')}_TARGET"]
    return control_pb2_grpc.SandboxControlServiceStub(grpc.insecure_channel(target))


def charges(mesh: Mesh, order_id: str, name: str = "sandbox") -> list[control_pb2.Charge]:
    listed = _stub(mesh, name).ListCharges(control_pb2.ListChargesRequest(), timeout=10)
    return [charge for charge in listed.charges if charge.order_id == order_id]


def live_charges(mesh: Mesh, order_id: str, name: str = "sandbox") -> list[control_pb2.Charge]:
    """Charges that hold or took the customer's money."""
    return [c for c in charges(mesh, order_id, name) if c.state in ("authorized", "captured")]


def set_fault(
    mesh: Mesh,
    mode: control_pb2.FaultMode.ValueType,
    count: int = 0,
    latency_ms: int = 0,
    name: str = "sandbox",
) -> None:
    _stub(mesh, name).SetFault(
        control_pb2.SetFaultRequest(mode=mode, count=count, latency_ms=latency_ms), timeout=10
    )


def charges_by_order(
    mesh: Mesh, names: tuple[str, ...], live_only: bool = False
) -> dict[str, list[control_pb2.Charge]]:
    found: dict[str, list[control_pb2.Charge]] = {}
    for name in names:
        listed = _stub(mesh, name).ListCharges(control_pb2.ListChargesRequest(), timeout=10)
        for charge in listed.charges:
            if not live_only or charge.state in ("authorized", "captured"):
                found.setdefault(charge.order_id, []).append(charge)
    return found
