# `make run` and `make test` set up .venv on first use, and again when the pins or the Python change.
#   PYTHON=python3.12  build .venv with this interpreter (3.11 or newer); later commands keep it
#   CPU=1              also look for torch on PyTorch's CPU wheel index: no CUDA packages
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
APP_STAMP := $(VENV)/.installed-app
TEST_STAMP := $(VENV)/.installed-test
PIP := $(BIN)/python -m pip install --disable-pip-version-check -c constraints.txt
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu
ifneq ($(filter 1 yes true,$(CPU)),)
PIP += --extra-index-url $(TORCH_CPU_INDEX)
endif

# .venv's Python version, empty if it does not run or is older than 3.11. Rebuild such a .venv,
# and one made by another version than a PYTHON given on the command line or in the environment.
VENV_VERSION := $(shell $(BIN)/python -c 'import sys; sys.version_info >= (3, 11) and print(sys.version.split()[0])' 2>/dev/null)
ifeq ($(VENV_VERSION),)
NEW_VENV := FORCE
else ifneq ($(origin PYTHON),file)
ifneq ($(shell $(PYTHON) -c 'import sys; print(sys.version.split()[0])' 2>/dev/null),$(VENV_VERSION))
NEW_VENV := FORCE
endif
endif

.PHONY: run test lint typecheck bench clean FORCE

# Check $(PYTHON) first, then start .venv afresh.
$(VENV)/pyvenv.cfg: $(NEW_VENV)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "lrtui needs Python 3.11 or newer; PYTHON=$(PYTHON) is $$(command -v $(PYTHON) >/dev/null && $(PYTHON) --version 2>&1 || echo not installed). Name another: make $(or $(MAKECMDGOALS),run) PYTHON=python3.12" >&2; \
	  exit 1; }
	@if [ -e $(VENV) ]; then echo "rebuilding .venv with $(PYTHON): it was made by $$($(BIN)/python --version 2>/dev/null || echo a Python that no longer runs)"; fi
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)

# What the app needs (torch is the big part: see the README).
$(APP_STAMP): $(VENV)/pyvenv.cfg pyproject.toml constraints.txt
	$(PIP) -e .
	touch $@

# The test tools, on top.
$(TEST_STAMP): $(APP_STAMP)
	$(PIP) --quiet -e '.[test]'
	touch $@

run: $(APP_STAMP)
	$(BIN)/lrtui $(ARGS)

test: $(TEST_STAMP)
	$(BIN)/ruff check lrtui tests benchmarks
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist worksteal $(PYTEST_ARGS)

lint: $(TEST_STAMP)
	$(BIN)/ruff check lrtui tests benchmarks
	$(BIN)/ruff format --check lrtui tests benchmarks
	$(BIN)/lint-imports --no-cache
	$(MAKE) --no-print-directory typecheck

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

bench: $(APP_STAMP)
	$(BIN)/python -m benchmarks $(ARGS)

clean:
	rm -rf $(VENV)
