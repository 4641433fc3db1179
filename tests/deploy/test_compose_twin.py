"""The compose twin test: docker-compose.yml's PayLoops services run natively, with exactly the
commands and environments the file gives them (resolved by a real compose implementation,
`docker-compose config`), its migrate, vault-migrate and bootstrap jobs run as the file says,
then a payment is made through Envoy, with the merchant the bootstrap job made, and the
dashboard is reached through Envoy. A wrong command, variable, port, address, health check or
start order in the file fails it. tests/deploy/twin.py says what is translated (addresses,
mounted paths) and which upstream images are replaced by which native equivalents; the twin
runs both edges behind Envoy's round robin and both workers, as the file does.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from cli import dashboard_site, dev
from tests.deploy.compose import required_variables, resolved
from tests.deploy.twin import NATIVE, NOT_RUN, Twin, start_order
from vault.crypto import new_fingerprint_key, new_kek

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

MERCHANT = "Twin merchant"
OWNER = "owner@twin.payloops.test"


def installation_secrets(root: Path) -> dict[str, str]:
    """What an operator puts in the environment, made as `payloops dev` makes each."""
    password_file = root / "owner-password"
    password_file.write_text(dev.new_dev_owner_password() + "\n")
    return {
        "PAYLOOPS_POSTGRES_PASSWORD": dev.new_database_password(),
        "PAYLOOPS_SECRETS_KEYS": dev.new_secrets_key(),
        "PAYLOOPS_TEMPORAL_CODEC_KEYS": dev.new_temporal_codec_key(),
        "PAYLOOPS_ADMIN_API_KEY": dev.new_admin_api_key(),
        "PAYLOOPS_PAGE_TOKEN_SECRET": dev.new_page_token_secret(),
        "PAYLOOPS_JWT_SIGNING_KEYS": dev.new_jwt_signing_key(),
        "PAYLOOPS_VAULT_EDGE_TOKEN": dev.new_page_token_secret(),
        "PAYLOOPS_VAULT_WORKER_TOKEN": dev.new_page_token_secret(),
        "PAYLOOPS_VAULT_DB_PASSWORD": dev.new_database_password(),
        "PAYLOOPS_VAULT_KEKS": new_kek("twin-1"),
        "PAYLOOPS_VAULT_FINGERPRINT_KEY": new_fingerprint_key(),
        "PAYLOOPS_OPENOBSERVE_BASIC_AUTH": "dHdpbjp0d2lu",
        "PAYLOOPS_OPENOBSERVE_EMAIL": "root@twin.payloops.test",
        "PAYLOOPS_OPENOBSERVE_PASSWORD": dev.new_database_password(),
        "PAYLOOPS_BOOTSTRAP_MERCHANT": MERCHANT,
        "PAYLOOPS_BOOTSTRAP_OWNER_EMAIL": OWNER,
        "PAYLOOPS_BOOTSTRAP_OWNER_PASSWORD_FILE": str(password_file),
    }


@pytest.fixture
def twin() -> Iterator[Twin]:
    # /tmp: PostgreSQL's socket path must stay under 107 bytes.
    root = Path(tempfile.mkdtemp(prefix="pl-twin-", dir="/tmp"))
    secrets = installation_secrets(root)
    # Every required variable of the file is one an operator is told to set, and is set.
    assert required_variables() <= set(secrets)
    started = Twin.of(resolved(secrets), root)
    try:
        yield started
    finally:
        started.stop()
        shutil.rmtree(root, ignore_errors=True)


def bring_up(twin: Twin) -> str:
    """Every service in depends_on order, as `docker compose up` does; returns the API's URL."""
    api_url = ""
    for name in start_order(twin.compose):
        service = twin.service(name)
        if name in NOT_RUN:
            continue
        if name == "postgres":
            twin.start_postgres()
        elif name == "temporal":
            twin.start_temporal()
        elif name == "envoy":
            api_url = twin.start_envoy()
        elif service.get("restart") == "no":
            twin.run_job(name)
        else:
            twin.start_service(name)
            twin.wait_healthy(name)
    assert set(twin.compose["services"]) >= NATIVE, "a replaced service left the file"
    return api_url


def test_the_compose_file_runs_and_takes_a_payment(twin: Twin) -> None:
    # The image always holds a build (the Dockerfile's dashboard stage); here, `make test` makes
    # it, and the dashboard service's health check wants it.
    assert dashboard_site.is_built(), "the dashboard is not built: run `make dashboard`"
    api_url = bring_up(twin)
    made_file = twin.root / "volumes" / "bootstrapdata" / "merchant.json"
    made = json.loads(made_file.read_text())
    assert made["owner_email"] == OWNER
    assert made_file.stat().st_mode & 0o077 == 0
    # `docker compose up` again: the job registers the adapters again and makes nothing new.
    assert "nothing to do" in twin.run_job("bootstrap")
    assert json.loads(made_file.read_text()) == made
    with httpx.Client(
        base_url=api_url,
        timeout=60,
        trust_env=False,
        headers={"Authorization": f"Bearer {made['api_key']}"},
    ) as api:
        created = api.post("/v1/orders", json={"amount": 4999, "currency": "USD"})
        assert created.status_code == 200, created.text
        paid = api.post(
            f"/v1/orders/{created.json()['id']}:pay",
            json={"payment_method": {"type": "card", "token": "pm_card_visa"}},
        )
        assert paid.status_code == 200, paid.text
        assert paid.json()["status"] == "SUCCEEDED", paid.text
        assert api.get("/health").status_code == 200
        # The dashboard service answers the app's paths on the API's origin.
        page = api.get("/", headers={"Authorization": ""})
    assert page.status_code == 200, page.text
    assert page.text == (dashboard_site.BUILD_DIR / dashboard_site.APP_PAGE).read_text()
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
