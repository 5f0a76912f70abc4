# Keyhouse: `make run` to try it, `make test` to test it. Both install into .venv first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

SDK := tests/sdk

.PHONY: run test sdk

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

# HighLevel's JavaScript SDK for tests/api/test_sdks.py (Node.js and npm: Debian's `nodejs npm`).
$(SDK)/node_modules/.installed: $(SDK)/package.json $(SDK)/package-lock.json
	npm ci --prefix $(SDK) --no-audit --no-fund --loglevel=error
	touch $@

sdk: $(SDK)/node_modules/.installed

run: $(VENV)/.installed
	$(VENV)/bin/keyhouse dev

# The browser tests use Debian's Chromium (or $$CHROMIUM_PATH) when present,
# otherwise Playwright's own Chromium, downloaded once.
test: $(VENV)/.installed sdk
	@command -v chromium >/dev/null 2>&1 || [ -n "$$CHROMIUM_PATH" ] || $(PY) -m playwright install chromium
	$(PY) -m pytest
