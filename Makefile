# Glimpse: `make up` runs the bundle, `make test` runs every test suite.
# Only Python 3.11 is needed; the virtualenv is created on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP_RUN := $(VENV)/.installed-runtime
STAMP_DEV := $(VENV)/.installed-dev

# The two Ionic apps share apps/shared (API client, i18n core, formatting) by source.
APPS   := web manager
SHARED := apps/shared
SHARED_STAMP := $(SHARED)/node_modules/.installed
app_sources = $(shell find apps/$(1)/src apps/$(1)/index.html apps/$(1)/vite.config.ts apps/$(1)/tsconfig.json $(SHARED)/src -type f 2>/dev/null)
HAVE_NODE := $(shell command -v npm >/dev/null 2>&1 && node -e 'process.exit(Number(process.versions.node.split(".")[0]) < 20 ? 1 : 0)' 2>/dev/null && echo yes)

.PHONY: up test lint format typecheck bench seed clean venv web web-test browser

# The browser tests drive Debian's chromium (browsers are never downloaded).
CHROMIUM := /usr/bin/chromium
CHROMIUM_HINT := sudo apt-get install chromium

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required, found " + sys.version' 
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel

$(STAMP_RUN): $(BIN)/python requirements.txt pyproject.toml
	$(BIN)/pip install --quiet -r requirements.txt
	$(BIN)/pip install --quiet --no-deps --no-build-isolation --config-settings editable_mode=compat -e .
	touch $@

$(STAMP_DEV): $(STAMP_RUN) requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

venv: $(STAMP_DEV)

apps/%/node_modules/.installed: apps/%/package.json apps/%/package-lock.json
	cd apps/$* && npm ci --no-audit --no-fund
	touch $@

apps/web/dist/index.html: apps/web/node_modules/.installed $(call app_sources,web)
	cd apps/web && npm run build

apps/manager/dist/index.html: apps/manager/node_modules/.installed $(call app_sources,manager)
	cd apps/manager && npm run build

# The apps need Node 20; without it the API still runs, and says at "/" that the app is not built.
web:
ifeq ($(HAVE_NODE),yes)
	@$(MAKE) --no-print-directory $(foreach app,$(APPS),apps/$(app)/dist/index.html)
else
	@echo "Node 20 and npm are not installed: skipping the apps' build (the API still runs)."
endif

# Unit tests of the shared code and of both apps, their builds, and the user app's size budget.
web-test: $(SHARED_STAMP) $(foreach app,$(APPS),apps/$(app)/node_modules/.installed)
	cd $(SHARED) && npm test
	cd apps/web && npm test && npm run build && npm run size
	cd apps/manager && npm test && npm run build

up: $(STAMP_RUN) web
	$(BIN)/glimpse up

seed: $(STAMP_RUN)
	$(BIN)/glimpse seed

# Installs Debian's chromium once, when it is missing and we are root. Never fails:
# without a browser the suite skips the browser tests and says so at the end
# (under CI=true the browser tests fail instead).
browser:
	@if [ -x $(CHROMIUM) ]; then :; \
	elif [ "$$(id -u)" != 0 ]; then \
	  echo "$(CHROMIUM) is missing and this is not root: not installing it ($(CHROMIUM_HINT))."; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
	  echo "$(CHROMIUM) is missing and there is no apt-get: not installing it."; \
	else \
	  echo "Installing Debian's chromium for the browser tests (once)..."; \
	  export DEBIAN_FRONTEND=noninteractive; \
	  { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
	    || echo "apt-get could not install chromium: the browser tests will be skipped."; \
	fi

# In order: lint, format, types, the web app (unit tests, build, size), then pytest
# (PYTEST_ARGS narrows it, e.g. make test PYTEST_ARGS=tests/rules).
test: $(STAMP_DEV) browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	@$(MAKE) --no-print-directory web-test
	@status=0; GLIMPSE_TEST_CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest $(PYTEST_ARGS) || status=$$?; \
	if [ ! -x $(CHROMIUM) ]; then \
	  echo; \
	  case "$$CI" in \
	    [Tt]rue|TRUE|1|[Yy]es) echo "!!! BROWSER TESTS FAILED (CI=$$CI): $(CHROMIUM) is missing. Install it with: $(CHROMIUM_HINT)";; \
	    *) echo "!!! BROWSER TESTS SKIPPED: $(CHROMIUM) is missing. Install it with: $(CHROMIUM_HINT)"; \
	       echo "!!! (under CI=true a missing browser fails the suite)";; \
	  esac; \
	fi; \
	exit $$status

lint: $(STAMP_DEV)
	$(BIN)/ruff check .

format: $(STAMP_DEV)
	$(BIN)/ruff format .

typecheck: $(STAMP_DEV)
	$(BIN)/mypy

bench: $(STAMP_DEV)
	@# memory_cow.py is a diagnostic of two given processes, not a benchmark: it needs their ids.
	@for b in bench/*.py; do case $$b in bench/__init__.py|bench/memory_cow.py) continue;; esac; \
		echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis artifacts $(SHARED)/node_modules $(foreach app,$(APPS),apps/$(app)/node_modules apps/$(app)/dist)
