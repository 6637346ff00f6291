"""Acquisition cohorts: hand cases per month, week and quarter, completeness, pooled retention, invariances."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.lifecycle import cohort_matrix, cohort_table, retention_curve

TX = pd.DataFrame({
    "customer_id": ["a", "a", "a", "b", "b", "c", "c", "a"],
    "timestamp": pd.to_datetime(["2024-01-05", "2024-01-20", "2024-03-02", "2024-01-31 23:59", "2024-02-01",
                                 "2024-02-10", "2024-02-11", "2024-04-01 10:00"], format="ISO8601"),
    "amount": [10.0, 5.0, 7.0, 20.0, 30.0, 4.0, -4.0, 99.0],
})


def test_monthly_cohorts_by_hand() -> None:
    table = cohort_table(TX, period="M", observation_end="2024-03-31")
    jan = table.loc[table["cohort"] == "2024-01-01"].set_index("period")
    feb = table.loc[table["cohort"] == "2024-02-01"].set_index("period")
    assert list(jan.index) == [0, 1, 2] and list(feb.index) == [0, 1]
    assert jan["customers"].tolist() == [2, 2, 2]
    assert jan["active"].tolist() == [2, 1, 1]          # a and b in Jan; b in Feb; a in Mar
    assert jan["orders"].tolist() == [3, 1, 1]
    assert jan["revenue"].tolist() == [35.0, 30.0, 7.0]
    assert jan["cumulative_revenue_per_customer"].tolist() == [17.5, 32.5, 36.0]
    assert feb["customers"].tolist() == [1, 1] and feb["active"].tolist() == [1, 0]  # c's return is no purchase
    assert feb["revenue"].tolist() == [4.0, 0.0]
    assert table["complete"].all()  # the end is the whole of March 31; April's purchase is ignored
    assert (table.loc[table["period"] == 0, "active_share"] == 1.0).all()


def test_partly_observed_period_is_flagged_and_left_out_of_the_curve() -> None:
    table = cohort_table(TX, period="M", observation_end="2024-03-15")
    assert not table.loc[table["cohort"].eq("2024-01-01") & table["period"].eq(2), "complete"].item()
    curve = retention_curve(table)
    assert curve["period"].tolist() == [1]  # period 2 of Jan and period 1 of Feb are incomplete
    assert curve["customers"].item() == 2 and curve["active"].item() == 1
    matrix = cohort_matrix(table)
    assert np.isnan(matrix.loc[pd.Timestamp("2024-01-01"), 2])


def test_weekly_and_quarterly_periods() -> None:
    weekly = cohort_table(TX, period="W", observation_end="2024-03-31")
    a_first_week = pd.Timestamp("2024-01-01")  # Monday of the week of Jan 5
    jan_week = weekly.loc[weekly["cohort"] == a_first_week]
    assert jan_week["customers"].iloc[0] == 1
    # a bought on Jan 20 (week starting Jan 15: period 2) and Mar 2 (week starting Feb 26: period 8)
    assert jan_week.set_index("period").loc[[2, 8], "active"].tolist() == [1, 1]
    quarterly = cohort_table(TX, period="Q", observation_end="2024-06-30")
    assert quarterly.loc[quarterly["period"] == 0, "customers"].tolist() == [3]
    assert quarterly.loc[quarterly["period"] == 1, "active"].tolist() == [1]  # a again in April


def test_wilson_interval_brackets_the_share() -> None:
    table = cohort_table(TX, period="M", observation_end="2024-03-31")
    assert (table["active_share_lower"] <= table["active_share"]).all()
    assert (table["active_share"] <= table["active_share_upper"]).all()
    # Wilson 95% for 1 of 2 is symmetric about 0.5: 0.0945 .. 0.9055
    row = table.loc[table["cohort"].eq("2024-01-01") & table["period"].eq(1)]
    assert row["active_share_lower"].item() == pytest.approx(0.09453, abs=1e-4)
    assert row["active_share_upper"].item() == pytest.approx(0.90547, abs=1e-4)


def test_retention_curve_covers_the_known_rate() -> None:
    """Customers acquired over 12 months, each active in a later month with probability 0.3."""
    rng = np.random.default_rng(5)
    n = 3_000
    first = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    rows = [pd.DataFrame({"customer_id": np.arange(n).astype(str), "timestamp": first, "amount": 1.0})]
    drawn = []
    for k in range(1, 4):
        active = rng.random(n) < 0.3
        drawn.append(int(active.sum()))
        month = (first[active] + pd.DateOffset(months=k)).to_period("M").to_timestamp()
        rows.append(pd.DataFrame({"customer_id": np.arange(n)[active].astype(str),
                                  "timestamp": month + pd.Timedelta(days=3), "amount": 1.0}))
    table = cohort_table(pd.concat(rows), period="M", observation_end="2024-06-30")
    curve = retention_curve(table).set_index("period")
    assert curve.loc[[1, 2, 3], "active"].tolist() == drawn
    assert (curve.loc[[1, 2, 3], "customers"] == n).all()
    assert (curve.loc[4:, "active"] == 0).all()
    wide = retention_curve(table, alpha=0.001).set_index("period")
    assert ((wide.loc[[1, 2, 3], "lower"] < 0.3) & (0.3 < wide.loc[[1, 2, 3], "upper"])).all()


@settings(max_examples=25, deadline=None)
@given(st.randoms(use_true_random=False))
def test_row_order_does_not_matter(random) -> None:
    order = list(range(len(TX)))
    random.shuffle(order)
    expected = cohort_table(TX, period="M", observation_end="2024-03-31")
    shuffled = cohort_table(TX.iloc[order], period="M", observation_end="2024-03-31")
    pd.testing.assert_frame_equal(expected, shuffled)


def test_revenue_adds_up_to_the_purchases() -> None:
    table = cohort_table(TX, period="M", observation_end="2024-03-31")
    kept = TX.loc[(TX["amount"] >= 0) & (TX["timestamp"] < "2024-04-01")]
    assert table["revenue"].sum() == pytest.approx(kept["amount"].sum())
    assert table["orders"].sum() == len(kept)


def test_unknown_period_is_refused() -> None:
    with pytest.raises(ValueError, match="period must be one of"):
        cohort_table(TX, period="D")
