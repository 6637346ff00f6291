"""Purchase cycles: own rhythm vs population, shrinkage by simulation, overdue, and invariance to order and ties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.lifecycle import purchase_cycles


def _population(seed: int, n: int = 1_500, sigma: float = 0.4, tau: float = 0.5, mu: float = np.log(30.0)):
    """Customers with a lognormal rhythm exp(theta_i), theta_i ~ N(mu, tau^2), and 1-5 intervals each."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(mu, tau, n)
    n_intervals = rng.integers(1, 6, n)
    rows = []
    start = pd.Timestamp("2022-01-01")
    for i in range(n):
        gaps = np.maximum(np.round(np.exp(rng.normal(theta[i], sigma, n_intervals[i]))), 1.0)
        days = np.concatenate([[0.0], np.cumsum(gaps)]) + rng.integers(0, 30)
        rows.append(pd.DataFrame({"customer_id": f"c{i:04d}", "timestamp": start + pd.to_timedelta(days, "D"),
                                  "amount": 1.0}))
    return pd.concat(rows, ignore_index=True), theta, n_intervals


def test_regular_buyer_keeps_own_rhythm_and_one_time_buyer_gets_the_population() -> None:
    tx, _, _ = _population(1, n=300)
    regular = pd.DataFrame({"customer_id": "regular", "amount": 5.0,
                            "timestamp": pd.Timestamp("2023-01-01") + pd.to_timedelta(np.arange(0, 200, 10), "D")})
    once = pd.DataFrame({"customer_id": ["once"], "amount": [5.0], "timestamp": [pd.Timestamp("2023-03-01")]})
    cycles = purchase_cycles(pd.concat([tx, regular, once]), observation_end="2023-12-31")
    population = cycles.attrs["population"]
    row = cycles.loc["regular"]
    assert row["median_interval"] == 10.0 and row["purchase_days"] == 20
    assert row["shrinkage_weight"] > 0.9
    assert 10.0 < row["usual_interval"] < 12.0  # pulled a little toward the population's ~30 days
    assert row["last_purchase"] == pd.Timestamp("2023-07-10")  # Jan 1 + 190 days
    assert row["expected_next_purchase"] == pd.Timestamp("2023-07-20")  # + round(10.4) days
    assert row["overdue"]  # silent since July 10 with a 10-day rhythm
    one = cycles.loc["once"]
    assert one["shrinkage_weight"] == 0.0 and np.isnan(one["median_interval"])
    assert one["usual_interval"] == pytest.approx(population["usual_interval"])
    assert one["days_since_last"] == (pd.Timestamp("2023-12-31") - pd.Timestamp("2023-03-01")).days


def test_overdue_follows_the_customers_own_rhythm() -> None:
    tx, _, _ = _population(2, n=300)
    weekly = pd.DataFrame({"customer_id": "weekly", "amount": 1.0,
                           "timestamp": pd.Timestamp("2023-09-01") + pd.to_timedelta(np.arange(0, 70, 7), "D")})
    yearly = pd.DataFrame({"customer_id": "yearly", "amount": 1.0,
                           "timestamp": pd.to_datetime(["2020-11-01", "2021-11-01", "2022-11-01", "2023-11-01"])})
    cycles = purchase_cycles(pd.concat([tx, weekly, yearly]), observation_end="2023-12-15")
    assert cycles.loc["weekly", "days_since_last"] > cycles.loc["weekly", "overdue_after"]
    assert cycles.loc["weekly", "overdue"] and not cycles.loc["yearly", "overdue"]
    assert cycles.loc["yearly", "days_since_last"] < cycles.loc["weekly", "days_since_last"] + 30


def test_shrinkage_beats_the_raw_median_for_customers_with_few_intervals() -> None:
    tx, theta, n_intervals = _population(3)
    cycles = purchase_cycles(tx)
    population = cycles.attrs["population"]
    assert population["sigma2"] == pytest.approx(0.4**2, rel=0.2)
    assert population["tau2"] == pytest.approx(0.5**2, rel=0.3)
    order = np.argsort([f"c{i:04d}" for i in range(len(theta))])
    own = np.log(cycles["median_interval"].to_numpy())
    shrunk = np.log(cycles["usual_interval"].to_numpy())
    few = n_intervals[order] <= 2
    truth = theta[order]
    assert np.mean((shrunk[few] - truth[few]) ** 2) < 0.8 * np.mean((own[few] - truth[few]) ** 2)
    assert (np.diff(cycles.groupby(n_intervals[order])["shrinkage_weight"].mean().to_numpy()) > 0).all()


def test_row_order_and_same_day_orders_do_not_change_the_rhythm() -> None:
    tx, _, _ = _population(4, n=200)
    expected = purchase_cycles(tx, observation_end="2023-06-30")
    extra = tx.sample(50, random_state=1).assign(timestamp=lambda f: f["timestamp"] + pd.Timedelta(hours=5))
    noisy = pd.concat([tx, extra]).sample(frac=1.0, random_state=2)
    got = purchase_cycles(noisy, observation_end="2023-06-30")
    pd.testing.assert_frame_equal(got, expected)
    assert got.attrs == expected.attrs


def test_needs_repeat_buyers_and_a_sensible_quantile() -> None:
    once = pd.DataFrame({"customer_id": ["a", "b"], "amount": 1.0,
                         "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    from crm_models.exceptions import DataContractError

    with pytest.raises(DataContractError, match="repeat buyers"):
        purchase_cycles(once)
    with pytest.raises(ValueError, match="overdue_quantile"):
        purchase_cycles(once, overdue_quantile=1.2)
