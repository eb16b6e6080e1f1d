# Voix — two commands: `make run` (demo on http://127.0.0.1:8000) and `make test`.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
PY := $(UV) run --frozen
# PostgreSQL used by `make test` (the test database test_<name> is created and dropped).
TEST_POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/voix
CHROMIUM ?= /usr/bin/chromium
ONLY ?=
# Test processes per suite (pytest-xdist); 0 runs in one process.
PYTEST_WORKERS ?= 2

.PHONY: help install run worker lint format migrations-check test test-sqlite test-postgres browser bench clean

help:
	@echo "make run    installe, migre, charge la démo et sert http://127.0.0.1:8000"
	@echo "make test   lint, contrôle des migrations, tests sur SQLite puis PostgreSQL"
	@echo "make worker lance le travailleur de tâches (file en base de données)"
	@echo "make bench  mesures de performance (make bench ONLY=nom pour une seule)"

$(UV):
	@echo "uv absent : installation avec pip…"
	python3 -m pip install --quiet --user uv || python3 -m pip install --quiet uv

# Bytecode compiled at install: processes do not compile the libraries they import at
# each start (PYTHONDONTWRITEBYTECODE may be set), which a server image would not either.
install: $(UV)
	$(UV) sync --frozen --compile-bytecode

run: install
	DEBUG=true $(PY) python manage.py migrate --noinput
	DEBUG=true $(PY) python manage.py seed_demo
	DEBUG=true $(PY) python manage.py runserver 127.0.0.1:8000

worker: install
	DEBUG=true $(PY) python manage.py db_worker

lint: install
	$(PY) ruff check .
	$(PY) ruff format --check .

format: install
	$(PY) ruff check --fix .
	$(PY) ruff format .

migrations-check: install
	DEBUG=true $(PY) python manage.py makemigrations --check --dry-run

# Browser tests drive Debian's Chromium; install it when missing and we may (root).
browser:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    echo "Chromium absent : installation du paquet Debian…"; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null); \
	  else echo "Chromium absent : lancez « sudo apt-get install chromium »."; exit 1; fi; \
	fi

test: lint migrations-check browser test-sqlite test-postgres

test-sqlite: install
	@echo "== Suite complète sur SQLite =="
	$(PY) pytest -n $(PYTEST_WORKERS)

test-postgres: install
	@if $(PY) python -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$(TEST_POSTGRES_URL)" 2>/dev/null \
	  || $(PY) python -c "import psycopg,sys,re; psycopg.connect(re.sub(r'/[^/]*$$','/postgres',sys.argv[1]), connect_timeout=3).close()" "$(TEST_POSTGRES_URL)" 2>/dev/null; then \
	  echo "== Suite complète sur PostgreSQL ($(TEST_POSTGRES_URL)) =="; \
	  DATABASE_URL="$(TEST_POSTGRES_URL)" $(PY) pytest -n $(PYTEST_WORKERS); \
	elif [ "$$CI" = "true" ]; then \
	  echo "ERREUR : PostgreSQL injoignable à $(TEST_POSTGRES_URL) — en CI la suite PostgreSQL est obligatoire."; exit 1; \
	else \
	  echo "ATTENTION : PostgreSQL injoignable à $(TEST_POSTGRES_URL) — suite PostgreSQL SAUTÉE (fixez TEST_POSTGRES_URL)."; \
	fi

bench: install
	@for script in benchmarks/*.py; do \
	  name=$$(basename $$script .py); \
	  if [ -z "$(ONLY)" ] || [ "$(ONLY)" = "$$name" ]; then DEBUG=true $(PY) python $$script || exit 1; fi; \
	done

clean:
	rm -rf .venv staticfiles voix.sqlite3 .pytest_cache .ruff_cache .hypothesis
