# One-word entry points. Each target creates .venv and installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# The TypeScript SDK's npm dependencies, installed from its lockfile (the stamp is redone when
# the lockfile changes).
TS_SDK := sdk/typescript
NPM_STAMP := $(TS_SDK)/node_modules/.installed
SITE = $(shell $(BIN)/python -c 'import sysconfig;print(sysconfig.get_path("purelib"))')
PROTOS := $(shell find proto/payloops -name '*.proto' | sort)

.PHONY: setup chromium compose-tools dashboard dev test test-fast gen api-reference check-gen check-compat lint bench validate-envoy validate-compose profile clean

setup: $(STAMP) $(NPM_STAMP)

$(STAMP): pyproject.toml sdk/pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,profile]' -e './sdk[grpc]'
	touch $(STAMP)

$(NPM_STAMP): $(TS_SDK)/package.json $(TS_SDK)/package-lock.json
	cd $(TS_SDK) && npm ci --no-audit --no-fund
	touch $(NPM_STAMP)

# The dashboard (dashboard/, docs/dashboard.md): its npm dependencies from its lockfile, then
# the TypeScript SDK it calls the API through and the app itself, built again only when their
# sources change. Envoy serves dashboard/build (cli/dashboard_site.py) once restarted.
DASHBOARD := dashboard
DASHBOARD_NPM_STAMP := $(DASHBOARD)/node_modules/.installed
DASHBOARD_STAMP := $(DASHBOARD)/build/.built
DASHBOARD_SOURCES := $(shell find $(DASHBOARD)/src $(DASHBOARD)/static $(TS_SDK)/src -type f) \
  $(addprefix $(DASHBOARD)/,svelte.config.js vite.config.ts tsconfig.json)

$(DASHBOARD_NPM_STAMP): $(DASHBOARD)/package.json $(DASHBOARD)/package-lock.json
	cd $(DASHBOARD) && npm ci --no-audit --no-fund
	touch $(DASHBOARD_NPM_STAMP)

$(DASHBOARD_STAMP): $(DASHBOARD_SOURCES) $(NPM_STAMP) $(DASHBOARD_NPM_STAMP)
	cd $(TS_SDK) && npm run build
	cd $(DASHBOARD) && npm run build
	touch $(DASHBOARD_STAMP)

dashboard: $(DASHBOARD_STAMP)

dev: $(STAMP) $(DASHBOARD_STAMP)
	$(BIN)/payloops dev

test: $(STAMP) $(NPM_STAMP) $(DASHBOARD_STAMP) chromium compose-tools
	$(BIN)/python -m pytest -q tests

# The browser tests (tests/browser.py) drive Debian's Chromium, never a downloaded one: installed
# here when missing and we are root, else a clear failure (the tests do not skip without it).
CHROMIUM := /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else \
	    echo "error: $(CHROMIUM) is missing; the browser tests need Debian's Chromium:" \
	         "run 'sudo apt-get install -y chromium'" >&2; exit 1; \
	  fi; }

# The container deployment's checks (tests/deploy) read docker-compose.yml through Debian's
# docker-compose, whose `config` validates a compose file without a container engine: installed
# here when missing and we are root, else a clear failure, as for Chromium.
DOCKER_COMPOSE := /usr/bin/docker-compose
compose-tools:
	@test -x $(DOCKER_COMPOSE) || { \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q docker-compose; \
	  else \
	    echo "error: $(DOCKER_COMPOSE) is missing; the deployment checks need Debian's" \
	         "docker-compose: run 'sudo apt-get install -y docker-compose'" >&2; exit 1; \
	  fi; }

test-fast: $(STAMP) $(NPM_STAMP) compose-tools
	$(BIN)/python -m pytest -q -m 'not e2e and not slow' tests

# Redocly's CLI, which renders the API reference (tools/apiref: its version pinned exactly and
# installed from the lockfile, never resolved anew).
APIREF := tools/apiref
APIREF_STAMP := $(APIREF)/node_modules/.installed
REDOCLY := $(APIREF)/node_modules/.bin/redocly

$(APIREF_STAMP): $(APIREF)/package.json $(APIREF)/package-lock.json
	cd $(APIREF) && npm ci --no-audit --no-fund
	touch $(APIREF_STAMP)

# Regenerates gen/ (messages, gRPC stubs, .pyi stubs), the descriptor set Envoy loads, the
# OpenAPI document of the REST API (cli/openapi.py) and the API reference page rendered from it,
# then from the document the Python SDK's models and operation table, and the SDK's async
# resources from its sync ones (cli/sdk_codegen), and the TypeScript SDK's types.
gen: $(STAMP) $(APIREF_STAMP) $(NPM_STAMP)
	$(BIN)/buf lint
	rm -rf gen/payloops && mkdir -p gen
	$(BIN)/python -m grpc_tools.protoc -Iproto -I$(SITE)/grpc_tools/_proto \
	  --python_out=gen --grpc_python_out=gen \
	  --plugin=protoc-gen-mypy=$(BIN)/protoc-gen-mypy --mypy_out=gen \
	  --plugin=protoc-gen-mypy_grpc=$(BIN)/protoc-gen-mypy_grpc --mypy_grpc_out=gen \
	  $(PROTOS)
	$(BIN)/buf build --exclude-source-info -o gen/payloops.binpb
	$(BIN)/python -m cli.openapi gen/openapi.json
	$(BIN)/python -m cli.sdk_codegen
	cd $(TS_SDK) && node scripts/generate.mjs ../../gen/openapi.json src/generated
	$(MAKE) --no-print-directory api-reference
	$(BIN)/python -m cli.envoy_config --container

# The API reference (GET /docs/api, served by Envoy): one self-contained page, Redoc's script
# inlined (--inlineBundle) rather than fetched from Redocly's CDN, so it works offline. Nothing
# reports home: not the CLI (REDOCLY_TELEMETRY, its config), not the page in a reader's browser
# (disableTelemetry). Redoc's "API docs by Redocly" badge shows a logo from Redocly's CDN: an
# empty image instead (the badge then hides it), so the page asks no other host for anything.
api-reference: $(APIREF_STAMP)
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
	  $(REDOCLY) build-docs gen/openapi.json --inlineBundle --config $(APIREF)/redocly.yaml \
	  --openapi.disableTelemetry=true --title 'PayLoops API reference' --output gen/openapi.html
	sed -i -E 's#https://cdn\.redoc\.ly/redoc/logo-mini(-full)?\.svg#data:,#g' gen/openapi.html

# CI: fails when the committed gen/ differs from what the protos produce (and the SDKs' generated
# code from gen/openapi.json: the Python SDK's modules and async resources, the TypeScript SDK's
# types; and the container Envoy config from envoy/envoy.yaml).
GENERATED := gen sdk/payloops/sdk $(TS_SDK)/src/generated envoy/envoy.compose.yaml
check-gen: gen
	git diff --exit-code -- $(GENERATED)
	test -z "$$(git status --porcelain -- $(GENERATED))"

# CI: buf breaking and the REST diff of gen/openapi.json against a previous commit
# (docs/compatibility.md); `make check-compat AGAINST=main` compares a branch with main.
AGAINST ?= HEAD~1
check-compat: $(STAMP)
	$(BIN)/python -m cli.compat --against '$(AGAINST)'

lint: $(STAMP) $(DASHBOARD_STAMP)
	$(BIN)/buf lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd $(DASHBOARD) && npm run check

# Both Envoy configs through `envoy --mode validate`: the dev one rendered with the defaults,
# and the committed container one (envoy/envoy.compose.yaml) that docker-compose.yml mounts.
validate-envoy: $(STAMP)
	$(BIN)/python -m cli.envoy_config --validate
	$(BIN)/python -m cli.envoy_config --container --validate

# The container deployment (docs/deploy.md) as far as a machine without a container engine can
# check it: the compose file by docker-compose's own validation, pinned images, present files,
# the container Envoy config; then the compose twin runs it natively and pays through it.
validate-compose: $(STAMP) $(DASHBOARD_STAMP) compose-tools
	$(BIN)/python -m pytest -q tests/deploy

# The platform's figures (the floors, CPU per component, memory over 10 000 payments), then
# the dashboard's queries over a million orders (bench/analytics.py), the local Temporal's
# history file, then scaling out on the compose twin (bench/scale.py: it runs the dashboard too).
bench: $(STAMP) $(DASHBOARD_STAMP) compose-tools
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.analytics
	$(BIN)/python -m bench.temporal_journal
	$(BIN)/python -m bench.scale

# Flame graphs of the edge and the worker paying under load (py-spy, the `profile` extra), into
# docs/profiles/edge.svg and worker.svg, and where their time goes (bench/profile.py).
profile: $(STAMP)
	$(BIN)/python -m bench.profile

clean:
	rm -rf $(VENV) .payloops $(APIREF)/node_modules $(DASHBOARD)/node_modules $(DASHBOARD)/build
