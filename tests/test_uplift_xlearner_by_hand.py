"""X-learner (Künzel, Sekhon, Bickel & Yu 2019, PNAS 116(10)) by hand: the default stage-1 models of a 0/1
outcome, the propensity model fitted on the features, and the clip of a propensity near 0 (issue 21: a full
mutation run of ``uplift/xlearner`` left these mutants alive).

With stage-1 models that predict 0 the imputed effects are ``D_1 = Y`` (treated) and ``D_0 = -Y`` (control), so
mean effect models give ``tau_1 = mean(Y | treated)`` and ``tau_0 = -mean(Y | control)`` and the estimate
``g tau_0 + (1 - g) tau_1`` shows which ``g`` was used.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from crm_models.uplift import XLearner
from uplift_stubs import ConstantProba, zero_regressor


def _data(seed: int = 2, n: int = 60):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    t = (X[:, 0] + rng.normal(size=n) > 0).astype(int)
    y = rng.uniform(1.0, 3.0, size=n)
    return X, t, y


@pytest.mark.parametrize(("p", "g"), [(0.001, 0.1), (0.999, 0.9), (0.4, 0.4)])
def test_an_estimated_propensity_is_clipped_at_both_ends(p, g) -> None:
    """Guards ``np.clip(g, clip, 1 - clip)`` with the lower bound dropped (``None``): a propensity of 0.001 is used
    as 0.1 with clip 0.1, and 0.999 as 0.9."""
    X, t, y = _data()
    model = XLearner(zero_regressor(), DummyRegressor(), propensity_estimator=ConstantProba(p), propensity_clip=0.1)
    model.fit(X, t, y)
    expected = g * -y[t == 0].mean() + (1 - g) * y[t == 1].mean()
    assert model.predict(X[:3]) == pytest.approx(np.full(3, expected), rel=1e-12)


def test_the_propensity_model_learns_from_the_features() -> None:
    """Guards fitting the propensity model without the features (``fit(None, ...)``; a model that ignores X, like
    ``DummyClassifier``, cannot tell): the fitted model is a logistic regression of the arm indicator on X over
    the arm and control units, and its clipped probabilities weigh the effect models."""
    X, t, y = _data(n=200)
    model = XLearner(zero_regressor(), DummyRegressor(), propensity_estimator=LogisticRegression(), propensity_clip=0.01)
    model.fit(X, t, y)
    reference = LogisticRegression().fit(X, t)
    np.testing.assert_allclose(model.propensity_models_[1].coef_, reference.coef_, rtol=1e-6)
    g = np.clip(reference.predict_proba(X[:5])[:, 1], 0.01, 0.99)
    expected = g * -y[t == 0].mean() + (1 - g) * y[t == 1].mean()
    np.testing.assert_allclose(model.predict(X[:5]), expected, rtol=1e-6)


def test_the_default_stage_one_models_of_a_binary_outcome_are_classifiers() -> None:
    """Guards passing ``binary=None`` instead of the outcome's type to the stage-1 models (all, the control one
    or the arm's): with no estimator given, a 0/1 outcome gets the default boosted *classifier* for the control
    group and for each arm, and the fitted models are kept (``outcome_models_`` not ``None``)."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 2))
    t = rng.integers(0, 2, 300)
    y = (rng.random(300) < 0.3 + 0.2 * t).astype(int)
    model = XLearner().fit(X, t, y)
    assert isinstance(model.control_model_, HistGradientBoostingClassifier)
    assert set(model.outcome_models_) == {1}
    assert isinstance(model.outcome_models_[1], HistGradientBoostingClassifier)
