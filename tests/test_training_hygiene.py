"""Which rows each training step sees (issue 21, item 1): the churn calibrator is fitted on the calibration
slice only, balanced class weights reach the booster, and the DR-learner's outcome and propensity models are
really cross-fitted (no unit is predicted by a model that saw it).

Each test names the plausible wrong implementation (mutation) it was checked against.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.dummy import DummyRegressor
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

from crm_models.churn import ChurnModel
from crm_models.uplift import DRLearner

FAST = {"n_estimators": 40, "learning_rate": 0.2, "early_stopping_rounds": 10}


@pytest.fixture(scope="module")
def churn_data() -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(2110)
    n = 1_200
    X = pd.DataFrame({"recency": rng.exponential(60.0, n), "orders": rng.poisson(3.0, n).astype(float),
                      "noise": rng.normal(size=n)})
    logit = -1.5 + 0.02 * X["recency"] - 0.3 * X["orders"]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


@pytest.mark.parametrize("method", ["isotonic", "sigmoid"])
def test_calibrator_is_fitted_on_the_calibration_rows_only(churn_data, method) -> None:
    # mutations checked: calibrating on the early-stopping rows (`X.iloc[stop_idx]`), on all held-out rows
    # (`valid_idx`) or on the training rows: each gives other probabilities than a calibrator refitted here
    X, y = churn_data
    model = ChurnModel(**FAST, calibration=method, validation_fraction=0.4).fit(X, y)
    calib, stop = model.calibration_rows_, model.early_stopping_rows_
    margin = model.decision_function(X)

    def refit(rows: np.ndarray) -> np.ndarray:
        if method == "isotonic":
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(margin[rows], y[rows])
            return np.clip(iso.predict(margin), 0.0, 1.0)
        platt = LogisticRegression(C=1e6).fit(margin[rows].reshape(-1, 1), y[rows])
        return platt.predict_proba(margin.reshape(-1, 1))[:, 1]

    p = model.predict_proba(X)[:, 1]
    np.testing.assert_allclose(p, refit(calib), atol=1e-9)
    # the test can tell the slices apart: a calibrator on the other rows predicts differently
    assert np.abs(p - refit(stop)).max() > 1e-3
    assert np.abs(p - refit(np.r_[calib, stop])).max() > 1e-3
    assert model.calibration_method_ == method


def test_balanced_class_weights_by_hand() -> None:
    # 2 churners and 8 stayers: n / (2 n_class) -> 10 / 4 = 2.5 and 10 / 16 = 0.625; both classes weigh 5
    # mutations checked: swapped weights (n / (2 n_neg) on churners), weights without the factor 2
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0])
    w = ChurnModel(class_weight="balanced")._weights(y)
    assert list(w) == [2.5, 2.5] + [0.625] * 8
    assert w[y == 1].sum() == w[y == 0].sum() == 5.0
    assert list(ChurnModel(class_weight=None)._weights(y)) == [1.0] * 10


def test_balanced_class_weights_reach_the_booster() -> None:
    # Features without signal and 20 % churners. Without calibration the booster's probability is its own:
    # with balanced weights the best constant is 0.5 (both classes weigh the same), without weights it is the
    # churn rate 0.2. mutations checked: weights computed but not passed to the training DMatrix (both ~0.2),
    # swapped weights (balanced ~0.06)
    rng = np.random.default_rng(7)
    n = 2_000
    X = pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n)})
    y = (rng.random(n) < 0.2).astype(int)
    settings = {**FAST, "n_estimators": 80, "early_stopping_rounds": 80, "calibration": None,
                "min_child_weight": 200.0}
    balanced = ChurnModel(**settings, class_weight="balanced").fit(X, y).predict_proba(X)[:, 1].mean()
    raw = ChurnModel(**settings, class_weight=None).fit(X, y).predict_proba(X)[:, 1].mean()
    assert balanced == pytest.approx(0.5, abs=0.05)
    assert raw == pytest.approx(y.mean(), abs=0.05)


# ------------------------------------------------------------------------------------ DR-learner cross-fitting
class _Recorder:
    """What every nuisance model was fitted on and asked to predict (column 0 of X is the unit id)."""

    calls: ClassVar[list[tuple[str, frozenset[int], frozenset[int]]]] = []


class RecordingRegressor(RegressorMixin, BaseEstimator):
    def fit(self, X, y):
        self.ids_ = frozenset(np.asarray(X)[:, 0].astype(int).tolist())
        self.mean_ = float(np.mean(y))
        return self

    def predict(self, X):
        _Recorder.calls.append(("outcome", self.ids_, frozenset(np.asarray(X)[:, 0].astype(int).tolist())))
        return np.full(len(X), self.mean_)


class RecordingClassifier(ClassifierMixin, BaseEstimator):
    def fit(self, X, y):
        self.ids_ = frozenset(np.asarray(X)[:, 0].astype(int).tolist())
        self.classes_ = np.array([0, 1])
        self.rate_ = float(np.mean(y))
        return self

    def predict_proba(self, X):
        _Recorder.calls.append(("propensity", self.ids_, frozenset(np.asarray(X)[:, 0].astype(int).tolist())))
        return np.column_stack([np.full(len(X), 1 - self.rate_), np.full(len(X), self.rate_)])


@pytest.mark.parametrize("n_folds", [2, 3])
def test_dr_learner_nuisances_are_cross_fitted(n_folds) -> None:
    # mutations checked: outcome models fitted on all treated / control units of the pair instead of the
    # training folds (`Xp[tp == 1]`), predictions on the training fold, the propensity model fitted on `pair`
    rng = np.random.default_rng(3)
    n = 120
    ids = np.arange(n, dtype=float)
    t = np.r_[np.ones(96), np.zeros(24)].astype(int)  # an 80/20 allocation
    X = np.column_stack([ids, rng.normal(size=n)])
    y = rng.normal(size=n) + t
    _Recorder.calls.clear()
    model = DRLearner(outcome_estimator=RecordingRegressor(), effect_estimator=DummyRegressor(),
                      propensity_estimator=RecordingClassifier(), n_folds=n_folds, random_state=0)
    model.fit(X, t, y)
    calls = list(_Recorder.calls)
    outcome = [c for c in calls if c[0] == "outcome"]
    propensity = [c for c in calls if c[0] == "propensity"]
    assert len(outcome) == 2 * n_folds and len(propensity) == n_folds  # mu_1, mu_0 and e per fold
    for _, fitted, predicted in calls:
        assert not fitted & predicted, "a nuisance model predicted units it was fitted on"
    # every unit gets exactly one out-of-fold prediction from each kind of model
    predicted_mu1 = [p for _, f, p in outcome if f <= set(np.flatnonzero(t == 1))]
    assert sorted(i for p in predicted_mu1 for i in p) == list(range(n))
    assert sorted(i for _, _, p in propensity for i in p) == list(range(n))
    # the outcome models of a fold were fitted on that fold's treated / control units only
    for _, fitted, _ in outcome:
        assert fitted <= set(np.flatnonzero(t == 1)) or fitted <= set(np.flatnonzero(t == 0))


def test_dr_learner_pseudo_outcome_by_hand_with_two_folds() -> None:
    # Constant nuisance models (fold means) and the design propensity e = 0.8 make the AIPW pseudo-outcome
    # computable by hand: phi = m1 - m0 + T (Y - m1) / e - (1 - T) (Y - m0) / (1 - e), with m1, m0 the treated
    # and control means of the *other* fold. mutations checked: e and 1 - e swapped, in-fold means, the
    # residual terms' signs
    from sklearn.model_selection import StratifiedKFold

    rng = np.random.default_rng(5)
    n = 100
    t = np.r_[np.ones(80), np.zeros(20)].astype(int)
    X = rng.normal(size=(n, 1))
    y = rng.normal(size=n) + 2.0 * t
    model = DRLearner(outcome_estimator=DummyRegressor(), effect_estimator=DummyRegressor(), n_folds=2,
                      random_state=11).fit(X, t, y)
    phi = np.empty(n)
    for train, test in StratifiedKFold(2, shuffle=True, random_state=11).split(X, t):
        m1 = y[train][t[train] == 1].mean()
        m0 = y[train][t[train] == 0].mean()
        tt, yy = t[test], y[test]
        phi[test] = m1 - m0 + tt * (yy - m1) / 0.8 - (1 - tt) * (yy - m0) / 0.2
    assert model.pseudo_outcome_mean_[1] == pytest.approx(phi.mean(), rel=1e-12)
    assert model.pseudo_outcome_se_[1] == pytest.approx(phi.std(ddof=1) / np.sqrt(n), rel=1e-12)
    assert model.predict(X[:3]) == pytest.approx(np.full(3, phi.mean()))
