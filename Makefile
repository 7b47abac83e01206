# Shouhou (售后) — the two commands: `make demo` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip
STAMP := $(VENV)/.installed

.PHONY: demo test install lint bench soak clean graph

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -c constraints.txt -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

## Run the portal with demo data on SQLite: web, Celery worker and beat, simulated courier.
demo: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py assistant_build
	$(BIN)/python manage.py rundemo --seed

## Run the whole test suite (PostgreSQL/Redis when DATABASE_URL/REDIS_URL are set).
test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .

bench: $(STAMP)
	$(BIN)/python manage.py bench
	$(BIN)/python manage.py assistant_eval --check

soak: $(STAMP)
	SOAK=1 $(BIN)/python -m pytest -m "race or worker or crawl or model" tests
	SOAK=1 $(BIN)/python -m pytest tests/api/test_schemathesis.py

graph: $(STAMP)
	$(BIN)/python manage.py graph_transitions

clean:
	rm -rf var $(VENV)
