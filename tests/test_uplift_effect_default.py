"""Issue 11 item 3: X- and DR-learner use the outcome estimator for the effect models when it is a regressor."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression

from crm_models.uplift import DRLearner, XLearner


def _linear_effect_data(n: int = 4_000, seed: int = 7):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    t = rng.integers(0, 2, n)
    tau = 1.0 + 2.0 * X[:, 0] - 1.5 * X[:, 1]
    y = 3.0 + X @ np.array([1.0, 0.5, -0.5]) + t * tau + rng.normal(scale=0.5, size=n)
    return X, t, y, tau


@pytest.mark.parametrize("learner_cls", [XLearner, DRLearner])
def test_effect_models_default_to_a_clone_of_the_outcome_regressor(learner_cls):
    X, t, y, tau = _linear_effect_data()
    outcome = LinearRegression()
    learner = learner_cls(outcome_estimator=outcome).fit(X, t, y)
    models = learner.effect_models_[1]
    models = models if isinstance(models, tuple) else (models,)
    for model in models:
        assert isinstance(model, LinearRegression)
        assert model is not outcome
    assert not hasattr(outcome, "coef_")  # the user's estimator is cloned, never fitted
    assert np.corrcoef(learner.predict(X), tau)[0, 1] > 0.99


@pytest.mark.parametrize("learner_cls", [XLearner, DRLearner])
def test_effect_models_fall_back_to_the_default_regressor_for_a_classifier(learner_cls):
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2_000, 2))
    t = rng.integers(0, 2, 2_000)
    y = (rng.uniform(size=2_000) < 0.3 + 0.1 * t).astype(int)
    learner = learner_cls(outcome_estimator=LogisticRegression()).fit(X, t, y)
    models = learner.effect_models_[1]
    models = models if isinstance(models, tuple) else (models,)
    assert all(isinstance(m, HistGradientBoostingRegressor) for m in models)


def test_explicit_effect_estimator_wins_and_a_classifier_is_refused():
    X, t, y, _ = _linear_effect_data(1_000)
    learner = XLearner(outcome_estimator=LinearRegression(),
                       effect_estimator=HistGradientBoostingRegressor(max_iter=5)).fit(X, t, y)
    assert all(isinstance(m, HistGradientBoostingRegressor) for m in learner.effect_models_[1])
    with pytest.raises(ValueError, match="effect_estimator must be a regressor"):
        XLearner(outcome_estimator=LinearRegression(), effect_estimator=LogisticRegression()).fit(X, t, y)
