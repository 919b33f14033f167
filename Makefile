# Stiva's developer entry points. `make run` and `make test` work on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# The PostgreSQL pass of `make test` (skipped, and said so, when the server is not reachable).
PG_HOST ?= 127.0.0.1
PG_PORT ?= 5432
PG_URL  ?= postgresql+psycopg://postgres@$(PG_HOST):$(PG_PORT)/postgres
PG_UP   := $(BIN)/python -c "import socket; socket.create_connection(('$(PG_HOST)', $(PG_PORT)), 2).close()"

.PHONY: install run test test-sqlite test-postgres lint format tools bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: install
	$(BIN)/stiva serve

lint: install
	$(BIN)/ruff format --check src tests bench
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff format src tests bench
	$(BIN)/ruff check --fix src tests bench

tools:
	./scripts/install-tools.sh skopeo

test: install tools lint test-sqlite
	@if $(PG_UP) 2>/dev/null; then \
		$(MAKE) --no-print-directory test-postgres; \
	else \
		echo "*** PostgreSQL is not reachable at $(PG_HOST):$(PG_PORT): PostgreSQL pass SKIPPED ***"; \
	fi

test-sqlite: install tools
	@echo "=== test pass 1: metadata on SQLite ==="
	STIVA_TEST_DATABASE=sqlite PATH="$(abspath $(BIN)):$$PATH" $(BIN)/pytest

test-postgres: install tools
	@echo "=== test pass 2: metadata on PostgreSQL at $(PG_HOST):$(PG_PORT) ==="
	STIVA_TEST_DATABASE="$(PG_URL)" PATH="$(abspath $(BIN)):$$PATH" $(BIN)/pytest

bench: install
	./scripts/install-tools.sh skopeo docker-registry wrk
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/python bench/registry_bench.py

clean:
	rm -rf $(VENV) build src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
