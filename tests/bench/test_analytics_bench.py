"""The analytics benchmark's smoke run: twenty thousand orders instead of a million (enough
for PostgreSQL's planner to prefer the indexes; ANALYZE samples them all, so its choice is the
same on every run), on the tests' PostgreSQL. It checks that the bench seeds, runs every query
and reads the list and search queries' plans; its timings are the bench's to report
(docs/benchmarks.md), not a test's."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bench import analytics as bench
from tests.core.migrated_database import database_at


def test_the_bench_runs_every_query_and_the_payments_queries_use_indexes(
    postgres_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with database_at(postgres_url, "head") as url:
        assert bench.main(["--orders", "20000", "--runs", "1", "--database-url", url]) == 0
    out = capsys.readouterr().out
    assert "seeded 20,000 orders" in out
    rows = {
        line[11:41].strip(): line.split()
        for line in out.splitlines()
        if line.startswith(("Overview", "Processors", "Payments"))
    }
    assert set(rows) == {check.name for check in bench.checks(datetime.now(UTC), 20000)}
    payments = {name: fields for name, fields in rows.items() if fields[0] == "Payments"}
    assert payments and all(fields[-1] == "yes" for fields in payments.values()), payments
    assert rows["search: order id"][-4] == "1"
