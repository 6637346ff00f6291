"""The A/B and uplift notebook runs through Papermill with small parameters and states its finding."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.notebook

NOTEBOOK = "notebooks/05_ab_uplift.ipynb"


def test_ab_uplift_notebook_runs(tmp_path, monkeypatch) -> None:
    import papermill as pm

    from conftest import PROJECT_ROOT

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # 2 shared cores: OpenMP threads only fight each other
    out = tmp_path / "ab.ipynb"
    nb = pm.execute_notebook(str(PROJECT_ROOT / NOTEBOOK), str(out),
                             parameters={"n_customers": 3000, "seed": 3, "n_permutations": 20, "n_bootstrap": 20},
                             kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    markdown = [o["data"]["text/markdown"] for c in nb.cells for o in c.get("outputs", [])
                if "text/markdown" in o.get("data", {})]
    summary = next(m for m in markdown if m.startswith("## Executive summary"))
    assert "percentage points" in summary and "incremental profit" in summary
    images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert images >= 5
    assert list((tmp_path / "mlruns").glob("*/*/metrics/kpi_experiment_lift"))
    assert list((tmp_path / "mlruns").glob("*/*/metrics/kpi_incremental_profit"))
