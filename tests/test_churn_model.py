"""ChurnModel: fit contract, calibration, explanations that add up, decisions and metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from crm_models.churn import (
    ChurnModel,
    action_table,
    backtest,
    calibration_table,
    churn_decisions,
    churn_scores,
    describe_feature,
    gain_curve,
    lift_and_capture,
    make_training_set,
    risk_tiers,
    value_at_risk,
)
from crm_models.churn._synthetic import rhythm_transactions as synthetic_transactions
from crm_models.exceptions import DataContractError, NotFittedError

FAST = {"n_estimators": 80, "learning_rate": 0.15, "early_stopping_rounds": 15}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return synthetic_transactions(seed=11, n_customers=1_500)


@pytest.fixture(scope="module")
def training(frame):
    return make_training_set(frame, ["2023-01-01", "2023-02-01", "2023-03-01"], 60, use_bgnbd=False)


@pytest.fixture(scope="module")
def fitted(training) -> ChurnModel:
    X, y, time = training
    return ChurnModel(**FAST).fit(X, y, time=time)


def test_fit_follows_the_sklearn_contract(training, fitted):
    X, _, _ = training
    assert fitted.validation_strategy_ == "time"  # the latest snapshot is held out
    assert fitted.n_valid_ == int((training[2] == training[2].max()).sum())
    assert fitted.calibration_method_ in ("isotonic", "sigmoid")
    assert set(fitted.calibration_scores_) == {"isotonic", "sigmoid"}
    assert 1 <= fitted.n_trees_ <= FAST["n_estimators"]
    proba = fitted.predict_proba(X)
    assert proba.shape == (len(X), 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert ((proba >= 0) & (proba <= 1)).all()
    assert set(np.unique(fitted.predict(X))) <= {0, 1}
    params = fitted.get_params()
    twin = clone(fitted)
    assert twin.get_params() == params and not hasattr(twin, "booster_")
    with pytest.raises(NotFittedError):
        twin.predict_proba(X)


def test_random_split_without_time_and_fixed_calibration(training):
    X, y, _ = training
    model = ChurnModel(**FAST, calibration="sigmoid").fit(X, y)
    assert model.validation_strategy_ == "random" and model.calibration_method_ == "sigmoid"
    raw = ChurnModel(**FAST, calibration=None, class_weight=None).fit(X, y)
    p = raw.predict_proba(X)[:, 1]
    assert np.allclose(p, 1 / (1 + np.exp(-raw.decision_function(X))), atol=1e-6)


def test_explain_contributions_add_up_to_the_margin(training, fitted):
    X, _, _ = training
    sample = X.iloc[:300]
    explained = fitted.explain(sample, top_n=3)
    features = list(fitted.feature_names_in_)
    total = explained[features].sum(axis=1) + explained["base_value"]
    np.testing.assert_allclose(total, explained["margin"], rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(explained["margin"], fitted.decision_function(sample), rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(explained["churn_probability"], fitted.predict_proba(sample)[:, 1])
    assert list(explained.index) == list(sample.index)
    reasons = explained[["reason_1", "reason_2", "reason_3"]]
    assert reasons.map(lambda s: isinstance(s, str) and len(s) > 0).all().all()
    risky = explained["margin"].idxmax()
    assert "raises risk" in explained.loc[risky, "reason_1"]


def test_explain_adds_up_with_a_bgnbd_prior(frame):
    pytest.importorskip("crm_models.clv")
    X, y, time = make_training_set(frame, ["2023-02-01", "2023-03-01"], 60, use_bgnbd=True)
    if "bg_p_no_purchase" not in X:
        pytest.skip("BG/NBD did not converge on this sample")
    model = ChurnModel(**FAST).fit(X, y, time=time)
    assert model.prior_ == "bg_p_no_purchase"
    explained = model.explain(X.iloc[:200])
    features = list(model.feature_names_in_)
    total = explained[features].sum(axis=1) + explained["base_value"]
    np.testing.assert_allclose(total, model.decision_function(X.iloc[:200]), rtol=1e-5, atol=1e-4)
    assert np.ptp(explained["base_value"].to_numpy()) < 1e-4  # one base value: the prior is a contribution
    no_prior = ChurnModel(**FAST, prior=None).fit(X, y, time=time)
    assert no_prior.prior_ is None
    with pytest.raises(DataContractError, match="prior"):
        ChurnModel(**FAST, prior="not_a_column").fit(X, y, time=time)


def test_reasons_read_as_words():
    assert describe_feature("recency_days", 120.4) == "last purchase 120 days ago"
    assert describe_feature("orders_90d", 2) == "2 orders in the last 90 days"
    assert "x their usual gap" in describe_feature("recency_over_ipt", 3.2)
    assert describe_feature("ipt_mean", float("nan")) == "ipt mean: no rhythm yet (only one purchase day)"
    assert describe_feature("spend_trend_90d", -1.0) == "spend in the last 90 days down 63% vs the 90 before"
    assert "more than 10x" in describe_feature("spend_trend_180d", 12.0)
    assert "more than 10x" in describe_feature("spend_trend_180d", 1e6)
    assert "almost nothing" in describe_feature("spend_trend_30d", -1e6)


def test_bad_inputs_raise_clear_errors(training):
    X, y, _ = training
    few = y.copy()
    few[:] = 0
    few.iloc[:5] = 1
    with pytest.raises(DataContractError) as info:
        ChurnModel(**FAST).fit(X, few)
    assert "too few churners" in str(info.value) and info.value.column == "churned"
    with pytest.raises(DataContractError, match="0 or 1"):
        ChurnModel(**FAST).fit(X, y.replace(1, 2))
    with pytest.raises(ValueError, match="calibration"):
        ChurnModel(calibration="beta").fit(X, y)


def test_missing_feature_at_predict_time(fitted, training):
    X, _, _ = training
    with pytest.raises(DataContractError, match="recency_days"):
        fitted.predict_proba(X.drop(columns="recency_days"))


def test_model_beats_recency_on_seeded_synthetic_data(frame):
    result = backtest(frame, ["2023-06-01", "2023-07-01"], 60, model=ChurnModel(**FAST), use_bgnbd=False,
                      n_train_snapshots=3, train_step=30)
    summary = result.summary()
    assert (summary["roc_auc_model"] > summary["roc_auc_recency"]).all(), summary
    assert result.beats_recency()
    assert set(result.metrics["scorer"]) == {"model", "recency"}
    assert result.notes == [] or "BG/NBD" in result.notes[0]
    model_rows = result.metrics[result.metrics["scorer"] == "model"]
    assert (model_rows["brier"] < 0.25).all() and (model_rows["n_train_snapshots"] == 3).all()
    assert {"cutoff", "scorer", "bin", "mean_predicted", "observed_rate"} <= set(result.calibration.columns)
    assert len(result.predictions) == summary["n_customers"].sum()


def test_backtest_errors(frame):
    with pytest.raises(DataContractError, match="cutoff \\+ horizon"):
        backtest(frame, ["2023-12-20"], 60, use_bgnbd=False)
    with pytest.raises(DataContractError, match="no training snapshot"):
        backtest(frame, ["2022-03-01"], 90, use_bgnbd=False)
    with pytest.raises(DataContractError, match="too few churners"):
        backtest(frame, ["2023-06-01"], 60, model=ChurnModel(min_churners=100_000), use_bgnbd=False,
                 n_train_snapshots=1)


def test_metrics_on_known_values():
    y = np.array([1, 1, 0, 0, 1, 0, 0, 0, 0, 0])
    score = np.arange(10, 0, -1.0)
    lift, capture = lift_and_capture(y, score, 0.2)
    assert lift == pytest.approx(1.0 / 0.3) and capture == pytest.approx(2 / 3)
    scores = churn_scores(y, score, proba=np.clip(score / 10, 0, 1), fraction=0.2)
    assert 0.5 < scores["roc_auc"] <= 1 and np.isfinite(scores["brier"])
    gains = gain_curve(y, score)
    assert gains["share_captured"].iloc[-1] == pytest.approx(1.0) and gains["share_targeted"].iloc[0] == 0
    table = calibration_table(y, np.linspace(0, 1, 10), n_bins=5)
    assert table["n"].sum() == 10 and len(table) == 5


def test_risk_tiers_value_at_risk_and_actions():
    ids = pd.Index([f"c{i}" for i in range(10)], name="customer_id")
    proba = pd.Series(np.linspace(0.05, 0.95, 10), index=ids)
    tiers = risk_tiers(proba)
    assert (tiers == "high").sum() == 4 and (tiers == "low").sum() == 3
    by_capacity = risk_tiers(proba, capacity=2, medium_capacity=3)
    assert set(by_capacity[by_capacity == "high"].index) == {"c9", "c8"}
    assert (by_capacity == "medium").sum() == 3
    assert value_at_risk([0.5, 0.1], [100.0, 50.0]).tolist() == [50.0, 5.0]
    clv = pd.DataFrame({"clv": np.arange(10, 110, 10.0)}, index=ids)
    segments = pd.Series(["champions"] * 5 + ["at risk"] * 5, index=ids)
    decisions = churn_decisions(proba, clv=clv, segments=segments, capacity=3)
    assert decisions["value_at_risk"].is_monotonic_decreasing
    assert decisions.loc["c9", "value_at_risk"] == pytest.approx(0.95 * 100)
    assert decisions.loc["c9", "action"].startswith("personal outreach")
    table = action_table(decisions)
    assert {"segment", "risk_tier", "customers", "value_at_risk", "action"} <= set(table.columns)
    assert table["customers"].sum() == 10
    with pytest.raises(DataContractError):
        churn_decisions(proba, clv=pd.Series([1.0], index=["nobody"]))
