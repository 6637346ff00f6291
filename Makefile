# Plain entry points. Every target creates .venv on first use and is quick once it exists.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev

.PHONY: setup demo test lab bench mlflow-ui clean-reports

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet uv || echo "uv not available: falling back to pip"

$(STAMP): pyproject.toml | $(VENV)/bin/python
	@if [ -x $(VENV)/bin/uv ]; then \
	  $(VENV)/bin/uv pip install --python $(PY) -e ".[dev]"; \
	else \
	  $(PY) -m pip install -e ".[dev]"; \
	fi
	$(PY) -m ipykernel install --sys-prefix --name crm-models --display-name "crm_models (.venv)" >/dev/null
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/crm demo

$(VENV)/.installed-spark: pyproject.toml | $(STAMP)
	@if [ -x $(VENV)/bin/uv ]; then \
	  $(VENV)/bin/uv pip install --python $(PY) -e ".[dev,spark]"; \
	else \
	  $(PY) -m pip install -e ".[dev,spark]"; \
	fi
	touch $@

test: $(STAMP) $(VENV)/.installed-spark
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

mlflow-ui: $(STAMP)
	$(VENV)/bin/mlflow ui --backend-store-uri sqlite:///$(CURDIR)/experiments/mlflow.db --workers 1

clean-reports:
	rm -rf reports/*/ reports/index.html
