"""Uplift learners: sklearn contract, no mutation of base estimators, multi-arm, continuous outcomes, demo."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from threadpoolctl import threadpool_limits

from crm_models.datasets.demo_experiment import FEATURES, simulate_coupon_experiment
from crm_models.exceptions import DataContractError, NotFittedError
from crm_models.uplift import (
    ClassTransformation,
    DRLearner,
    SLearner,
    TLearner,
    TransformedOutcome,
    XLearner,
    permutation_null,
    qini_auc_score,
    scores_by_arm,
)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    """OpenMP threads fight over 2 shared cores (15x slower); one thread per process is fastest here."""
    with threadpool_limits(1):
        yield


KW = {"max_iter": 40, "max_leaf_nodes": 8, "min_samples_leaf": 200, "early_stopping": False, "random_state": 0}


def learners(binary: bool):
    clf, reg = HistGradientBoostingClassifier(**KW), HistGradientBoostingRegressor(**KW)
    out = clf if binary else reg
    made = {
        "S": SLearner(out, control="control"),
        "T": TLearner(out, control="control"),
        "X": XLearner(out, reg, control="control"),
        "TO": TransformedOutcome(reg, control="control"),
        "DR": DRLearner(out, reg, control="control"),
    }
    if binary:
        made["CT"] = ClassTransformation(clf, control="control")
    return made


@pytest.fixture(scope="module")
def coupon():
    rng = np.random.default_rng(42)
    n = 24_000
    customers = pd.DataFrame({
        "customer_id": [f"C{i:06d}" for i in range(n)],
        "signup": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 400, n), unit="D"),
        "acquisition_channel": rng.choice(["organic", "paid_search", "email", "referral"], n),
        "purchase_rate": rng.gamma(1.5, 0.05, n),
        "dropout_prob": rng.beta(2, 5, n),
        "mean_spend": rng.lognormal(3.5, 0.5, n),
    })
    experiment, truth = simulate_coupon_experiment(customers, rng, pd.Timestamp("2025-06-01"),
                                                   pd.Timestamp("2025-06-29"))
    train = np.arange(n) % 2 == 0
    return experiment, truth, train


def test_learners_rank_by_true_effect_better_than_random(coupon):
    experiment, truth, train = coupon
    X = experiment[list(FEATURES)]
    t = experiment["variant"].to_numpy()
    y = experiment["converted"].to_numpy()
    test = ~train
    arm = "coupon_20"
    sub = np.isin(t[test], ["control", arm])
    tt = (t[test][sub] == arm).astype(int)
    true = truth["unit_effect"]["converted"][arm][test]
    for name, model in learners(True).items():
        pred = model.fit(X[train], t[train], y[train]).predict_frame(X[test])
        assert list(pred.columns) == ["coupon_10", "coupon_20"]
        assert np.corrcoef(pred[arm], true)[0, 1] > 0.15, name
        if name in ("S", "T", "X", "DR"):
            null = permutation_null(y[test][sub], pred[arm].to_numpy()[sub], tt, n_perm=40, rng=0)
            assert null.score > null.null_scores.max(), name  # Qini above the permutation null band
    assert qini_auc_score(y[test][sub], true[sub], tt) > 0.05  # the oracle, for scale


def test_continuous_outcome(coupon):
    experiment, truth, train = coupon
    X = experiment[list(FEATURES)].to_numpy()
    t = experiment["variant"].to_numpy()
    rev = experiment["revenue"].to_numpy()
    true = truth["unit_effect"]["revenue"]["coupon_10"][~train]
    for name, model in learners(False).items():
        pred = model.fit(X[train], t[train], rev[train]).predict(X[~train])
        assert pred.shape == (int((~train).sum()), 2)
        assert np.corrcoef(pred[:, 0], true)[0, 1] > 0.05, name


def test_base_estimators_are_cloned_not_mutated():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 3))
    t = rng.integers(0, 2, 600)
    y = (rng.uniform(size=600) < 0.3 + 0.2 * t * (X[:, 0] > 0)).astype(int)
    base = LogisticRegression()
    reg = LinearRegression()
    for model in (SLearner(base), TLearner(base), XLearner(base, reg), ClassTransformation(base),
                  DRLearner(base, reg, propensity_estimator=LogisticRegression()),
                  TransformedOutcome(reg)):
        before = clone(model).get_params()
        model.fit(X, t, y)
        assert not hasattr(base, "coef_") and not hasattr(reg, "coef_")
        assert set(model.get_params()) == set(before)
        copy = clone(model)
        assert not hasattr(copy, "treatments_")
        out = model.predict(X)
        assert out.shape == (600,) and np.isfinite(out).all()


def test_multi_treatment_with_integer_labels_and_known_effects():
    rng = np.random.default_rng(1)
    n = 6_000
    X = rng.normal(size=(n, 2))
    t = rng.integers(0, 3, n)  # 0 control, arms 1 and 2
    tau = {1: 1.0 * (X[:, 0] > 0), 2: 2.0 * (X[:, 1] > 0)}
    y = X[:, 0] + np.where(t == 1, tau[1], 0) + np.where(t == 2, tau[2], 0) + rng.normal(0, 0.5, n)
    for model in (SLearner(LinearRegression()), TLearner(HistGradientBoostingRegressor(**KW)),
                  XLearner(HistGradientBoostingRegressor(**KW)), DRLearner(HistGradientBoostingRegressor(**KW))):
        model.fit(X, t, y)
        assert model.treatments_ == [1, 2]
        pred = model.predict(X)
        assert pred.shape == (n, 2)
        if not isinstance(model, SLearner):  # a linear S-learner cannot express interactions
            assert np.corrcoef(pred[:, 0], tau[1])[0, 1] > 0.8
            assert np.corrcoef(pred[:, 1], tau[2])[0, 1] > 0.8
            assert pred[:, 1].mean() == pytest.approx(tau[2].mean(), abs=0.15)
        if isinstance(model, DRLearner):
            summary = model.summary
            for arm in (1, 2):
                assert summary.loc[arm, "ci_low"] <= tau[arm].mean() <= summary.loc[arm, "ci_high"]
    frame = scores_by_arm(y, pd.DataFrame(pred, columns=["1", "2"]), t, control=0)
    assert list(frame["arm"]) == ["1", "2"]


def test_bad_input():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(200, 2))
    t = rng.integers(0, 2, 200)
    spend = rng.gamma(2, 10, 200)
    with pytest.raises(DataContractError, match="binary") as err:
        ClassTransformation().fit(X, t, spend)
    assert err.value.column == "y"
    with pytest.raises(DataContractError, match="binary"):
        TLearner(LogisticRegression()).fit(X, t, spend)
    with pytest.raises(DataContractError, match="control label") as err:
        TLearner().fit(X, np.where(t == 1, "coupon", "holdout"), spend)
    assert err.value.rule == "control label present"
    with pytest.raises(DataContractError, match="every unit is in the control group"):
        SLearner().fit(X, np.zeros(200, dtype=int), spend)
    with pytest.raises(DataContractError, match="one label per row"):
        SLearner().fit(X, t[:-1], spend)
    with pytest.raises(NotFittedError):
        TLearner().predict(X)
    fitted = TLearner(LinearRegression()).fit(X, t, spend)
    with pytest.raises(DataContractError, match="features"):
        fitted.predict(X[:, :1])
    with pytest.raises(TypeError):
        ClassTransformation(LinearRegression()).fit(X, t, (spend > 20).astype(int))
