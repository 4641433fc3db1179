"""What can be checked of the container deployment without a container engine: the compose
file through a real compose implementation's own validation, every image pinned, every file
the Dockerfile copies and the compose file mounts present, the container Envoy config fresh
and accepted by Envoy, Temporal's dynamic config the dev server's. The compose twin
(test_compose_twin.py) runs it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from cli import dev_services, envoy_config
from cli.state import StatePaths
from tests.deploy.compose import COMPOSE_FILE, REPO, required_variables, resolved, run_config

DOCKERFILE = REPO / "Dockerfile"
# An exact release: numbers with at least one dot (PostgreSQL's releases are MAJOR.MINOR),
# with an optional suffix (-bookworm, -tctl-…); never `latest`, a bare major or a suffix alone.
PINNED_TAG = re.compile(r"^v?\d+(\.\d+)+([-.][\w.-]+)?$")


def dummy_secrets() -> dict[str, str]:
    return {name: "x" * 40 for name in required_variables()}


def test_a_real_compose_implementation_accepts_the_file() -> None:
    result = run_config(dummy_secrets(), quiet=True)
    assert result.returncode == 0, result.stderr


def test_the_compose_validation_is_real(tmp_path: Path) -> None:
    """The same validation refuses a misspelt key and a missing secret."""
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE_FILE.read_text().replace("healthcheck:", "healthchek:", 1))
    refused = run_config(dummy_secrets(), broken, quiet=True)
    assert refused.returncode != 0 and "healthchek" in refused.stderr
    secrets = dummy_secrets()
    del secrets["PAYLOOPS_PAGE_TOKEN_SECRET"]
    missing = run_config(secrets, quiet=True)
    assert missing.returncode != 0 and "set a secret of this installation" in missing.stderr


def test_every_secret_comes_from_the_environment_and_none_is_in_the_file() -> None:
    services = resolved(dummy_secrets())["services"]
    for name, service in services.items():
        for key, value in (service.get("environment") or {}).items():
            if re.search(r"(PASSWORD|PWD|SECRET|KEYS?|TOKENS?|AUTH)$", key):
                assert value in ("", "x" * 40) or "x" * 40 in value, (name, key)


def image_references() -> list[str]:
    services = resolved(dummy_secrets())["services"]
    images = [service["image"] for service in services.values() if "build" not in service]
    images += re.findall(r"^FROM\s+(\S+)", DOCKERFILE.read_text(), flags=re.MULTILINE)
    return images


def test_every_image_is_pinned() -> None:
    stages = set(re.findall(r"^FROM\s+\S+\s+AS\s+(\S+)", DOCKERFILE.read_text(), re.MULTILINE))
    images = [image for image in image_references() if image not in stages]
    assert len(images) >= 10
    for image in images:
        name, _, tag = image.partition("@")[0].rpartition(":")
        assert name and PINNED_TAG.match(tag), f"{image} is not pinned to an exact version"


def test_our_own_image_is_tagged_with_the_projects_version() -> None:
    import tomllib

    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    services = resolved(dummy_secrets())["services"]
    built = {service["image"] for service in services.values() if "build" in service}
    assert built == {f"payloops:{version}"}


def test_every_file_the_dockerfile_copies_is_in_the_repository() -> None:
    copies = re.findall(r"^COPY\s+(?!--from)(.+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert copies
    ignored = (REPO / ".dockerignore").read_text().split()
    for line in copies:
        *sources, _ = line.split()
        for source in sources:
            assert (REPO / source).exists(), f"COPY {source}: missing"
            assert source not in ignored, f"COPY {source}: excluded by .dockerignore"


def test_every_file_the_compose_file_mounts_is_in_the_repository() -> None:
    mounted = []
    for service in resolved(dummy_secrets())["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("/"):
                mounted.append(Path(source))
    assert len(mounted) >= 6
    for path in mounted:
        assert path.exists() and path.is_relative_to(REPO), f"{path} is not in the repository"


def test_the_container_envoy_config_is_the_one_make_gen_renders() -> None:
    committed = envoy_config.CONTAINER_CONFIG.read_text()
    assert committed == envoy_config.CONTAINER_HEADER + envoy_config.render_container(), (
        "envoy/envoy.compose.yaml is stale: run `make gen`"
    )


def test_envoy_accepts_the_container_config(tmp_path: Path) -> None:
    path = tmp_path / "envoy.yaml"
    path.write_text(envoy_config.container_config_on_this_machine())
    result = envoy_config.validate(path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_container_config_reaches_every_upstream_by_service_name() -> None:
    config = yaml.safe_load(envoy_config.CONTAINER_CONFIG.read_text())
    compose = resolved(dummy_secrets())["services"]
    for listener in config["static_resources"]["listeners"]:
        assert listener["address"]["socket_address"]["address"] == "0.0.0.0"
    for cluster in config["static_resources"]["clusters"]:
        assert cluster["type"] == "STRICT_DNS", cluster["name"]
        for group in cluster["load_assignment"]["endpoints"]:
            for endpoint in group["lb_endpoints"]:
                host = endpoint["endpoint"]["address"]["socket_address"]["address"]
                assert host in compose, f"{cluster['name']} -> {host}: no such service"


@pytest.mark.parametrize("setting", dev_services.TEMPORAL_DYNAMIC_CONFIG)
def test_temporal_runs_with_the_dev_servers_dynamic_config(setting: str) -> None:
    config = yaml.safe_load((REPO / "deploy" / "temporal" / "dynamicconfig.yaml").read_text())
    key, _, value = setting.partition("=")
    assert key in config, f"{key} is missing from deploy/temporal/dynamicconfig.yaml"
    assert str(config[key][0]["value"]).lower() == value.lower()


def dev_commands(state_dir: Path) -> dict[str, list[str]]:
    """What `payloops dev` runs for each kind of PayLoops service, from `serve` on."""
    state = StatePaths.at(state_dir)
    services = [
        ("edge", dev_services.edge(state, 50051, {})),
        ("worker", dev_services.worker(state, "temporal:7233", {})),
        ("vault", dev_services.vault(state, 50081, {})),
        ("sandbox", dev_services.sandbox(state, "sandbox", dev_services.SandboxPorts(1, 2), {})),
        ("stripe", dev_services.gateway(state, "stripe", 50071, {})),
        ("razorpay", dev_services.gateway(state, "razorpay", 50072, {})),
    ]
    commands = {}
    for name, service in services:
        argv = [str(part) for part in service.child.argv]
        commands[name] = argv[argv.index("serve") :]
    return commands


def options(command: list[str]) -> set[str]:
    return {part for part in command if part.startswith("--")}


def component(command: list[str]) -> list[str]:
    """`serve processor sandbox --name …` -> `serve processor sandbox`."""
    first_option = next(i for i, part in enumerate(command) if part.startswith("--"))
    return command[:first_option]


def test_each_service_starts_as_payloops_dev_starts_it(tmp_path: Path) -> None:
    """The same `payloops serve` component and options; a container adds only where it
    listens (--host 0.0.0.0: the dev mesh's loopback default would be unreachable)."""
    compose = resolved(dummy_secrets())["services"]
    for name, dev_command in dev_commands(tmp_path).items():
        replicas = [s for s in compose if re.fullmatch(rf"{name}(-\d+)?", s)]
        assert replicas, f"no {name} service"
        for service_name in replicas:
            command = [str(part) for part in compose[service_name]["command"]]
            assert command[0] == "payloops", service_name
            served = command[1:]
            assert component(served) == component(dev_command), service_name
            assert options(served) - options(dev_command) <= {"--host"}, service_name
            assert options(dev_command) <= options(served), service_name
