# `make run` and `make test` set up .venv on first use (and again when the pins change).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/lrtui $(ARGS)

test: $(STAMP)
	$(BIN)/ruff check lrtui tests
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4 $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m lrtui.bench $(ARGS)

clean:
	rm -rf $(VENV)
