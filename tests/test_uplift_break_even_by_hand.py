"""The break-even rule by hand (issue 21 review): ``TargetingPolicy(rule="break_even")`` and ``compare_policies``
apply one rule, treat a unit when its expected incremental value exceeds the cost, ``value * uplift > cost``
(at equality the action does not pay), also when a unit of outcome is worth a negative amount.

Four units (Radcliffe 2007 uplift curve): y 1, 0, 1, 0; treated 1, 0, 0, 1. Treating units {2, 3} (a control
responder and a treated non-responder) changes the outcome by (0 - 1) * 2 = -2; treating {0, 1} by (1 - 0) * 2 = 2.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.uplift import TargetingPolicy, compare_policies

Y = np.array([1, 0, 1, 0])
T = np.array([1, 0, 0, 1])
RULE = "uplift model, break-even rule"


def _table_row(uplift, cost, value):
    return compare_policies(Y, T, cost=cost, value=value, uplift=uplift).set_index("policy").loc[RULE]


def test_a_unit_exactly_at_break_even_is_not_treated_by_either():
    """cost 0.25, value 1, uplift 0.9, 0.25, 0.2, 0.1: 1 * 0.25 = 0.25 does not pay, so only the first unit is
    treated: share 1/4, incremental outcome 1, profit 1 - 0.25 = 0.75 (the old policy treated the unit at 0.25)."""
    u = np.array([0.9, 0.25, 0.2, 0.1])
    policy = TargetingPolicy(cost=0.25, value=1.0, rule="break_even").fit(Y, u, T)
    assert policy.fraction_ == pytest.approx(0.25) and policy.profit_ == pytest.approx(0.75)
    assert policy.decide(u).tolist() == [True, False, False, False]
    row = _table_row(u, 0.25, 1.0)
    assert (row["fraction_treated"], row["profit"]) == (pytest.approx(0.25), pytest.approx(0.75))
    # value other than 1: 2 * 0.25 = 0.5 = cost, still not treated
    assert TargetingPolicy(cost=0.5, value=2.0, rule="break_even").fit(Y, u, T).decide([0.25, 0.2501]).tolist() \
        == [False, True]


def test_a_negative_value_treats_the_units_whose_uplift_lowers_the_outcome():
    """value -1 (each unit of outcome costs 1, e.g. a churn), cost 0.25: it pays to treat when -u > 0.25, i.e.
    u < -0.25: units 2 and 3. Outcome change -2 -> value +2, cost 0.5, profit 1.5. (``u >= cost / value`` treated
    units 0 and 1 instead: value -2, profit -2.5.)"""
    u = np.array([0.9, 0.8, -0.3, -0.4])
    policy = TargetingPolicy(cost=0.25, value=-1.0, rule="break_even").fit(Y, u, T)
    assert policy.decide(u).tolist() == [False, False, True, True]
    assert policy.fraction_ == pytest.approx(0.5) and policy.profit_ == pytest.approx(1.5)
    row = _table_row(u, 0.25, -1.0)
    assert row["fraction_treated"] == pytest.approx(0.5)
    assert row["incremental_outcome"] == pytest.approx(-2.0) and row["profit"] == pytest.approx(1.5)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([-0.5, -0.25, 0.0, 0.25, 0.5, 1.0]), min_size=4, max_size=4),
       st.sampled_from([0.0, 0.25, 0.5]), st.sampled_from([-2.0, -1.0, 1.0, 2.0]))
def test_policy_and_table_agree_and_follow_value_times_uplift_above_cost(scores, cost, value):
    """Invariant: for any scores (ties at break-even included), cost and value of either sign, the policy treats
    exactly the units with value * uplift > cost, and its share and profit are the table's break-even row."""
    u = np.array(scores)
    policy = TargetingPolicy(cost=cost, value=value, rule="break_even").fit(Y, u, T)
    assert policy.decide(u).tolist() == (value * u > cost).tolist()
    row = _table_row(u, cost, value)
    assert policy.fraction_ == pytest.approx(float(row["fraction_treated"]))
    assert policy.fraction_ == pytest.approx(float((value * u > cost).mean()))
    assert policy.profit_ == pytest.approx(float(row["profit"]))
