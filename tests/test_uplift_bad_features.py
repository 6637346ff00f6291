"""Issue 12 item 10 (uplift cases): NaN or text features get an error naming the column."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LinearRegression

from crm_models.exceptions import DataContractError
from crm_models.uplift import DRLearner, SLearner, TLearner, XLearner


def _data(n: int = 400, seed: int = 1):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({"age": rng.normal(40, 10, n), "spend": rng.gamma(2.0, 50.0, n)})
    t = rng.integers(0, 2, n)
    y = X["spend"].to_numpy() * 0.01 + t + rng.normal(size=n)
    return X, t, y


LEARNERS = [SLearner, TLearner, XLearner, DRLearner]


@pytest.mark.parametrize("learner_cls", LEARNERS)
def test_nan_feature_is_named(learner_cls):
    X, t, y = _data()
    X.loc[[3, 17], "spend"] = np.nan
    with pytest.raises(DataContractError, match="feature 'spend' has 2 missing") as info:
        learner_cls(LinearRegression()).fit(X, t, y)
    assert info.value.column == "spend"


@pytest.mark.parametrize("learner_cls", LEARNERS)
def test_text_feature_is_named(learner_cls):
    X, t, y = _data()
    X["segment"] = np.where(np.arange(len(X)) % 2 == 0, "gold", "silver")
    with pytest.raises(DataContractError, match="feature 'segment' is not numeric.*'gold'") as info:
        learner_cls(LinearRegression()).fit(X, t, y)
    assert info.value.column == "segment"


def test_nan_in_an_array_names_the_column_index_and_predict_checks_too():
    X, t, y = _data()
    model = TLearner(LinearRegression()).fit(X.to_numpy(), t, y)
    bad = X.to_numpy().copy()
    bad[5, 1] = np.nan
    with pytest.raises(DataContractError, match=r"feature X\[:, 1\] has 1 missing") as info:
        model.predict(bad)
    assert info.value.column == "X[:, 1]"
