"""`payloops dev` runs Temporal with its web UI and its metrics for scraping, and prints where;
`--otel URL` sends every service's telemetry to a collector."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from cli import dev_services
from cli.main import build_parser
from tests.conftest import Mesh


def test_temporal_runs_with_its_ui_on_loopback() -> None:
    ports = dev_services.TemporalPorts(grpc=1, http=2, metrics=3, ui=4)
    argv = dev_services.temporal_argv(Path("temporal"), Path("db"), ports)
    assert "--headless" not in argv
    assert argv[argv.index("--ui-port") + 1] == "4"
    assert argv[argv.index("--ui-ip") + 1] == "127.0.0.1"
    # The UI is one of the platform's listeners: webhooks must never reach it.
    assert "127.0.0.1:4" in ports.listeners()


def test_otel_sets_every_exporter_to_the_collector() -> None:
    args = build_parser().parse_args(["dev", "--otel", "http://127.0.0.1:4317"])
    assert dev_services.otel_env(args.otel) == {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317",
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "otlp",
    }


@pytest.mark.e2e
def test_dev_prints_the_temporal_ui_and_it_answers(mesh: Mesh) -> None:
    printed = (mesh.state_dir / "dev.out").read_text()
    found = re.search(r"UI (http://127\.0\.0\.1:\d+)", printed)
    assert found, printed
    assert httpx.get(found.group(1), timeout=10).status_code == 200


@pytest.mark.e2e
def test_dev_prints_where_temporals_metrics_are_scraped_and_they_answer(mesh: Mesh) -> None:
    printed = (mesh.state_dir / "dev.out").read_text()
    found = re.search(r"metrics (http://127\.0\.0\.1:\d+/metrics)", printed)
    assert found, printed
    scraped = httpx.get(found.group(1), timeout=10)
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    # The server's own series, in Prometheus' text format (a collector's scrape job reads it).
    assert re.search(r"^# TYPE \w+ (counter|gauge|histogram)$", scraped.text, re.MULTILINE)
