# Two commands on a fresh machine with only python3: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check --quiet
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.dev-installed
NODE_TOOLS := tools/node
NODE_STAMP := $(NODE_TOOLS)/node_modules/.installed

.PHONY: run test test-fast lint typecheck unit unit-fast selfscan lock deps-upgrade node-tools clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Every install is the locked set (requirements/*.txt, with hashes; `make lock` refreshes it), pip,
# setuptools and wheel included, and Bastion itself goes in editable without build isolation, so
# two installs on two days are the same. pyproject.toml keeps the ranges that users install from.
$(STAMP): pyproject.toml requirements/run.txt | $(BIN)/python
	$(PIP) install --require-hashes -r requirements/run.txt
	$(PIP) install --no-deps --no-build-isolation -e .
	touch $@

$(DEV_STAMP): pyproject.toml requirements/dev.txt | $(BIN)/python $(NODE_STAMP)
	$(PIP) install --require-hashes -r requirements/dev.txt
	$(PIP) install --no-deps --no-build-isolation -e .
	touch $@ $(STAMP)

## node-tools: the package managers the fix tests run for real (pnpm, yarn berry and classic), pinned with
## integrity hashes in tools/node/package-lock.json, into tools/node/node_modules (git-ignored).
## Without npm the tests that need them are skipped, each saying why.
node-tools: $(NODE_STAMP)

$(NODE_STAMP): $(NODE_TOOLS)/package.json $(NODE_TOOLS)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix $(NODE_TOOLS) --ignore-scripts --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm is not installed: the tests that run pnpm and yarn will be skipped"; fi

## run: install Bastion into .venv and scan the demo project (findings are expected: exit 1 is fine)
## The advisory database comes from examples/advisories (a real OSV + KEV subset): no network.
DEMO_DB := build/advisories.sqlite3
run: $(STAMP)
	@mkdir -p build
	@$(BIN)/bastion db import examples/advisories/osv --database $(DEMO_DB) >/dev/null
	@$(BIN)/bastion db import --kev examples/advisories/kev.json --database $(DEMO_DB) >/dev/null
	@BASTION_ADVISORY_DB=$(DEMO_DB) $(BIN)/bastion scan examples/demo-app; status=$$?; [ $$status -le 1 ] || exit $$status

## test: lint, type-check, the whole test suite with coverage, and Bastion scanning itself (what CI runs)
test: lint typecheck unit selfscan

## test-fast: the edit loop: lint, type-check and the suite without the slow tests, stopping at the
## first failure, no coverage (make test still runs everything)
test-fast: lint typecheck unit-fast

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

typecheck: $(DEV_STAMP)
	$(BIN)/mypy

# pytest-xdist: one worker per core (WORKERS=0 runs in this process, e.g. to use a debugger).
WORKERS ?= auto
unit: $(DEV_STAMP)
	$(BIN)/pytest -n $(WORKERS) --cov=bastion --cov-report=term --cov-fail-under=85

unit-fast: $(DEV_STAMP)
	$(BIN)/pytest -n $(WORKERS) -m "not slow" -x -q

## selfscan: Bastion's code, and the packages installed in .venv against security/advisories
SELF_DB := build/selfscan-advisories.sqlite3
selfscan: $(DEV_STAMP)
	@mkdir -p build
	$(BIN)/bastion db import security/advisories/pypa --database $(SELF_DB)
	BASTION_ADVISORY_DB=$(SELF_DB) $(BIN)/bastion scan . --trust-repo-config --env $(BIN)/python --fail-on low

## lock: refresh requirements/dev.txt and run.txt from pyproject.toml's ranges (hashes included);
## `make lock UPGRADE=1` takes the newest releases, otherwise the pinned versions are kept
lock:
	sh scripts/lock.sh $(if $(UPGRADE),--upgrade,)

## deps-upgrade: try the newest releases in a venv of their own, run the checks there, report what
## broke (build/deps-upgrade/REPORT.md); the committed lock is not touched
deps-upgrade:
	sh scripts/deps-upgrade.sh

clean:
	rm -rf $(VENV) $(NODE_TOOLS)/node_modules .coverage .coverage.* .mypy_cache .ruff_cache .pytest_cache
