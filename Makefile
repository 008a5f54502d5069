# The two entry points are `make demo` and `make test`; both install what they need first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PIP := $(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt

.PHONY: install install-dev demo test lint unit docs docs-check bench crash fuzz soak hypothesis-long reliability emulators clean

# What running needs (the embedded default): `make demo` uses only this.
install: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	touch $(STAMP)

# Every extra and the development tools: tests, lint, benchmarks.
install-dev: $(DEV_STAMP)

$(DEV_STAMP): $(STAMP)
	$(PIP) -e ".[dev,postgres,s3,server]"
	touch $(DEV_STAMP)

demo: install
	rm -rf build/demo
	$(BIN)/assetry demo --dir build/demo

lint: install-dev
	$(BIN)/ruff check src tests benchmarks docs/hooks
	$(BIN)/ruff format --check src tests benchmarks docs/hooks
	$(BIN)/mypy
	$(BIN)/mypy docs/hooks

# The object store emulators the tests start (Azurite from npm into build/azurite; the
# GCS emulator is a Python package of the dev extra).
emulators: install-dev
	$(BIN)/python -m tests.emulators

unit: install-dev emulators
	$(BIN)/pytest -n 2 -q

# The documentation site (mkdocs.yml, docs/) into build/site; the check fails on any
# warning (a broken link, a missing page or anchor, a docstring mkdocstrings cannot read).
docs: install-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

docs-check: install-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet --site-dir build/site-check

test: lint docs-check unit

bench: install-dev
	$(PIP) -e ".[bench]"
	$(BIN)/python benchmarks/bench_insert.py
	$(BIN)/python benchmarks/bench_executions.py
	$(BIN)/python benchmarks/bench_bags.py
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_scale.py

# Every hit of every fault point (SQLite and PostgreSQL); one line per kill survived.
crash: install-dev
	rm -f build/figures/crash-points.jsonl
	ASSETRY_CRASH_SWEEP=full ASSETRY_FIGURES_DIR=build/figures $(BIN)/pytest -n 2 -q tests/sql/test_crash_sweep.py
	$(BIN)/python -c "import json; rows = [json.loads(l) for l in open('build/figures/crash-points.jsonl')]; print('kill points survived:', len(rows), 'of', len(rows), '(', ', '.join(sorted({r['point'] for r in rows})), ')')"

# 300 damaged tag-file bags and 300 damaged archives, plus every hostile archive.
fuzz: install-dev
	rm -f build/figures/fuzzed-bags.jsonl
	ASSETRY_FUZZ_BAGS=300 ASSETRY_FIGURES_DIR=build/figures $(BIN)/pytest -n 2 -q tests/bags/test_fuzz.py
	$(BIN)/python -c "import json; n = sum(json.loads(l)['bags'] for l in open('build/figures/fuzzed-bags.jsonl')); print('fuzzed bags tried:', n, '- each read correctly or refused with BagError')"

# 4 processes x mixed operations for 5 minutes on SQLite and on PostgreSQL.
soak: install-dev
	ASSETRY_SOAK_SECONDS=300 $(BIN)/pytest -q -n 0 -s tests/sql/test_soak.py

# Thousands of generated identifiers, values, terms and staged names.
hypothesis-long: install-dev
	ASSETRY_HYPOTHESIS_PROFILE=long $(BIN)/pytest -q -n 0 -s tests/sql/test_properties.py

# Every long sweep, for the README's reliability figures (build/figures/).
reliability: crash fuzz soak hypothesis-long

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache
