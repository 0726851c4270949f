# FARM Auth. `make run` starts everything; `make test` runs everything CI runs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
DB_VENV := .venv-db
BIN := $(VENV)/bin
PIP_FLAGS := --quiet --disable-pip-version-check
NPM := npm --prefix frontend --no-fund --no-audit --loglevel=error
FRONTEND_SOURCES := $(shell find frontend/src frontend/public frontend/scripts -type f 2>/dev/null) \
	frontend/index.html frontend/vite.config.ts frontend/tsconfig.json frontend/package-lock.json
CHROMIUM ?= /usr/bin/chromium
# pytest's worker processes (pytest-xdist): one more than the cores, since tests also wait on the
# database, mail and the OpenID provider. PYTEST_WORKERS=0 runs them in this process.
PYTEST_WORKERS ?= $(shell echo $$(( $$(nproc 2>/dev/null || echo 2) + 1 )))

.PHONY: help run dev install frontend test lint format api api-check test-backend test-frontend e2e chromium \
	bench lighthouse secret totp-key keys superuser migrate idp clean

help:
	@echo "make run        build the frontend, start the embedded database and the app at http://localhost:8000"
	@echo "make dev        the API plus Vite's dev server at http://localhost:5173 (hot reload)"
	@echo "make test       install test dependencies and run everything CI runs"
	@echo "make api        regenerate the frontend's typed API client from the backend's OpenAPI schema"
	@echo "make e2e        only the browser tests (Playwright, Debian's Chromium)"
	@echo "make bench      this app against stock FastAPI Users: throughput, login storms, listing, memory;"
	@echo "                a dated report with plots in benchmarks/reports/ (~18 min; ARGS=--quick for ~5)"
	@echo "make lighthouse Lighthouse scores (mobile, desktop) and the bytes of a cold load of a running app;"
	@echo "                URL=http://localhost:8801 by default, EMAIL and PASSWORD to measure the task page"
	@echo "make secret     print a new Realm-valid JWT_SECRET_KEY"
	@echo "make totp-key   print a new key for TOTP_ENCRYPTION_KEYS (Fernet: 32 random bytes, URL-safe base64)"
	@echo "make keys       write a new signing key (RS256/ES256/EdDSA) to JWT_KEYS_DIR; NEXT=1: publish"
	@echo "                it first, signing only once renamed without .next"
	@echo "make superuser  create a superuser (EMAIL=you@example.com; password prompted)"
	@echo "make migrate    build the database's indexes and run its data migrations (before a deploy)"
	@echo "make idp        a local OpenID Connect provider (dev-only) at http://127.0.0.1:9400; IDP_* variables"
	@echo "                configure it (tools/oidc-provider/README.md)"
	@echo "make lint       ruff check and format check"
	@echo "make format     ruff format and fix"
	@echo "make clean      remove virtualenvs, node_modules, builds and caches (keeps data/)"

run: export ENVIRONMENT ?= development
run: install frontend
	$(BIN)/python -m backend.serve $(ARGS)

# The API on :8000 and Vite on :5173, which forwards API paths to it. Email links point at Vite.
dev: export ENVIRONMENT ?= development
dev: export PUBLIC_URL ?= http://localhost:5173
dev: install frontend/node_modules/.installed
	@trap 'kill 0' EXIT; $(BIN)/python -m backend.serve --reload & $(NPM) run dev

install: $(VENV)/.runtime $(DB_VENV)/.installed

$(VENV)/.created:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is required (PYTHON=$(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	@touch $@

$(VENV)/.runtime: $(VENV)/.created backend/requirements.txt
	$(BIN)/pip install $(PIP_FLAGS) -r backend/requirements.txt
	@touch $@

$(VENV)/.dev: $(VENV)/.runtime backend/requirements-dev.txt
	$(BIN)/pip install $(PIP_FLAGS) -r backend/requirements-dev.txt
	@touch $@

$(DB_VENV)/.installed: backend/requirements-db.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11 or newer is required (PYTHON=$(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(DB_VENV)
	$(DB_VENV)/bin/pip install $(PIP_FLAGS) -r backend/requirements-db.txt
	@touch $@

frontend/node_modules/.installed: frontend/package.json frontend/package-lock.json
	@command -v npm >/dev/null || { echo "Node.js 20 or newer with npm is required for the frontend"; exit 1; }
	$(NPM) ci
	@touch $@

# Node's `jose` verifies the app's tokens in backend/tests/auth/test_jwks_clients.py.
backend/tests/node/node_modules/.installed: backend/tests/node/package.json backend/tests/node/package-lock.json
	@command -v npm >/dev/null || { echo "Node.js 20 or newer with npm is required for the backend tests"; exit 1; }
	npm ci --prefix backend/tests/node --no-fund --no-audit --loglevel=error
	@touch $@

# A real OpenID Connect provider (panva's oidc-provider) for "Sign in with ..." in dev and tests.
tools/oidc-provider/node_modules/.installed: tools/oidc-provider/package.json tools/oidc-provider/package-lock.json
	@command -v npm >/dev/null || { echo "Node.js 20 or newer with npm is required for the OpenID provider"; exit 1; }
	npm ci --prefix tools/oidc-provider --no-fund --no-audit --loglevel=error
	@touch $@

idp: tools/oidc-provider/node_modules/.installed
	node tools/oidc-provider/server.mjs

frontend: frontend/dist/index.html

frontend/dist/index.html: frontend/node_modules/.installed $(FRONTEND_SOURCES)
	$(NPM) run build

# The typed client (frontend/src/lib/api/schema.d.ts) is generated from the backend and committed.
api: $(VENV)/.runtime frontend/node_modules/.installed
	@mkdir -p data
	$(BIN)/python -m backend.manage openapi --output data/openapi.json
	cd frontend && npx openapi-typescript ../data/openapi.json --default-non-nullable false -o src/lib/api/schema.d.ts

api-check: $(VENV)/.runtime frontend/node_modules/.installed
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	$(BIN)/python -m backend.manage openapi --output "$$tmp/openapi.json"; \
	(cd frontend && npx openapi-typescript "$$tmp/openapi.json" --default-non-nullable false -o "$$tmp/schema.d.ts" >/dev/null); \
	if ! diff -u frontend/src/lib/api/schema.d.ts "$$tmp/schema.d.ts"; then \
		echo "frontend/src/lib/api/schema.d.ts is stale against the backend: run 'make api' and commit it"; exit 1; fi; \
	echo "the API client is up to date with the backend"

# Debian's Chromium drives the browser tests (Playwright's own download cannot work offline).
chromium:
	@test -x $(CHROMIUM) || { \
		if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
		else echo "Chromium is missing: sudo apt-get install chromium (or set CHROMIUM=/path/to/chromium)"; exit 1; fi; }

test: lint test-backend test-frontend e2e

# Style, and the direction of imports: import-linter's contracts (pyproject.toml) for the backend,
# dependency-cruiser's rules (frontend/.dependency-cruiser.cjs) for the frontend's features.
lint: $(VENV)/.dev frontend/node_modules/.installed
	$(BIN)/ruff check backend benchmarks examples
	$(BIN)/ruff format --check backend benchmarks examples
	$(BIN)/lint-imports
	$(NPM) run lint:imports

test-backend: $(VENV)/.dev $(DB_VENV)/.installed backend/tests/node/node_modules/.installed \
	tools/oidc-provider/node_modules/.installed frontend/node_modules/.installed
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist worksteal

test-frontend: frontend/node_modules/.installed api-check
	$(NPM) run typecheck
	$(NPM) test

e2e: install frontend chromium tools/oidc-provider/node_modules/.installed
	rm -rf frontend/test-results
	cd frontend && CHROMIUM_PATH=$(CHROMIUM) npx playwright test

# wrk drives the load (Debian's package when run as root); matplotlib draws the plots.
bench: install $(VENV)/.bench
	@command -v wrk >/dev/null || { \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; \
		else echo "wrk is missing: sudo apt-get install wrk (Debian, Ubuntu) or brew install wrk (macOS)"; exit 1; fi; }
	$(BIN)/python -m benchmarks.bench $(ARGS)

# Lighthouse (pinned, in a folder of its own) against the app you have running: `PORT=8801 make run`
# in another terminal, or URL=... for another one. EMAIL and PASSWORD of an account add the task
# page; RUNS=3 runs per page and preset; REPORTS=dir keeps each report (tools/lighthouse/run.mjs).
lighthouse: tools/lighthouse/node_modules/.installed chromium
	URL="$(or $(URL),http://localhost:8801)" CHROMIUM=$(CHROMIUM) node tools/lighthouse/run.mjs

tools/lighthouse/node_modules/.installed: tools/lighthouse/package.json tools/lighthouse/package-lock.json
	@command -v npm >/dev/null || { echo "Node.js 20 or newer with npm is required for Lighthouse"; exit 1; }
	npm ci --prefix tools/lighthouse --no-fund --no-audit --loglevel=error
	@touch $@

$(VENV)/.bench: $(VENV)/.runtime backend/requirements-bench.txt
	$(BIN)/pip install $(PIP_FLAGS) -r backend/requirements-bench.txt
	@touch $@

format: $(VENV)/.dev
	$(BIN)/ruff check --fix backend benchmarks examples
	$(BIN)/ruff format backend benchmarks examples

secret:
	@$(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(48))'

totp-key:
	@$(PYTHON) -c 'import base64, secrets; print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())'

keys: export ENVIRONMENT ?= development
keys: install
	$(BIN)/python -m backend.manage keys new $(if $(NEXT),--next)

migrate: export ENVIRONMENT ?= development
migrate: install
	$(BIN)/python -m backend.manage migrate

superuser: export ENVIRONMENT ?= development
superuser: install
	$(BIN)/python -m backend.manage create-superuser $(if $(EMAIL),--email $(EMAIL))

clean:
	rm -rf $(VENV) $(DB_VENV) .pytest_cache .ruff_cache frontend/node_modules frontend/dist frontend/test-results \
		backend/tests/node/node_modules tools/oidc-provider/node_modules tools/lighthouse/node_modules
	find backend -name __pycache__ -type d -prune -exec rm -rf {} +
