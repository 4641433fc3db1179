"""KEK rotation on real processes: a vault serving with the old KEK, then with a new one first
(the old one after it) while `payloops vault rewrap` moves every record to the new one, then
with the new one alone. Every token made before, during and after stays usable. The vault
runs as `payloops serve vault` against a PostgreSQL of the tests' own, provisioned as
`payloops dev` provisions it (its own role and schema)."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import pytest

from cli import probes
from cli.procs import dying_with_this_process
from core.db.session import create_engine, session_factory
from core.merchants import create_merchant
from payloops.v1 import tokens_pb2, tokens_pb2_grpc
from payloops.vault.v1 import vault_pb2, vault_pb2_grpc
from tests.conftest import PAYLOOPS, REPO, free_port
from tests.e2e.mesh_db import sql_at
from tests.e2e.vault_helpers import NEXT_YEAR, fresh_pan
from vault import config
from vault.crypto import new_fingerprint_key, new_kek
from vault.db.migrate import upgrade
from vault.db.provision import provision

pytestmark = pytest.mark.slow
SERVICE_TOKEN = "t" * 40


@dataclass(frozen=True)
class VaultDatabase:
    url: str
    merchant_id: str
    publishable_key: str


@pytest.fixture(scope="module")
def vault_db(postgres_url: str) -> VaultDatabase:
    url = provision(postgres_url, "rotation-test-password")
    upgrade(url)
    merchant_id, key = _merchant_with_publishable_key(postgres_url)
    return VaultDatabase(url, merchant_id, key)


def _merchant_with_publishable_key(database_url: str) -> tuple[str, str]:
    import asyncio

    from core import api_keys

    async def run() -> tuple[str, str]:
        engine = create_engine(database_url, pool_size=1)
        try:
            sessions = session_factory(engine)
            made = await create_merchant(sessions, "rotation")
            issued = api_keys.issue(made.id, False, kind=api_keys.PUBLISHABLE_KIND)
            async with sessions.begin() as session:
                session.add(issued.row)
            return made.id, issued.secret
        finally:
            await engine.dispose()

    return asyncio.run(run())


@dataclass
class RunningVault:
    process: subprocess.Popen[bytes]
    channel: grpc.Channel

    def tokenize(self, key: str, number: str) -> str:
        stub = tokens_pb2_grpc.TokenServiceStub(self.channel)
        made = stub.CreateToken(
            tokens_pb2.CreateTokenRequest(
                card=tokens_pb2.NewCard(number=number, exp_month=1, exp_year=NEXT_YEAR, cvc="123")
            ),
            metadata=(("authorization", f"Bearer {key}"),),
            timeout=10,
        )
        return str(made.id)

    def number_of(self, merchant_id: str, payment_method: str) -> str:
        stub = vault_pb2_grpc.VaultServiceStub(self.channel)
        answer = stub.Detokenize(
            vault_pb2.DetokenizeRequest(
                payment_method=payment_method,
                merchant=merchant_id,
                processor="sandbox",
                attempt_key="rotation",
            ),
            metadata=(("authorization", f"Bearer {SERVICE_TOKEN}"),),
            timeout=10,
        )
        return str(answer.number)


def vault_env(database_url: str, keks: list[str], fingerprint_key: str) -> dict[str, str]:
    inherited = {key: value for key, value in os.environ.items() if not key.startswith("PAYLOOPS_")}
    return {
        **inherited,
        config.DATABASE_URL_VAR: database_url,
        config.KEKS_VAR: ",".join(keks),
        config.FINGERPRINT_KEY_VAR: fingerprint_key,
        config.SERVICE_TOKENS_VAR: f"worker={SERVICE_TOKEN}",
    }


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    return tmp_path


def start_vault(env: dict[str, str], log: Path) -> RunningVault:
    port = free_port()
    process = subprocess.Popen(
        dying_with_this_process([*PAYLOOPS, "serve", "vault", "--port", str(port)]),
        cwd=REPO,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    target = f"127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not probes.grpc_serving(target):
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(f"the vault did not start: {log.read_text()[-2000:]}")
        time.sleep(0.1)
    return RunningVault(process, grpc.insecure_channel(target))


def stop_vault(vault: RunningVault) -> None:
    vault.channel.close()
    vault.process.terminate()
    try:
        vault.process.wait(20)
    except subprocess.TimeoutExpired:
        vault.process.kill()
        vault.process.wait()


@pytest.fixture
def vaults() -> Iterator[list[RunningVault]]:
    started: list[RunningVault] = []
    try:
        yield started
    finally:
        for vault in started:
            if vault.process.poll() is None:
                stop_vault(vault)


def test_rotating_the_kek_keeps_every_token_usable(
    vault_db: VaultDatabase, workdir: Path, vaults: list[RunningVault]
) -> None:
    old, new = new_kek("old"), new_kek("new")
    fingerprint_key = new_fingerprint_key()
    log = workdir / "vault.log"
    cards: dict[str, str] = {}

    def make(vault: RunningVault, count: int) -> None:
        for _ in range(count):
            number = fresh_pan("4")
            cards[vault.tokenize(vault_db.publishable_key, number)] = number

    before = start_vault(vault_env(vault_db.url, [old], fingerprint_key), log)
    vaults.append(before)
    make(before, 120)
    stop_vault(before)

    both_env = vault_env(vault_db.url, [new, old], fingerprint_key)
    during = start_vault(both_env, log)
    vaults.append(during)
    assert all(during.number_of(vault_db.merchant_id, pm) == n for pm, n in cards.items())
    rewrap = subprocess.Popen(
        dying_with_this_process(
            [*PAYLOOPS, "vault", "rewrap", "--batch-size", "1", "--state-dir", str(workdir)]
        ),
        cwd=REPO,
        env=both_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    make(during, 20)
    assert all(during.number_of(vault_db.merchant_id, pm) == n for pm, n in cards.items())
    out, _ = rewrap.communicate(timeout=120)
    assert rewrap.returncode == 0, out.decode()[-2000:]
    assert b"done:" in out
    make(during, 10)
    stop_vault(during)

    by_kek = sql_at(vault_db.url, "SELECT kek_id, count(*) FROM vault.cards GROUP BY kek_id")
    assert [kek for kek, _ in by_kek] == ["new"]

    after = start_vault(vault_env(vault_db.url, [new], fingerprint_key), log)
    vaults.append(after)
    make(after, 5)
    assert len(cards) == 155
    for payment_method, number in cards.items():
        assert after.number_of(vault_db.merchant_id, payment_method) == number
