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
from collections.abc import Iterator

import httpx
import pytest

from cli import dashboard_site
from tests.deploy.twin import OWNER, Twin, bring_up, running_twin

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


@pytest.fixture
def twin() -> Iterator[Twin]:
    with running_twin() as started:
        yield started


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
