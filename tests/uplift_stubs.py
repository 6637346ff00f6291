"""Stand-in models for the hand-computed uplift learner tests: with them the learners' estimates follow by hand."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyRegressor


class ConstantProba(ClassifierMixin, BaseEstimator):
    """A propensity model that says ``P(treated | x) = p`` for everybody."""

    def __init__(self, p: float = 0.5) -> None:
        self.p = p

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        return np.column_stack([np.full(len(X), 1 - self.p), np.full(len(X), self.p)])


def zero_regressor() -> DummyRegressor:
    """An outcome model that predicts 0 everywhere."""
    return DummyRegressor(strategy="constant", constant=0.0)
