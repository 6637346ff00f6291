"""The lifecycle report's helpers by hand: the repurchase summary (quarter labels, its parts), the events'
description, the demo events' seed, and the funnel table's columns.

Written against the survivors of a sampled mutation run (issue 21); each test names the mutation class it
guards against.
"""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.lifecycle import funnel, second_purchase_times
from crm_models.lifecycle.report import funnel_table, load_web_events, repurchase_summary

TX = pd.DataFrame({
    "customer_id": ["a", "a", "b", "c", "c"],
    "timestamp": pd.to_datetime(["2024-01-10", "2024-02-09", "2024-03-01", "2024-04-02", "2024-04-12"]),
    "amount": [10.0, 5.0, 7.0, 3.0, 4.0],
})


def test_repurchase_summary_by_hand() -> None:
    """a (Jan) back after 30 days, b (Mar) never in 121 days, c (Apr) back after 10 days; 60-day rate."""
    summary = repurchase_summary(TX, observation_end="2024-06-30", within_days=60)
    # the per-customer times are the ones second_purchase_times gives (not dropped or replaced)
    pd.testing.assert_frame_equal(summary.times, second_purchase_times(TX, observation_end="2024-06-30"))
    assert summary.rate["eligible"] == 3 and summary.rate["repurchased_within"] == 2
    assert summary.within_days == 60.0
    # quarter of the first purchase, labelled by year and quarter (a and b: Q1, c: Q2)
    assert summary.by_quarter.index.tolist() == ["2024 Q1", "2024 Q2"]
    assert summary.by_quarter.index.name == "first purchase in"
    assert summary.by_quarter["eligible"].tolist() == [2, 1]
    assert summary.by_quarter["rate"].tolist() == [0.5, 1.0]
    assert summary.median_days == 30.0  # KM: c at 10 (S = 2/3), a at 30 (S = 1/3)


def test_web_events_describe_mentions_a_window_only_when_given() -> None:
    """Without a window the sentence says nothing about hours (a mutant that always formats the window would
    print 'within nan hours')."""
    web = load_web_events("demo", customer_ids=[f"c{i}" for i in range(20)], as_of=pd.Timestamp("2024-06-30"),
                          seed=3)
    assert "within" not in web.describe() and "hours" not in web.describe()
    assert "within 2 hours of the first" in web.describe("2h")


def test_demo_events_follow_the_seed() -> None:
    """The seed reaches the generator: the same seed gives the same events, another seed other events."""
    ids = [f"c{i}" for i in range(30)]
    as_of = pd.Timestamp("2024-06-30")
    first = load_web_events("demo", customer_ids=ids, as_of=as_of, seed=0).events
    again = load_web_events("demo", customer_ids=ids, as_of=as_of, seed=0).events
    other = load_web_events("demo", customer_ids=ids, as_of=as_of, seed=7).events
    pd.testing.assert_frame_equal(first, again)
    assert not first.equals(other)


def test_funnel_table_keeps_conversion_from_start() -> None:
    events = pd.DataFrame({
        "customer_id": ["a", "a", "b", "c", "c"],
        "event": ["view", "cart", "view", "view", "cart"],
        "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 10:10", "2024-01-01 11:00",
                                     "2024-01-02 09:00", "2024-01-02 09:30"]),
    })
    table = funnel_table(funnel(events, ["view", "cart"]))
    assert list(table.index) == ["view", "cart"]
    assert table["conversion_from_start"].tolist() == pytest.approx([1.0, 2 / 3])
    assert table["minutes_from_previous"].iloc[1] == pytest.approx(20.0)  # median of 10 and 30 minutes
