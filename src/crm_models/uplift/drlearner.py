"""Doubly robust (DR) learner with cross-fitting.

Kennedy, E. H. (2020/2023). Towards optimal doubly robust estimation of heterogeneous causal effects.
*Electronic Journal of Statistics* 17(2), 3008-3049 (arXiv:2004.14497, 2020).

For arm ``a`` against control, on each of ``n_folds`` held-out folds the pseudo-outcome::

    phi = mu_a(x) - mu_0(x) + T (Y - mu_a(x)) / e(x) - (1 - T) (Y - mu_0(x)) / (1 - e(x))

is computed with nuisance models (``mu_0``, ``mu_a``, ``e``) fitted on the other folds, and a final regressor of
``phi`` on ``x`` estimates ``tau(x)``. The pseudo-outcome is unbiased for ``tau(x)`` if either the outcome
models or the propensity are right; in a randomized experiment the propensity is known, so it always is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import StratifiedKFold

from crm_models.exceptions import DataContractError
from crm_models.uplift._base import (
    BaseUpliftLearner,
    arm_propensity,
    fit_outcome_model,
    predict_outcome,
    regressor_like,
)

__all__ = ["DRLearner"]


class DRLearner(BaseUpliftLearner):
    """Doubly robust learner (Kennedy 2020), one effect model per arm.

    Parameters
    ----------
    outcome_estimator
        Nuisance outcome model (classifier for a binary outcome, or regressor); cloned per fold and group.
    effect_estimator
        Final regressor of the pseudo-outcome (default: ``outcome_estimator`` if a regressor, else the
        default regressor).
    propensity_estimator
        Optional classifier for ``e(x)``; default: the design propensity (the arm's share).
    n_folds
        Cross-fitting folds (stratified by group); every group (each arm and control) needs at least
        ``n_folds`` units, else :class:`~crm_models.exceptions.DataContractError`.
    control, propensity_clip, random_state
        Control label; clipping of estimated propensities; seed of the fold split.
    """

    method_name = "DR-learner"

    def __init__(self, outcome_estimator: BaseEstimator | None = None,
                 effect_estimator: BaseEstimator | None = None,
                 propensity_estimator: BaseEstimator | None = None, n_folds: int = 3, control: Any = 0,
                 propensity_clip: float = 0.01, random_state: int | None = 0) -> None:
        self.outcome_estimator = outcome_estimator
        self.effect_estimator = effect_estimator
        self.propensity_estimator = propensity_estimator
        self.n_folds = n_folds
        self.control = control
        self.propensity_clip = propensity_clip
        self.random_state = random_state

    def fit(self, X: Any, treatment: Any, y: Any) -> DRLearner:
        """Cross-fit the nuisances, build pseudo-outcomes and fit the effect model per arm; returns ``self``."""
        if int(self.n_folds) < 2:
            raise ValueError("n_folds must be at least 2 (cross-fitting)")
        Xa, t, ya = self._validate_fit(X, treatment, y)
        c = t == self.control
        self._check_group_sizes(t, c)
        binary = self.binary_outcome_
        self.effect_models_ = {}
        self.pseudo_outcome_mean_ = {}
        self.pseudo_outcome_se_ = {}
        self.n_units_ = {}
        for arm in self.treatments_:
            m = t == arm
            pair = np.flatnonzero(m | c)
            Xp, yp, tp = Xa[pair], ya[pair], m[pair].astype(int)
            e_design = arm_propensity(t, self.control, arm)
            phi = np.empty(pair.size)
            folds = StratifiedKFold(n_splits=int(self.n_folds), shuffle=True, random_state=self.random_state)
            for train, test in folds.split(Xp, tp):
                tr_t, tr_c = train[tp[train] == 1], train[tp[train] == 0]
                mu1 = fit_outcome_model(self.outcome_estimator, Xp[tr_t], yp[tr_t], binary)
                mu0 = fit_outcome_model(self.outcome_estimator, Xp[tr_c], yp[tr_c], binary)
                m1, m0 = predict_outcome(mu1, Xp[test]), predict_outcome(mu0, Xp[test])
                if self.propensity_estimator is not None:
                    pm = clone(self.propensity_estimator).fit(Xp[train], tp[train])
                    e = np.clip(predict_outcome(pm, Xp[test]), self.propensity_clip, 1 - self.propensity_clip)
                else:
                    e = np.full(test.size, e_design)
                tt, yy = tp[test], yp[test]
                phi[test] = m1 - m0 + tt * (yy - m1) / e - (1 - tt) * (yy - m0) / (1 - e)
            self.pseudo_outcome_mean_[arm] = float(phi.mean())
            self.pseudo_outcome_se_[arm] = float(phi.std(ddof=1) / np.sqrt(phi.size))
            self.n_units_[arm] = (int(tp.sum()), int((1 - tp).sum()))
            self.effect_models_[arm] = regressor_like(self.effect_estimator, self.outcome_estimator).fit(Xp, phi)
        return self

    def _check_group_sizes(self, t: np.ndarray, c: np.ndarray) -> None:
        """Stratified cross-fitting puts units of each group in every fold only with at least ``n_folds`` of them;
        with fewer, a fold's outcome model is fitted on too few (or no) units of that group."""
        k = int(self.n_folds)

        def name(label: Any) -> str:
            return repr(label.item() if isinstance(label, np.generic) else label)

        sizes = {name(self.control): int(c.sum()), **{name(a): int((t == a).sum()) for a in self.treatments_}}
        small = {label: n for label, n in sizes.items() if n < k}
        if small:
            raise DataContractError(
                f"cross-fitting with n_folds={k} needs at least {k} units in each group; too few in "
                + ", ".join(f"{label} ({n})" for label, n in small.items())
                + ": lower n_folds or merge the small arm", column="treatment",
                rule=f"at least n_folds ({k}) units in each treatment group and in control",
                examples=[f"{label}: {n} units" for label, n in sizes.items()])

    @property
    def summary(self) -> pd.DataFrame:
        """Average effect per arm: the cross-fitted AIPW estimate (mean pseudo-outcome) with a 95 % interval.

        The mean of the doubly robust pseudo-outcomes is the augmented inverse-propensity-weighted estimator
        of the average treatment effect (Robins, Rotnitzky & Zhao 1994); its standard error is the sample
        standard deviation of the pseudo-outcomes over ``sqrt(n)``.
        """
        if not hasattr(self, "pseudo_outcome_mean_"):
            from crm_models.exceptions import NotFittedError

            raise NotFittedError("DRLearner is not fitted; call fit(X, treatment, y) first")
        z = float(stats.norm.ppf(0.975))
        rows = []
        for arm in self.treatments_:
            est, se = self.pseudo_outcome_mean_[arm], self.pseudo_outcome_se_[arm]
            n_t, n_c = self.n_units_[arm]
            rows.append({"arm": arm, "n_arm": n_t, "n_control": n_c, "ate": est, "std_error": se,
                         "ci_low": est - z * se, "ci_high": est + z * se})
        return pd.DataFrame(rows).set_index("arm")

    def _predict_matrix(self, X: np.ndarray) -> np.ndarray:
        return np.column_stack([np.asarray(self.effect_models_[a].predict(X), dtype=float)
                                for a in self.treatments_])
