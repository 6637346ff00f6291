"""The churn notebook runs through Papermill with small parameters and states its finding in words."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.notebook

NOTEBOOK = "notebooks/03_churn.ipynb"


def test_churn_notebook_runs_logs_and_summarises(tmp_path, isolated_mlflow) -> None:
    import papermill as pm

    from conftest import PROJECT_ROOT

    out = tmp_path / "churn.ipynb"
    nb = pm.execute_notebook(str(PROJECT_ROOT / NOTEBOOK), str(out),
                             parameters={"n_customers": 600, "seed": 5, "n_backtest_cutoffs": 1, "capacity": 30,
                                         "n_estimators": 60},
                             kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    markdown = [o["data"]["text/markdown"] for c in nb.cells for o in c.get("outputs", [])
                if "text/markdown" in o.get("data", {})]
    summary = next(m for m in markdown if m.startswith("## Executive summary"))
    assert re.search(r"ROC AUC of [\d.]+", summary) and "days since last purchase" in summary
    assert "value at risk" in summary
    images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert images >= 6
    text = "\n".join(str(o.get("data", {}).get("text/html", "")) for c in nb.cells for o in c.get("outputs", []))
    assert not re.search(r"\bC\d{4,}\b", text), "demo customer ids are pseudonymized"
    for kpi in ("kpi_high_risk_customers", "kpi_value_at_risk", "kpi_churn_auc"):
        assert list(isolated_mlflow.glob(f"*/*/metrics/{kpi}")), kpi
    runs = {p.parent.parent.name for p in isolated_mlflow.glob("*/*/metrics/kpi_churn_auc")}
    assert len(runs) == 1, "everything is logged into one run"
    assert len(list(isolated_mlflow.glob("*/models/*/meta.yaml"))) == 1, "the model is logged once"
