"""The conformance kit passes against our own gateway adapters too: stripe and razorpay, each
served by `payloops serve processor NAME` and talking through its official SDK to the
wire-level fake of its gateway's HTTP API."""

from __future__ import annotations

import contextlib
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from cli import probes
from tests.cli.test_processor_check_cli import processor_check, rows
from tests.conftest import PAYLOOPS, REPO, free_port
from tests.fakes import razorpay_api, stripe_api


@contextlib.contextmanager
def adapter(name: str, api_base: str, workdir: Path) -> Iterator[str]:
    """`payloops serve processor NAME` on a free port, pointed at `api_base`."""
    port = free_port()
    log = (workdir / f"{name}.log").open("wb")
    process = subprocess.Popen(
        [*PAYLOOPS, "serve", "processor", name, "--port", str(port), "--api-base", api_base],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    target = f"127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not probes.grpc_serving(target):
            assert process.poll() is None and time.monotonic() < deadline, (
                workdir / f"{name}.log"
            ).read_text()[-2000:]
            time.sleep(0.1)
        yield target
    finally:
        process.terminate()
        process.wait(10)


RAZORPAY_CREDENTIALS = {
    "key_id": razorpay_api.DEFAULT_KEY_ID,
    "key_secret": razorpay_api.DEFAULT_KEY_SECRET,
    "webhook_secret": razorpay_api.DEFAULT_WEBHOOK_SECRET,
}
STRIPE_CREDENTIALS = {
    "secret_key": stripe_api.SECRET_KEY,
    "webhook_secret": stripe_api.WEBHOOK_SECRET,
}


@pytest.mark.parametrize(
    ("name", "fake", "credentials"),
    [
        ("stripe", stripe_api.FakeStripe, STRIPE_CREDENTIALS),
        ("razorpay", razorpay_api.RazorpayFake, RAZORPAY_CREDENTIALS),
    ],
)
def test_the_kit_passes_against_our_gateway_adapters_on_their_fakes(
    name: str, fake: type[AbstractContextManager], credentials: dict[str, str]
) -> None:
    workdir = Path(tempfile.mkdtemp(prefix=f"pl-pcheck-{name}-", dir="/tmp"))
    with fake() as gateway:
        api_base = getattr(gateway, "base_url", None) or gateway.url
        with adapter(name, api_base, workdir) as target:
            result = processor_check(
                target, *[f"--credential={key}={value}" for key, value in credentials.items()]
            )
            found = rows(result.stdout)
            assert result.returncode == 0, result.stdout + result.stderr
            assert {verdict for verdict, _ in found.values()} <= {"PASS", "SKIP"}
            assert sum(verdict == "PASS" for verdict, _ in found.values()) >= 20
