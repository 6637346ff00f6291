"""Cost-aware targeting by hand: every column of the profit curve, the break-even rule, the policy table and
``best_arm`` at its edges (issue 21, mutation survivors of ``uplift/targeting``).

Four units (Radcliffe 2007 uplift curve): y 1, 0, 1, 0; treated 1, 0, 0, 1; scores 0.9, 0.8, 0.2, 0.1. The uplift
curve at n = 0..4 is 0, 1, 2, 1.5, 0 (n=1: treated responder; n=2: + a control non-responder -> (1 - 0) * 2;
n=3: + a control responder -> (1 - 1/2) * 3; n=4: (1/2 - 1/2) * 4). Reversed scores give 0, 0, -2, -1.5, 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.uplift import TargetingPolicy, best_arm, compare_policies, profit_curve

Y = np.array([1, 0, 1, 0])
T = np.array([1, 0, 0, 1])
SCORE = np.array([0.9, 0.8, 0.2, 0.1])


def test_profit_curve_columns_by_hand():
    """Guards each column: thresholds (treat nobody at +inf, then each block's score), money = value x outcome,
    cost = cost x units, profit = their difference; ``population`` scales counts and money, not the share."""
    curve = profit_curve(Y, SCORE, T, cost=0.25, value=2.0)
    assert curve.columns.tolist() == ["fraction", "n_treated", "threshold", "incremental_outcome",
                                      "incremental_value", "treatment_cost", "profit"]
    assert curve["threshold"].tolist() == [np.inf, 0.9, 0.8, 0.2, 0.1]
    assert curve["n_treated"].tolist() == [0, 1, 2, 3, 4]
    assert curve["incremental_value"].tolist() == pytest.approx([0, 2, 4, 3, 0])
    assert curve["treatment_cost"].tolist() == pytest.approx([0, 0.25, 0.5, 0.75, 1.0])
    assert curve["profit"].tolist() == pytest.approx([0, 1.75, 3.5, 2.25, -1.0])
    scaled = profit_curve(Y, SCORE, T, cost=0.25, value=2.0, population=10)
    assert scaled["fraction"].tolist() == pytest.approx([0, 0.25, 0.5, 0.75, 1.0])
    assert scaled["n_treated"].tolist() == pytest.approx([0, 2.5, 5, 7.5, 10])
    assert scaled["incremental_outcome"].tolist() == pytest.approx([0, 2.5, 5, 3.75, 0])
    assert scaled["profit"].tolist() == pytest.approx([0, 4.375, 8.75, 5.625, -2.5])
    # tied scores form one block: one row, at the block's score
    tied = profit_curve(Y, [0.5, 0.5, 0.2, 0.1], T, cost=0.0, value=1.0)
    assert tied["threshold"].tolist() == [np.inf, 0.5, 0.2, 0.1]
    assert tied["n_treated"].tolist() == [0, 2, 3, 4]


def test_break_even_rule_by_hand():
    """Guards ``rule="break_even"``: threshold cost / value, a unit exactly at it is not treated (``value * uplift
    > cost``, as in ``compare_policies``), the curve row at that share gives the fraction and profit; value 0
    treats nobody; an unknown rule is refused by name."""
    score = np.array([0.9, 0.25, 0.2, 0.1])  # same order as SCORE, one unit exactly at the break-even 0.25
    policy = TargetingPolicy(cost=0.25, value=1.0, rule="break_even").fit(Y, score, T)
    assert policy.threshold_ == pytest.approx(0.25)
    assert policy.fraction_ == pytest.approx(0.25) and policy.profit_ == pytest.approx(0.75)
    assert policy.decide([0.2501, 0.25, 0.2499]).tolist() == [True, False, False]
    nothing = TargetingPolicy(cost=0.25, value=0.0, rule="break_even").fit(Y, score, T)
    assert nothing.threshold_ == np.inf and nothing.fraction_ == 0.0 and nothing.profit_ == 0.0
    # the curve rule picks the best row: n = 2 (profit 2 - 0.5 = 1.5 with value 1)
    best = TargetingPolicy(cost=0.25, value=1.0).fit(Y, SCORE, T)
    assert (best.threshold_, best.fraction_, best.profit_) == (pytest.approx(0.8), 0.5, pytest.approx(1.5))
    assert best.curve_["profit"].tolist() == pytest.approx([0, 0.75, 1.5, 0.75, -1.0])
    with pytest.raises(ValueError, match="rule"):
        TargetingPolicy(cost=1.0, value=1.0, rule="best").fit(Y, SCORE, T)


def test_compare_policies_by_hand():
    """Guards every row of ``compare_policies`` and its order (most profit first, ties in insertion order).

    cost 0.25, value 1. Uplift model (SCORE): best n = 2 (profit 1.5); break-even share = units with
    score > 0.25 = 1/2 -> the same row. Response model (reversed scores): profits 0, -0.25, -2.5, -2.25, -1: best
    is n = 0; at the uplift model's share 1/2: -2.5. Oracle (true effect = SCORE): 1.5. Everyone: -1."""
    table = compare_policies(Y, T, cost=0.25, value=1.0, uplift=SCORE, response_score=SCORE[::-1].copy(),
                             true_effect=SCORE)
    assert table.columns.tolist() == ["policy", "fraction_treated", "n_treated", "incremental_outcome", "profit"]
    assert table["policy"].tolist() == [
        "uplift model, best cut-off", "uplift model, break-even rule", "oracle (true effect), best cut-off",
        "treat nobody", "response model, best cut-off", "treat everyone", "response model, same share as uplift"]
    assert table["profit"].tolist() == pytest.approx([1.5, 1.5, 1.5, 0, 0, -1.0, -2.5])
    assert table["fraction_treated"].tolist() == pytest.approx([0.5, 0.5, 0.5, 0, 0, 1.0, 0.5])
    assert table["incremental_outcome"].tolist() == pytest.approx([2, 2, 2, 0, 0, 0, -2])
    assert table["n_treated"].tolist() == pytest.approx([2, 2, 2, 0, 0, 4, 2])
    # scaled to 8 customers: counts and money double
    scaled = compare_policies(Y, T, cost=0.25, value=1.0, uplift=SCORE, response_score=SCORE[::-1].copy(),
                              true_effect=SCORE, population=8).set_index("policy")
    assert scaled.loc["response model, same share as uplift", "profit"] == pytest.approx(-5.0)
    assert scaled.loc["oracle (true effect), best cut-off", "n_treated"] == pytest.approx(4)
    assert scaled.loc["uplift model, break-even rule", "profit"] == pytest.approx(3.0)
    # a cost no unit pays for: the break-even rule treats nobody; without the optional scores, four rows
    dear = compare_policies(Y, T, cost=5.0, value=1.0, uplift=SCORE).set_index("policy")
    assert len(dear) == 4
    assert dear.loc["uplift model, break-even rule", "fraction_treated"] == 0.0
    assert dear.loc["uplift model, break-even rule", "profit"] == 0.0
    # a unit exactly at break-even (0.25 * 1 = 0.25) is not treated by the rule value * uplift > cost
    edge = compare_policies(Y, T, cost=0.25, value=1.0, uplift=np.array([0.9, 0.25, 0.2, 0.1])).set_index("policy")
    assert edge.loc["uplift model, break-even rule", "fraction_treated"] == pytest.approx(0.25)


def test_best_arm_with_one_cost_and_a_net_value_of_exactly_zero():
    """Guards ``best_arm``: a single cost applies to every arm, and an arm that only breaks even (net 0) is not
    worth sending. value 10, cost 1: unit 0 nets 0 / -0.5 -> None; unit 1 nets 2 / 1 -> a."""
    uplift = pd.DataFrame({"a": [0.1, 0.3], "b": [0.05, 0.2]})
    assert best_arm(uplift, costs=1.0, value=10.0).tolist() == [None, "a"]
    assert best_arm(uplift, costs={"b": 0.0, "a": 1.0}, value=10.0).tolist() == ["b", "a"]


def test_break_even_divides_the_cost_by_the_value():
    """Guards ``cost / value`` (not ``cost * value``, ``uplift / value``) with a value other than 1: cost 0.5,
    value 2 -> break-even uplift 0.25: the units scored 0.9 and 0.8 are treated (half of them). And when the
    uplift model treats nobody, the response model at the same share treats nobody too."""
    policy = TargetingPolicy(cost=0.5, value=2.0, rule="break_even").fit(Y, SCORE, T)
    assert policy.threshold_ == pytest.approx(0.25) and policy.fraction_ == pytest.approx(0.5)
    table = compare_policies(Y, T, cost=0.5, value=2.0, uplift=SCORE).set_index("policy")
    assert table.loc["uplift model, break-even rule", "fraction_treated"] == pytest.approx(0.5)
    dear = compare_policies(Y, T, cost=5.0, value=1.0, uplift=SCORE, response_score=SCORE[::-1].copy())
    dear = dear.set_index("policy")
    assert dear.loc["uplift model, best cut-off", "fraction_treated"] == 0.0
    assert dear.loc["response model, same share as uplift", "fraction_treated"] == 0.0
