"""Outcome-transformation learners: class transformation (binary) and transformed outcome (any outcome).

* Jaskowski, M. & Jaroszewicz, S. (2012). Uplift modeling for clinical trial data. *ICML Workshop on Clinical
  Data Analysis*. With ``Z = Y T + (1 - Y)(1 - T)`` and a 50/50 split, ``uplift(x) = 2 P(Z = 1 | x) - 1``.
* Athey, S. & Imbens, G. W. (2016). Recursive partitioning for heterogeneous causal effects. *PNAS* 113(27);
  transformed outcome ``Y* = Y (T - e) / (e (1 - e))`` has ``E[Y* | x] = tau(x)`` for propensity ``e``.

The class transformation is only unbiased with equal group sizes; here the units are re-weighted so that each
arm and its control carry equal total weight (weights ``0.5 / e`` and ``0.5 / (1 - e)``), which makes it valid
for any split without throwing data away.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, clone, is_classifier

from crm_models.exceptions import DataContractError
from crm_models.uplift._base import (
    BaseUpliftLearner,
    arm_propensity,
    default_estimator,
    fit_outcome_model,
    predict_outcome,
)

__all__ = ["ClassTransformation", "TransformedOutcome"]


class ClassTransformation(BaseUpliftLearner):
    """Class-transformation uplift model for a **binary** outcome (Jaskowski & Jaroszewicz 2012).

    Parameters
    ----------
    estimator
        A classifier (cloned per arm); default histogram gradient boosting.
    control
        Label of the control group.
    balance
        Re-weight units so that arm and control carry equal weight (needed unless the split is 50/50).
        Requires an estimator whose ``fit`` accepts ``sample_weight``.
    """

    method_name = "class transformation"

    def __init__(self, estimator: BaseEstimator | None = None, control: Any = 0, balance: bool = True) -> None:
        self.estimator = estimator
        self.control = control
        self.balance = balance

    def fit(self, X: Any, treatment: Any, y: Any) -> ClassTransformation:
        """Fit one classifier of ``Z`` per arm (on that arm's and the control units); returns ``self``."""
        if self.estimator is not None and not is_classifier(self.estimator):
            raise TypeError("ClassTransformation needs a classifier; use TransformedOutcome with a regressor")
        Xa, t, ya = self._validate_fit(X, treatment, y, binary=True)
        c = t == self.control
        self.models_ = {}
        for arm in self.treatments_:
            m = t == arm
            pair = m | c
            tt = m[pair].astype(float)
            yy = ya[pair]
            z = (yy * tt + (1 - yy) * (1 - tt)).astype(int)
            weight = None
            if self.balance:
                e = arm_propensity(t, self.control, arm)
                weight = np.where(tt == 1, 0.5 / e, 0.5 / (1 - e))
            self.models_[arm] = fit_outcome_model(self.estimator if self.estimator is not None
                                                  else default_estimator(True), Xa[pair], z, True, weight)
        return self

    def _predict_matrix(self, X: np.ndarray) -> np.ndarray:
        return np.column_stack([2 * predict_outcome(self.models_[a], X) - 1 for a in self.treatments_])


class TransformedOutcome(BaseUpliftLearner):
    """Transformed-outcome regression (Athey & Imbens 2016): works for revenue and any continuous outcome.

    Regresses ``Y* = Y (T - e) / (e (1 - e))`` on ``X``, separately per arm (on that arm's and the control
    units). ``e`` is the arm's share of those units, or the clipped prediction of ``propensity_estimator``.
    The transformed outcome is very noisy; prefer :class:`~crm_models.uplift.DRLearner`, which adds outcome
    models to the same identity, when the sample is small.

    Parameters
    ----------
    estimator
        A regressor (cloned per arm); default histogram gradient boosting.
    propensity_estimator
        Optional classifier for ``P(arm | x)``.
    control, propensity_clip
        Label of the control group; clipping of estimated propensities.
    """

    method_name = "transformed outcome"

    def __init__(self, estimator: BaseEstimator | None = None, propensity_estimator: BaseEstimator | None = None,
                 control: Any = 0, propensity_clip: float = 0.01) -> None:
        self.estimator = estimator
        self.propensity_estimator = propensity_estimator
        self.control = control
        self.propensity_clip = propensity_clip

    def fit(self, X: Any, treatment: Any, y: Any) -> TransformedOutcome:
        """Fit one regressor of the transformed outcome per arm; returns ``self``."""
        if self.estimator is not None and is_classifier(self.estimator):
            raise TypeError("TransformedOutcome needs a regressor (the transformed outcome is not a class)")
        Xa, t, ya = self._validate_fit(X, treatment, y)
        c = t == self.control
        self.models_ = {}
        for arm in self.treatments_:
            m = t == arm
            pair = m | c
            tt = m[pair].astype(float)
            if self.propensity_estimator is not None:
                pm = clone(self.propensity_estimator).fit(Xa[pair], tt.astype(int))
                e = np.clip(predict_outcome(pm, Xa[pair]), self.propensity_clip, 1 - self.propensity_clip)
            else:
                e = np.full(tt.size, arm_propensity(t, self.control, arm))
            if np.any((e <= 0) | (e >= 1)):
                raise DataContractError("propensity must lie strictly between 0 and 1", column="treatment",
                                        rule="both groups present")
            ystar = ya[pair] * (tt - e) / (e * (1 - e))
            model = clone(self.estimator) if self.estimator is not None else default_estimator(False)
            self.models_[arm] = model.fit(Xa[pair], ystar)
        return self

    def _predict_matrix(self, X: np.ndarray) -> np.ndarray:
        return np.column_stack([np.asarray(self.models_[a].predict(X), dtype=float) for a in self.treatments_])
