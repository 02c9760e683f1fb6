# chatapp — the README's commands. Everything is installed into ./.venv and ./.tools on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
TOOLS := $(CURDIR)/.tools
BUN_VERSION := 1.4.4
AXE_VERSION := 4
PORT ?= 3000
export REFLEX_USE_SYSTEM_BUN := 1
export PATH := $(TOOLS)/node_modules/.bin:$(CURDIR)/$(VENV)/bin:$(PATH)
export REFLEX_TELEMETRY_ENABLED := false
export TELEMETRY_ENABLED := false

.PHONY: setup run dev test test-fast test-deploy check fmt lint typecheck export bench bench-smoke sysdeps clean \
	lock migration migrate image

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

$(TOOLS)/node_modules/.bin/bun:
	mkdir -p $(TOOLS)
	npm install --silent --no-audit --no-fund --prefix $(TOOLS) bun@$(BUN_VERSION)

# axe-core: the accessibility checks of tests/e2e/test_accessibility.py inject its axe.min.js.
$(TOOLS)/node_modules/axe-core/axe.min.js:
	mkdir -p $(TOOLS)
	npm install --silent --no-audit --no-fund --prefix $(TOOLS) axe-core@$(AXE_VERSION)

setup: $(VENV)/.installed $(TOOLS)/node_modules/.bin/bun $(TOOLS)/node_modules/axe-core/axe.min.js
	mkdir -p data

# System packages the browser and topology tests need (Debian; run as root).
sysdeps:
	@bash scripts/sysdeps.sh

# The per-request JSON lines stay out of the terminal unless asked for: LOG_LEVEL=info make run.
run: setup
	LOG_LEVEL=$${LOG_LEVEL:-warning} $(PY) -m chatapp.server.serve --port $(PORT)

dev: setup
	$(PY) -m chatapp.server.migrate upgrade
	$(VENV)/bin/reflex run --env dev

export: setup
	$(VENV)/bin/reflex export --frontend-only --no-zip >/dev/null

# The production topology without Docker: start script, migrations, 2 instances + nginx + PostgreSQL +
# Redis, TTFT through nginx (also part of `make test`).
test-deploy: setup sysdeps
	$(PY) -m pytest -q -s tests/deploy

# Pin the runtime dependency closure the Docker image installs (after changing pyproject.toml).
lock: setup
	$(PY) scripts/lock.py

# A new migration for a change of chatapp/models.py: make migration MSG="what changed"
migration: setup
	$(PY) -m chatapp.server.migrate revision -m "$(or $(MSG),change)"
	$(VENV)/bin/ruff format -q chatapp/server/migrations
	$(VENV)/bin/ruff check --fix -q chatapp/server/migrations
	$(PY) -m chatapp.server.migrate check

# Apply migrations to DATABASE_URL (the start script does this on every start).
migrate: setup
	$(PY) -m chatapp.server.migrate upgrade

# Needs a Docker engine (scripts/docker_engine.sh starts Debian's); the base image comes from
# scripts/docker_base.sh (debootstrap) unless PYTHON_IMAGE names one. PUBLIC_URL=https://your.host make image
image:
	DOCKER_BUILDKIT=0 docker build --network host -t chatapp \
		--build-arg PYTHON_IMAGE=$${PYTHON_IMAGE:-$$(bash scripts/docker_base.sh)} \
		--build-arg PUBLIC_URL=$${PUBLIC_URL:-https://localhost} .

fmt: setup
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

lint: setup
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .
	$(VENV)/bin/bandit -q -c pyproject.toml -r chatapp
	$(VENV)/bin/lint-imports --no-cache

typecheck: setup
	$(VENV)/bin/pyright

test-fast: setup
	$(PY) -m pytest -q -m "not e2e"

check: lint typecheck
	$(PY) -m pytest -q -m "not e2e"

test: setup sysdeps lint typecheck
	$(PY) -m pytest -q -ra

# The benchmarks (~6 min) replace bench/results/latest.json; bench-smoke (tiny sizes, CI) writes
# bench/results/smoke.json (git-ignored), so a clean checkout stays clean.
bench: setup sysdeps
	$(PY) -m bench.run

bench-smoke: setup sysdeps
	$(PY) -m bench.run --smoke

clean:
	rm -rf .web .web-instances .states $(VENV) $(TOOLS)
