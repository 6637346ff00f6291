"""Campaign-plan solvers on problems small enough to solve by hand: the Lagrangian method without a budget, the
plan's summary and gap, and the dispatch of ``plan_campaign``.

Each test names the mutation class it guards against (issue 21, mutation score of the ``plan`` family)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.plan import NO_ACTION, Action, build_problem, plan_campaign, solve_exact, solve_lagrangian
from crm_models.plan.solve import CampaignPlan

EMAIL = Action("mail", "email", contact_cost=1.0)
CALL = Action("call", "phone", contact_cost=2.0)


def capped_problem():
    """Five customers, e-mail (cost 1) and phone (cost 2); at most 2 e-mails and 1 call, no budget.

    Net values (value - cost): e-mail 5, 4, 3, 2, -1 and call 1, 6, 0.5, -2, 9. By hand the best plan calls c4 (9)
    and e-mails two of c0, c1, c2 while c1 might take the call: calling c4 (9) + e-mailing c0 (5) and c1 (4) = 18
    beats every plan that calls c1 (6 + 5 + 3 = 14)."""
    net = np.array([[5.0, 1.0], [4.0, 6.0], [3.0, 0.5], [2.0, -2.0], [-1.0, 9.0]])
    cost = np.array([[1.0, 2.0]] * 5)
    customers = pd.Index([f"c{i}" for i in range(5)], name="customer_id")
    return build_problem(customers, (EMAIL, CALL), net + cost, cost=cost, budget=None,
                         capacities={"email": 2, "phone": 1})


def test_lagrangian_without_a_budget_prices_only_the_capacities() -> None:
    """The hand optimum 18 (c4 called, c0 and c1 e-mailed); no budget to price. Guards: the budget's multiplier
    or its scale used when there is no budget (``lam * None``, ``float(None)``)."""
    problem = capped_problem()
    plan = solve_lagrangian(problem, iterations=80)
    assert plan.expected_profit == pytest.approx(18.0)
    assert plan.assignments["action"].tolist() == ["mail", "mail", NO_ACTION, NO_ACTION, "call"]
    assert plan.upper_bound >= 18.0 - 1e-9 and plan.budget is None
    assert solve_exact(problem).expected_profit == pytest.approx(18.0)


def test_lagrangian_without_any_limit_takes_every_profitable_action() -> None:
    """No budget, no capacities: each customer takes their best positive action (5, 6, 3, 2, 9 = 25) and the
    bound is the same 25 (complementary slackness at zero prices). Guards: limits priced that do not exist."""
    problem = capped_problem()
    free = build_problem(problem.customers, problem.actions, problem.value, cost=problem.cost)
    plan = solve_lagrangian(free)
    assert plan.expected_profit == pytest.approx(25.0)
    assert plan.upper_bound == pytest.approx(25.0) and plan.gap == pytest.approx(0.0)
    assert plan.assignments["action"].tolist() == ["mail", "call", "mail", "mail", "call"]
    assert plan.spend == pytest.approx(1 + 2 + 1 + 1 + 2)


def test_lagrangian_with_a_budget_only() -> None:
    """Budget 3, no capacities, all actions cost 1 (one channel): the three largest nets 9, 6, 5 = 20."""
    net = np.array([[5.0], [6.0], [3.0], [2.0], [9.0]])
    cost = np.ones((5, 1))
    problem = build_problem(pd.Index(list("abcde")), (EMAIL,), net + cost, cost=cost, budget=3.0)
    for plan in (solve_lagrangian(problem), solve_exact(problem)):
        assert plan.expected_profit == pytest.approx(20.0)
        assert plan.spend == pytest.approx(3.0)
        assert plan.assignments["action"].tolist() == ["mail", "mail", NO_ACTION, NO_ACTION, "mail"]
        assert any(b.startswith("budget") for b in plan.binding)


def test_summary_by_hand() -> None:
    """Keys and values of the headline figures. Guards: a key renamed, treated counted from the wrong rows."""
    plan = solve_exact(capped_problem())
    summary = plan.summary()
    assert list(summary.index) == ["customers", "treated", "spend", "expected_profit", "upper_bound", "gap",
                                   "method"]
    assert summary["customers"] == 5 and summary["treated"] == 3
    assert summary["spend"] == pytest.approx(1 + 1 + 2)
    assert summary["expected_profit"] == pytest.approx(18.0)
    assert summary["method"] == "exact"
    assert summary["gap"] == pytest.approx(0.0, abs=1e-9)


def test_gap_is_relative_to_the_bound() -> None:
    """(bound - profit) / bound = (10 - 8) / 10; a bound of 0 gives 0. Guards: the formula's terms swapped."""
    frame = pd.DataFrame({"action": [NO_ACTION]})
    assert CampaignPlan(frame, 8.0, 10.0, "lagrangian", 0.0, None).gap == pytest.approx(0.2)
    assert CampaignPlan(frame, 0.0, 0.0, "lagrangian", 0.0, None).gap == 0.0


def test_plan_campaign_dispatches_by_method() -> None:
    """Guards: the method names compared wrongly."""
    problem = capped_problem()
    assert plan_campaign(problem, method="exact").method == "exact"
    assert plan_campaign(problem, method="lagrangian").method == "lagrangian"
    assert plan_campaign(problem).method == "exact"  # 8 profitable pairs, well under the exact solver's limit


def test_the_time_limit_reaches_the_exact_solver() -> None:
    """A time limit far too short for HiGHS to find any plan: ``auto`` falls back to the Lagrangian method and
    ``exact`` says it found no plan; with the default limit the same problem is solved exactly. Guards: the
    time limit dropped on its way to the exact solver."""
    rng = np.random.default_rng(0)
    n = 300
    actions = (Action("a", "email", contact_cost=1.0), Action("b", "sms", contact_cost=1.5))
    problem = build_problem(pd.Index([f"c{i}" for i in range(n)]), actions, rng.normal(3, 2, size=(n, 2)),
                            cost=rng.uniform(0.5, 2.0, size=(n, 2)), budget=150.0, capacities={"email": 80})
    assert plan_campaign(problem, time_limit=1e-9).method == "lagrangian"
    with pytest.raises(RuntimeError, match="no plan"):
        plan_campaign(problem, method="exact", time_limit=1e-9)
    assert plan_campaign(problem).method == "exact"


def test_bad_values_and_costs_are_named_by_column() -> None:
    """Guards: the column named in the error dropped or changed."""
    from crm_models.exceptions import DataContractError

    customers = pd.Index(["a", "b"])
    with pytest.raises(DataContractError) as infinite:
        build_problem(customers, (EMAIL, CALL), np.array([[np.inf, 1.0], [1.0, 1.0]]))
    assert infinite.value.column == "value/cost" and "'a'" in str(infinite.value)
    with pytest.raises(DataContractError) as negative:
        build_problem(customers, (EMAIL, CALL), np.ones((2, 2)), cost=np.array([[1.0, -0.5], [1.0, 1.0]]))
    assert negative.value.column == "cost"
    with pytest.raises(DataContractError) as shape:
        build_problem(customers, (EMAIL, CALL), np.ones((2, 3)))
    assert shape.value.column == "value"


def test_lagrangian_bound_is_tight_when_only_capacities_bind() -> None:
    """500 customers, two channels, only the e-mail capacity (50) limits: the capacity multiplier must build up
    over the iterations; the Lagrangian bound then lies within 0.5 % of the exact optimum (it does to 1e-9 here)
    and the plan earns at least 99.5 % of it. Guards: the multiplier update in the wrong units (a multiplier
    divided instead of multiplied by its scale forgets its earlier value: the bound stays 3 % loose)."""
    rng = np.random.default_rng(2)
    n = 500
    actions = (Action("a", "email", contact_cost=1.0), Action("b", "sms", contact_cost=1.0))
    problem = build_problem(pd.Index([f"c{i}" for i in range(n)]), actions, rng.normal(2, 3, size=(n, 2)),
                            cost=np.ones((n, 2)), capacities={"email": 50})
    best = solve_exact(problem).expected_profit
    plan = solve_lagrangian(problem)
    assert plan.upper_bound >= best - 1e-6
    assert plan.upper_bound <= best * 1.005, (plan.upper_bound, best)
    assert plan.expected_profit >= 0.995 * best and plan.gap < 0.005


def test_exact_is_used_when_asked_even_for_a_large_problem(monkeypatch) -> None:
    """``method="exact"`` solves exactly whatever the size; ``auto`` switches above the size limit. Guards: the
    method's name compared wrongly (``exact`` would then fall through to ``auto``)."""
    from crm_models.plan import solve

    monkeypatch.setattr(solve, "EXACT_MAX_CANDIDATES", 3)
    problem = capped_problem()
    assert plan_campaign(problem, method="exact").method == "exact"
    assert plan_campaign(problem).method == "lagrangian"


def test_a_ranked_policy_names_itself() -> None:
    """A simple targeting policy's plan carries its label as its method, and gives the action to the highest
    scores within the capacity (2 e-mails: c3 and c1 by score). Guards: the label dropped."""
    from crm_models.plan.compare import ranked_policy

    problem = capped_problem()
    plan = ranked_policy(problem, 0, np.array([0.1, 0.8, 0.3, 0.9, 0.2]), label="by score")
    assert plan.method == "by score"
    assert plan.assignments["action"].tolist() == [NO_ACTION, "mail", NO_ACTION, "mail", NO_ACTION]


def test_value_frames_without_an_action_column_are_named() -> None:
    """Guards: the label of the frame dropped from the message, the missing action not named."""
    from crm_models.exceptions import DataContractError

    customers = pd.Index(["a", "b"])
    with pytest.raises(DataContractError, match="value") as missing:
        build_problem(customers, (EMAIL, CALL), pd.DataFrame({"mail": [1.0, 2.0]}, index=customers))
    assert missing.value.column == "call"
    with pytest.raises(DataContractError, match="eligible") as rule:
        build_problem(customers, (EMAIL, CALL), np.ones((2, 2)),
                      eligible=pd.DataFrame({"call": [True, False]}, index=customers))
    assert rule.value.column == "mail"


def test_negative_costs_name_the_rule() -> None:
    """Guards: the rule dropped or changed."""
    from crm_models.exceptions import DataContractError

    with pytest.raises(DataContractError) as negative:
        build_problem(pd.Index(["a"]), (EMAIL,), np.ones((1, 1)), cost=np.array([[-1.0]]))
    assert negative.value.column == "cost" and "cost" in negative.value.rule and ">= 0" in negative.value.rule


def test_missing_costs_of_ineligible_pairs_do_not_break_the_lagrangian_bound() -> None:
    """Only eligible pairs must have finite costs, so a NaN cost where an action is forbidden is valid input. It
    must change nothing: the same plan and bound as with cost 0 there, and the bound never below the optimum.
    Regression (review rev4): the NaN priced as ``-inf - lam * NaN`` won ``argmax``, the customer dropped out of
    the dual value, and the plan reported a gap of 0 with a 'bound' below the exact optimum."""
    rng = np.random.default_rng(1)
    actions = (Action("a", "email"), Action("b", "sms"))
    for _ in range(40):
        value, cost = rng.uniform(0, 10, (6, 2)), rng.uniform(0, 8, (6, 2))
        eligible = rng.random((6, 2)) < 0.8
        budget = float(rng.uniform(5, 15))
        customers = pd.Index([f"c{i}" for i in range(6)])
        with_nan = build_problem(customers, actions, value, cost=np.where(eligible, cost, np.nan),
                                 eligible=eligible, budget=budget, capacities={"email": 2})
        with_zero = build_problem(customers, actions, value, cost=np.where(eligible, cost, 0.0),
                                  eligible=eligible, budget=budget, capacities={"email": 2})
        plan, reference = solve_lagrangian(with_nan), solve_lagrangian(with_zero)
        optimum = solve_exact(with_zero).expected_profit
        assert plan.upper_bound >= optimum - 1e-6
        assert plan.upper_bound == pytest.approx(reference.upper_bound)
        assert plan.expected_profit == pytest.approx(reference.expected_profit)


def test_an_eligibility_frame_without_a_customer_is_an_error_naming_it() -> None:
    """A customer missing from an eligibility frame (or a missing flag) must not silently become eligible.
    Regression (review rev4): the reindexed NaN turned True under ``astype(bool)``, so a customer no rule listed
    was eligible for every action."""
    from crm_models.exceptions import DataContractError

    customers = pd.Index(["x", "y"])
    rules = pd.DataFrame({"mail": [True], "call": [False]}, index=["x"])
    with pytest.raises(DataContractError, match="eligible") as missing:
        build_problem(customers, (EMAIL, CALL), np.full((2, 2), 5.0), eligible=rules)
    assert missing.value.column == "mail" and "y" in str(missing.value)
