# cxkit: two commands do everything on a fresh machine with Python 3.11+.
#   make run    set up .venv, run the pipeline on the sample data -> reports/latest
#   make test   set up .venv, run the whole test suite (unit tests + notebook smoke run)
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall only when pyproject.toml changes (the stamp is older than it).
STAMP := $(VENV)/.installed
PARAMS ?= params/sample.yaml

.PHONY: run test lab dashboard sample bench clean venv

run: $(STAMP)
	$(BIN)/cxkit run $(PARAMS)

# One pytest invocation: unit tests + the real notebooks, prepared by the runner with
# params/smoke.yaml injected (tiny MCMC), executed by nbval. tests/fixtures notebooks are
# excluded by tests/conftest.py (collect_ignore). Two pytest-xdist workers: many tests wait on
# kernels, browsers or a JVM; the notebooks stay together, in order, on one worker.
test: $(STAMP)
	rm -rf build/nbval
	$(BIN)/python -c "from cxkit.runner import prepare; prepare('params/smoke.yaml', 'build/nbval')"
	$(BIN)/python -m pytest tests build/nbval --nbval-lax --nbval-current-env -n 2 --dist loadgroup -q --durations=15

lab: $(STAMP)
	$(BIN)/jupyter lab --notebook-dir=.

dashboard: $(STAMP)
	$(BIN)/cxkit dashboard --run-dir reports/latest

sample: $(STAMP)
	$(BIN)/cxkit simulate --seed 42 --out data/sample

# The benchmarks (see benchmarks/README.md): full size, each prints ratios to its baseline.
bench: $(STAMP)
	$(BIN)/python benchmarks/ingest.py --repeat 3
	$(BIN)/python benchmarks/drivers.py
	$(BIN)/python benchmarks/voice.py
	$(BIN)/python benchmarks/dashboard.py

venv: $(STAMP)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	  || { echo "cxkit needs Python 3.11+ ($(PYTHON) is $$($(PYTHON) -V)); try: make PYTHON=python3.12 ..."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[spark,test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name cxkit --display-name "Python (cxkit)"
	touch $@

clean:
	rm -rf build
