"""`payloops sandbox fault|ledger`: drive the sandbox gateways of a running `payloops dev`
(failover playground). The stack is found through `<state-dir>/dev.env`."""

from __future__ import annotations

import json
from pathlib import Path

import grpc

from cli.dev_services import env_name
from cli.state import StatePaths, read_env
from payloops.sandbox.v1 import control_pb2, control_pb2_grpc

FAULT_MODES = {
    "hang": control_pb2.FAULT_MODE_HANG,
    "unavailable": control_pb2.FAULT_MODE_UNAVAILABLE,
    "error_after_charge": control_pb2.FAULT_MODE_ERROR_AFTER_CHARGE,
    "latency": control_pb2.FAULT_MODE_LATENCY,
    "clear": control_pb2.FAULT_MODE_CLEAR,
}


class SandboxNotFound(Exception):
    pass


def control(state_dir: str | Path, name: str) -> control_pb2_grpc.SandboxControlServiceStub:
    """The control service of the dev stack's sandbox called `name`."""
    env_file = StatePaths.at(state_dir).dev_env
    if not env_file.exists():
        raise SandboxNotFound(f"no running dev stack in {state_dir} (start `payloops dev`)")
    target = read_env(env_file).get(f"PAYLOOPS_PROCESSOR_{env_name(name)}_TARGET")
    if not target:
        raise SandboxNotFound(f"no sandbox named {name!r} in {env_file}")
    return control_pb2_grpc.SandboxControlServiceStub(grpc.insecure_channel(target))


def set_fault(
    sandbox: control_pb2_grpc.SandboxControlServiceStub, mode: str, count: int, latency_ms: int
) -> None:
    sandbox.SetFault(
        control_pb2.SetFaultRequest(mode=FAULT_MODES[mode], count=count, latency_ms=latency_ms),
        timeout=10,
    )


def ledger(sandbox: control_pb2_grpc.SandboxControlServiceStub) -> list[dict[str, object]]:
    listed = sandbox.ListCharges(control_pb2.ListChargesRequest(), timeout=10)
    return [
        {
            "attempt_key": c.attempt_key,
            "processor_reference": c.processor_reference,
            "order_id": c.order_id,
            "amount": c.amount,
            "currency": c.currency,
            "state": c.state,
            "amount_captured": c.amount_captured,
            "amount_refunded": c.amount_refunded,
        }
        for c in listed.charges
    ]


def print_ledger(charges: list[dict[str, object]], as_json: bool) -> None:
    if as_json:
        print(json.dumps(charges, indent=2))
        return
    for charge in charges:
        print(
            f"{charge['processor_reference']}  {charge['state']:<15} {charge['amount']:>12} "
            f"{charge['currency']}  {charge['order_id']}  {charge['attempt_key']}"
        )
