"""(a) The sandbox processor's Authorize, called directly over gRPC: the cost of the gateway
itself, with no edge, database or workflow in front of it."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import grpc

from bench.load import Operation
from payloops.processor.v1 import processor_pb2, processor_pb2_grpc

REPO = Path(__file__).resolve().parents[1]
_READY_TIMEOUT_S = 30.0
_STOP_TIMEOUT_S = 10.0


@contextlib.asynccontextmanager
async def sandbox(grpc_port: int, http_port: int, log: Path) -> AsyncIterator[str]:
    """A sandbox of its own in a subprocess (its own CPU, not the load generator's), as
    `payloops dev` runs it; yields its gRPC target."""
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "processors.sandbox",
            "--name",
            "bench",
            "--port",
            str(grpc_port),
            "--http-port",
            str(http_port),
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        target = f"127.0.0.1:{grpc_port}"
        async with grpc.aio.insecure_channel(target) as channel:
            await asyncio.wait_for(channel.channel_ready(), _READY_TIMEOUT_S)
        yield target
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), _STOP_TIMEOUT_S)
            except TimeoutError:
                process.kill()
                await process.wait()


@contextlib.asynccontextmanager
async def authorize(target: str) -> AsyncIterator[Operation]:
    """One Authorize per call: a new attempt key each time, pm_card_visa, so every call is
    a new charge and not an idempotent replay."""
    async with grpc.aio.insecure_channel(target) as channel:
        stub = processor_pb2_grpc.ProcessorStub(channel)

        async def operation() -> None:
            response = await stub.Authorize(
                processor_pb2.AuthorizeRequest(
                    attempt_key=f"att_bench_{uuid.uuid4().hex}",
                    order_id="ord_bench",
                    merchant_id="mer_bench",
                    amount=4999,
                    currency="USD",
                    capture_method=processor_pb2.CAPTURE_METHOD_AUTOMATIC,
                    payment_method=processor_pb2.PaymentMethod(type="card", token="pm_card_visa"),
                ),
                timeout=5,
            )
            if response.payment.outcome != processor_pb2.OUTCOME_SUCCEEDED:
                raise RuntimeError(f"unexpected outcome {response.payment.outcome}")

        yield operation
