"""Holdouts of the campaign plan, checked against hand-computed values: the variant column, the read-out table,
the profit of what is sent and its percentile interval over value draws.

Each test names the mutation class it guards against (issue 21, mutation score of the ``plan`` family)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.exceptions import ConfigurationError, DataContractError
from crm_models.plan import NO_ACTION, assign_holdout, profit_interval, readout_table
from crm_models.plan.holdout import HOLDOUT, sent_profit
from crm_models.plan.solve import CampaignPlan


def plan_of(actions: list[str], profit: list[float], cost: list[float]) -> CampaignPlan:
    """A plan with the given action per customer (ids c0, c1, ...), its expected profit and cost."""
    index = pd.Index([f"c{i}" for i in range(len(actions))], name="customer_id")
    assignments = pd.DataFrame({"action": actions, "channel": ["email" if a != NO_ACTION else "" for a in actions],
                                "expected_value": np.add(profit, cost), "cost": cost,
                                "expected_profit": profit}, index=index)
    return CampaignPlan(assignments, float(np.sum(profit)), float(np.sum(profit)), "exact", float(np.sum(cost)),
                        None)


# four customers: c0 gets a (sent), c1 gets a (held out), c2 gets b (sent), c3 nothing
ASSIGNMENTS = pd.DataFrame({"action": ["a", "a", "b", NO_ACTION], "holdout": [False, True, False, False],
                            "cost": [1.0, 1.0, 2.0, 0.0], "expected_profit": [4.0, 6.0, 3.0, 0.0]},
                           index=pd.Index(["c0", "c1", "c2", "c3"], name="customer_id"))
DRAWS = {"a": np.array([[10.0, 100.0, 0.0, 0.0], [20.0, 100.0, 0.0, 0.0], [30.0, 100.0, 0.0, 0.0]]),
         "b": np.array([[50.0, 0.0, 7.0, 0.0], [50.0, 0.0, 9.0, 0.0], [50.0, 0.0, 11.0, 0.0]])}


def test_profit_interval_by_hand() -> None:
    """Sent rows only: a -> c0 (draws 10, 20, 30 minus cost 1), b -> c2 (7, 9, 11 minus cost 2); totals 14, 26, 38.
    Linear-interpolation quantiles: level 0.5 -> (20, 32); the default level 0.9 -> (15.2, 36.8).

    Guards: the holdout column read under another name (held-out c1 with draws of 100 counted), totals
    subtracted instead of added across actions, the tail share ``alpha`` wrong or dropped, the upper quantile
    taken of the wrong array."""
    assert profit_interval(ASSIGNMENTS, DRAWS, level=0.5) == pytest.approx((20.0, 32.0))
    assert profit_interval(ASSIGNMENTS, DRAWS) == pytest.approx((15.2, 36.8))


def test_profit_interval_without_holdout_counts_every_planned_customer() -> None:
    """Without a holdout column everyone planned is sent: c1's draws (100 - 1) join a; totals 113, 125, 137."""
    no_holdout = ASSIGNMENTS.drop(columns="holdout")
    assert profit_interval(no_holdout, DRAWS, level=0.5) == pytest.approx((119.0, 131.0))


def test_profit_interval_of_a_plan_that_sends_nothing_is_zero() -> None:
    nothing = ASSIGNMENTS.assign(action=NO_ACTION)
    assert profit_interval(nothing, {}) == (0.0, 0.0)
    assert profit_interval(ASSIGNMENTS.assign(holdout=True), {}) == (0.0, 0.0)


def test_profit_interval_refuses_a_sent_action_without_draws() -> None:
    """Regression (review rev4): a sent action missing from ``value_draws`` was left out of the totals, so the
    interval covered part of the plan only (and no draws at all gave (0, 0) for a plan earning 7)."""
    with pytest.raises(DataContractError) as partial:
        profit_interval(ASSIGNMENTS, {"a": DRAWS["a"]})
    assert partial.value.column == "action" and "b" in str(partial.value)
    with pytest.raises(DataContractError):
        profit_interval(ASSIGNMENTS, {})
    with pytest.raises(DataContractError) as shape:
        profit_interval(ASSIGNMENTS, {"a": DRAWS["a"][:, :3], "b": DRAWS["b"]})
    assert shape.value.column == "a"


def test_sent_profit_leaves_out_held_out_customers() -> None:
    """4 (c0) + 3 (c2); c1 is held out. Guards: the holdout mask dropped or inverted."""
    assert sent_profit(ASSIGNMENTS) == pytest.approx(7.0)
    assert sent_profit(ASSIGNMENTS.drop(columns="holdout")) == pytest.approx(13.0)


def test_variant_names_the_holdout_and_the_action_sent() -> None:
    """10 customers with action a, share 0.3: exactly 3 held out, whose variant is "holdout"; the others' variant
    is their action; customers without action are never held out. Guards: the variant built from a wrong
    condition (everyone gets their action name) or the labels swapped."""
    plan = plan_of(["a"] * 10 + [NO_ACTION] * 2, [1.0] * 10 + [0.0] * 2, [0.5] * 10 + [0.0] * 2)
    out = assign_holdout(plan, 0.3, seed=5)
    held = out["holdout"].to_numpy()
    assert held.sum() == 3
    assert (out.loc[held, "variant"] == HOLDOUT).all() and HOLDOUT == "holdout"
    assert (out.loc[~held & (out["action"] == "a"), "variant"] == "a").all()
    assert (out.loc[out["action"] == NO_ACTION, "variant"] == NO_ACTION).all()
    assert not out.loc[out["action"] == NO_ACTION, "holdout"].any()


def test_holdout_share_bounds() -> None:
    """share 0 holds nobody out; negative and 1 are refused naming the share. Guards: the bounds flipped."""
    plan = plan_of(["a"] * 4, [1.0] * 4, [0.5] * 4)
    assert not assign_holdout(plan, 0.0)["holdout"].any()
    for bad in (-0.1, 1.0):
        with pytest.raises(ConfigurationError, match="share"):
            assign_holdout(plan, bad)


def test_readout_table_columns_and_values() -> None:
    """One row per customer planned for the action: ``unit_id`` (the id as text), ``variant`` ("control" for
    its holdout) and the outcome columns. Guards: column names changed, holdout and sent swapped."""
    outcomes = pd.DataFrame({"revenue": [5.0, 0.0, 7.0, 1.0]}, index=ASSIGNMENTS.index)
    table = readout_table(ASSIGNMENTS, outcomes, "a")
    assert list(table.columns) == ["unit_id", "variant", "revenue"]
    assert table["unit_id"].tolist() == ["c0", "c1"]
    assert table["variant"].tolist() == ["a", "control"]
    assert table["revenue"].tolist() == [5.0, 0.0]


def test_readout_errors_name_the_column() -> None:
    """Guards: the column named in the error changed."""
    with pytest.raises(DataContractError) as missing:
        readout_table(ASSIGNMENTS.drop(columns="holdout"), pd.DataFrame(index=ASSIGNMENTS.index), "a")
    assert missing.value.column == "holdout"
    with pytest.raises(DataContractError) as unknown:
        readout_table(ASSIGNMENTS, pd.DataFrame(index=ASSIGNMENTS.index), "zzz")
    assert unknown.value.column == "action" and "zzz" in str(unknown.value)


def test_readout_table_matches_numeric_outcome_ids_to_the_plan() -> None:
    """Outcomes read back from a file often carry numeric ids while the plan's are text. Regression (review rev4):
    the outcomes were reindexed by the raw ids, so every outcome came out missing."""
    plan = ASSIGNMENTS.set_axis(pd.Index(["10", "11", "12", "13"], name="customer_id"))
    outcomes = pd.DataFrame({"revenue": [5.0, 0.0, 7.0, 1.0]}, index=[10, 11, 12, 13])
    table = readout_table(plan, outcomes, "a")
    assert table["unit_id"].tolist() == ["10", "11"] and table["revenue"].tolist() == [5.0, 0.0]
