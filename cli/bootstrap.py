"""`payloops bootstrap`: what a fresh installation needs once its services run, as the
deployment's one-shot job (docker-compose.yml's `bootstrap`) does it.

1. Registers the processor adapters named in PAYLOOPS_BOOTSTRAP_PROCESSORS
   (`name=host:port,…`), asking each for its capabilities as `payloops processors add` does
   (insert or update: safe on every start).
2. When asked (PAYLOOPS_BOOTSTRAP_MERCHANT names it), creates the first merchant through the
   admin API and, with PAYLOOPS_BOOTSTRAP_OWNER_EMAIL and a password read from the file
   PAYLOOPS_BOOTSTRAP_OWNER_PASSWORD_FILE (a secret file, never a variable), its owner. The
   merchant's id and secret API key go to a file readable by its owner only (--out), never to
   the log; a later run that finds the file creates nothing again.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

from cli import dev_db, probes
from cli.admin_api import problem
from cli.state import write_secret

PROCESSORS_VAR = "PAYLOOPS_BOOTSTRAP_PROCESSORS"
MERCHANT_VAR = "PAYLOOPS_BOOTSTRAP_MERCHANT"
OWNER_EMAIL_VAR = "PAYLOOPS_BOOTSTRAP_OWNER_EMAIL"
OWNER_PASSWORD_FILE_VAR = "PAYLOOPS_BOOTSTRAP_OWNER_PASSWORD_FILE"
API_WAIT_S = 120.0


class BootstrapError(Exception):
    """A step failed; the message is the one line the operator sees."""


def processor_targets(value: str) -> dict[str, str]:
    """`sandbox=sandbox:50061,stripe=stripe:50071` -> {name: target}."""
    targets: dict[str, str] = {}
    for entry in (part.strip() for part in value.split(",") if part.strip()):
        name, _, target = entry.partition("=")
        if not name or not target:
            raise BootstrapError(f"{PROCESSORS_VAR}: each entry is name=host:port, got {entry!r}")
        targets[name.strip()] = target.strip()
    return targets


def run(env: Mapping[str, str], out: Path) -> None:
    database_url = env.get("PAYLOOPS_DATABASE_URL", "")
    if not database_url:
        raise BootstrapError("PAYLOOPS_DATABASE_URL is not set")
    targets = processor_targets(env.get(PROCESSORS_VAR, ""))
    if targets:
        dev_db.register_processors(database_url, targets)
        print("processors registered: " + ", ".join(f"{n} -> {t}" for n, t in targets.items()))
    name = env.get(MERCHANT_VAR, "").strip()
    if not name:
        print(f"no first merchant asked for ({MERCHANT_VAR} is empty)")
        return
    if out.is_file():
        print(f"first merchant already made ({out}); nothing to do")
        return
    with _admin_api(env) as api:
        merchant = _create_merchant(api, name)
        owner = _create_owner(api, merchant["id"], env)
    write_secret(out, json.dumps({**merchant, **owner}, indent=2) + "\n")
    print(f"merchant {merchant['id']} created; its API key is in {out}")


def _admin_api(env: Mapping[str, str]) -> httpx.Client:
    url, key = env.get("PAYLOOPS_API_URL", ""), env.get("PAYLOOPS_ADMIN_API_KEY", "")
    if not url or not key:
        raise BootstrapError("PAYLOOPS_API_URL and PAYLOOPS_ADMIN_API_KEY must be set")
    # Envoy has no health check of its own in the compose file: wait for the API here.
    deadline = time.monotonic() + API_WAIT_S
    while not probes.http_ok(f"{url}/health"):
        if time.monotonic() > deadline:
            raise BootstrapError(f"GET {url}/health did not answer 200 in {API_WAIT_S:.0f} s")
        time.sleep(1)
    return httpx.Client(
        base_url=url, timeout=30, trust_env=False, headers={"Authorization": f"Bearer {key}"}
    )


def _create_merchant(api: httpx.Client, name: str) -> dict[str, str]:
    answer = api.post("/v1/merchants", json={"merchant": {"name": name}})
    if answer.status_code != 200:
        raise BootstrapError(f"creating the merchant: {problem(answer)}")
    made = answer.json()
    [key] = made["api_keys"]
    return {"id": str(made["id"]), "api_key": str(key["secret"])}


def _create_owner(api: httpx.Client, merchant: str, env: Mapping[str, str]) -> dict[str, str]:
    email = env.get(OWNER_EMAIL_VAR, "").strip()
    if not email:
        return {}
    password_file = env.get(OWNER_PASSWORD_FILE_VAR, "")
    if not password_file:
        raise BootstrapError(f"{OWNER_EMAIL_VAR} needs {OWNER_PASSWORD_FILE_VAR}")
    password = Path(password_file).read_text().rstrip("\r\n")
    answer = api.post(
        "/v1/users",
        json={
            "merchant": merchant,
            "user": {"email": email, "role": "OWNER"},
            "password": password,
        },
    )
    if answer.status_code != 200:
        raise BootstrapError(f"creating the owner: {problem(answer)}")
    return {"owner_email": email}


def main(out: Path) -> int:
    try:
        run(os.environ, out)
    except BootstrapError as error:
        print(f"payloops bootstrap: error: {error}", file=sys.stderr)
        return 1
    return 0
