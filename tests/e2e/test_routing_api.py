"""GET and PUT /v1/routing through the real mesh: the default for a new merchant, versions,
validation, isolation between merchants."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.conftest import Mesh

pytestmark = pytest.mark.e2e

CONFIG: dict[str, Any] = {
    "rules": [
        {
            "name": "big_inr",
            "conditions": {
                "currencies": ["inr"],
                "amount_min": "100000",
                "card_networks": ["RuPay"],
                "metadata": {"channel": "app"},
            },
            "split": {"targets": [{"processor": "sandbox", "weight": 100}]},
        },
        {"name": "everything_else", "failover": {"processors": ["sandbox", "*"]}},
    ],
    "mode": "success_rate",
    "unknown_outcome_policy": "WAIT",
    "max_attempts": 2,
    "payment_budget": "90s",
    "resolution_budget": "15s",
}


def field_violations(response: httpx.Response) -> dict[str, str]:
    details = response.json()["details"]
    info = next(d for d in details if d["@type"].endswith("google.rpc.ErrorInfo"))
    assert info["reason"] == "INVALID_REQUEST"
    bad_request = next(d for d in details if d["@type"].endswith("google.rpc.BadRequest"))
    return {v["field"]: v["reason"] for v in bad_request["field_violations"]}


def rule(name: str, **target: Any) -> dict[str, Any]:
    return {"rules": [{"name": name, **target}]}


def test_a_new_merchant_has_the_default_config_at_version_0(mesh: Mesh) -> None:
    _, key = mesh.new_merchant("routing default")
    with mesh.client(key) as client:
        response = client.get("/v1/routing")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["version"] == "0"
    assert "update_time" not in body
    assert [
        (r["name"], r["conditions"]["currencies"], r["failover"]["processors"])
        for r in body["rules"]
    ] == [
        ("inr", ["INR"], ["razorpay", "*"]),
        ("usd_eur", ["USD", "EUR"], ["stripe", "*"]),
        ("default", [], ["stripe", "*"]),
    ]
    assert (
        body["mode"],
        body["unknown_outcome_policy"],
        body["max_attempts"],
        body["payment_budget"],
        body["resolution_budget"],
    ) == ("PRIORITY", "FAILOVER", 3, "60s", "10s")


def test_each_update_makes_a_new_version_that_get_returns(mesh: Mesh) -> None:
    _, key = mesh.new_merchant("routing versions")
    with mesh.client(key) as client:
        first = client.put("/v1/routing", json=CONFIG)
        assert first.status_code == 200, first.text
        current = client.get("/v1/routing").json()
        second = client.put("/v1/routing", json=rule("all", failover={"processors": ["*"]}))
        after_second = client.get("/v1/routing").json()
    saved = first.json()
    assert saved["version"] == "1" and saved["update_time"]
    assert current == saved
    big_inr, rest = saved["rules"]
    # Codes are normalised; the rest is as sent.
    assert big_inr["conditions"]["currencies"] == ["INR"]
    assert big_inr["conditions"]["card_networks"] == ["rupay"]
    assert big_inr["conditions"]["amount_min"] == "100000"
    assert big_inr["conditions"]["metadata"] == {"channel": "app"}
    assert big_inr["split"]["targets"] == [{"processor": "sandbox", "weight": 100}]
    assert rest["failover"]["processors"] == ["sandbox", "*"]
    assert (
        saved["mode"],
        saved["unknown_outcome_policy"],
        saved["max_attempts"],
        saved["payment_budget"],
        saved["resolution_budget"],
    ) == ("SUCCESS_RATE", "WAIT", 2, "90s", "15s")
    assert second.status_code == 200, second.text
    assert second.json()["version"] == "2"
    # Unset settings get their defaults.
    assert (
        after_second["version"],
        after_second["mode"],
        after_second["max_attempts"],
        after_second["payment_budget"],
    ) == ("2", "PRIORITY", 3, "60s")


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            rule("r", failover={"processors": ["sandbox", "stripe_eu"]}),
            {"rules[0].failover.processors[1]": "PROCESSOR_UNKNOWN"},
        ),
        (rule("r", failover={"processors": []}), {"rules[0].failover.processors": "TARGET_EMPTY"}),
        (rule("r", failover={}), {"rules[0].failover.processors": "TARGET_EMPTY"}),
        (rule("r"), {"rules[0].target": "TARGET_MISSING"}),
        (
            rule("r", split={"targets": [{"processor": "sandbox", "weight": 90}]}),
            {"rules[0].split.targets": "SPLIT_WEIGHTS_NOT_100"},
        ),
        ({"rules": []}, {"rules": "RULES_EMPTY"}),
        (
            {
                **rule("r", failover={"processors": ["*"]}),
                "max_attempts": 11,
                "payment_budget": "0s",
            },
            {
                "max_attempts": "MAX_ATTEMPTS_OUT_OF_RANGE",
                "payment_budget": "PAYMENT_BUDGET_OUT_OF_RANGE",
            },
        ),
        (
            {
                "rules": [
                    {
                        "name": "r",
                        "conditions": {"metadata": {"note": "4242 4242 4242 4242"}},
                        "failover": {"processors": ["*"]},
                    }
                ]
            },
            {"routing_config.rules[0].conditions.metadata.note": "CARD_NUMBER_NOT_ALLOWED"},
        ),
    ],
)
def test_invalid_configs_are_400_and_keep_the_version(
    mesh: Mesh, config: dict[str, Any], expected: dict[str, str]
) -> None:
    _, key = mesh.new_merchant("routing invalid")
    with mesh.client(key) as client:
        assert client.put("/v1/routing", json=CONFIG).status_code == 200
        response = client.put("/v1/routing", json=config)
        current = client.get("/v1/routing").json()
    assert response.status_code == 400, response.text
    assert field_violations(response) == expected
    assert "4242" not in response.text
    assert current["version"] == "1"
    assert current["rules"][0]["name"] == "big_inr"


def test_merchants_have_separate_configs(mesh: Mesh) -> None:
    _, alice = mesh.new_merchant("routing alice")
    _, bob = mesh.new_merchant("routing bob")
    with mesh.client(alice) as client:
        assert client.put("/v1/routing", json=CONFIG).json()["version"] == "1"
        assert client.put("/v1/routing", json=CONFIG).json()["version"] == "2"
    with mesh.client(bob) as client:
        bobs = client.get("/v1/routing").json()
        assert (bobs["version"], bobs["rules"][0]["name"]) == ("0", "inr")
        # Bob's first save is his version 1, whatever Alice did.
        assert client.put("/v1/routing", json=CONFIG).json()["version"] == "1"


def test_concurrent_updates_get_distinct_versions(mesh: Mesh) -> None:
    _, key = mesh.new_merchant("routing concurrent")

    def put(n: int) -> str:
        config = rule(f"rule_{n}", failover={"processors": ["*"]})
        with mesh.client(key) as client:
            response = client.put("/v1/routing", json=config)
        assert response.status_code == 200, response.text
        return str(response.json()["version"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        versions = sorted(pool.map(put, range(8)), key=int)
    assert versions == [str(n) for n in range(1, 9)]
    with mesh.client(key) as client:
        assert client.get("/v1/routing").json()["version"] == "8"


def test_no_api_key_is_401(mesh: Mesh) -> None:
    get = httpx.get(f"{mesh.api_url}/v1/routing")
    put = httpx.put(f"{mesh.api_url}/v1/routing", json=CONFIG)
    for response in (get, put):
        assert response.status_code == 401, response.text
        info = response.json()["details"][0]
        assert info["reason"] == "API_KEY_MISSING"
