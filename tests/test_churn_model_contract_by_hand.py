"""ChurnModel: the fitted width, arrays at predict time, the rows an error names, the training side of the time
split, and settings that must reach the booster (issue 21: surviving mutants of ``churn/model``).

The estimator checks in ``test_architecture.py`` cannot run under mutmut (that file also runs ``lint-imports``),
so what they would catch is pinned here on a small seeded fit. Each test names the mutation class it guards
against.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.churn import ChurnModel
from crm_models.exceptions import DataContractError


def _data(seed: int = 0, n: int = 400) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)
    return X, y


def _small(**settings) -> ChurnModel:
    base = {"n_estimators": 20, "learning_rate": 0.3, "min_child_weight": 1.0, "min_churners": 1,
            "calibration": None, "subsample": 1.0, "colsample_bytree": 1.0}
    return ChurnModel(**{**base, **settings})


def test_a_model_fitted_on_an_array_predicts_on_an_array_of_the_same_width() -> None:
    """Guards ``n_features_in_ = X.shape[1]`` -> ``None`` (every array at predict time is then refused as
    another width): the width is learned, an array of that width predicts as the same numbers in a frame."""
    X, y = _data()
    model = _small().fit(X, y)
    assert model.n_features_in_ == 3
    from_array = model.predict_proba(X[:10])
    from_frame = model.predict_proba(pd.DataFrame(X[:10]))
    np.testing.assert_allclose(from_array, from_frame)
    with pytest.raises(ValueError, match="3 features"):
        model.predict_proba(X[:10, :2])


def test_too_few_churners_names_the_first_rows_by_their_index() -> None:
    """Guards dropping ``index=X.index[:5]`` from the examples of the too-few-churners error: the example rows
    carry the caller's row labels, not 0..4."""
    X, y = _data()
    frame = pd.DataFrame(X, index=[f"row{i}" for i in range(len(X))], columns=["a", "b", "c"])
    with pytest.raises(DataContractError) as err:
        ChurnModel(min_churners=10_000).fit(frame, y)
    assert err.value.column == "churned"
    assert list(err.value.examples.index) == ["row0", "row1", "row2", "row3", "row4"]
    assert list(err.value.examples) == list(y[:5])
    assert "10000" in err.value.rule


def test_training_snapshots_of_one_class_fall_back_to_a_random_split() -> None:
    """Guards ``0 < yt.sum() < len(yt)`` -> ``<=`` on the *training* side of the time split: when every training
    row churned the time split cannot train, so without a purge the split falls back to the stratified random
    split (and with a purge it is refused). Checked on the fitted model's documented row attributes
    (``validation_strategy_``, ``train_rows_``, ``early_stopping_rows_``, ``calibration_rows_``)."""
    time = np.repeat([1.0, 2.0, 3.0], 4)
    y = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1])  # the two training snapshots: churners only
    X = np.arange(24, dtype=float).reshape(12, 2)
    tiny = {"n_estimators": 3, "min_churners": 1, "min_child_weight": 1.0, "calibration": None}
    model = ChurnModel(validation_fraction=0.25, **tiny).fit(X, y, time=time)
    held_out = np.r_[model.early_stopping_rows_, model.calibration_rows_]
    assert model.validation_strategy_ == "random"
    # round(10 * 0.25) = 2 churners, max(1, round(2 * 0.25)) = 1 stayer
    assert len(held_out) == 3 and y[held_out].sum() == 2
    assert sorted(np.r_[model.train_rows_, held_out]) == list(range(12))
    with pytest.raises(DataContractError) as err:
        ChurnModel(purge=1.0, **tiny).fit(X, y, time=time)
    assert err.value.column == "time" and "purge" in err.value.rule
    # one stayer among the training rows is enough for the time split: the latest snapshot is held out
    y_ok = y.copy()
    y_ok[0] = 0
    model = ChurnModel(**tiny).fit(X, y_ok, time=time)
    assert model.validation_strategy_ == "time"
    assert sorted(np.r_[model.early_stopping_rows_, model.calibration_rows_]) == [8, 9, 10, 11]
    assert sorted(model.train_rows_) == list(range(8))


def test_a_huge_l2_penalty_flattens_the_trees() -> None:
    """Guards ``"lambda": self.reg_lambda`` renamed or dropped in the booster parameters (xgboost ignores an
    unknown key, so ``reg_lambda`` would silently stay at 1): with a huge L2 penalty every leaf weight
    ``-G / (H + lambda)`` is about 0 (Chen & Guestrin 2016, XGBoost, eq. 5), so the margins barely spread,
    while the default penalty separates the classes."""
    X, y = _data()
    free = _small(reg_lambda=1.0, early_stopping_rounds=1000).fit(X, y)
    flat = _small(reg_lambda=1e9, early_stopping_rounds=1000).fit(X, y)
    assert np.ptp(free.decision_function(X)) > 1.0
    assert np.ptp(flat.decision_function(X)) < 1e-3


def test_documented_defaults() -> None:
    """Guards a changed default (``reg_lambda=1.0`` -> ``2.0`` and the like): the defaults are the ones the class
    docstring reports as the backtest winners (shallow trees, ``min_child_weight=20``), balanced class weights,
    automatic calibration on half of the held-out quarter, one thread and seed 0. A changed default must change
    this test on purpose (issue 21: "default thresholds nobody asserts")."""
    assert ChurnModel().get_params() == {
        "n_estimators": 500, "learning_rate": 0.05, "max_depth": 2, "min_child_weight": 20.0, "subsample": 0.8,
        "colsample_bytree": 0.8, "reg_lambda": 1.0, "early_stopping_rounds": 30, "class_weight": "balanced",
        "calibration": "auto", "validation_fraction": 0.25, "calibration_fraction": 0.5, "purge": None,
        "min_churners": 20, "n_jobs": 1, "random_state": 0, "prior": "auto",
    }
