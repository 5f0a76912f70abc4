# Keyhouse: `make run` to try it, `make test` to test it. Both install into .venv first.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

run: $(VENV)/.installed
	$(VENV)/bin/keyhouse dev

# The browser tests use Debian's Chromium (or $$CHROMIUM_PATH) when present,
# otherwise Playwright's own Chromium, downloaded once.
test: $(VENV)/.installed
	@command -v chromium >/dev/null 2>&1 || [ -n "$$CHROMIUM_PATH" ] || $(PY) -m playwright install chromium
	$(PY) -m pytest
