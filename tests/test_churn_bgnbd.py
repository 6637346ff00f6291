"""BG/NBD features of the churn dataset are fitted on the whole customer base, not on the active sample."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.churn import make_churn_dataset
from crm_models.datasets.demo_transactions import PurchaseTruth, simulate_customers, simulate_purchases

TRUTH = PurchaseTruth(r=0.25, alpha=4.0, a=0.8, b=2.5, return_rate=0.0)


@pytest.fixture(scope="module")
def bgnbd_purchases() -> pd.DataFrame:
    rng = np.random.default_rng(20261130)
    customers = simulate_customers(rng, 5_000, pd.Timestamp("2022-01-01"), pd.Timestamp("2022-12-31"), TRUTH)
    return simulate_purchases(rng, customers, pd.Timestamp("2024-06-30"), TRUTH)


def test_bg_p_no_purchase_matches_the_realised_churn_rate(bgnbd_purchases):
    # Fitted on the active population only, the dropout process is truncated away: mean P(no purchase)
    # was 0.62-0.63 against a realised churn rate of 0.73 on this simulation (issue 11, item 1).
    ds = make_churn_dataset(bgnbd_purchases, "2024-03-01", horizon=90, data_end="2024-06-30", use_bgnbd=True)
    assert ds.bgnbd_used
    assert ds.n_customers > 1_000
    assert ds.X["bg_p_no_purchase"].mean() == pytest.approx(ds.churn_rate, abs=0.03)


def test_bgnbd_fit_sees_customers_outside_the_lookback(bgnbd_purchases):
    # The scored rows are the active population only; the fit sample is larger (every customer acquired
    # before the cutoff), so changing the look-back changes who is scored but not the fitted model.
    short = make_churn_dataset(bgnbd_purchases, "2024-03-01", 90, lookback=90, data_end="2024-06-30")
    long = make_churn_dataset(bgnbd_purchases, "2024-03-01", 90, lookback=365, data_end="2024-06-30")
    assert short.n_customers < long.n_customers
    common = short.X.index
    np.testing.assert_allclose(short.X["bg_p_alive"], long.X.loc[common, "bg_p_alive"], rtol=1e-6)
