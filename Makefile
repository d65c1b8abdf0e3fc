# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app tracker
HOST ?= 127.0.0.1
PORT ?= 5000
PLAN ?= tracker/data/2018_teda_arrangement.txt
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/tracker_test
PG_PROBE := import psycopg; psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3").close()

.PHONY: run test test-sqlite test-postgres lint format clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(VENV)/.dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

## run: install, upgrade the database, load the 2018 plan, create demo accounts, serve on http://127.0.0.1:5000
run: $(VENV)/.runtime
	$(FLASK) db upgrade
	$(FLASK) plan load $(PLAN)
	$(FLASK) demo
	TRACKER_SCHEDULER=inline $(FLASK) run --host $(HOST) --port $(PORT)

## test: lint, then the suite on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set or a server answers
test: lint test-sqlite test-postgres

test-sqlite: $(VENV)/.dev
	TEST_DATABASE_URL= $(BIN)/pytest

test-postgres: $(VENV)/.dev
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  $(BIN)/pytest; \
	elif $(BIN)/python -c '$(PG_PROBE)' 2>/dev/null; then \
	  TEST_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest; \
	else \
	  echo "No PostgreSQL on 127.0.0.1:5432 and no TEST_DATABASE_URL: PostgreSQL run skipped"; \
	fi

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
