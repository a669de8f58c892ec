# Every target creates .venv and installs what it needs; run from the repository root.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint typecheck package-tree pytest docs bench clean browser

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

# mypy and mkdocstrings cannot see through the editable install's package mapping, so they read
# a tree laid out like the wheel (strategies/ and adapters/ inside passport_py/). Its files are
# hard links, not symlinks: griffe follows a symlink back to the source folder and would miss
# strategies/ and adapters/.
PACKAGE_TREE := build/typecheck

package-tree:
	rm -rf $(PACKAGE_TREE) && mkdir -p $(PACKAGE_TREE)
	cp -R -l passport_py $(PACKAGE_TREE)/passport_py
	cp -R -l strategies $(PACKAGE_TREE)/passport_py/strategies
	cp -R -l adapters $(PACKAGE_TREE)/passport_py/adapters

typecheck: $(STAMP) package-tree
	MYPYPATH=$(PACKAGE_TREE) $(BIN)/mypy --strict -p passport_py

# Material's end-of-life notice stays visible on purpose: docs/maintainers.md says what we do
# about it. mkdocs.yml reads the API reference from $(PACKAGE_TREE).
docs: $(STAMP) package-tree
	$(BIN)/mkdocs build --strict --quiet --site-dir build/site

pytest: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) build site .pytest_cache .mypy_cache .ruff_cache
