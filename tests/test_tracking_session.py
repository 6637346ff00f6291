"""A notebook run outside ``crm run`` (JupyterLab) opens exactly one MLflow run, reused by every log call."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from nbformat.v4 import new_code_cell, new_notebook

CELLS = [
    "from crm_models.tracking import log_kpis, log_metrics, log_params, log_table, set_tags\nimport pandas as pd",
    "log_params({'horizon': 52})",
    "log_metrics({'auc': 0.71})",
    "log_kpis({'active_customers': 10, 'verdict': 'keep going'})",
    "log_table(pd.DataFrame({'segment': ['a'], 'n': [1]}), 'tables/segments.csv')",
    "set_tags({'stage': 'explore'})",
]


@pytest.mark.notebook
def test_interactive_notebook_opens_one_mlflow_run(tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient
    from nbclient import NotebookClient

    from crm_models.reporting.runner import _default_kernel

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    for name in ("MLFLOW_RUN_ID", "MLFLOW_EXPERIMENT_ID", "CRM_SUITE_RUN_ID"):
        monkeypatch.delenv(name, raising=False)
    nb = new_notebook(cells=[new_code_cell(c) for c in CELLS])
    NotebookClient(nb, kernel_name=_default_kernel(), timeout=120,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    client = MlflowClient(uri)
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert len(runs) == 1, [r.info.run_id for r in runs]
    run = runs[0]
    assert run.data.params["horizon"] == "52" and run.data.metrics["auc"] == pytest.approx(0.71)
    assert run.data.metrics["kpi_active_customers"] == 10 and run.data.tags["stage"] == "explore"
    assert run.info.status == "FINISHED"  # ended after each call: a closed kernel leaves nothing RUNNING
    assert {a.path for a in client.list_artifacts(run.info.run_id, "tables")} == {"tables/segments.csv"}
    assert not os.environ.get("MLFLOW_RUN_ID")


def test_new_session_run_forgets_the_run(tmp_path, monkeypatch):
    from mlflow.tracking import MlflowClient

    from crm_models.tracking import log_params, new_session_run

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    new_session_run()
    log_params({"a": 1})
    log_params({"b": 2})
    new_session_run()
    log_params({"c": 3})
    from crm_models.tracking import active_run

    with active_run("named"):  # a named run is a fresh one, and later calls reuse it
        log_params({"d": 4})
    log_params({"e": 5})
    client = MlflowClient(uri)
    runs = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert sorted(sorted(r.data.params) for r in runs) == [["a", "b"], ["c"], ["d", "e"]]
    new_session_run()
    assert Path(tmp_path / "mlflow.db").exists()
