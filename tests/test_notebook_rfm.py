"""The RFM notebook runs through Papermill with small parameters and exports to an offline report."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.notebook

NOTEBOOK = "notebooks/01_rfm_segmentation.ipynb"


def test_rfm_notebook_runs_and_reports_offline(tmp_path, isolated_mlflow) -> None:
    import papermill as pm

    from conftest import PROJECT_ROOT
    from crm_models.reporting.export import render_html

    out = tmp_path / "rfm.ipynb"
    nb = pm.execute_notebook(str(PROJECT_ROOT / NOTEBOOK), str(out), parameters={"n_customers": 400, "seed": 3},
                             kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    markdown = [o["data"]["text/markdown"] for c in nb.cells for o in c.get("outputs", [])
                if "text/markdown" in o.get("data", {})]
    summary = next(m for m in markdown if m.startswith("## Executive summary"))
    assert re.search(r"\*\*[\d,]+ customers\*\*", summary)
    assert "high-value" in summary and "at risk" in summary

    html = render_html(nb)
    assert "<script src=\"http" not in html and "cdn." not in html.lower()
    assert "rfm_scores(" not in html, "no code in the report"
    assert html.count("data:image/png;base64") >= 3, "charts are embedded"
    assert not re.search(r"\bC\d{4}\b", html), "demo customer ids (C0001 ...) are pseudonymized"

    runs = list(isolated_mlflow.glob("*/*/metrics/kpi_active_customers"))
    assert runs, "the notebook logged its headline metric to MLflow"
