"""DR-learner cross-fitting needs at least ``n_folds`` units in each group it compares (issue 21 review): with fewer,
scikit-learn's StratifiedKFold raised its own ValueError (or only warned, and a fold's outcome model was fitted on
no or one unit). The learner refuses with a DataContractError naming the treatment column, the rule and the
groups' sizes."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression

from crm_models.exceptions import DataContractError
from crm_models.uplift import DRLearner


def _data(labels: list[tuple[object, int]], seed: int = 0):
    rng = np.random.default_rng(seed)
    t = np.concatenate([np.full(n, label, dtype=object) for label, n in labels])
    X = rng.normal(size=(t.size, 2))
    y = rng.normal(size=t.size)
    return X, t, y


@pytest.mark.parametrize(("n_arm", "n_control"), [(2, 2), (1, 40), (2, 40), (40, 2)])
def test_a_group_smaller_than_n_folds_is_refused_by_name(n_arm, n_control) -> None:
    """(2, 2): StratifiedKFold's ValueError; (1, 40): a fold's outcome model fitted on 0 units; (2, 40) and
    (40, 2): only a warning before. All are refused, naming the column, the rule and the small group."""
    X, t, y = _data([("coupon", n_arm), ("control", n_control)])
    with pytest.raises(DataContractError, match="n_folds") as info:
        DRLearner(LinearRegression(), n_folds=3, control="control").fit(X, t, y)
    assert info.value.column == "treatment"
    assert "at least n_folds (3) units" in info.value.rule
    small = "coupon" if n_arm < 3 else "control"
    assert small in str(info.value)


def test_exactly_n_folds_units_per_group_fits_and_every_arm_is_checked() -> None:
    """The bound is inclusive (3 units per group with 3 folds fit); in a multi-arm experiment a second arm
    with 2 units is refused by its label although the first arm is large enough."""
    X, t, y = _data([("a", 3), ("control", 3)])
    model = DRLearner(LinearRegression(), n_folds=3, control="control").fit(X, t, y)
    assert model.n_units_ == {"a": (3, 3)}
    X, t, y = _data([("a", 30), ("b", 2), ("control", 30)])
    with pytest.raises(DataContractError, match="'b'"):
        DRLearner(LinearRegression(), n_folds=3, control="control").fit(X, t, y)
    DRLearner(LinearRegression(), n_folds=2, control="control").fit(X, t, y)
