"""CI's compatibility check of the published contracts against a previous commit.

`python -m cli.compat [--against REF]` (REF is HEAD~1 unless told) compares the working tree with
REF twice: the protos with `buf breaking` (the rules are buf.yaml's `breaking:` section), and the
REST surface with the OpenAPI diff (cli/openapi_diff.py) of gen/openapi.json. It exits 1 on a
breaking change, unless a commit between REF and HEAD declares it deliberate with a
`Breaking-Change: <why>` trailer in its message; then every change is still printed, with the
commit that let it through. Nothing to compare (no previous commit, or one from before the protos
or the OpenAPI document existed) is said and passes; a clone too shallow to hold REF is an error,
not a pass, so CI cannot skip the check by fetching one commit.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from cli.binaries import BinaryNotFound, find_binary
from cli.openapi_diff import UnreadableDocument, breaking_changes

DEFAULT_AGAINST = "HEAD~1"
PROTO_DIR = "proto"
BUF_CONFIG = "buf.yaml"
OPENAPI_DOCUMENT = "gen/openapi.json"
TRAILER = "Breaking-Change"
# `buf breaking` exits with this code when it found breaking changes (other failures: 1).
BUF_FOUND_BREAKS = 100


class CompatError(Exception):
    """The check could not run; the message says why and what to do."""


@dataclass
class Findings:
    """What one run found: breaking changes (one line each) and notes on what was skipped."""

    breaks: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Declaration:
    commit: str
    reason: str


def git(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=False, timeout=120
    )


def repository_root(path: Path) -> Path:
    found = git(path, "rev-parse", "--show-toplevel")
    if found.returncode != 0:
        raise CompatError(f"{path} is not in a git repository: {found.stderr.strip()}")
    return Path(found.stdout.strip())


def baseline_commit(repo: Path, against: str) -> str | None:
    """The commit `against` names; None when it is the default and HEAD has no parent."""
    found = git(repo, "rev-parse", "--verify", "--quiet", f"{against}^{{commit}}")
    if found.returncode == 0:
        return found.stdout.strip()
    if git(repo, "rev-parse", "--is-shallow-repository").stdout.strip() == "true":
        raise CompatError(
            f"{against} is not in this clone: it is shallow; fetch the history the check "
            "compares with (git fetch --deepen=1, or clone with a depth of 2 or more)"
        )
    if against == DEFAULT_AGAINST:
        return None
    raise CompatError(f"{against}: no such commit")


def has_path(repo: Path, commit: str, path: str) -> bool:
    return git(repo, "cat-file", "-e", f"{commit}:{path}").returncode == 0


def buf_breaks(repo: Path, commit: str, findings: Findings) -> None:
    """`buf breaking` of the working tree against the protos and buf.yaml of `commit`, which are
    exported from git (so the check needs neither a network nor buf's own clone of the
    history)."""
    short = commit[:12]
    if not has_path(repo, commit, PROTO_DIR) or not has_path(repo, commit, BUF_CONFIG):
        findings.notes.append(f"{short} has no {PROTO_DIR}/: no protos to compare with")
        return
    try:
        buf = find_binary("buf")
    except BinaryNotFound as error:
        raise CompatError(str(error)) from error
    with tempfile.TemporaryDirectory(prefix="payloops-compat-") as baseline:
        _export(repo, commit, [BUF_CONFIG, PROTO_DIR], Path(baseline))
        ran = subprocess.run(
            [str(buf), "breaking", "--against", baseline],
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    if ran.returncode == BUF_FOUND_BREAKS:
        findings.breaks.extend(line for line in ran.stdout.splitlines() if line.strip())
    elif ran.returncode != 0:
        raise CompatError(f"buf breaking could not run: {(ran.stderr or ran.stdout).strip()}")


def _export(repo: Path, commit: str, paths: list[str], destination: Path) -> None:
    archive = destination / "baseline.tar"
    exported = git(repo, "archive", f"--output={archive}", commit, *paths)
    if exported.returncode != 0:
        raise CompatError(f"git archive {commit}: {exported.stderr.strip()}")
    with tarfile.open(archive) as tar:
        tar.extractall(destination, filter="data")
    archive.unlink()


def rest_breaks(repo: Path, commit: str, findings: Findings) -> None:
    """The OpenAPI diff of `commit`'s gen/openapi.json against the working tree's."""
    short = commit[:12]
    if not has_path(repo, commit, OPENAPI_DOCUMENT):
        findings.notes.append(f"{short} has no {OPENAPI_DOCUMENT}: no REST surface to compare with")
        return
    current = repo / OPENAPI_DOCUMENT
    if not current.is_file():
        findings.breaks.append(f"{OPENAPI_DOCUMENT}: removed (the REST surface is undescribed)")
        return
    shown = git(repo, "show", f"{commit}:{OPENAPI_DOCUMENT}")
    try:
        old, new = json.loads(shown.stdout), json.loads(current.read_text(encoding="utf-8"))
        findings.breaks.extend(str(found) for found in breaking_changes(old, new))
    except (ValueError, UnreadableDocument) as error:
        raise CompatError(f"{OPENAPI_DOCUMENT}: {error}") from error


def declarations(repo: Path, commit: str) -> list[Declaration]:
    """The `Breaking-Change:` trailers of the commits in `commit`..HEAD: one commit, or a merged
    branch's commits when HEAD is the merge."""
    logged = git(
        repo,
        "log",
        f"--format=%H%x1f%(trailers:key={TRAILER},valueonly,separator=%x1f)%x1e",
        f"{commit}..HEAD",
    )
    if logged.returncode != 0:
        raise CompatError(f"git log {commit}..HEAD: {logged.stderr.strip()}")
    found: list[Declaration] = []
    for record in logged.stdout.split("\x1e"):
        sha, *reasons = record.strip().split("\x1f")
        found.extend(Declaration(sha, reason.strip()) for reason in reasons if reason.strip())
    return found


def check(repo: Path, against: str) -> tuple[int, list[str]]:
    """The exit status and the lines to print."""
    commit = baseline_commit(repo, against)
    if commit is None:
        return 0, [f"{against}: no previous commit, nothing to compare with"]
    findings = Findings()
    buf_breaks(repo, commit, findings)
    rest_breaks(repo, commit, findings)
    lines = list(findings.notes)
    where = f"{against} ({commit[:12]})"
    if not findings.breaks:
        return 0, [*lines, f"compatible with {where}"]
    lines.extend(findings.breaks)
    count = len(findings.breaks)
    lines.append(f"{count} breaking change{'s' if count != 1 else ''} against {where}")
    declared = declarations(repo, commit)
    if declared:
        lines.extend(
            f"let through by the {TRAILER} trailer of {found.commit[:12]}: {found.reason}"
            for found in declared
        )
        return 0, lines
    lines.append(
        f"if the break is deliberate, say why in a '{TRAILER}: <why>' trailer of the commit "
        "(docs/compatibility.md)"
    )
    return 1, lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cli.compat",
        description="buf breaking and the REST diff of gen/openapi.json against a commit.",
    )
    parser.add_argument(
        "--against", default=DEFAULT_AGAINST, help="the commit to compare with (default HEAD~1)"
    )
    parser.add_argument("--repo", type=Path, default=Path.cwd(), help="the repository")
    args = parser.parse_args(argv)
    try:
        status, lines = check(repository_root(args.repo), args.against)
    except CompatError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return status


if __name__ == "__main__":
    sys.exit(main())
