"""CI's compatibility check (cli/compat.py) on temporary git repositories holding this repository's
own protos and buf.yaml: the real `buf breaking` fails a commit that breaks a client (a deleted
field, a renamed field, a changed JSON name) and passes a compatible one; the REST diff runs on
gen/openapi.json as committed; a `Breaking-Change:` trailer lets a deliberate break through."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from cli.compat import CompatError, check, main

REPO = Path(__file__).resolve().parents[2]
ORDERS = "proto/payloops/v1/orders.proto"
CAPTURABLE = "  int64 amount_capturable = 9 [(google.api.field_behavior) = OUTPUT_ONLY];\n"


class Repository:
    """A scratch repository with commits made by a test, isolated from the user's git
    configuration (no signing, no hooks)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.env = {
            **os.environ,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Compat Test",
            "GIT_AUTHOR_EMAIL": "compat@payloops.test",
            "GIT_COMMITTER_NAME": "Compat Test",
            "GIT_COMMITTER_EMAIL": "compat@payloops.test",
        }
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")

    def git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return done.stdout

    def copy_contracts(self) -> None:
        shutil.copy(REPO / "buf.yaml", self.path / "buf.yaml")
        shutil.copytree(REPO / "proto", self.path / "proto")

    def edit(self, path: str, old: str, new: str) -> None:
        file = self.path / path
        text = file.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"{old!r} is not once in {path}"
        file.write_text(text.replace(old, new), encoding="utf-8")

    def write_json(self, path: str, content: dict[str, Any]) -> None:
        file = self.path / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(json.dumps(content, indent=2), encoding="utf-8")

    def commit(self, message: str) -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    repository = Repository(tmp_path / "repo")
    repository.copy_contracts()
    repository.commit("Contracts")
    return repository


def test_a_deleted_field_fails(repo: Repository) -> None:
    repo.edit(ORDERS, CAPTURABLE, "")
    repo.commit("Drop amount_capturable")
    status, lines = check(repo.path, "HEAD~1")
    assert status == 1
    assert any('name "amount_capturable" on message "Order" was deleted' in x for x in lines)
    assert "1 breaking change against HEAD~1" in lines[-2]


def test_a_renamed_field_fails_though_its_number_is_kept(repo: Repository) -> None:
    # The binary wire does not see it; a REST client reading "amount_capturable" does.
    repo.edit(ORDERS, "amount_capturable = 9", "capturable_amount = 9")
    repo.commit("Rename amount_capturable")
    status, lines = check(repo.path, "HEAD~1")
    assert status == 1
    assert any('changed name from "amount_capturable" to "capturable_amount"' in x for x in lines)


def test_a_changed_json_name_fails(repo: Repository) -> None:
    repo.edit(
        ORDERS, "amount_capturable = 9 [", 'amount_capturable = 9 [json_name = "capturable", '
    )
    repo.commit("Another JSON name")
    status, lines = check(repo.path, "HEAD~1")
    assert status == 1
    assert any('changed option "json_name" from "amountCapturable" to' in x for x in lines)


def test_an_added_field_passes(repo: Repository) -> None:
    repo.edit(ORDERS, CAPTURABLE, CAPTURABLE + "  string statement_descriptor = 500;\n")
    repo.commit("Statement descriptors")
    status, lines = check(repo.path, "HEAD~1")
    assert status == 0
    assert lines[-1].startswith("compatible with HEAD~1 (")


def test_a_breaking_change_trailer_lets_the_break_through(repo: Repository) -> None:
    repo.edit(ORDERS, CAPTURABLE, "")
    repo.commit("Drop amount_capturable\n\nBreaking-Change: no client reads it (v1 beta)")
    status, lines = check(repo.path, "HEAD~1")
    assert status == 0
    assert any("was deleted" in x for x in lines)  # still shown, with who let it through
    assert lines[-1].endswith(": no client reads it (v1 beta)")
    assert lines[-1].startswith("let through by the Breaking-Change trailer of ")


def test_a_trailer_in_a_merged_branch_lets_its_break_through(repo: Repository) -> None:
    repo.git("checkout", "-q", "-b", "drop-field")
    repo.edit(ORDERS, CAPTURABLE, "")
    repo.commit("Drop amount_capturable\n\nBreaking-Change: replaced by amount_received")
    repo.commit("Docs")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge drop-field", "drop-field")
    status, lines = check(repo.path, "HEAD~1")
    assert status == 0
    assert lines[-1].endswith(": replaced by amount_received")


def test_a_trailer_of_an_older_commit_does_not(repo: Repository) -> None:
    repo.commit("Something else\n\nBreaking-Change: an earlier deliberate break")
    repo.edit(ORDERS, CAPTURABLE, "")
    repo.commit("Drop amount_capturable")
    status, _ = check(repo.path, "HEAD~1")
    assert status == 1


def test_the_first_commit_has_nothing_to_compare_with(tmp_path: Path) -> None:
    repository = Repository(tmp_path / "repo")
    repository.copy_contracts()
    repository.commit("Contracts")
    assert check(repository.path, "HEAD~1") == (
        0,
        ["HEAD~1: no previous commit, nothing to compare with"],
    )


def test_a_previous_commit_without_protos_or_document_passes_and_says_so(tmp_path: Path) -> None:
    repository = Repository(tmp_path / "repo")
    repository.commit("Empty start")
    repository.copy_contracts()
    repository.commit("Contracts")
    status, lines = check(repository.path, "HEAD~1")
    assert status == 0
    assert [line.split(" ", 1)[1] for line in lines[:2]] == [
        "has no proto/: no protos to compare with",
        "has no gen/openapi.json: no REST surface to compare with",
    ]


def openapi(paths: dict[str, Any]) -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": {"title": "PayLoops", "version": "v1"}, "paths": paths}


def get(operation_id: str) -> dict[str, Any]:
    return {"get": {"operationId": operation_id, "responses": {"200": {"description": "ok"}}}}


def test_the_rest_surface_is_compared_with_the_committed_document(repo: Repository) -> None:
    repo.write_json("gen/openapi.json", openapi({"/v1/orders": get("ListOrders")}))
    repo.commit("The OpenAPI document")
    repo.write_json("gen/openapi.json", openapi({"/v1/refunds": get("ListRefunds")}))
    repo.commit("Orders are no longer listed")
    status, lines = check(repo.path, "HEAD~1")
    assert status == 1
    assert "GET /v1/orders: operation removed" in lines


def test_a_removed_document_fails(repo: Repository) -> None:
    repo.write_json("gen/openapi.json", openapi({"/v1/orders": get("ListOrders")}))
    repo.commit("The OpenAPI document")
    (repo.path / "gen" / "openapi.json").unlink()
    repo.commit("No document")
    status, lines = check(repo.path, "HEAD~1")
    assert status == 1
    assert "gen/openapi.json: removed (the REST surface is undescribed)" in lines


def test_a_clone_too_shallow_is_an_error_not_a_pass(repo: Repository, tmp_path: Path) -> None:
    repo.edit(ORDERS, CAPTURABLE, "")
    repo.commit("Drop amount_capturable")
    shallow = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(shallow)],
        env=repo.env,
        check=True,
        timeout=60,
    )
    with pytest.raises(CompatError, match="shallow"):
        check(shallow, "HEAD~1")


def test_the_command_exits_non_zero_on_a_break(
    repo: Repository, capsys: pytest.CaptureFixture[str]
) -> None:
    repo.edit(ORDERS, CAPTURABLE, "")
    repo.commit("Drop amount_capturable")
    assert main(["--repo", str(repo.path / "proto")]) == 1
    out = capsys.readouterr().out
    assert "was deleted" in out
    assert "Breaking-Change: <why>" in out
    assert main(["--repo", str(repo.path), "--against", "no-such-branch"]) == 2
    assert "no-such-branch: no such commit" in capsys.readouterr().err
