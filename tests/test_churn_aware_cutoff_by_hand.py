"""A cutoff given as an aware midnight in a zone off UTC (regression test found in the issue-21 review).

The one rule for end dates (``crm_models.data.timestamps.end_exclusive``): an aware midnight is the whole day in
its own zone, so ``Timestamp("2024-03-31", tz="Europe/Berlin")`` keeps history up to 2024-04-01 00:00 Berlin,
i.e. 2024-03-31 22:00 UTC. Before the fix ``cutoff_bound`` reported that cutoff as 2024-03-30 (the UTC day of
its first instant), and the backtest, which passes the reported cutoff back to ``make_churn_dataset``, then cut
history at 2024-03-31 00:00 UTC: 22 hours early, with a label window shifted by as much.

Rows (UTC): A buys at 21:30 on Mar 31 (23:30 Berlin: history), B at 22:00 (Apr 1 00:00 Berlin: label window).
"""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.churn import make_churn_dataset
from crm_models.churn.features import cutoff_bound

BERLIN_DAY = pd.Timestamp("2024-03-31", tz="Europe/Berlin")
BOUND = pd.Timestamp("2024-03-31 22:00")  # the next Berlin midnight, naive UTC

ROWS = [
    ("A", "2024-03-01 12:00", 10.0, "a1"),
    ("A", "2024-03-31 21:30", 10.0, "a2"),  # 30 minutes before the bound: history
    ("B", "2024-03-15 12:00", 10.0, "b1"),
    ("B", "2024-03-31 22:00", 10.0, "b2"),  # exactly at the bound: label window -> B did not churn
    ("A", "2024-05-15 12:00", 10.0, "a3"),  # after the 30-day label window (keeps the data long enough)
]


def _frame() -> pd.DataFrame:
    frame = pd.DataFrame(ROWS, columns=["customer_id", "timestamp", "amount", "order_id"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    return frame


def test_an_aware_midnight_cutoff_is_reported_as_a_cutoff_with_the_same_bound() -> None:
    stamp, bound = cutoff_bound(BERLIN_DAY)
    assert bound == BOUND.timestamp()
    assert stamp.normalize() == pd.Timestamp("2024-03-31")  # not the day before
    _, again = cutoff_bound(stamp)  # what the backtest does with the reported cutoff
    assert bound - 1e-6 < again <= bound
    # a naive date and a UTC midnight keep their day and their bound
    assert cutoff_bound("2024-03-31") == (pd.Timestamp("2024-03-31"), pd.Timestamp("2024-04-01").timestamp())
    assert cutoff_bound(pd.Timestamp("2024-03-31", tz="UTC"))[0] == pd.Timestamp("2024-03-31")


def test_the_reported_cutoff_rebuilds_the_same_dataset() -> None:
    frame = _frame()
    ds = make_churn_dataset(frame, BERLIN_DAY, 30, 365, use_bgnbd=False)
    assert ds.X.loc["A", "recency_days"] == pytest.approx(0.5 / 24)  # the 21:30 purchase is history
    assert ds.X.loc["B", "n_orders"] == 1.0  # the 22:00 purchase is not
    assert ds.y.to_dict() == {"A": 1, "B": 0}
    again = make_churn_dataset(frame, ds.cutoff, 30, 365, use_bgnbd=False)
    pd.testing.assert_frame_equal(again.X, ds.X)
    pd.testing.assert_series_equal(again.y, ds.y)
