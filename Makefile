# Every target creates .venv and installs what it needs; run from the repository root.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck pytest docs bench clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m passport_py.demo

test: browser lint typecheck docs pytest

# Browser tests run whenever CI=true; install Debian's Chromium there when it is missing.
browser:
	@if [ "$${CI:-}" = "true" ] && { ! command -v chromium || ! command -v chromedriver; } >/dev/null 2>&1; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver; fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy cannot see through the editable install's package mapping, so it checks a tree of
# symlinks laid out like the wheel (strategies/ and adapters/ inside passport_py/).
typecheck: $(STAMP)
	rm -rf build/typecheck && mkdir -p build/typecheck/passport_py
	for f in passport_py/*; do ln -s "$$PWD/$$f" build/typecheck/passport_py/; done
	ln -s "$$PWD/strategies" build/typecheck/passport_py/strategies
	ln -s "$$PWD/adapters" build/typecheck/passport_py/adapters
	MYPYPATH=build/typecheck $(BIN)/mypy --strict -p passport_py

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir build/site

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build site .pytest_cache .mypy_cache .ruff_cache
