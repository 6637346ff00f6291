"""Compare uplift learners on held-out experiment units: one tidy table of Qini and AUUC per learner and arm.

Each learner is cloned and fitted on the training units; on the held-out units it predicts every arm's uplift,
and each arm is scored against control with :func:`~crm_models.uplift.metrics.scores_by_arm` (Qini coefficient,
Radcliffe 2007; area under the uplift curve, Rzepakowski & Jaroszewicz 2012; uplift at ``k``). The learner with
the best ``metric`` on the target arm is chosen; its name in reports is the fitted learner's ``method_name``.
A response model (who buys when treated) is fitted alike, as the usual targeting it is compared with.

Choosing the best learner on the units it is then evaluated on makes its score optimistic; a permutation null
(:func:`~crm_models.uplift.metrics.permutation_null`) says whether the chosen one beats a random ranking.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from crm_models.exceptions import DataContractError, NotFittedError
from crm_models.uplift.drlearner import DRLearner
from crm_models.uplift.metrics import scores_by_arm
from crm_models.uplift.slearner import SLearner
from crm_models.uplift.tlearner import TLearner
from crm_models.uplift.xlearner import XLearner

__all__ = ["ArmEvaluation", "LearnerComparison", "compare_learners", "default_learners"]

METRICS = ("qini_auc", "uplift_auc")


def _boosting(seed: int | None) -> dict[str, Any]:
    return {"max_iter": 50, "max_leaf_nodes": 8, "min_samples_leaf": 100, "early_stopping": False,
            "random_state": seed}


def default_learners(*, control: Any = 0, seed: int = 0) -> list[BaseEstimator]:
    """S-, T-, X- and DR-learner on small histogram gradient-boosting models (50 trees of 8 leaves, at least 100
    units a leaf): quick on tens of thousands of units and hard to overfit on an experiment's noisy outcome."""
    clf, reg = HistGradientBoostingClassifier(**_boosting(seed)), HistGradientBoostingRegressor(**_boosting(seed))
    return [SLearner(clf, control=control), TLearner(clf, control=control), XLearner(clf, reg, control=control),
            DRLearner(clf, reg, control=control, random_state=seed)]


@dataclass(frozen=True)
class ArmEvaluation:
    """The held-out units of one arm and control: outcome ``y``, ``treated`` (1 = the arm, 0 = control), each
    learner's predicted uplift for the arm (``scores``), the response model's score and ``units`` (a boolean
    mask over all rows of the experiment, to take e.g. a simulation's true effects)."""

    arm: str
    y: np.ndarray
    treated: np.ndarray
    scores: dict[str, np.ndarray]
    response: np.ndarray
    units: np.ndarray


class LearnerComparison:
    """Fit uplift learners on training units and compare them on held-out units, per arm.

    Parameters
    ----------
    learners
        Unfitted learners (a sequence, named by their ``method_name``) or ``{name: learner}``; each is cloned.
    control
        The control label of the treatment column.
    target_arm
        The arm whose ``metric`` chooses the best learner (default: the mean over the arms).
    metric
        ``"qini_auc"`` (default) or ``"uplift_auc"``.
    k
        Share of units for the uplift-at-``k`` column.
    response_estimator
        Classifier (0/1 outcome) or regressor of the response model; default: small histogram boosting as in
        :func:`default_learners`, seeded with ``random_state``.
    random_state
        Seed of the default response model.

    Attributes (after ``fit``): ``learners_`` (fitted, by name), ``predictions_`` (held-out uplift per arm, by
    name), ``table_`` (one row per learner and arm: ``learner``, ``arm``, ``n_units``, ``qini_auc``,
    ``uplift_auc``, ``uplift_at_<k>``, ``chosen``), ``best_name_`` and ``best_learner_``.
    """

    def __init__(self, learners: Sequence[Any] | Mapping[str, Any], *, control: Any = 0, target_arm: Any = None,
                 metric: str = "qini_auc", k: float = 0.3, response_estimator: Any = None,
                 random_state: int | None = 0) -> None:
        self.learners = learners
        self.control = control
        self.target_arm = target_arm
        self.metric = metric
        self.k = k
        self.response_estimator = response_estimator
        self.random_state = random_state

    def _named(self) -> dict[str, Any]:
        if isinstance(self.learners, Mapping):
            return dict(self.learners)
        named: dict[str, Any] = {}
        for learner in self.learners:
            name = str(getattr(learner, "method_name", type(learner).__name__))
            if name in named:
                raise ValueError(f"two learners are named {name!r}: pass a mapping {{name: learner}} instead")
            named[name] = learner
        return named

    def fit(self, X: pd.DataFrame, treatment: Any, y: Any, *, evaluation: Any) -> LearnerComparison:
        """Fit every learner on the rows where ``evaluation`` is False and score them where it is True."""
        if self.metric not in METRICS:
            raise ValueError(f"metric must be one of {METRICS}, got {self.metric!r}")
        t = np.asarray(treatment).astype(str)
        y_arr = np.asarray(y, dtype=float)
        held = np.asarray(evaluation, dtype=bool)
        if held.shape != t.shape or held.all() or not held.any():
            raise DataContractError("evaluation must mark some but not all units (one flag per unit)",
                                    column="evaluation", rule="boolean mask with training and held-out units",
                                    examples=[int(held.sum()), int(held.size)])
        control = str(self.control)
        X_train, X_eval = X[~held], X[held]
        self.learners_ = {name: _with_text_control(clone(learner)).fit(X_train, t[~held], y_arr[~held])
                          for name, learner in self._named().items()}
        self.predictions_ = {name: learner.predict_frame(X_eval) for name, learner in self.learners_.items()}
        rows = [scores_by_arm(y_arr[held], frame, t[held], control=control, k=self.k).assign(learner=name)
                for name, frame in self.predictions_.items()]
        table = pd.concat(rows, ignore_index=True)
        table.insert(1, "n_units", [int(np.isin(t[held], [a, control]).sum()) for a in table["arm"]])
        arms = [str(a) for a in table["arm"].unique()]
        if self.target_arm is not None and str(self.target_arm) not in arms:
            raise DataContractError(f"target_arm {self.target_arm!r} is not a treatment arm of the experiment",
                                    column="variant", rule="target_arm is one of the arms", examples=arms)
        on = table if self.target_arm is None else table[table["arm"] == str(self.target_arm)]
        self.best_name_ = str(on.groupby("learner", sort=False)[self.metric].mean().idxmax())
        self.best_learner_ = self.learners_[self.best_name_]
        table["chosen"] = table["learner"] == self.best_name_
        self.table_ = table[["learner", "arm", *[c for c in table.columns if c not in ("learner", "arm")]]]
        self._data = (X, t, y_arr, held)
        return self

    def evaluation(self, arm: Any = None) -> ArmEvaluation:
        """The held-out units of ``arm`` (default: ``target_arm``) and control, each learner's uplift for the arm,
        and a response model's score (fitted on the arm's training units: who buys when treated)."""
        if not hasattr(self, "table_"):
            raise NotFittedError("LearnerComparison is not fitted; call fit(X, treatment, y, evaluation=...) first")
        arm = str(self.target_arm if arm is None else arm)
        X, t, y, held = self._data
        units = held & np.isin(t, [arm, str(self.control)])
        in_held = units[held]
        scores = {name: frame[arm].to_numpy()[in_held] for name, frame in self.predictions_.items()}
        on_arm = ~held & (t == arm)
        binary = bool(np.isin(y, (0.0, 1.0)).all())
        estimator = self.response_estimator
        if estimator is None:
            kind = HistGradientBoostingClassifier if binary else HistGradientBoostingRegressor
            estimator = kind(**_boosting(self.random_state))
        model = clone(estimator).fit(X[on_arm], y[on_arm])
        response = model.predict_proba(X[units])[:, 1] if binary else model.predict(X[units])
        return ArmEvaluation(arm, y[units], (t[units] == arm).astype(int), scores, np.asarray(response), units)


def _with_text_control(learner: Any) -> Any:
    """The comparison reads treatment labels as text, so a learner's ``control`` label is read as text too
    (``TLearner(control=0)`` with integer labels would otherwise find no control unit)."""
    params = learner.get_params(deep=False) if hasattr(learner, "get_params") else {}
    if "control" in params and params["control"] is not None:
        learner.set_params(control=str(params["control"]))
    return learner


def compare_learners(learners: Sequence[Any] | Mapping[str, Any] | None, X: pd.DataFrame, treatment: Any, y: Any,
                     *, control: Any = 0, target_arm: Any = None, metric: str = "qini_auc", test_share: float = 0.5,
                     random_state: int | None = 0, k: float = 0.3) -> LearnerComparison:
    """Fit ``learners`` (``None``: :func:`default_learners`) on a random ``1 - test_share`` of the units and
    compare them on the rest; returns the fitted :class:`LearnerComparison` (``table_``, ``best_name_``, ...).

    The held-out units are drawn with ``numpy.random.default_rng(random_state)``: unit ``i`` is held out when
    its uniform draw is below ``test_share``.
    """
    if not 0.0 < float(test_share) < 1.0:
        raise ValueError(f"test_share must lie in (0, 1), got {test_share!r}")
    n = len(np.asarray(treatment))
    evaluation = np.random.default_rng(random_state).uniform(size=n) < test_share
    # LearnerComparison.fit reads the treatment labels as text, so the default learners get the control as text
    chosen = default_learners(control=str(control), seed=0 if random_state is None else random_state) \
        if learners is None else learners
    return LearnerComparison(chosen, control=control, target_arm=target_arm, metric=metric, k=k,
                             random_state=random_state).fit(X, treatment, y, evaluation=evaluation)
