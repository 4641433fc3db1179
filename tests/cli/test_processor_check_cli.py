"""`payloops processor-check` end to end, as a gateway author runs it: the real command in a
subprocess against a sandbox started with `payloops serve processor sandbox` and against the
broken Processor; exit codes, the table, JSON, and one-line errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli.conformance import suite
from processors.sandbox.payment_methods import TEST_METHODS
from tests.cli.broken_processor import (
    SECRET_KEY,
    Breakage,
    Features,
    running,
    self_signed_for_127_0_0_1,
)
from tests.conftest import PAYLOOPS, REPO, free_port, start_sandbox


def processor_check(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PAYLOOPS_")}
    return subprocess.run(
        [*PAYLOOPS, "processor-check", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def rows(stdout: str) -> dict[str, tuple[str, str]]:
    """CHECK -> (RESULT, DETAIL) from the table."""
    names = {c.name for c in suite.CHECKS}
    found = {}
    for line in stdout.splitlines():
        name, _, rest = line.partition(" ")
        if name in names:
            result, _, detail = rest.strip().partition(" ")
            found[name] = (result, detail.strip())
    return found


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    workdir = Path(tempfile.mkdtemp(prefix="pl-pcheck-", dir="/tmp"))
    target, process = start_sandbox("sandbox", workdir)
    try:
        yield target
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def test_the_sandbox_passes_and_the_table_shows_every_check(sandbox: str) -> None:
    result = processor_check(sandbox, "--credential", "webhook_secret=whsec_cli")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        f"{sandbox}: processor 'sandbox', {len(TEST_METHODS)} test payment methods, "
        "deadline 5000 ms"
    )
    assert lines[1].split() == ["CHECK", "RESULT", "DETAIL"]
    table = rows(result.stdout)
    assert list(table) == [c.name for c in suite.CHECKS]
    assert {verdict for verdict, _ in table.values()} == {"PASS"}
    assert all(detail for _, detail in table.values())
    n = len(suite.CHECKS)
    assert lines[-1] == f"{n} checks: {n} passed, 0 failed, 0 skipped"
    assert "whsec_cli" not in result.stdout + result.stderr


def test_json_and_only_against_the_sandbox(sandbox: str) -> None:
    result = processor_check(
        sandbox, "--json", "--only", "capture", "void.captured", "--deadline-ms", "3000"
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (report["target"], report["processor"], report["passed"]) == (sandbox, "sandbox", True)
    assert [c["name"] for c in report["checks"]] == [
        "capture.full",
        "capture.partial",
        "capture.wrong-state",
        "capture.idempotent",
        "void.captured",
    ]
    assert report["summary"] == {"pass": 5, "fail": 0, "skip": 0}


def test_a_broken_processor_fails_with_exit_1_and_the_failing_checks_named() -> None:
    with running({Breakage.CHARGES_TWICE, Breakage.ACCEPTS_ANY_WEBHOOK}) as target:
        result = processor_check(target)
        as_json = processor_check(target, "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    table = rows(result.stdout)
    failing = ["authorize.idempotent", "authorize.key-reuse", "webhook.signature-invalid"]
    assert [name for name, (verdict, _) in table.items() if verdict == "FAIL"] == failing
    assert "made two payments" in table["authorize.idempotent"][1]
    assert result.stdout.splitlines()[-1] == f"FAILED: {', '.join(failing)}"
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["passed"] is False
    assert [c["name"] for c in report["checks"] if c["result"] == "FAIL"] == failing


def test_a_missing_capability_is_a_skip_with_its_reason_and_still_exit_0() -> None:
    with running(
        features=Features(three_d_secure=False, tokens=("tok_ok", "tok_decline"))
    ) as target:
        result = processor_check(target)
    assert result.returncode == 0, result.stdout
    assert rows(result.stdout)["three-d-secure.challenge"] == ("SKIP", "three_d_secure is false")


def test_declared_credentials_must_be_given_and_are_never_printed() -> None:
    with running(features=Features(needs_secret_key=True)) as target:
        missing = processor_check(target)
        given = processor_check(target, "--credential", f"secret_key={SECRET_KEY}")
    assert missing.returncode == 2
    assert missing.stdout == ""
    assert missing.stderr.strip() == (
        "payloops processor-check: error: broken needs credentials secret_key: give each "
        "with --credential KEY=VALUE (test-mode values)"
    )
    assert given.returncode == 0, given.stdout
    assert SECRET_KEY not in given.stdout + given.stderr


def test_tls_ca_checks_a_tls_server(tmp_path: Path) -> None:
    key_pem, cert_pem = self_signed_for_127_0_0_1()
    ca = tmp_path / "ca.pem"
    ca.write_bytes(cert_pem)
    with running(tls_key_and_cert=(key_pem, cert_pem)) as target:
        result = processor_check(target, "--tls-ca", str(ca), "--only", "capabilities")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(f"{target} (TLS): processor 'broken'")


def test_an_unreachable_target_is_exit_2_with_one_line() -> None:
    target = f"127.0.0.1:{free_port()}"
    result = processor_check(target, "--deadline-ms", "2000")
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith(f"payloops processor-check: error: cannot reach {target}: UNAVAILABLE")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-port"], "TARGET must be host:port"),
        (["127.0.0.1:1", "--deadline-ms", "soon"], "--deadline-ms must be a whole number"),
        (["127.0.0.1:1", "--deadline-ms", "10"], "the deadline must be 50..120000 ms"),
        (["127.0.0.1:1", "--credential", "sk_live_secret"], "--credential takes KEY=VALUE"),
        (
            ["127.0.0.1:1", "--credential", "a=1", "--credential", "a=2"],
            "--credential a is given twice",
        ),
        (["127.0.0.1:1", "--only", "refunds"], "unknown check 'refunds'; checks are "),
        (
            ["127.0.0.1:1", "--tls-ca", "/nonexistent/ca.pem"],
            "--tls-ca: cannot read /nonexistent/ca.pem: No such file or directory",
        ),
    ],
)
def test_bad_arguments_are_exit_2_with_one_line(args: list[str], message: str) -> None:
    result = processor_check(*args)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("payloops processor-check: error: ")
    assert message in line
    assert "sk_live_secret" not in line
