# jira-server-sync: every target creates .venv (Python 3.12+) from the lock files when needed.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install test test-fast lint typecheck demo catalog-ui bench check clean

$(STAMP): requirements.lock requirements-dev.lock scripts/find-python.sh
	@py="$$(scripts/find-python.sh)" || exit 1; \
	if [ ! -x $(BIN)/python ]; then echo "creating $(VENV) with $$py"; "$$py" -m venv $(VENV); fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	@touch $(STAMP)

install: $(STAMP)

# The README's test command: lint, types, then the whole suite (unit, harness, emulator, e2e).
test: $(STAMP) lint typecheck
	$(BIN)/python -m pytest -q

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not e2e"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile
	$(BIN)/yamllint --strict .port deploy .github config.yaml .yamllint
	$(BIN)/actionlint .github/workflows/*.yml deploy/ci/github-actions.yml

typecheck: $(STAMP)
	$(BIN)/mypy .

# The README's first command: emulator + local catalog + one `ocean sail` run, then a summary.
demo: $(STAMP)
	$(BIN)/python -m local_stack.demo

# Serves the catalog the last `make demo` left in .demo/ (read-only HTML page).
catalog-ui: $(STAMP)
	$(BIN)/python -m local_stack.catalog --db .demo/catalog.sqlite --port 8765

bench: $(STAMP)
	$(BIN)/python -m benchmarks.sync_benchmark

# Connection check with the OCEAN__INTEGRATION__CONFIG__* variables of the environment. make
# exits 2 whatever the check's code; scripts/check exits with it (1 failed, 2 bad settings).
check: $(STAMP)
	@$(BIN)/python -m jira_server.check || { code=$$?; \
	  echo "make check: the check exited $$code (1 failed, 2 bad settings); make reports 2 for any failure, scripts/check passes the code through" >&2; \
	  exit $$code; }

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache
