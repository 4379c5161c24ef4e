# trygg — the two commands of the quick start, and the rest of the chores.
#   make demo   set up, then run the Härnösand agreement 2012–2013 through the real engine
#               under a simulated clock: every mail, the timeline and both yearly reports
#   make check  lint, format check, import layers and the fast tests (pure and in-process SQLite:
#               not marked postgres, redis, slow or e2e), in under a minute: run it constantly
#   make test   set up and run every test, e2e included, on every core (as CI does; PostgreSQL and
#               Redis tests skip without a server, except under CI=true)
#   make bench  run the benchmarks at full size and write docs/benchmarks.md (needs PostgreSQL and
#               Redis; BENCH_ARGS="--size tiny" for a quick run, output to another file with --out)
#   make messages  extract every msgid of the code and templates into workflow/locale/messages.pot and
#               merge it into the sv and en catalogues; then translate the new (empty) entries in both
#               (tests/test_i18n.py fails while one is missing, empty or fuzzy)
#   make compose-test  docker-compose.yml built and brought up for real (images from Debian's packages,
#               docker-compose.ci.yml), the mails counted at its sink, container faults; .ci/run runs it
#               after make test. Without a Docker engine it says why and skips, except under CI=true,
#               where it installs Debian's docker.io and starts dockerd (tests/compose/run)
#   make e2e    only the end-to-end and fault tests (tests/e2e: throwaway PostgreSQL and Redis,
#               workers, a scheduler, an SMTP sink); prints the table of docs/reliability.md
# PYTEST_ARGS is added to pytest's arguments: PYTEST_ARGS="-n 0 -k sweep" runs serially, a subset.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
AGREEMENT ?= config/agreements/harnosand-2012-2013.yaml

.PHONY: demo check test e2e venv bench clean messages compose-test

# The virtual environment is made or refreshed whenever pyproject.toml changes.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/trygg simulate $(AGREEMENT) --from 2012-01-01 --to 2013-12-31 --out var/simulation

# pytest-xdist: one worker per core; tests that must not run at once share an xdist_group
# (the e2e topologies, the Redis database, a scenario made once), which one worker runs in turn.
XDIST := -n auto --dist loadgroup

check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python -m pytest $(XDIST) -q -m "not postgres and not redis and not slow and not e2e" $(PYTEST_ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(XDIST) $(PYTEST_ARGS)

e2e: $(STAMP)
	$(BIN)/python -m pytest tests/e2e $(PYTEST_ARGS)

compose-test: $(STAMP)
	BIN=$(BIN) tests/compose/run

# The gettext keywords of workflow/i18n.py (`_` and `gettext` are pybabel's defaults); tests/test_i18n.py
# reads this line.
BABEL_KEYWORDS := -k _n:1,2 -k _p:1c,2 -k _l -k _nl:1,2 -k _pl:1c,2
LOCALE := workflow/locale

messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg $(BABEL_KEYWORDS) --add-location=file --sort-output --no-wrap \
		--project=trygg -o $(LOCALE)/messages.pot workflow tasks web templates
	$(BIN)/pybabel update -i $(LOCALE)/messages.pot -d $(LOCALE) --no-fuzzy-matching --ignore-obsolete \
		--no-wrap

bench: $(STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	rm -rf var .pytest_cache .hypothesis build dist *.egg-info
