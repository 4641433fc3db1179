"""deploy/otel-collector.yaml, checked without a collector binary (none is installable from the
registries this project uses): every pipeline names components the file defines, from the
component types of the collector image docker-compose.yml pins; all three signals go to
OpenObserve and to the debug exporter; the addresses and the auth variable are those of the
compose file (the services' OTLP endpoint, Temporal's Prometheus endpoint, the collector's
environment)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import yaml

from tests.deploy.compose import REPO, required_variables, resolved

COLLECTOR_FILE = REPO / "deploy" / "otel-collector.yaml"
# Component types of otel/opentelemetry-collector-contrib that this file may use.
KNOWN = {
    "receivers": {"otlp", "prometheus"},
    "processors": {"batch", "memory_limiter"},
    "exporters": {"debug", "otlphttp"},
    "extensions": {"health_check"},
}
SIGNALS = {"traces", "metrics", "logs"}


def collector() -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(COLLECTOR_FILE.read_text())
    return config


def compose() -> dict[str, Any]:
    return resolved({name: "x" * 40 for name in required_variables()})


def test_every_pipeline_names_defined_components_of_known_types() -> None:
    config = collector()
    for kind, known in KNOWN.items():
        for name in config.get(kind, {}):
            assert name.split("/", 1)[0] in known, (kind, name)
    pipelines = config["service"]["pipelines"]
    assert set(pipelines) == SIGNALS
    for signal, pipeline in pipelines.items():
        for kind in ("receivers", "processors", "exporters"):
            assert pipeline[kind], (signal, kind)
            for name in pipeline[kind]:
                assert name in config[kind], (signal, kind, name)
        # Every signal reaches OpenObserve and stdout, through the memory limiter first.
        assert {"otlphttp/openobserve", "debug"} <= set(pipeline["exporters"])
        assert pipeline["processors"][0] == "memory_limiter"
    assert set(config["service"]["extensions"]) <= set(config["extensions"])
    # Temporal's server metrics join the metrics pipeline only.
    assert "prometheus" in pipelines["metrics"]["receivers"]


def test_otlp_comes_in_over_grpc_and_http_where_the_services_send_it() -> None:
    protocols = collector()["receivers"]["otlp"]["protocols"]
    assert protocols["grpc"]["endpoint"].endswith(":4317")
    assert protocols["http"]["endpoint"].endswith(":4318")
    services = compose()["services"]
    for name, service in services.items():
        endpoint = service.get("environment", {}).get("OTEL_EXPORTER_OTLP_ENDPOINT")
        if endpoint is None:
            continue
        address = urlsplit(endpoint)
        assert (address.hostname, address.port) == ("otel-collector", 4317), name
        # Every service that exports anything exports its logs too.
        assert service["environment"].get("OTEL_LOGS_EXPORTER") == "otlp", name
    assert "otel-collector" in services


def test_temporal_is_scraped_where_it_serves_its_metrics() -> None:
    [job] = collector()["receivers"]["prometheus"]["config"]["scrape_configs"]
    [target] = job["static_configs"][0]["targets"]
    host, _, port = target.partition(":")
    temporal = compose()["services"][host]
    served = temporal["environment"]["PROMETHEUS_ENDPOINT"]
    assert served.rpartition(":")[2] == port


def test_openobserves_credentials_come_from_the_collectors_environment() -> None:
    exporter = collector()["exporters"]["otlphttp/openobserve"]
    assert urlsplit(exporter["endpoint"]).hostname == "openobserve"
    header = exporter["headers"]["Authorization"]
    variables = re.findall(r"\$\{env:([A-Z0-9_]+)\}", header)
    assert variables, "the auth header must come from the environment"
    environment = compose()["services"]["otel-collector"]["environment"]
    for variable in variables:
        assert variable in environment
    assert "openobserve" in compose()["services"]
