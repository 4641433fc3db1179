"""The SDK installs on its own: a fresh venv, `pip install ./sdk` (httpx its one dependency; no
grpc or protobuf without the grpc extra), and the original example runs there against a local
server speaking the API's wire format, sync and async."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.sdk.fake_api import FakeAPI, Reply

SDK = Path(__file__).resolve().parents[2] / "sdk"

EXAMPLE = textwrap.dedent("""
    import asyncio, importlib.util, sys
    import payloops
    from payloops.sdk import AsyncPayLoops, PayLoops

    assert payloops.__file__ is None, "payloops must stay a namespace package"
    present = [m for m in ("grpc", "google.protobuf")
               if importlib.util.find_spec(m.split(".")[0]) is not None]
    assert not present, f"found {present}"
    client = PayLoops("sk_test_install", base_url=sys.argv[1])
    order = client.orders.create(amount=4999, currency="USD", metadata={"order_ref": "A-1"})
    order = client.orders.pay(order.id, payment_method={"type": "card", "token": "pm_card_visa"})
    print(order.status, order.amount, order.attempts[0].processor)

    async def again():
        async with AsyncPayLoops("sk_test_install", base_url=sys.argv[1]) as client:
            return await client.orders.retrieve(order.id)
    print(asyncio.run(again()).status)
    try:
        PayLoops("sk_test_install", transport="grpc")
    except ImportError as error:
        print("grpc:", "payloops[grpc]" in str(error))
""")


@pytest.mark.slow
def test_sdk_installs_and_runs_without_the_platform(tmp_path: Path, api: FakeAPI) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    # The build backend (hatchling) and httpx come from the configured package index, as for
    # any pip install of a source tree; the import check in EXAMPLE proves no other dependency.
    install = subprocess.run(
        [python, "-m", "pip", "install", str(SDK)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert not (Path(site) / "payloops" / "__init__.py").exists()
    assert (Path(site) / "payloops" / "sdk" / "py.typed").exists()

    paid = {
        "id": "ord_1",
        "amount": "4999",
        "currency": "USD",
        "status": "SUCCEEDED",
        "attempts": [{"processor": "sandbox", "outcome": "SUCCEEDED", "latency": "0.01s"}],
    }
    api.reply(
        Reply(200, {**paid, "status": "REQUIRES_PAYMENT_METHOD", "attempts": []}),
        Reply(200, paid),
        Reply(200, paid),
    )
    run = subprocess.run(
        [python, "-I", "-c", EXAMPLE, api.url],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )

    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["succeeded", "4999", "sandbox", "succeeded", "grpc:", "True"]
