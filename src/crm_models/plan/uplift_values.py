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
