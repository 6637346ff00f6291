"""The attribution notebook runs through Papermill on a small demo and logs its KPIs."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.notebook

NOTEBOOK = "notebooks/04_attribution.ipynb"


def test_attribution_notebook_runs_on_the_demo(tmp_path, monkeypatch) -> None:
    import nbformat
    import papermill as pm

    from conftest import PROJECT_ROOT

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    source = nbformat.read(PROJECT_ROOT / NOTEBOOK, as_version=4)
    assert source.cells[0].cell_type == "markdown" and source.cells[0].source.startswith("# ")
    assert "parameters" in source.cells[1].metadata.get("tags", [])
    assert all(not c.get("outputs") for c in source.cells if c.cell_type == "code"), "no outputs committed"

    nb = pm.execute_notebook(
        str(PROJECT_ROOT / NOTEBOOK), str(tmp_path / "out.ipynb"),
        parameters={"n_customers": 600, "seed": 5, "n_boot": 10, "max_order": 2},
        kernel_name="python3", progress_bar=False, cwd=str(tmp_path),
    )
    markdown = [o["data"]["text/markdown"] for c in nb.cells for o in c.get("outputs", [])
                if "text/markdown" in o.get("data", {})]
    summary = next(m for m in markdown if m.startswith("**Executive summary.**"))
    assert re.search(r"\*\*[\d,]+ conversions\*\*", summary)
    assert "true channel effects" in summary
    images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert images >= 6
    metrics = {p.name for p in (tmp_path / "mlruns").glob("*/*/metrics/kpi_*")}
    assert {"kpi_top_channel_share", "kpi_conversions", "kpi_max_share_error_vs_truth", "kpi_markov_best_roas"} <= metrics
    assert any("Value per EUR spent (ROAS) by method" in m for m in markdown)


def test_attribution_notebook_says_clearly_that_the_touchpoints_are_empty(tmp_path, monkeypatch) -> None:
    import papermill as pm

    from conftest import PROJECT_ROOT

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    empty = tmp_path / "touchpoints.csv"
    empty.write_text("customer_id,timestamp,channel,conversion\n")
    with pytest.raises(pm.PapermillExecutionError) as info:
        pm.execute_notebook(
            str(PROJECT_ROOT / NOTEBOOK), str(tmp_path / "out.ipynb"),
            parameters={"data_source": str(empty), "n_boot": 5, "max_order": 1},
            kernel_name="python3", progress_bar=False, cwd=str(tmp_path),
        )
    assert info.value.ename == "DataContractError"
    assert "touchpoints table is empty" in info.value.evalue
