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
    assert "Repurchase within 30 days, read from the transaction log" in summary
    # the repurchase section: Kaplan-Meier sentences with the log-rank test, the simulated truth, the segment verdict
    section = next(m for m in markdown if m.startswith("Outcomes come from"))
    assert "Log-rank test across 3 arms" in section and "bought again within 60 days" in section
    assert "Simulated data: the true repurchase effects" in section and "delta method" in section
    verdict = next(m for m in markdown if m.startswith("**Effects by segment**"))
    assert "repurchase within 30 days by RFM segment before the start" in verdict and "Cochran's Q" in verdict
    html = [o["data"]["text/html"] for c in nb.cells for o in c.get("outputs", []) if "text/html" in o.get("data", {})]
    assert any("Revenue per order, 30 days" in h for h in html) and any("Items per order, 30 days" in h for h in html)
    images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert images >= 6  # the repurchase curves are the sixth chart
    assert list((tmp_path / "mlruns").glob("*/*/metrics/kpi_experiment_lift"))
    assert list((tmp_path / "mlruns").glob("*/*/metrics/kpi_incremental_profit"))
    assert list((tmp_path / "mlruns").glob("*/*/metrics/repurchase_logrank_p"))


def test_without_a_transaction_log_the_repurchase_section_says_why(tmp_path, monkeypatch) -> None:
    """A non-demo experiment without ``transactions_source`` runs, and the section states why it is skipped."""
    import papermill as pm

    from conftest import PROJECT_ROOT
    from crm_models.datasets import make_demo

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    path = tmp_path / "experiment.csv"
    make_demo(seed=5, n_customers=1500).experiment.to_csv(path, index=False)
    nb = pm.execute_notebook(str(PROJECT_ROOT / NOTEBOOK), str(tmp_path / "ab.ipynb"),
                             parameters={"experiment_path": str(path), "n_permutations": 10, "n_bootstrap": 10},
                             kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    markdown = [o["data"]["text/markdown"] for c in nb.cells for o in c.get("outputs", [])
                if "text/markdown" in o.get("data", {})]
    assert any("Repurchase from transactions is skipped" in m and "transactions_source" in m for m in markdown)
