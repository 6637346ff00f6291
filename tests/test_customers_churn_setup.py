"""The customer table's churn model is trained the way the churn report's backtest trains its models: the
held-out snapshot one horizon before the last observed day, training snapshots one horizon (the purge gap)
before that, and the last observed day as the scoring cutoff (a date means the whole day)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.churn import ChurnModel, make_churn_dataset, make_training_set
from crm_models.customers import CustomerTableSettings
from crm_models.customers.risk import churn_model, score_churn, training_cutoffs
from crm_models.data.timestamps import end_exclusive
from crm_models.datasets.sources import load_transactions_source

SETTINGS = CustomerTableSettings(n_estimators=40, seed=3)


@pytest.fixture(scope="module")
def loaded():
    return load_transactions_source("demo", n_customers=800, seed=7, returns="keep")


def test_training_cutoffs_follow_the_backtest_rule_by_hand() -> None:
    # last day 31 Dec 2024, horizon 90: held out 2 Oct 2024; training 90, 120 and 150 days before that
    cuts = training_cutoffs(pd.Timestamp("2024-12-31"), CustomerTableSettings())
    expected = ["2024-05-05", "2024-06-04", "2024-07-04", "2024-10-02"]
    assert [f"{c:%Y-%m-%d}" for c in cuts] == expected
    # no training snapshot within a day of the first transaction
    cuts = training_cutoffs(pd.Timestamp("2024-12-31"), CustomerTableSettings(), pd.Timestamp("2024-06-01"))
    assert [f"{c:%Y-%m-%d}" for c in cuts] == ["2024-06-04", "2024-07-04", "2024-10-02"]


def test_the_model_has_a_purge_gap_of_one_horizon() -> None:
    model = churn_model(CustomerTableSettings(churn_horizon_days=60, n_estimators=7, seed=11))
    assert isinstance(model, ChurnModel)
    assert (model.purge, model.n_estimators, model.random_state) == (60, 7, 11)


def test_scores_equal_the_churn_reports_recipe(loaded) -> None:
    """The churn notebook on main (before the customer table) fitted its model for today like this; the table's
    probabilities must be the same numbers, so the report's value at risk is the model the backtest judged."""
    tx, last_day = loaded.transactions, pd.Timestamp(loaded.observation_end)
    h, lookback = SETTINGS.churn_horizon_days, SETTINGS.lookback_days
    held_out = last_day - pd.Timedelta(days=h)
    cutoffs = [held_out - pd.Timedelta(days=h + 30 * k) for k in (2, 1, 0)] + [held_out]
    X, y, time = make_training_set(tx, cutoffs, h, lookback, data_end=last_day)
    model = ChurnModel(n_estimators=SETTINGS.n_estimators, random_state=SETTINGS.seed, purge=h).fit(X, y, time=time)
    now = make_churn_dataset(tx, last_day, h, lookback, with_label=False, data_end=last_day)
    expected = pd.Series(model.predict_proba(now.X[list(model.feature_names_in_)])[:, 1], index=now.X.index)

    scores = score_churn(tx, data_end=end_exclusive(loaded.observation_end), settings=SETTINGS)
    assert scores.training_cutoffs == cutoffs
    assert scores.model.purge == h
    assert scores.probability.index.equals(expected.index)
    np.testing.assert_allclose(scores.probability.to_numpy(), expected.to_numpy(), rtol=0, atol=1e-12)
