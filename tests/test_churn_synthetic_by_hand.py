"""The seeded rhythm generator that the churn tests and examples build on (``churn._synthetic``): the properties
its docstring promises, checked on the data (issue 21: surviving mutants of ``rhythm_transactions``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_models.churn._synthetic import rhythm_transactions


def test_purchases_stay_in_the_period_and_some_customers_drop_out_after_one_purchase() -> None:
    """Guards ``keep[:, 0] = True`` -> ``keep[:, 1]`` (every customer then gets a second purchase, even after
    dropping out): customers who drop out before their rhythm brings them back buy exactly once, and no purchase
    falls outside ``[start, start + days)``."""
    frame = rhythm_transactions(seed=3, n_customers=400, days=365, start="2023-01-01")
    start = pd.Timestamp("2023-01-01")
    assert frame["timestamp"].min() >= start
    assert frame["timestamp"].max() < start + pd.Timedelta(days=365)
    per_customer = frame.groupby("customer_id").size()
    assert len(per_customer) == 400, "every customer buys at least once (on arrival)"
    assert (per_customer == 1).sum() > 0, "somebody drops out before a second purchase"
    assert (per_customer >= 5).sum() > 0, "somebody keeps a rhythm"


def test_returns_are_a_few_percent_of_rows_and_half_the_amount_back() -> None:
    """About 3 % of the rows are returns of half a typical amount (negative); the rest are purchases."""
    frame = rhythm_transactions(seed=3, n_customers=2000)
    returned = frame["amount"] < 0
    assert 0.02 < returned.mean() < 0.04
    # lognormal(3.5, 0.4) spend x lognormal(0, 0.3): a median purchase near exp(3.5) = 33
    assert 25 < frame.loc[~returned, "amount"].median() < 45
    assert 12 < -frame.loc[returned, "amount"].median() < 23


def test_the_same_seed_gives_the_same_rows_and_order_ids_follow_time() -> None:
    a = rhythm_transactions(seed=11, n_customers=50, days=200)
    pd.testing.assert_frame_equal(a, rhythm_transactions(seed=11, n_customers=50, days=200))
    assert not a.equals(rhythm_transactions(seed=12, n_customers=50, days=200))
    assert a["timestamp"].is_monotonic_increasing
    assert a["order_id"].tolist() == [f"o{i}" for i in range(len(a))]
    assert set(np.unique(a["quantity"])) <= {1.0, 2.0, 3.0, 4.0, 5.0}
