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
#: pytest-xdist workers per run (auto: one per CPU).
TEST_WORKERS ?= auto
#: The clocks each test marked `dates` runs under again: three years ahead; a second before New Year
#: in Shanghai, so that the year turns while the test runs; a Spring Festival holiday (2026-02-15..23,
#: with the make-up working Saturdays 14 and 28 February).
TEST_CLOCKS ?= +3y,2027-12-31T23:59:59,2026-02-16T10:00
#: Where the runs note which PostgreSQL and browser tests ran (read by tests/not_run.py at the end).
OUTCOMES := .pytest-outcomes.jsonl
# Compiled bytecode and pytest's rewritten test modules are cached between runs even where the
# environment says not to write them (an empty value switches the setting off).
PYTEST := PYTHONDONTWRITEBYTECODE= TEST_OUTCOME_LOG=$(CURDIR)/$(OUTCOMES) $(BIN)/pytest

.PHONY: run test test-sqlite test-postgres test-clocks lint format clean

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
	TRACKER_SCHEDULER=inline HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn -c gunicorn.conf.py 'tracker:create_app()'

## test: lint; the suite on SQLite, then on PostgreSQL; the date-sensitive tests under shifted clocks;
## then what did not run for want of PostgreSQL or Chromium (under CI=true, that fails the build)
test: lint $(VENV)/.dev
	@rm -f $(OUTCOMES); status=0; \
	$(MAKE) --no-print-directory test-sqlite || status=1; \
	$(MAKE) --no-print-directory test-postgres || status=1; \
	$(MAKE) --no-print-directory test-clocks || status=1; \
	$(BIN)/python tests/not_run.py $(OUTCOMES) || status=1; \
	exit $$status

test-sqlite: $(VENV)/.dev
	TEST_DATABASE_URL= $(PYTEST) -n $(TEST_WORKERS)

test-postgres: $(VENV)/.dev
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
	  echo "$(PYTEST) -n $(TEST_WORKERS)"; $(PYTEST) -n $(TEST_WORKERS); \
	elif $(BIN)/python -c '$(PG_PROBE)' 2>/dev/null; then \
	  echo "TEST_DATABASE_URL=$(PG_TEST_URL) $(PYTEST) -n $(TEST_WORKERS)"; \
	  TEST_DATABASE_URL=$(PG_TEST_URL) $(PYTEST) -n $(TEST_WORKERS); \
	else \
	  echo "No PostgreSQL on 127.0.0.1:5432 and no TEST_DATABASE_URL: PostgreSQL run skipped"; \
	  echo '{"run": "PostgreSQL", "absent": "no server on 127.0.0.1:5432 and no TEST_DATABASE_URL"}' >> $(OUTCOMES); \
	fi

## test-clocks: the tests marked `dates`, on SQLite, once under each of TEST_CLOCKS
test-clocks: $(VENV)/.dev
	TEST_DATABASE_URL= PYTHONDONTWRITEBYTECODE= $(BIN)/pytest -n $(TEST_WORKERS) -m dates --clocks "$(TEST_CLOCKS)"

lint: $(VENV)/.dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/xenon --max-absolute C tracker

format: $(VENV)/.dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache $(OUTCOMES)
