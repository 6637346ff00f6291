"""Per-customer value of each action from uplift models, with bootstrap draws for the plan's interval."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone


def uplift_action_values(
    learner: Any, X_train: pd.DataFrame, treatment: Any, revenue: Any, X_score: pd.DataFrame, *,
    margin: float, n_bootstrap: int = 0, seed: int = 0,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Expected incremental margin of each arm for the customers in ``X_score``: ``margin`` x the uplift in
    revenue predicted by ``learner`` (any crm_models uplift learner, cloned, fitted on ``X_train``, ``treatment``,
    ``revenue``). Returns one column per arm, and ``n_bootstrap`` draws per arm (shape ``(draws, customers)``)
    from refits on bootstrap resamples of the training rows (Efron & Tibshirani 1993), for
    :func:`crm_models.plan.profit_interval`.
    """
    model = clone(learner).fit(X_train, treatment, revenue)
    values = model.predict_frame(X_score) * margin
    values.index = X_score.index
    rng = np.random.default_rng(seed)
    t = np.asarray(treatment)
    y = np.asarray(revenue, dtype=float)
    draws: dict[str, list[np.ndarray]] = {arm: [] for arm in values.columns}
    for _ in range(n_bootstrap):
        rows = rng.integers(0, len(y), len(y))
        refit = clone(learner).fit(X_train.iloc[rows], t[rows], y[rows])
        frame = refit.predict_frame(X_score) * margin
        for arm in values.columns:
            draws[arm].append(frame[arm].to_numpy())
    return values, {arm: np.vstack(d) for arm, d in draws.items() if d}


def conversion_action_values(
    learner: Any, X_train: pd.DataFrame, treatment: Any, converted: Any, order_value: dict[str, float],
    X_score: pd.DataFrame, *, margin: float, n_bootstrap: int = 0, seed: int = 0,
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Expected incremental margin of each arm from a model of the *conversion* uplift: predicted extra
    probability of buying x the arm's order value x ``margin`` (the seeds' "incremental conversion x margin x
    order value"). A binary outcome carries far less noise than revenue, so the ranking of customers is much
    better with the same data. Returns one column per arm and ``n_bootstrap`` draws per arm, as
    :func:`uplift_action_values` does."""
    uplift, draws = uplift_action_values(learner, X_train, treatment, converted, X_score, margin=margin,
                                         n_bootstrap=n_bootstrap, seed=seed)
    missing = [arm for arm in uplift.columns if arm not in order_value]
    if missing:
        raise KeyError(f"no order value for arm(s) {missing}")
    values = uplift * pd.Series({arm: float(order_value[arm]) for arm in uplift.columns})
    return values, {arm: d * float(order_value[arm]) for arm, d in draws.items()}
