"""``LearnerComparison`` with user learners whose ``control`` is not text: the comparison reads treatment labels
as text, so ``TLearner(control=0)`` with integer labels found no control unit. The learner's control label is now
read as text too."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression

from crm_models.uplift import LearnerComparison, SLearner, TLearner


def _data(seed: int = 5) -> tuple[pd.DataFrame, np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    n = 600
    X = pd.DataFrame({"x": rng.normal(size=n)})
    t = rng.integers(0, 2, n)
    y = X["x"].to_numpy() + 2.0 * t * (X["x"].to_numpy() > 0) + rng.normal(scale=0.1, size=n)
    held = np.arange(n) % 3 == 0
    return X, t, y, held


def test_integer_control_of_user_learners_matches_integer_labels() -> None:
    X, t, y, held = _data()
    learners = {"T": TLearner(LinearRegression(), control=0), "S": SLearner(LinearRegression(), control=0)}
    cmp = LearnerComparison(learners, control=0).fit(X, t, y, evaluation=held)
    assert set(cmp.table_["learner"]) == {"T", "S"}
    assert set(cmp.table_["arm"]) == {"1"}
    # the learner passed in is left as it was (the comparison works on clones)
    assert learners["T"].control == 0


def test_the_learners_fitted_in_the_comparison_equal_a_fit_on_text_labels() -> None:
    X, t, y, held = _data()
    cmp = LearnerComparison({"T": TLearner(LinearRegression(), control=0)}, control=0).fit(X, t, y, evaluation=held)
    direct = TLearner(LinearRegression(), control="0").fit(X[~held], t[~held].astype(str), y[~held])
    assert np.allclose(cmp.learners_["T"].predict(X[held]), direct.predict(X[held]))
    assert cmp.learners_["T"].control == "0"
