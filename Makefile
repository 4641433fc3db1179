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

.PHONY: setup chromium dev test test-fast gen check-gen lint bench validate-envoy clean

setup: $(STAMP) $(NPM_STAMP)

$(STAMP): pyproject.toml sdk/pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]' -e './sdk[grpc]'
	touch $(STAMP)

$(NPM_STAMP): $(TS_SDK)/package.json $(TS_SDK)/package-lock.json
	cd $(TS_SDK) && npm ci --no-audit --no-fund
	touch $(NPM_STAMP)

dev: $(STAMP)
	$(BIN)/payloops dev

test: $(STAMP) $(NPM_STAMP) chromium
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

test-fast: $(STAMP) $(NPM_STAMP)
	$(BIN)/python -m pytest -q -m 'not e2e and not slow' tests

# Regenerates gen/ (messages, gRPC stubs, .pyi stubs) and the descriptor set Envoy loads, and
# the TypeScript SDK's types from the OpenAPI document.
gen: $(STAMP) $(NPM_STAMP)
	$(BIN)/buf lint
	rm -rf gen/payloops && mkdir -p gen
	$(BIN)/python -m grpc_tools.protoc -Iproto -I$(SITE)/grpc_tools/_proto \
	  --python_out=gen --grpc_python_out=gen \
	  --plugin=protoc-gen-mypy=$(BIN)/protoc-gen-mypy --mypy_out=gen \
	  --plugin=protoc-gen-mypy_grpc=$(BIN)/protoc-gen-mypy_grpc --mypy_grpc_out=gen \
	  $(PROTOS)
	$(BIN)/buf build --exclude-source-info -o gen/payloops.binpb
	cd $(TS_SDK) && node scripts/generate.mjs ../../gen/openapi.json src/generated

# CI: fails when the committed gen/ (or the SDK's generated types) differs from what the protos
# produce.
check-gen: gen
	git diff --exit-code -- gen $(TS_SDK)/src/generated
	test -z "$$(git status --porcelain -- gen $(TS_SDK)/src/generated)"

lint: $(STAMP)
	$(BIN)/buf lint
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

validate-envoy: $(STAMP)
	$(BIN)/python -m cli.envoy_config --validate

bench: $(STAMP)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .payloops
