"""The CLV notebook runs through Papermill with small parameters, logs its KPIs and exports offline."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.notebook

NOTEBOOK = "notebooks/02_clv.ipynb"


def test_clv_notebook_runs_and_reports_offline(tmp_path, isolated_mlflow) -> None:
    import nbformat
    import papermill as pm

    from conftest import PROJECT_ROOT
    from crm_models.reporting.export import render_html

    source = nbformat.read(PROJECT_ROOT / NOTEBOOK, as_version=4)
    assert source.cells[0].cell_type == "markdown" and source.cells[0].source.startswith("# ")
    assert "parameters" in source.cells[1].metadata.get("tags", [])
    assert all(not c.get("outputs") for c in source.cells if c.cell_type == "code"), "no outputs committed"

    out = tmp_path / "clv.ipynb"
    nb = pm.execute_notebook(str(PROJECT_ROOT / NOTEBOOK), str(out),
                             parameters={"n_customers": 600, "seed": 3, "n_bootstrap": 10},
                             kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    markdown = [o["data"]["text/markdown"] for c in nb.cells for o in c.get("outputs", [])
                if "text/markdown" in o.get("data", {})]
    summary = next(m for m in markdown if m.startswith("## Executive summary"))
    assert re.search(r"\*\*[\d,]+ customers\*\*", summary)
    assert "holdout" in summary and "still active" in summary

    html = render_html(nb)
    assert "<script src=\"http" not in html and "cdn." not in html.lower()
    assert "customer_lifetime_value(" not in html, "no code in the report"
    assert html.count("data:image/png;base64") >= 3, "charts are embedded"
    assert not re.search(r"\bC\d{4}\b", html), "demo customer ids are pseudonymized"

    for kpi in ("kpi_total_clv", "kpi_mean_clv", "kpi_active_customers"):
        assert list(isolated_mlflow.glob(f"*/*/metrics/{kpi}")), f"the notebook logged {kpi}"
