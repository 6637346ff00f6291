"""RFM scores and segments: hand-checked cases and invariants (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.exceptions import DataContractError
from crm_models.rfm import (
    SegmentRule,
    percentile_scores,
    rfm_scores,
    segment_customers,
    segment_summary,
    value_loyalty_matrix,
)

inputs_strategy = st.integers(min_value=1, max_value=60).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 400), min_size=n, max_size=n),
        st.lists(st.integers(1, 30), min_size=n, max_size=n),
        st.lists(st.floats(-50, 5_000, allow_nan=False), min_size=n, max_size=n),
    )
)


def as_inputs(values: tuple[list, list, list]) -> pd.DataFrame:
    recency, frequency, monetary = values
    index = pd.Index([f"c{i}" for i in range(len(recency))], name="customer_id")
    return pd.DataFrame({"recency_days": recency, "frequency": frequency, "monetary": monetary}, index=index)


@settings(max_examples=60, deadline=None)
@given(inputs_strategy)
def test_scores_in_range_and_ties_share_scores(values) -> None:
    scores = rfm_scores(inputs=as_inputs(values))
    for letter in "RFM":
        assert scores[letter].between(1, 5).all()
        assert scores[f"{letter}_pct"].between(0, 100).all()
    for column, letter in (("recency_days", "R"), ("frequency", "F"), ("monetary", "M")):
        assert (scores.groupby(column)[letter].nunique() == 1).all(), "equal values, equal scores"


@settings(max_examples=60, deadline=None)
@given(inputs_strategy)
def test_better_values_never_get_worse_scores(values) -> None:
    scores = rfm_scores(inputs=as_inputs(values))
    by_recency = scores.sort_values("recency_days")
    assert (np.diff(by_recency["R"].to_numpy()) <= 0).all(), "more recent, higher R"
    by_money = scores.sort_values("monetary")
    assert (np.diff(by_money["M"].to_numpy()) >= 0).all()


@settings(max_examples=60, deadline=None)
@given(inputs_strategy, st.randoms(use_true_random=False))
def test_scores_do_not_depend_on_row_order(values, random) -> None:
    inputs = as_inputs(values)
    order = list(range(len(inputs)))
    random.shuffle(order)
    pd.testing.assert_frame_equal(rfm_scores(inputs=inputs), rfm_scores(inputs=inputs.iloc[order]).loc[inputs.index])


@settings(max_examples=60, deadline=None)
@given(inputs_strategy)
def test_every_customer_in_exactly_one_segment_first_rule_wins(values) -> None:
    scores = rfm_scores(inputs=as_inputs(values))
    rules = [
        {"segment": "first", "R": ">=50"},
        {"segment": "second", "R": ">=25", "M": ">=0"},  # overlaps "first": the earlier rule wins
    ]
    segments = segment_customers(scores, rules, remainder="rest")
    assert segments.notna().all() and len(segments) == len(scores)
    assert (segments[scores["R_pct"] >= 50] == "first").all()
    assert (segments[(scores["R_pct"] >= 25) & (scores["R_pct"] < 50)] == "second").all()
    assert (segments[scores["R_pct"] < 25] == "rest").all()


def test_default_rules_follow_the_documented_thresholds() -> None:
    pct = pd.DataFrame({
        "R_pct": [90, 70, 20, 10, 50], "F_pct": [85, 65, 50, 30, 50], "M_pct": [95, 30, 60, 20, 50],
        "recency_days": 1, "frequency": 1, "monetary": 1.0,
    })
    segments = segment_customers(pct, "seed_003")
    assert segments.tolist() == ["high value", "potential", "at risk", "low value", "needs attention"]


def test_percentile_of_ties_is_the_mid_rank() -> None:
    np.testing.assert_allclose(percentile_scores([1, 2, 2, 3]), [12.5, 50.0, 50.0, 87.5])
    np.testing.assert_allclose(percentile_scores([5, 5, 5]), [50.0, 50.0, 50.0])


def test_value_loyalty_quadrants() -> None:
    pct = pd.DataFrame({"R_pct": [90, 90, 10, 10], "F_pct": [90, 90, 10, 10], "M_pct": [90, 10, 90, 10]})
    assert value_loyalty_matrix(pct).tolist() == ["gold", "potential", "at risk", "low value"]


def test_summary_shares_add_up_and_carry_actions() -> None:
    rng = np.random.default_rng(5)
    inputs = pd.DataFrame({"recency_days": rng.integers(0, 300, 500), "frequency": rng.integers(1, 20, 500),
                           "monetary": rng.gamma(2.0, 100.0, 500)})
    scores = rfm_scores(inputs=inputs)
    summary = segment_summary(scores, segment_customers(scores, "seed_003"), "seed_003")
    assert summary["customers"].sum() == 500
    assert summary["customer_share"].sum() == pytest.approx(1.0)
    assert summary["revenue_share"].sum() == pytest.approx(1.0)
    assert summary.loc["high value", "action"].startswith("Reward")


def test_rfm_from_transactions_with_engine() -> None:
    tx = pd.DataFrame({
        "customer_id": ["a", "a", "b", "c", "c", "c"],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-03-01", "2024-02-01", "2024-01-05", "2024-02-05",
                                     "2024-02-20"]),
        "amount": [10.0, 30.0, 100.0, 5.0, 5.0, -2.0],
    })
    scores = rfm_scores(tx, observation_end="2024-03-31")
    assert scores.loc["a", "recency_days"] == 30
    assert scores.loc["c", "frequency"] == 2, "a return is not a purchase"
    assert scores.loc["c", "monetary"] == pytest.approx(8.0), "net of returns"
    assert scores.loc["a", "R"] > scores.loc["b", "R"]


def test_bad_rules_are_named() -> None:
    scores = rfm_scores(inputs=as_inputs(([1, 2], [1, 2], [1.0, 2.0])))
    with pytest.raises(DataContractError, match="cannot be read"):
        segment_customers(scores, [{"segment": "x", "R": "about 80"}])
    with pytest.raises(DataContractError, match="unknown dimension"):
        segment_customers(scores, [SegmentRule("x", {"Q": ">=1"})])
    with pytest.raises(DataContractError, match="names repeat"):
        segment_customers(scores, [{"segment": "x", "R": ">=1"}, {"segment": "x", "F": ">=1"}])


# Issue 11 item 7: one rule for end dates in rfm_scores.
BOUNDARY_TX = pd.DataFrame({
    "customer_id": ["a", "a", "b", "c"],
    "timestamp": pd.to_datetime(["2024-01-01 08:00:00", "2024-01-10 12:00:00", "2024-01-10 23:59:59",
                                 "2024-01-11 00:00:00"]),
    "amount": [1.0, 2.0, 4.0, 8.0],
})


@pytest.mark.parametrize("end", ["2024-01-10", pd.Timestamp("2024-01-10")], ids=["string", "midnight-timestamp"])
def test_rfm_end_date_means_the_whole_day(end) -> None:
    scores = rfm_scores(BOUNDARY_TX, observation_end=end)
    assert sorted(scores.index) == ["a", "b"], "23:59:59 on 10 January is in, 11 January 00:00 is out"
    assert scores.loc["b", "recency_days"] == 0


def test_rfm_end_with_a_time_includes_that_instant_only() -> None:
    scores = rfm_scores(BOUNDARY_TX, observation_end="2024-01-10 12:00")
    assert list(scores.index) == ["a"] and scores.loc["a", "frequency"] == 2, "12:00 exactly is in"
