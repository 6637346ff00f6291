"""X-learner (Künzel, Sekhon, Bickel & Yu 2019).

Künzel, S. R., Sekhon, J. S., Bickel, P. J. & Yu, B. (2019). Metalearners for estimating heterogeneous treatment
effects using machine learning. *PNAS* 116(10), 4156-4165.

Stage 1 fits outcome models ``mu_0`` (control) and ``mu_a`` (arm ``a``). Stage 2 imputes individual effects,
``D_1 = Y - mu_0(X)`` on treated units and ``D_0 = mu_a(X) - Y`` on control units, and regresses them on ``X``
(``tau_1``, ``tau_0``). The estimate blends the two with the propensity ``g(x) = P(arm | x, arm or control)``:
``tau(x) = g(x) tau_0(x) + (1 - g(x)) tau_1(x)``. It shines when one arm is much larger than the other.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone

from crm_models.uplift._base import (
    BaseUpliftLearner,
    arm_propensity,
    fit_outcome_model,
    predict_outcome,
    regressor_like,
)

__all__ = ["XLearner"]


class XLearner(BaseUpliftLearner):
    """X-learner for one or several treatment arms.

    Parameters
    ----------
    outcome_estimator
        Stage-1 classifier (binary outcome) or regressor; cloned per group.
    effect_estimator
        Stage-2 regressor for the imputed effects (default: ``outcome_estimator`` if it is a regressor,
        else the default regressor).
    propensity_estimator
        Optional classifier for ``g(x)``; default: the arm's share of the units (the design propensity of
        a randomized experiment).
    control
        Label of the control group.
    propensity_clip
        Estimated propensities are clipped to ``[clip, 1 - clip]``.
    """

    method_name = "X-learner"

    def __init__(self, outcome_estimator: BaseEstimator | None = None,
                 effect_estimator: BaseEstimator | None = None,
                 propensity_estimator: BaseEstimator | None = None, control: Any = 0,
                 propensity_clip: float = 0.01) -> None:
        self.outcome_estimator = outcome_estimator
        self.effect_estimator = effect_estimator
        self.propensity_estimator = propensity_estimator
        self.control = control
        self.propensity_clip = propensity_clip

    def fit(self, X: Any, treatment: Any, y: Any) -> XLearner:
        """Fit both stages for each arm; returns ``self``."""
        Xa, t, ya = self._validate_fit(X, treatment, y)
        c = t == self.control
        binary = self.binary_outcome_
        self.control_model_ = fit_outcome_model(self.outcome_estimator, Xa[c], ya[c], binary)
        self.outcome_models_, self.effect_models_, self.propensity_models_, self.propensity_ = {}, {}, {}, {}
        for arm in self.treatments_:
            m = t == arm
            mu_a = fit_outcome_model(self.outcome_estimator, Xa[m], ya[m], binary)
            self.outcome_models_[arm] = mu_a
            d1 = ya[m] - predict_outcome(self.control_model_, Xa[m])
            d0 = predict_outcome(mu_a, Xa[c]) - ya[c]
            tau1 = regressor_like(self.effect_estimator, self.outcome_estimator).fit(Xa[m], d1)
            tau0 = regressor_like(self.effect_estimator, self.outcome_estimator).fit(Xa[c], d0)
            self.effect_models_[arm] = (tau0, tau1)
            self.propensity_[arm] = arm_propensity(t, self.control, arm)
            if self.propensity_estimator is not None:
                pair = m | c
                self.propensity_models_[arm] = clone(self.propensity_estimator).fit(Xa[pair], m[pair].astype(int))
        return self

    def _g(self, arm: Any, X: np.ndarray) -> np.ndarray:
        if arm in self.propensity_models_:
            g = predict_outcome(self.propensity_models_[arm], X)
            return np.clip(g, self.propensity_clip, 1 - self.propensity_clip)
        return np.full(X.shape[0], self.propensity_[arm])

    def _predict_matrix(self, X: np.ndarray) -> np.ndarray:
        cols = []
        for arm in self.treatments_:
            tau0, tau1 = self.effect_models_[arm]
            g = self._g(arm, X)
            cols.append(g * tau0.predict(X) + (1 - g) * tau1.predict(X))
        return np.column_stack(cols)
