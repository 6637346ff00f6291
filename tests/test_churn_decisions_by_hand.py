"""Risk tiers, value at risk, decisions and the action table on five hand-made customers (issue 21:
mutants of churn/decisions). Each test names the mutation class it guards against."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.churn import action_table, churn_decisions, risk_tiers, value_at_risk
from crm_models.churn.decisions import DEFAULT_ACTIONS
from crm_models.exceptions import DataContractError

IDS = pd.Index(["a", "b", "c", "d", "e"], name="customer_id")
PROBA = pd.Series([0.6, 0.3, 0.29, 0.9, 0.1], index=IDS)
CLV = pd.Series([100.0, 50.0, 200.0, 10.0, 0.0], index=IDS)


def test_tiers_at_the_default_thresholds_exactly():
    """``p >= 0.6`` is high and ``p >= 0.3`` medium: a probability exactly on a threshold takes the upper
    tier (guards ``>=`` -> ``>`` and the default thresholds (0.6, 0.3))."""
    tiers = risk_tiers([0.6, 0.3, 0.2999, 0.5999, 1.0, 0.0])
    assert tiers.tolist() == ["high", "medium", "low", "medium", "high", "low"]
    assert tiers.name == "risk_tier"
    assert tiers.cat.categories.tolist() == ["low", "medium", "high"] and tiers.cat.ordered
    assert tiers.index.tolist() == list(range(6))


def test_equal_thresholds_and_the_extremes_are_allowed():
    """Guards the bounds of ``0 <= medium <= high <= 1`` (each ``<=`` -> ``<``)."""
    assert risk_tiers([0.5, 0.49], thresholds=(0.5, 0.5)).tolist() == ["high", "low"]
    assert risk_tiers([1.0, 0.5, 0.0], thresholds=(1.0, 0.0)).tolist() == ["high", "medium", "medium"]


@pytest.mark.parametrize("thresholds", [(0.3, 0.6), (1.01, 0.2), (0.5, -0.01)])
def test_bad_thresholds_are_refused(thresholds):
    with pytest.raises(ValueError, match="thresholds"):
        risk_tiers([0.5], thresholds=thresholds)


def test_missing_probabilities_and_negative_capacities_are_refused():
    with pytest.raises(ValueError, match="missing"):
        risk_tiers([0.5, np.nan])
    with pytest.raises(ValueError, match="capacities"):
        risk_tiers([0.5], capacity=-1)
    with pytest.raises(ValueError, match="capacities"):
        risk_tiers([0.5], capacity=1, medium_capacity=-1)


def test_capacity_tiers_by_hand():
    """The ``capacity`` highest are high, the next ``medium_capacity`` medium (guards the slice
    ``order[capacity : capacity + medium_capacity]``); a capacity of 0 calls nobody high and ties are
    broken by input order."""
    p = [0.1, 0.9, 0.5, 0.7, 0.3]
    assert risk_tiers(p, capacity=2, medium_capacity=2).tolist() == ["low", "high", "medium", "high", "medium"]
    assert risk_tiers(p, capacity=1, medium_capacity=0).tolist() == ["low", "high", "low", "low", "low"]
    # without medium_capacity the medium tier is p >= 0.3 among the rest
    assert risk_tiers(p, capacity=0).tolist() == ["low", "medium", "medium", "medium", "medium"]
    tied = risk_tiers([0.4, 0.4, 0.4], capacity=2)
    assert tied.tolist() == ["high", "high", "medium"]


def test_index_of_the_tiers():
    """A Series keeps its index; ``index=`` overrides it for arrays."""
    assert risk_tiers(PROBA).index.equals(IDS)
    assert risk_tiers(PROBA.to_numpy(), index=IDS).index.equals(IDS)


def test_value_at_risk_shapes():
    assert value_at_risk([0.5, 0.25], [10.0, 8.0]).tolist() == [5.0, 2.0]
    with pytest.raises(ValueError, match="same shape"):
        value_at_risk([0.5, 0.25], [10.0])


def test_decisions_by_hand():
    """Value at risk = p x CLV, sorted largest first; high value = CLV at or above the 0.75 quantile (100:
    customer a sits exactly on the cut); actions from (tier, high value). Guards ``>=`` -> ``>`` of the
    high-value cut, the sort direction and the default action table."""
    decided = churn_decisions(PROBA, clv=CLV, high_value_quantile=0.75)
    assert decided.index.tolist() == ["a", "c", "b", "d", "e"]
    np.testing.assert_allclose(decided["value_at_risk"], [60.0, 58.0, 15.0, 9.0, 0.0])
    assert decided["risk_tier"].astype(str).tolist() == ["high", "low", "medium", "high", "low"]
    assert decided["high_value"].tolist() == [True, True, False, False, False]
    assert (decided["value_basis"] == "clv").all()
    assert decided["action"].tolist() == [
        DEFAULT_ACTIONS[("high", True)],
        DEFAULT_ACTIONS[("low", True)],
        DEFAULT_ACTIONS[("medium", False)],
        DEFAULT_ACTIONS[("high", False)],
        DEFAULT_ACTIONS[("low", False)],
    ]
    assert "segment" not in decided and "top_reason" not in decided
    # default quantile 0.8 of (0, 10, 50, 100, 200) is 120: only c is high value
    assert churn_decisions(PROBA, clv=CLV)["high_value"].sum() == 1


def test_decisions_pass_thresholds_and_capacities_on():
    """Guards the keyword arguments handed to ``risk_tiers`` (dropped or set to None)."""
    by_threshold = churn_decisions(PROBA, thresholds=(0.95, 0.05))
    assert (by_threshold["risk_tier"] == "high").sum() == 0 and (by_threshold["risk_tier"] == "medium").sum() == 5
    by_capacity = churn_decisions(PROBA, capacity=1, medium_capacity=1)
    tiers = by_capacity["risk_tier"].astype(str)
    assert tiers["d"] == "high" and tiers["a"] == "medium" and (tiers == "low").sum() == 3


def test_value_basis_clv_frame_spend_and_count():
    """A CLV frame's ``clv_column``, else ``spend_365d`` from ``X``, else a count of 1 each (and then every
    customer is at the value cut, so all are high value)."""
    frame = pd.DataFrame({"value": CLV.to_numpy()}, index=IDS)
    decided = churn_decisions(PROBA, clv=frame, clv_column="value")
    assert (decided["value_basis"] == "value").all() and decided.loc["c", "value"] == 200.0
    X = pd.DataFrame({"spend_365d": [4.0, np.nan, 1.0]}, index=["e", "b", "zz"])
    spend = churn_decisions(PROBA, X=X)
    assert (spend["value_basis"] == "spend_365d").all()
    assert spend["value"].to_dict() == {"e": 4.0, "a": 0.0, "b": 0.0, "c": 0.0, "d": 0.0}
    count = churn_decisions(PROBA, X=pd.DataFrame({"orders": [1]}, index=["a"]))
    assert (count["value_basis"] == "count").all() and (count["value"] == 1.0).all()
    np.testing.assert_allclose(count["value_at_risk"], count["churn_probability"])
    assert count["high_value"].all()


def test_clv_with_gaps_counts_zero_and_a_clv_with_no_match_is_an_error():
    partial = churn_decisions(PROBA, clv=CLV.iloc[:2])
    assert partial.loc["c", "value"] == 0.0 and partial.loc["a", "value"] == 100.0
    with pytest.raises(DataContractError) as err:
        churn_decisions(PROBA, clv=pd.Series([1.0], index=["nobody"]))
    assert err.value.column == "clv"


def test_a_clv_frame_without_the_value_column_names_it():
    """Regression: the frame's column was selected before the check, so a frame without ``clv_column``
    raised a bare ``KeyError`` instead of the contract error naming the column."""
    frame = pd.DataFrame({"value": CLV.to_numpy()}, index=IDS)
    with pytest.raises(DataContractError) as err:
        churn_decisions(PROBA, clv=frame)
    assert err.value.column == "clv" and err.value.rule == "present"
    assert len(err.value.examples) == 3  # a few rows of the frame, not all five


def test_proba_must_be_a_series():
    with pytest.raises(TypeError, match="Series"):
        churn_decisions(PROBA.to_numpy())


def test_segments_reasons_and_action_overrides():
    """``(segment, tier)`` beats ``(tier, high value)`` beats ``tier``; a customer without a segment is
    ``unsegmented``. Guards the lookup order and ``if actions`` -> ``if not actions``."""
    segments = pd.Series(["champions", "champions", "lost"], index=["a", "d", "c"])
    reasons = pd.Series(["recency"], index=["d"])
    actions = {("champions", "high"): "S", ("high", False): "T", "low": "L"}
    decided = churn_decisions(
        PROBA, clv=CLV, segments=segments, reasons=reasons, actions=actions, high_value_quantile=0.75
    )
    assert decided["segment"].to_dict() == {
        "a": "champions", "c": "lost", "b": "unsegmented", "d": "champions", "e": "unsegmented"
    }
    assert decided.loc["d", "top_reason"] == "recency" and pd.isna(decided.loc["a", "top_reason"])
    assert decided["action"].to_dict() == {
        "a": "S", "d": "S", "c": "L", "e": "L", "b": DEFAULT_ACTIONS[("medium", False)]
    }
    other = churn_decisions(PROBA, clv=CLV, actions={("high", False): "T"}, high_value_quantile=0.75)
    assert other.loc["d", "action"] == "T" and other.loc["a", "action"] == DEFAULT_ACTIONS[("high", True)]
    assert churn_decisions(PROBA, clv=CLV, actions={}).loc["d", "action"] == DEFAULT_ACTIONS[("high", False)]


def test_action_table_by_hand():
    """Per tier: customers, mean probability, total value, value at risk, its share, the most common action
    (on a tie the first in sort order), sorted by value at risk."""
    decided = churn_decisions(PROBA, clv=CLV, high_value_quantile=0.75)
    table = action_table(decided)
    assert table["risk_tier"].astype(str).tolist() == ["high", "low", "medium"]
    assert table["customers"].tolist() == [2, 2, 1]
    np.testing.assert_allclose(table["mean_churn_probability"], [0.75, 0.195, 0.3])
    np.testing.assert_allclose(table["total_value"], [110.0, 200.0, 50.0])
    np.testing.assert_allclose(table["value_at_risk"], [69.0, 58.0, 15.0])
    np.testing.assert_allclose(table["share_of_value_at_risk"], np.array([69.0, 58.0, 15.0]) / 142.0)
    # high: one "personal outreach", one "automated win-back": the mode's first is the alphabetically first
    assert table["action"].tolist() == [
        DEFAULT_ACTIONS[("high", False)], DEFAULT_ACTIONS[("low", False)], DEFAULT_ACTIONS[("medium", False)]
    ]


def test_action_table_groups_by_segment_when_present_and_by_a_given_column():
    segments = pd.Series(["x", "x", "y", "y", "y"], index=IDS)
    decided = churn_decisions(PROBA, clv=CLV, segments=segments)
    table = action_table(decided)
    assert list(table.columns[:2]) == ["segment", "risk_tier"]
    # groups (x, high) = a, (x, medium) = b, (y, low) = c and e, (y, high) = d
    assert table["customers"].sum() == 5 and len(table) == 4
    by_segment = action_table(decided, by="segment")
    assert by_segment["segment"].tolist() == ["x", "y"]
    np.testing.assert_allclose(by_segment["value_at_risk"], [75.0, 67.0])


def test_action_table_without_value_at_risk_has_zero_shares():
    decided = churn_decisions(pd.Series([0.0, 0.0], index=["a", "b"]), clv=pd.Series([5.0, 1.0], index=["a", "b"]))
    table = action_table(decided)
    assert table["share_of_value_at_risk"].tolist() == [0.0]


def test_ties_keep_their_input_order_in_tiers_and_decisions():
    """"Ties are broken by input order": with 20 rows alternating 0.5 / 0.2 the capacity of 3 takes rows 0,
    2 and 4, and the decisions list the tied rows in input order (guards the stable sorts; NumPy's and
    pandas' default sorts reorder ties at this size)."""
    p = np.array([0.5, 0.2] * 10)
    tiers = risk_tiers(p, capacity=3)
    assert np.flatnonzero(tiers == "high").tolist() == [0, 2, 4]
    ids = [f"c{i:02d}" for i in range(20)]
    decided = churn_decisions(pd.Series(p, index=ids))
    assert decided.index.tolist() == ids[0::2] + ids[1::2]


def test_a_clv_with_no_match_names_the_rule_and_shows_a_few_rows():
    unmatched = pd.Series([1.0, 2.0, 3.0, 4.0, 5.0], index=["v", "w", "x", "y", "z"])
    with pytest.raises(DataContractError) as err:
        churn_decisions(PROBA, clv=unmatched)
    assert err.value.column == "clv" and "customer_id" in err.value.rule
    assert err.value.examples.index.tolist() == ["v", "w", "x"]


def test_shares_of_a_small_total_value_at_risk():
    """Counted customers (value 1) with probabilities 0.1 and 0.2: total value at risk 0.3, shares 2/3 and
    1/3 (guards the floor of the denominator, which only protects a total of 0)."""
    decided = churn_decisions(pd.Series([0.1, 0.2], index=["a", "b"]), thresholds=(0.6, 0.15))
    table = action_table(decided)
    assert table["risk_tier"].astype(str).tolist() == ["medium", "low"]
    np.testing.assert_allclose(table["share_of_value_at_risk"], [2 / 3, 1 / 3])
