"""The S- and T-learner's default outcome models match the outcome's type (Künzel et al. 2019, PNAS 116(10):
meta-learners with any base learner; here the documented default is histogram gradient boosting "matching the
outcome type"). Issue 21: full mutation runs of ``uplift/slearner`` and ``uplift/tlearner`` left alive the mutants
that pass ``None`` instead of the outcome's type, which turns the default into a regressor of 0/1 labels.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from crm_models.uplift import SLearner, TLearner


def _data(binary: bool):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(300, 2))
    t = rng.integers(0, 2, 300)
    y = (rng.random(300) < 0.3 + 0.2 * t).astype(int) if binary else rng.normal(size=300) + t
    return X, t, y


@pytest.mark.parametrize(("binary", "kind"), [(True, HistGradientBoostingClassifier),
                                              (False, HistGradientBoostingRegressor)])
def test_s_learner_default_model_matches_the_outcome(binary, kind) -> None:
    """Guards ``fit_outcome_model(..., self.binary_outcome_)`` -> ``None`` in ``SLearner.fit``."""
    X, t, y = _data(binary)
    model = SLearner().fit(X, t, y)
    assert isinstance(model.model_, kind)
    if binary:  # uplifts are differences of two probabilities
        assert np.all(np.abs(model.predict(X)) <= 1.0)


@pytest.mark.parametrize(("binary", "kind"), [(True, HistGradientBoostingClassifier),
                                              (False, HistGradientBoostingRegressor)])
def test_t_learner_default_models_match_the_outcome(binary, kind) -> None:
    """Guards ``fit_outcome_model(..., self.binary_outcome_)`` -> ``None`` for the control model and for the arm
    models of ``TLearner.fit``."""
    X, t, y = _data(binary)
    model = TLearner().fit(X, t, y)
    assert isinstance(model.control_model_, kind)
    assert set(model.models_) == {1} and isinstance(model.models_[1], kind)
