# ServiceLane. `make run` serves the demo shop; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app webapp
HOST ?= 127.0.0.1
PORT ?= 5000
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: setup run worker test test-browser test-pg test-stack stack stack-test nginx bench bench-scale messages translations chromium clean

setup: $(VENV)/.installed translations

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ needed"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

# Compiled catalogues are build output (not in git).
translations: $(VENV)/.installed
	@$(VENV)/bin/pybabel compile -d translations >/dev/null

# After adding or changing user-facing text: extract, merge, then translate the new entries.
messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o translations/messages.pot .
	$(VENV)/bin/pybabel update -N -i translations/messages.pot -d translations
	$(PY) scripts/i18n_fill.py

run: setup
	$(FLASK) db upgrade
	@if $(FLASK) is-empty; then $(FLASK) demo-data; fi
	@$(PY) scripts/banner.py $(HOST) $(PORT)
	@echo "Wall screens (workshop board, appointment board):" && $(FLASK) board-url --base http://$(HOST):$(PORT) | sed 's/^/  /'; echo
	$(PY) -m webapp --host $(HOST) --port $(PORT)

# The standalone task consumer (notices, escalation, follow-ups due) for production; run the
# servers with `python -m webapp --no-worker` or gunicorn beside it. `make run` needs no worker.
worker: setup
	$(FLASK) worker

# Debian's Chromium for the browser tests (Playwright cannot download its own here).
chromium:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing chromium and CJK fonts for the browser tests…"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null) \
	      || echo "WARNING: could not install chromium; browser tests will be skipped"; \
	  else echo "WARNING: chromium missing (apt-get install chromium fonts-noto-cjk); browser tests will be skipped"; fi; \
	fi

# Unit, HTTP and browser tests each in two processes (each with its own databases and servers),
# then the HTTP tests again on PostgreSQL. One after the other: each pass keeps both CPUs busy.
test: setup chromium
	$(PY) -m pytest -n 2 tests/unit tests/http
	@$(MAKE) --no-print-directory test-browser
	@$(MAKE) --no-print-directory test-pg
	@$(MAKE) --no-print-directory test-stack

test-browser: setup chromium
	$(PY) -m pytest -n 2 tests/browser

# The tests whose outcome the database decides, again on PostgreSQL (tests/conftest.py: PG_PASS).
test-pg: setup
	@if $(PY) scripts/pg_ready.py "$(PG_TEST_URL)"; then \
	  echo "== PostgreSQL pass ($(PG_TEST_URL))"; \
	  SERVICELANE_TEST_NS=$${SERVICELANE_TEST_NS:-1} SERVICELANE_TEST_DB=postgresql SERVICELANE_TEST_PG_ADMIN_URL="$(PG_TEST_URL)" \
	    $(PY) -m pytest -n 2 tests/http -q; \
	else echo "== PostgreSQL not reachable at $(PG_TEST_URL): PostgreSQL pass skipped"; fi

# The production stack on this machine (deploy/): nginx on :8080 in front of two gunicorn processes
# (8001, 8002), the consumer, PostgreSQL (servicelane_stack) and Redis db 0. Ctrl-C stops everything.
# STACK_DATABASE_URL, STACK_REDIS_URL, STACK_PORT, STACK_WEB_PORTS override.
stack: setup nginx
	$(PY) deploy/stack.py

# Debian's nginx for `make stack` and its tests (run unprivileged from its own prefix).
nginx:
	@if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing nginx for the stack…"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null) \
	      || echo "WARNING: could not install nginx; the stack tests will be skipped"; \
	  else echo "WARNING: nginx missing (apt-get install nginx); make stack cannot start, its tests are skipped"; fi; \
	fi

# The stack driven in Chromium (tests/stack): across processes, a process killed, Redis restarted.
test-stack stack-test: setup chromium nginx
	SERVICELANE_TEST_NS=$${SERVICELANE_TEST_NS:-1} $(PY) -m pytest -n 0 tests/stack -q

bench: setup
	$(PY) -m bench

# The scale scenario alone, up to a million visits on SQLite and PostgreSQL (about 15 minutes).
bench-scale: setup
	$(PY) -m bench.scale --scale 10k,100k,1m

clean:
	rm -rf $(VENV) instance screenshots .pytest_cache
