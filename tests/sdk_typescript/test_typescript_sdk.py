"""The TypeScript SDK (sdk/typescript, `@payloops/sdk`): its unit tests (node --test against a
local server), its live tests and the issue's README example against the real mesh, and the
package `npm pack` makes, installed into a fresh project and imported as ESM and as CommonJS.

The npm dependencies come from the lockfile (`make test` runs `npm ci` first when they are
missing or stale)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, receiver_port

SDK = REPO / "sdk" / "typescript"
TSC = SDK / "node_modules" / "typescript" / "bin" / "tsc"

# The example, exactly as written; examples/readme.ts must hold these lines.
README_EXAMPLE = """\
import PayLoops from '@payloops/sdk';
const payloops = new PayLoops('sk_live_...');
const order = await payloops.orders.create({ amount: 4999, currency: 'USD', metadata: { orderId: 'ORD-123' } });
const payment = await payloops.orders.pay(order.id, { paymentMethod: { type: 'card', token: 'pm_...' } });
if (payment.status === 'requires_action') { /* redirect to payment.redirectUrl for 3DS */ }
"""  # noqa: E501

# What the example's run prints, after its own lines: the payment as the example left it
# (read again while PayOrder's bounded wait left it in flight on a slow machine).
EXAMPLE_REPORT = """
let current = payment;
for (let i = 0; current.status === 'processing' && i < 300; i++) {
  await new Promise((resolve) => setTimeout(resolve, 200));
  current = await payloops.orders.retrieve(payment.id);
}
console.log(JSON.stringify({ order: order.id, status: current.status, redirectUrl: current.redirectUrl }));
"""  # noqa: E501


def run(
    command: list[str], *, cwd: Path = SDK, env: Mapping[str, str] | None = None, timeout: int = 300
) -> str:
    """Runs a command; fails the test with everything it printed when it exits non-zero."""
    done = subprocess.run(
        command,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        pytest.fail(
            f"{' '.join(command)} exited {done.returncode}\n{done.stdout}\n{done.stderr}",
            pytrace=False,
        )
    return done.stdout


@pytest.fixture(scope="module")
def built() -> Path:
    """The package built (ESM, CommonJS, .d.ts) with its tests and examples."""
    if not TSC.exists():
        pytest.fail("sdk/typescript has no node_modules: run `make test` (it runs npm ci)")
    run(["node", "scripts/build.mjs", "--tests"])
    return SDK / "dist"


def test_unit_suite(built: Path) -> None:
    print(run(["node", "--test", str(built / "test" / "test" / "unit")]))


@pytest.mark.e2e
@pytest.mark.timeout(600)
def test_live_suite(built: Path, mesh: Any) -> None:
    print(
        run(
            ["node", "--test", str(built / "test" / "test" / "live")],
            env={
                "PAYLOOPS_API_URL": mesh.api_url,
                "PAYLOOPS_ADMIN_API_KEY": mesh.env["PAYLOOPS_ADMIN_API_KEY"],
                "PAYLOOPS_TEST_RECEIVER_PORT": str(receiver_port()),
            },
            timeout=540,
        )
    )


@pytest.mark.e2e
def test_the_readme_example_runs_as_written(built: Path, mesh: Any) -> None:
    assert (SDK / "examples" / "readme.ts").read_text() == README_EXAMPLE
    compiled = (built / "test" / "examples" / "readme.js").read_text()
    assert compiled == README_EXAMPLE, "tsc changed the example's text"
    # The key and the card token are placeholders that cannot run anywhere: a real sandbox
    # merchant's key, and the sandbox's card that asks for 3-D Secure (so the example's branch
    # is taken). The base URL comes from $PAYLOOPS_API_URL, as for any merchant's process.
    runnable = compiled.replace("'sk_live_...'", json.dumps(mesh.api_key)).replace(
        "'pm_...'", "'pm_card_3ds_required'"
    )
    script = built / "test" / "examples" / "readme.live.mjs"
    script.write_text(runnable + EXAMPLE_REPORT)

    out = run(["node", str(script)], env={"PAYLOOPS_API_URL": mesh.api_url})

    result = json.loads(out.strip().splitlines()[-1])
    assert result["order"].startswith("ord_")
    assert result["status"] == "requires_action"
    assert result["redirectUrl"].startswith("http")


CONSUMER_ESM = """\
import PayLoops, { NotFoundError, constructEvent } from '@payloops/sdk';
const payloops = new PayLoops('sk_test_x', { baseUrl: 'http://127.0.0.1:9' });
const names = ['orders', 'refunds', 'customers', 'webhookEndpoints', 'events', 'routing',
  'processors', 'processorAccounts', 'apiKeys', 'users', 'sessions', 'auditLog', 'tokens',
  'merchants', 'health', 'webhooks'];
const missing = names.filter((name) => typeof payloops[name] !== 'object');
if (missing.length) throw new Error(`missing: ${missing}`);
console.log('esm', typeof NotFoundError, typeof constructEvent);
"""

CONSUMER_CJS = """\
const sdk = require('@payloops/sdk');
const payloops = new sdk.default('sk_test_x');
if (!(new sdk.NotFoundError('x', { status: 404 }) instanceof sdk.PayLoopsError)) throw new Error();
console.log('cjs', typeof sdk.PayLoops, typeof payloops.orders.list);
"""

CONSUMER_TS = """\
import PayLoops, { type Order } from '@payloops/sdk';
const payloops = new PayLoops('sk_test_x');
const status: Order['status'] = 'requires_action';
export async function paid(id: string): Promise<boolean> {
  const order: Order = await payloops.orders.retrieve(id);
  return order.status === status || order.amountReceived === order.amount;
}
"""


@pytest.mark.slow
def test_the_package_installs_and_imports_as_esm_and_cjs(built: Path, tmp_path: Path) -> None:
    # Packs what `built` compiled (its prepack would build again, removing the tests' build).
    packed = json.loads(
        run(["npm", "pack", "--json", "--ignore-scripts", "--pack-destination", str(tmp_path)])
    )
    files = {entry["path"] for entry in packed[0]["files"]}
    assert {"dist/esm/index.js", "dist/esm/index.d.ts", "dist/cjs/index.js"} <= files
    assert not [name for name in files if name.startswith(("src/", "test", "dist/test"))]
    project = tmp_path / "consumer"
    project.mkdir()
    (project / "package.json").write_text('{"name": "consumer", "private": true}\n')
    # --offline: the package must need nothing from a registry (no runtime dependencies).
    run(
        [
            "npm",
            "install",
            "--offline",
            "--no-audit",
            "--no-fund",
            str(tmp_path / packed[0]["filename"]),
        ],
        cwd=project,
    )
    (project / "esm.mjs").write_text(CONSUMER_ESM)
    (project / "cjs.cjs").write_text(CONSUMER_CJS)
    (project / "typed.mts").write_text(CONSUMER_TS)

    assert run(["node", "esm.mjs"], cwd=project).split() == ["esm", "function", "function"]
    assert run(["node", "cjs.cjs"], cwd=project).split() == ["cjs", "function", "function"]
    run(
        [
            "node",
            str(TSC),
            "--noEmit",
            "--strict",
            "--module",
            "nodenext",
            "--target",
            "es2022",
            "--lib",
            "es2022,dom",
            "typed.mts",
        ],
        cwd=project,
    )
