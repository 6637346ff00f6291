# Plain entry points. Every target creates .venv on first use and is quick once it exists.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev

.PHONY: setup demo test lab bench mlflow-ui clean-reports chromium report-index browser-test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet uv || echo "uv not available: falling back to pip"

$(STAMP): pyproject.toml | $(VENV)/bin/python
	@if [ -x $(VENV)/bin/uv ]; then \
	  $(VENV)/bin/uv pip install --compile-bytecode --python $(PY) -e ".[dev]"; \
	else \
	  $(PY) -m pip install --compile -e ".[dev]"; \
	fi
	$(PY) -m ipykernel install --sys-prefix --name crm-models --display-name "crm_models (.venv)" >/dev/null
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/crm demo

$(VENV)/.installed-spark: pyproject.toml | $(STAMP)
	@if [ -x $(VENV)/bin/uv ]; then \
	  $(VENV)/bin/uv pip install --compile-bytecode --python $(PY) -e ".[dev,spark]"; \
	else \
	  $(PY) -m pip install --compile -e ".[dev,spark]"; \
	fi
	touch $@

# Chromium (Debian's package) for the real-browser report test; the test skips with a reason if this fails.
chromium:
	-@bash scripts/install-chromium.sh

test: $(STAMP) $(VENV)/.installed-spark chromium
	$(PY) -m pytest -n 2 --dist loadfile

lab: $(STAMP)
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

$(VENV)/.installed-bench: pyproject.toml | $(STAMP)
	@if [ -x $(VENV)/bin/uv ]; then \
	  $(VENV)/bin/uv pip install --python $(PY) -e ".[dev,bench]"; \
	else \
	  $(PY) -m pip install -e ".[dev,bench]"; \
	fi
	touch $@

bench: $(VENV)/.installed-bench
	$(PY) bench/run_all.py

report-index: $(STAMP)
	$(VENV)/bin/crm report-index

browser-test: $(STAMP) chromium
	CRM_REPORTS_DIR=reports $(PY) -m pytest tests/test_browser_reports.py -q

mlflow-ui: $(STAMP)
	$(VENV)/bin/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/experiments/mlflow.db --workers 1

clean-reports:
	rm -rf reports/*/ reports/index.html

# Mutation testing (mutmut), one family at a time, with a time budget in seconds; slow, so not in CI.
# make mutation FAMILY=rfm | FAMILY=churn | FAMILY=uplift/metrics [BUDGET=900]; results in docs/quality.md.
.PHONY: mutation
FAMILY ?= rfm
BUDGET ?= 900
$(VENV)/.installed-mutation: pyproject.toml | $(STAMP)
	@if [ -x $(VENV)/bin/uv ]; then \
	  $(VENV)/bin/uv pip install --python $(PY) -e ".[dev,mutation]"; \
	else \
	  $(PY) -m pip install -e ".[dev,mutation]"; \
	fi
	touch $@

mutation: $(VENV)/.installed-mutation
	$(PY) scripts/mutation.py $(FAMILY) --budget $(BUDGET)
