"""Model registry helpers: versions, the champion alias, comparison and promotion; landing-page history.

Reuses the MLflow store of the runner tests' suite runs (creating a sqlite store costs seconds).
"""

from __future__ import annotations

import math

import pytest

pytestmark = pytest.mark.notebook


@pytest.fixture(scope="module")
def store():
    from test_reporting_runner import published_runs

    return published_runs()


def _version(client, name, run_id):
    if not client.search_registered_models(f"name = '{name}'"):
        client.create_registered_model(name)
    return client.create_model_version(name, source=f"runs:/{run_id}/model", run_id=run_id)


def test_champion_alias_comparison_and_promotion(store):
    from mlflow.tracking import MlflowClient

    from crm_models.tracking import compare_with_champion, get_champion, promote_if_better

    uri = store["uri"]
    client = MlflowClient(uri, registry_uri=uri)
    first = {nb.name: nb for nb in store["first"].notebooks}["value"].mlflow_run_id
    second = {nb.name: nb for nb in store["second"].notebooks}["value"].mlflow_run_id
    client.log_metric(first, "auc", 0.70)
    client.log_metric(second, "auc", 0.65)
    name = "crm_test_model"
    assert get_champion(name, tracking_uri=uri) is None
    table = compare_with_champion(name, {"auc": 0.7}, tracking_uri=uri)
    assert table.loc[0, "better"] is None and math.isnan(table.loc[0, "champion"])

    v1 = _version(client, name, first)
    assert promote_if_better(name, v1.version, "auc", tracking_uri=uri)  # no champion yet: v1 becomes it
    v2 = _version(client, name, second)
    assert not promote_if_better(name, v2.version, "auc", tracking_uri=uri)  # worse: champion stays
    assert str(get_champion(name, tracking_uri=uri).version) == str(v1.version)
    table = compare_with_champion(name, {"auc": 0.65, "brier": 0.2}, greater_is_better={"auc": True}, tracking_uri=uri)
    row = table.set_index("metric").loc["auc"]
    assert row["champion"] == pytest.approx(0.70) and row["difference"] == pytest.approx(-0.05)
    assert row["better"] is False and row["champion_version"] == str(v1.version)
    assert table.set_index("metric").loc["brier", "better"] is None
    client.log_metric(second, "logloss", 0.3)
    client.log_metric(first, "logloss", 0.4)
    assert promote_if_better(name, v2.version, "logloss", greater_is_better=False, tracking_uri=uri)
    assert str(get_champion(name, tracking_uri=uri).version) == str(v2.version)


def test_history_finds_the_previous_run(store):
    from crm_models.tracking.history import notebook_runs, previous_run

    uri, first, second = store["uri"], store["first"], store["second"]
    runs = notebook_runs("fixture", "value", tracking_uri=uri)
    assert [r.suite_run for r in runs] == [second.run_id, first.run_id]
    prior = previous_run("fixture", "value", second.run_id, tracking_uri=uri)
    assert prior is not None and prior.suite_run == first.run_id and "kpi_active_customers" in prior.kpis
    assert previous_run("fixture", "value", first.run_id, tracking_uri=uri) is None
    assert previous_run("fixture", "fail", second.run_id, tracking_uri=uri) is None  # failures are not baselines
