"""S-learner: one outcome model with the treatment as a feature.

Künzel, S. R., Sekhon, J. S., Bickel, P. J. & Yu, B. (2019). Metalearners for estimating heterogeneous treatment
effects using machine learning. *PNAS* 116(10), 4156-4165 (section "S-learner").
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from crm_models.uplift._base import BaseUpliftLearner, fit_outcome_model, predict_outcome

__all__ = ["SLearner"]


class SLearner(BaseUpliftLearner):
    """Single model ``mu(x, arm)`` fitted on all units, arms one-hot encoded as extra features.

    The uplift of arm ``a`` is ``mu(x, a) - mu(x, control)``. Simple and data-efficient, but a model that
    rarely splits on the treatment columns shrinks the uplift toward zero (Künzel et al. 2019).

    Parameters
    ----------
    estimator
        scikit-learn classifier (binary outcome; ``predict_proba`` is used) or regressor. Cloned, never
        mutated. Default: histogram gradient boosting matching the outcome type.
    control
        Label of the control group in ``treatment``.

    Attributes
    ----------
    model_ : fitted estimator
    treatments_ : list of treatment labels (columns of ``predict``)
    """

    method_name = "S-learner"

    def __init__(self, estimator: BaseEstimator | None = None, control: Any = 0) -> None:
        self.estimator = estimator
        self.control = control

    def _design(self, X: np.ndarray, arm_index: int | None) -> np.ndarray:
        dummies = np.zeros((X.shape[0], len(self.treatments_)))
        if arm_index is not None:
            dummies[:, arm_index] = 1.0
        return np.hstack([X, dummies])

    def fit(self, X: Any, treatment: Any, y: Any) -> SLearner:
        """Fit the single outcome model on ``[X, one-hot(treatment)]``; returns ``self``."""
        Xa, t, ya = self._validate_fit(X, treatment, y)
        dummies = np.column_stack([(t == a).astype(float) for a in self.treatments_])
        self.model_ = fit_outcome_model(self.estimator, np.hstack([Xa, dummies]), ya, self.binary_outcome_)
        return self

    def _predict_matrix(self, X: np.ndarray) -> np.ndarray:
        base = predict_outcome(self.model_, self._design(X, None))
        cols = [predict_outcome(self.model_, self._design(X, j)) - base for j in range(len(self.treatments_))]
        return np.column_stack(cols)
