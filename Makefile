# FARM Auth. `make run` starts everything; `make test` runs everything CI runs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
DB_VENV := .venv-db
BIN := $(VENV)/bin
PIP_FLAGS := --quiet --disable-pip-version-check

.PHONY: help run install test lint format secret superuser clean

help:
	@echo "make run        start the API at http://127.0.0.1:8000 (embedded database unless MONGODB_URL is set)"
	@echo "make test       install test dependencies and run everything CI runs"
	@echo "make secret     print a new Realm-valid JWT_SECRET_KEY"
	@echo "make superuser  create a superuser (EMAIL=you@example.com; password prompted)"
	@echo "make lint       ruff check and format check"
	@echo "make format     ruff format and fix"
	@echo "make clean      remove virtualenvs and caches (keeps data/)"

run: export ENVIRONMENT ?= development
run: install
	$(BIN)/python -m backend.serve $(ARGS)

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

test: $(VENV)/.dev $(DB_VENV)/.installed lint
	$(BIN)/python -m pytest

lint: $(VENV)/.dev
	$(BIN)/ruff check backend
	$(BIN)/ruff format --check backend

format: $(VENV)/.dev
	$(BIN)/ruff check --fix backend
	$(BIN)/ruff format backend

secret:
	@$(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(48))'

superuser: export ENVIRONMENT ?= development
superuser: install
	$(BIN)/python -m backend.manage create-superuser $(if $(EMAIL),--email $(EMAIL))

clean:
	rm -rf $(VENV) $(DB_VENV) .pytest_cache .ruff_cache
	find backend -name __pycache__ -type d -prune -exec rm -rf {} +
