# Shouhou (售后) — the two commands: `make demo` and `make test`.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip
STAMP := $(VENV)/.installed

.PHONY: demo test install lint bench wrk soak clean graph mutate coverage-report

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
## COVERAGE=1 measures it, worker and web subprocesses included: report in var/coverage/ (see docs/mutation.md).
## PYTEST_ARGS narrows it (e.g. PYTEST_ARGS=tests/cases).
test: $(STAMP)
ifeq ($(COVERAGE),1)
	rm -rf var/coverage && mkdir -p var/coverage
	$(BIN)/coverage run -m pytest $(PYTEST_ARGS)
	$(MAKE) coverage-report
else
	$(BIN)/python -m pytest $(PYTEST_ARGS)
endif

coverage-report: $(STAMP)
	$(BIN)/coverage combine -q
	$(BIN)/coverage report --sort=cover | tee var/coverage/report.txt

## Mutation testing of the money and authority guards, per module, resumable (docs/mutation.md).
## MODULES=policy narrows it; `$(BIN)/python mutation/run.py --report` shows the table so far.
mutate: $(STAMP)
	$(BIN)/python mutation/run.py $(MODULES)

lint: $(STAMP)
	$(BIN)/ruff check .

## The benchmarks (docs/benchmarks.md) on PostgreSQL. The data is generated only when missing (a fresh
## database: ~3–5 min at scale 1.0), so a second `make bench` reuses it; BENCH_ARGS narrows a run,
## e.g. BENCH_ARGS="--no-generate --only b1,b4 --runs 3". B3 needs wrk: installed here when missing.
BENCH_ARGS ?=
bench: $(STAMP) wrk
	$(BIN)/python manage.py bench $(BENCH_ARGS)
	$(BIN)/python manage.py assistant_eval --check

## wrk (B3's load generator): apt-get it when missing, as .ci/run does for PgBouncer (sudo when not root).
wrk:
	@command -v wrk >/dev/null || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  echo "installing wrk (apt-get) for B3"; \
	  ( $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk ) >/dev/null \
	  || { echo "could not install wrk: install it (apt-get install wrk), or run without B3: make bench BENCH_ARGS='--only b1,b2,b4,b5'" >&2; exit 1; }; }

soak: $(STAMP)
	SOAK=1 $(BIN)/python -m pytest -m "race or worker or crawl or model" tests
	SOAK=1 $(BIN)/python -m pytest tests/api/test_schemathesis.py

graph: $(STAMP)
	$(BIN)/python manage.py graph_transitions

clean:
	rm -rf var $(VENV)
