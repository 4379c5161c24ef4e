# trygg — the two commands of the quick start, and the rest of the chores.
#   make demo   set up, then run the Härnösand agreement 2012–2013 through the real engine
#               under a simulated clock: every mail, the timeline and both yearly reports
#   make check  lint, format check, import layers and the fast tests (pure and in-process SQLite),
#               in under a minute: run it constantly
#   make test   set up and run the tests (PostgreSQL tests skip without a server, except under CI)
#   make bench  run the benchmarks at full size and write docs/benchmarks.md (needs PostgreSQL and
#               Redis; BENCH_ARGS="--size tiny" for a quick run, output to another file with --out)
#   make e2e    only the end-to-end and fault tests (tests/e2e: throwaway PostgreSQL and Redis,
#               workers, a scheduler, an SMTP sink); prints the table of docs/reliability.md

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
AGREEMENT ?= config/agreements/harnosand-2012-2013.yaml

.PHONY: demo check test e2e venv bench clean

# The virtual environment is made or refreshed whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/trygg simulate $(AGREEMENT) --from 2012-01-01 --to 2013-12-31 --out var/simulation

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -m "not postgres and not redis and not slow" $(PYTEST_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

e2e: $(STAMP)
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf var .pytest_cache .hypothesis build dist *.egg-info
