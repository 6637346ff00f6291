"""The ``champion`` alias: set on the first version, kept when a worse model comes, moved when a better one comes,
for metrics where higher wins (AUC) and where lower wins (errors); the verdict says so in words."""

from __future__ import annotations

import pytest

pytest.importorskip("mlflow")


@pytest.fixture
def store(tmp_path, monkeypatch):
    import mlflow

    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    while mlflow.active_run() is not None:
        mlflow.end_run()
    yield tmp_path


def _new_version(name: str, metrics: dict[str, float]) -> str:
    """Log a (cheap) CLV model and ``metrics`` in a fresh run, register it as ``name``; return the version."""
    from crm_models.clv import BetaGeoModel
    from crm_models.tracking import active_run, log_clv_model, log_metrics

    model = BetaGeoModel().with_params(r=0.25, alpha=4.0, a=0.8, b=2.5)
    with active_run("registry-test"):
        log_metrics(metrics)
        info = log_clv_model(model, 10.0, horizon=52, time_unit="W", discount_rate=0.1,
                             registered_model_name=name)
    return str(info.registered_model_version)


def test_champion_set_first_kept_for_worse_moved_for_better(store) -> None:
    from crm_models.tracking import champion_table, champion_verdict, get_champion, track_champion

    name = "crm_test_auc"
    v1 = _new_version(name, {"auc": 0.70})
    first = track_champion(name, v1, {"auc": 0.70, "brier": 0.20}, primary="auc",
                           greater_is_better={"brier": False})
    assert first.attrs == {"promoted": True, "champion_version": v1}
    assert get_champion(name).version == int(v1)
    assert first["better"].isna().all(), "nothing to compare with yet"
    assert "no champion yet" in champion_verdict(first, label="AUC")

    v2 = _new_version(name, {"auc": 0.65})
    worse = track_champion(name, v2, {"auc": 0.65, "brier": 0.18}, primary="auc",
                           greater_is_better={"brier": False})
    assert worse.attrs == {"promoted": False, "champion_version": v1}
    assert get_champion(name).version == int(v1)
    row = worse.set_index("metric")
    assert row.loc["auc", "champion"] == pytest.approx(0.70) and row.loc["auc", "better"] is False
    assert row.loc["brier", "better"] is True, "lower Brier is better"
    text = champion_verdict(worse, label="AUC")
    assert "AUC 0.650 vs champion 0.700" in text and "kept" in text

    v3 = _new_version(name, {"auc": 0.75})
    better = track_champion(name, v3, {"auc": 0.75, "brier": 0.19}, primary="auc",
                            greater_is_better={"brier": False})
    assert better.attrs == {"promoted": True, "champion_version": v3}
    assert (better["champion_version"] == v1).all(), "the table shows the champion before the decision"
    assert get_champion(name).version == int(v3)
    assert "AUC 0.750 vs champion 0.700" in champion_verdict(better, label="AUC")
    assert "promoted" in champion_verdict(better, label="AUC")
    table = champion_table(better)
    assert list(table.columns) == ["this model", f"champion (v{v1})", "difference", "better"]
    assert table.index[0] == "auc" and table.loc["auc", "better"] == "yes"

    # a report written later still sees the comparison with the champion of that time (v1), not with v3 itself
    from crm_models.tracking import recorded_comparison

    later = recorded_comparison(name, v3)
    assert later is not None and later.attrs == {"promoted": True, "champion_version": v3}
    assert later["metric"].iloc[0] == "auc" and (later["champion_version"] == v1).all()
    assert not later.set_index("metric").loc["brier", "greater_is_better"], "the direction is recorded per metric"
    assert later.set_index("metric").loc["auc", "champion"] == pytest.approx(0.70)
    assert later.set_index("metric").loc["auc", "better"] is True
    assert champion_verdict(later, label="AUC") == champion_verdict(better, label="AUC")
    assert recorded_comparison(name, v1).attrs == {"promoted": True, "champion_version": v1}
    assert "no champion yet" in champion_verdict(recorded_comparison(name, v1))
    assert recorded_comparison(name, "999") is None

    # a tie keeps the champion
    v4 = _new_version(name, {"auc": 0.75})
    tie = track_champion(name, v4, {"auc": 0.75}, primary="auc")
    assert not tie.attrs["promoted"] and get_champion(name).version == int(v3)


def test_lower_is_better_and_metrics_missing_from_the_run_are_logged(store) -> None:
    from mlflow.tracking import MlflowClient

    from crm_models.tracking import champion_metrics, get_champion, track_champion

    name = "crm_test_mae"
    v1 = _new_version(name, {})  # the run has no metrics: track_champion logs them there
    track_champion(name, v1, {"holdout_mae": 0.50}, primary="holdout_mae", greater_is_better=False)
    assert champion_metrics(name)["holdout_mae"] == pytest.approx(0.50)

    v2 = _new_version(name, {})
    worse = track_champion(name, v2, {"holdout_mae": 0.60}, primary="holdout_mae", greater_is_better=False)
    assert not worse.attrs["promoted"] and get_champion(name).version == int(v1)
    assert worse.set_index("metric").loc["holdout_mae", "better"] is False

    v3 = _new_version(name, {})
    better = track_champion(name, v3, {"holdout_mae": 0.40}, primary="holdout_mae", greater_is_better=False)
    assert better.attrs["promoted"] and get_champion(name).version == int(v3)
    assert better.set_index("metric").loc["holdout_mae", "better"] is True

    tags = MlflowClient().get_model_version(name, v3).tags
    assert tags["crm_primary_metric"] == "holdout_mae" and tags["crm_greater_is_better"] == "false"
    assert tags["crm_champion_decision"] == "promoted"
    assert MlflowClient().get_model_version(name, v2).tags["crm_champion_decision"] == "kept"


def test_promote_if_better_uses_the_given_value_and_ignores_non_finite(store) -> None:
    from crm_models.tracking import get_champion, promote_if_better, set_champion

    name = "crm_test_promote"
    v1 = _new_version(name, {"auc": 0.7})
    set_champion(name, v1)
    v2 = _new_version(name, {"auc": 0.6})  # the run says worse, the given value says better
    assert promote_if_better(name, v2, "auc", value=0.8)
    assert get_champion(name).version == int(v2)
    v3 = _new_version(name, {})
    assert not promote_if_better(name, v3, "auc", value=float("nan"))
    assert get_champion(name).version == int(v2)


def test_track_champion_needs_the_primary_metric(store) -> None:
    from crm_models.tracking import track_champion

    with pytest.raises(ValueError, match="primary metric"):
        track_champion("crm_test_missing", 1, {"auc": 0.7}, primary="brier")


def test_registered_name_is_per_suite(monkeypatch) -> None:
    from crm_models.tracking import registered_name

    monkeypatch.delenv("CRM_SUITE", raising=False)
    assert registered_name("crm_churn") == "crm_churn"
    monkeypatch.setenv("CRM_SUITE", "online retail/eu")
    assert registered_name("crm_churn") == "crm_churn-online_retail_eu"
    assert registered_name("crm_clv", suite="demo") == "crm_clv-demo"
