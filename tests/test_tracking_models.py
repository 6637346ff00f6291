"""Models through MLflow: the churn model (cloudpickle) and the CLV pyfunc model round-trip; artifacts follow
the tracking store instead of landing in the project folder."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("mlflow")


def _reset_mlflow() -> None:
    import mlflow

    while mlflow.active_run() is not None:
        mlflow.end_run()


@pytest.fixture
def sqlite_store(tmp_path, monkeypatch) -> Path:
    """A throw-away sqlite store in ``tmp_path/store`` (artifacts should land in ``tmp_path/store/artifacts``)."""
    folder = tmp_path / "store"
    folder.mkdir()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{folder / 'mlflow.db'}")
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    _reset_mlflow()
    yield folder
    _reset_mlflow()


def _path(uri: str) -> Path:
    return Path(unquote(urlparse(uri).path))


@pytest.fixture(scope="module")
def churn_fit():
    from crm_models.churn import ChurnModel, make_training_set
    from crm_models.churn._synthetic import rhythm_transactions

    tx = rhythm_transactions(seed=3, n_customers=300)
    X, y, time = make_training_set(tx, ["2023-01-01", "2023-03-01"], 60, use_bgnbd=False)
    model = ChurnModel(n_estimators=20, learning_rate=0.2, early_stopping_rounds=5, random_state=0)
    return model.fit(X, y, time=time), X


@pytest.fixture(scope="module")
def clv_fit():
    from crm_models.clv import BetaGeoModel, GammaGammaModel

    truth = BetaGeoModel().with_params(r=0.25, alpha=4.0, a=0.8, b=2.5)
    x, tx, big_t = truth.simulate(2_000, T=39.0, seed=1)
    rng = np.random.default_rng(2)
    summary = pd.DataFrame(
        {"frequency": x.astype(int), "recency": tx, "T": big_t,
         "monetary_value": np.where(x > 0, rng.gamma(4.0, 10.0, len(x)), 0.0)},
        index=pd.Index([f"c{i}" for i in range(len(x))], name="customer_id"),
    )
    purchase = BetaGeoModel().fit_from_summary(summary)
    spend = GammaGammaModel().fit_from_summary(summary)
    return purchase, spend, summary


VALUATION = {"horizon": 52, "time_unit": "W", "discount_rate": 0.10, "margin": 0.3}


def test_churn_model_logs_with_cloudpickle_and_loads_back_identical(sqlite_store, churn_fit) -> None:
    import mlflow
    import mlflow.sklearn

    from crm_models.tracking import log_sklearn_model

    model, X = churn_fit
    info = log_sklearn_model(model, "churn_model", input_example=X.head(), registered_model_name="crm_churn")
    assert info.registered_model_version is not None and int(info.registered_model_version) == 1
    loaded = mlflow.sklearn.load_model(info.model_uri)
    assert type(loaded).__name__ == "ChurnModel"
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    assert info.signature is not None and info.signature.outputs is not None
    local = Path(mlflow.artifacts.download_artifacts(info.model_uri))
    requirements = (local / "requirements.txt").read_text()
    assert "crm-models==" in requirements and "xgboost" in requirements, "pip requirements are explicit"
    assert "cloudpickle" in (local / "MLmodel").read_text()


def test_log_sklearn_model_passes_serialization_format_through(sqlite_store, churn_fit) -> None:
    from mlflow.exceptions import MlflowException

    from crm_models.tracking import log_sklearn_model

    model, _ = churn_fit
    with pytest.raises(MlflowException, match="untrusted"):  # skops refuses the custom estimator
        log_sklearn_model(model, "churn_model", serialization_format="skops")


def test_clv_pyfunc_round_trips(sqlite_store, clv_fit) -> None:
    import mlflow

    from crm_models.clv import customer_lifetime_value
    from crm_models.tracking import log_clv_model

    purchase, spend, summary = clv_fit
    info = log_clv_model(purchase, spend, **VALUATION, input_example=summary.head(), registered_model_name="crm_clv")
    assert info.registered_model_version is not None
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    predicted = loaded.predict(summary)
    own = customer_lifetime_value(purchase, spend, summary["frequency"], summary["recency"], summary["T"],
                                  summary["monetary_value"], **VALUATION)
    assert list(predicted.columns) == ["probability_alive", "expected_purchases", "expected_spend", "clv"]
    pd.testing.assert_frame_equal(predicted, own[list(predicted.columns)].astype(float), rtol=1e-12)
    # the parameters are stored as readable JSON next to the model
    local = Path(mlflow.artifacts.download_artifacts(info.model_uri))
    spec = json.loads(next(local.rglob("clv_model.json")).read_text())
    assert spec["purchase_model"]["model"] == "BetaGeoModel"
    assert spec["purchase_model"]["params"] == pytest.approx(purchase.params_.to_dict(), rel=1e-15)
    assert spec["spend_model"]["params"] == pytest.approx(spend.params_.to_dict(), rel=1e-15)
    assert spec["valuation"]["horizon"] == 52 and spec["valuation"]["time_unit"] == "W"
    assert "crm-models==" in (local / "requirements.txt").read_text()
    # models from code: the store holds source and JSON, never a pickle that loading would execute
    assert not [p.name for p in local.rglob("*") if p.suffix in {".pkl", ".pickle", ".cloudpickle"}]


def test_clv_spec_rebuilds_every_purchase_model_and_rejects_missing_columns(clv_fit) -> None:
    from crm_models.clv import ModifiedBetaGeoModel, ParetoNBDModel
    from crm_models.exceptions import DataContractError
    from crm_models.tracking.clv_model import clv_model_spec, models_from_spec, predict_from_spec

    _, spend, summary = clv_fit
    for purchase in (ModifiedBetaGeoModel().with_params(r=0.3, alpha=4.0, a=0.8, b=2.5),
                     ParetoNBDModel().with_params(r=0.5, alpha=8.0, s=0.6, beta=10.0)):
        spec = json.loads(json.dumps(clv_model_spec(purchase, spend, **VALUATION)))
        rebuilt, _ = models_from_spec(spec)
        assert type(rebuilt) is type(purchase)
        pd.testing.assert_series_equal(rebuilt.params_, purchase.params_)
        out = predict_from_spec(spec, summary.head(20))
        assert out.notna().all().all() and (out["probability_alive"].between(0, 1)).all()
    constant = clv_model_spec(rebuilt, 25.0, **VALUATION)
    assert predict_from_spec(constant, summary[["frequency", "recency", "T"]].head())["expected_spend"].eq(25.0).all()
    with pytest.raises(DataContractError, match="monetary_value"):
        predict_from_spec(clv_model_spec(rebuilt, spend, **VALUATION), summary[["frequency", "recency", "T"]])
    with pytest.raises(TypeError):
        clv_model_spec(spend, None, **VALUATION)


def test_artifacts_follow_a_sqlite_store_not_the_project(sqlite_store) -> None:
    import mlflow

    from crm_models.tracking import artifact_location_for, log_table
    from crm_models.tracking.mlflow_helpers import DEFAULT_EXPERIMENT, find_project_root

    project_artifacts = find_project_root() / "experiments" / "artifacts"
    before = set(project_artifacts.iterdir()) if project_artifacts.exists() else set()
    log_table(pd.DataFrame({"a": [1, 2]}), "t/table.csv")
    experiment = mlflow.get_experiment_by_name(DEFAULT_EXPERIMENT)
    assert _path(experiment.artifact_location) == (sqlite_store / "artifacts").resolve()
    assert list((sqlite_store / "artifacts").rglob("table.csv")), "the artifact sits beside mlflow.db"
    after = set(project_artifacts.iterdir()) if project_artifacts.exists() else set()
    assert after == before, "nothing new in the project's experiments/artifacts"
    assert artifact_location_for(f"sqlite:///{sqlite_store / 'mlflow.db'}?timeout=30") == (
        (sqlite_store / "artifacts").resolve().as_uri()
    )


def test_a_file_store_keeps_its_artifacts_inside(tmp_path, monkeypatch) -> None:
    import mlflow

    from crm_models.tracking import artifact_location_for, log_table
    from crm_models.tracking.mlflow_helpers import DEFAULT_EXPERIMENT

    store = tmp_path / "mlruns"
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", store.as_uri())
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    _reset_mlflow()
    assert artifact_location_for(store.as_uri()) is None, "MLflow chooses for a file store"
    log_table(pd.DataFrame({"a": [1]}), "t/table.csv")
    experiment = mlflow.get_experiment_by_name(DEFAULT_EXPERIMENT)
    assert _path(experiment.artifact_location).resolve().is_relative_to(store.resolve())
    assert list(store.rglob("table.csv"))


def test_project_default_without_a_tracking_uri(tmp_path, monkeypatch) -> None:
    import mlflow

    from crm_models.tracking.mlflow_helpers import (
        artifact_location_for,
        default_tracking_uri,
        ensure_experiment,
    )

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    (tmp_path / "pyproject.toml").write_text("")
    uri = default_tracking_uri(tmp_path)
    assert uri == f"sqlite:///{(tmp_path / 'experiments' / 'mlflow.db').resolve()}"
    assert artifact_location_for(uri) == (tmp_path / "experiments" / "artifacts").resolve().as_uri()
    experiment_id = ensure_experiment("crm_models_default_test", root=tmp_path)
    experiment = mlflow.get_experiment(experiment_id)
    assert _path(experiment.artifact_location) == (tmp_path / "experiments" / "artifacts").resolve()
    assert artifact_location_for("http://localhost:5000") is None


def test_churn_model_logs_as_json_and_loads_without_unpickling(sqlite_store, churn_fit) -> None:
    """The data format of issue 12 item 4: JSON artifacts, no pickle file anywhere in the logged model."""
    import mlflow

    from crm_models.tracking.churn_model import load_churn_model, log_churn_model

    model, X = churn_fit
    info = log_churn_model(model, "churn_model", input_example=X.head(), registered_model_name="crm_churn_json")
    assert info.registered_model_version is not None
    local = Path(mlflow.artifacts.download_artifacts(info.model_uri))
    files = [p for p in local.rglob("*") if p.is_file()]
    assert not [p for p in files if p.suffix in {".pkl", ".pickle", ".cloudpickle"}], files
    assert {p.name for p in files} >= {"booster.json", "churn_model.json"}
    direct = load_churn_model(next(p.parent for p in files if p.name == "churn_model.json"))
    np.testing.assert_allclose(direct.predict_proba(X)[:, 1], model.predict_proba(X)[:, 1], rtol=1e-6, atol=1e-7)
    served = mlflow.pyfunc.load_model(info.model_uri).predict(X)
    np.testing.assert_allclose(served["churn_probability"].to_numpy(), model.predict_proba(X)[:, 1], rtol=1e-6,
                               atol=1e-7)
