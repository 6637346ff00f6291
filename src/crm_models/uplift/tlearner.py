"""T-learner: separate outcome models for control and for each treatment arm.

Künzel, S. R., Sekhon, J. S., Bickel, P. J. & Yu, B. (2019). Metalearners for estimating heterogeneous treatment
effects using machine learning. *PNAS* 116(10), 4156-4165 (section "T-learner").
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator

from crm_models.uplift._base import BaseUpliftLearner, fit_outcome_model, predict_outcome

__all__ = ["TLearner"]


class TLearner(BaseUpliftLearner):
    """``mu_0`` fitted on control units, ``mu_a`` on the units of each arm; uplift ``mu_a(x) - mu_0(x)``.

    Parameters
    ----------
    estimator
        Classifier (binary outcome) or regressor for the arm models; cloned per arm, never mutated.
    control_estimator
        Optional different estimator for the control model (default: ``estimator``).
    control
        Label of the control group.

    Attributes
    ----------
    control_model_, models_ (``{arm: fitted estimator}``), treatments_
    """

    method_name = "T-learner"

    def __init__(self, estimator: BaseEstimator | None = None, control_estimator: BaseEstimator | None = None,
                 control: Any = 0) -> None:
        self.estimator = estimator
        self.control_estimator = control_estimator
        self.control = control

    def fit(self, X: Any, treatment: Any, y: Any) -> TLearner:
        """Fit one model per group; returns ``self``."""
        Xa, t, ya = self._validate_fit(X, treatment, y)
        c = t == self.control
        ctrl_template = self.control_estimator if self.control_estimator is not None else self.estimator
        self.control_model_ = fit_outcome_model(ctrl_template, Xa[c], ya[c], self.binary_outcome_)
        self.models_ = {}
        for arm in self.treatments_:
            m = t == arm
            self.models_[arm] = fit_outcome_model(self.estimator, Xa[m], ya[m], self.binary_outcome_)
        return self

    def _predict_matrix(self, X: np.ndarray) -> np.ndarray:
        base = predict_outcome(self.control_model_, X)
        return np.column_stack([predict_outcome(self.models_[a], X) - base for a in self.treatments_])
