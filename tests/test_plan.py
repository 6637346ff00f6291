"""Campaign planning: exact solver equals brute force, constraints hold exactly, Lagrangian gap, holdouts."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.exceptions import ConfigurationError, DataContractError
from crm_models.plan import (
    NO_ACTION,
    Action,
    assign_holdout,
    build_problem,
    compare_policies,
    plan_campaign,
    readout_table,
    remaining_contacts,
    solve_exact,
    solve_lagrangian,
)

ACTIONS = (Action("coupon_10", "email", contact_cost=0.1, face_value=10, redemption_probability=0.3),
           Action("coupon_20", "email", contact_cost=0.1, face_value=20, redemption_probability=0.4),
           Action("call", "phone", contact_cost=5.0))


def random_problem(seed: int, n: int, *, budget: float | None, caps: dict[str, int] | None,
                   remaining: np.ndarray | None = None):
    rng = np.random.default_rng(seed)
    value = rng.normal(4.0, 6.0, size=(n, len(ACTIONS)))
    eligible = rng.random((n, len(ACTIONS))) > 0.15
    customers = pd.Index([f"c{i}" for i in range(n)], name="customer_id")
    return build_problem(customers, ACTIONS, value, eligible=eligible, budget=budget, capacities=caps,
                         remaining=remaining)


def brute_force(problem) -> float:
    n, k = problem.value.shape
    best = 0.0
    for choice in itertools.product(range(-1, k), repeat=n):
        spend, profit, used = 0.0, 0.0, {}
        ok = True
        for i, a in enumerate(choice):
            if a < 0:
                continue
            if not problem.eligible[i, a]:
                ok = False
                break
            spend += problem.cost[i, a]
            profit += problem.value[i, a] - problem.cost[i, a]
            used[problem.actions[a].channel] = used.get(problem.actions[a].channel, 0) + 1
        if not ok or (problem.budget is not None and spend > problem.budget + 1e-9):
            continue
        if any(used.get(c, 0) > cap for c, cap in problem.capacities.items()):
            continue
        best = max(best, profit)
    return best


@pytest.mark.parametrize("seed", range(6))
def test_exact_solver_equals_brute_force(seed: int) -> None:
    problem = random_problem(seed, 6, budget=12.0, caps={"phone": 1, "email": 3})
    plan = solve_exact(problem)
    assert plan.expected_profit == pytest.approx(brute_force(problem), abs=1e-7)
    assert plan.gap == pytest.approx(0.0, abs=1e-7)


def check_feasible(plan, problem) -> None:
    a = plan.assignments
    assert a.index.equals(problem.customers)
    assert plan.spend == pytest.approx(a["cost"].sum())
    if problem.budget is not None:
        assert plan.spend <= problem.budget + 1e-6
    for channel, cap in problem.capacities.items():
        assert (a["channel"] == channel).sum() <= cap
    names = [x.name for x in problem.actions]
    for i, action in enumerate(a["action"]):
        if action != NO_ACTION:
            assert problem.eligible[i, names.index(action)], "an ineligible action was planned"


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 60), budget=st.floats(0.0, 200.0),
       phone=st.integers(0, 10), email=st.integers(0, 60), limit=st.integers(0, 2))
def test_constraints_hold_exactly_for_both_solvers(seed, n, budget, phone, email, limit) -> None:
    rng = np.random.default_rng(seed)
    remaining = rng.integers(0, limit + 1, size=n)
    problem = random_problem(seed, n, budget=budget, caps={"phone": phone, "email": email}, remaining=remaining)
    for plan in (solve_exact(problem), solve_lagrangian(problem, iterations=60)):
        check_feasible(plan, problem)
        treated = (plan.assignments["action"] != NO_ACTION).to_numpy()
        assert (remaining[treated] >= 1).all(), "a customer without contacts left was contacted"
        assert plan.expected_profit <= plan.upper_bound + 1e-6


def test_lagrangian_is_close_to_exact_and_reports_a_true_gap() -> None:
    problem = random_problem(11, 3000, budget=2500.0, caps={"phone": 150, "email": 2000})
    exact = solve_exact(problem)
    approx = solve_lagrangian(problem)
    check_feasible(approx, problem)
    assert approx.expected_profit <= exact.expected_profit + 1e-6
    assert approx.upper_bound >= exact.expected_profit - 1e-6, "the bound must bound the optimum"
    assert approx.gap < 0.01
    assert "budget" in " ".join(approx.binding)


def test_auto_switches_to_lagrangian_for_large_problems(monkeypatch) -> None:
    from crm_models.plan import solve

    monkeypatch.setattr(solve, "EXACT_MAX_CANDIDATES", 10)
    problem = random_problem(1, 50, budget=30.0, caps=None)
    assert plan_campaign(problem).method == "lagrangian"


def test_remaining_contacts_counts_proactive_contacts_in_the_period() -> None:
    customers = pd.Index(["a", "b", "c"])
    history = pd.DataFrame({"customer_id": ["a", "a", "b", "b", "b"],
                            "timestamp": pd.to_datetime(["2024-05-20 09:00", "2024-05-31 18:00", "2024-04-01 09:00",
                                                         "2024-05-15 09:00", "2024-05-16 09:00"]),
                            "proactive": [True, True, True, True, False]})
    left = remaining_contacts(customers, history, limit=2, period_days=30, as_of="2024-05-31")
    assert left.tolist() == [0, 1, 2]


def test_holdout_is_exact_per_action_and_feeds_the_readout() -> None:
    problem = random_problem(3, 400, budget=None, caps=None)
    plan = solve_exact(problem)
    with_holdout = assign_holdout(plan, 0.2, seed=1)
    for action, group in with_holdout[with_holdout.action != NO_ACTION].groupby("action"):
        assert group["holdout"].sum() == round(0.2 * len(group))
    assert not with_holdout.loc[with_holdout.action == NO_ACTION, "holdout"].any()
    again = assign_holdout(plan, 0.2, seed=1)
    pd.testing.assert_frame_equal(with_holdout, again)
    outcomes = pd.DataFrame({"converted": np.arange(400) % 2}, index=problem.customers)
    action = with_holdout.loc[with_holdout.action != NO_ACTION, "action"].iloc[0]
    table = readout_table(with_holdout, outcomes, action)
    assert set(table["variant"]) == {"control", action}
    assert (table["variant"] == "control").sum() == with_holdout.query("action == @action")["holdout"].sum()
    with pytest.raises(ConfigurationError):
        assign_holdout(plan, 1.0)


def test_oracle_beats_every_policy_and_the_plan_beats_blanket_targeting() -> None:
    rng = np.random.default_rng(5)
    n = 2000
    truth = rng.normal(0.0, 8.0, size=(n, len(ACTIONS))) + np.array([3.0, 2.0, -2.0])
    predicted = truth + rng.normal(0, 3.0, size=truth.shape)
    customers = pd.Index([f"c{i}" for i in range(n)])
    problem = build_problem(customers, ACTIONS, predicted, budget=3000.0, capacities={"phone": 100})
    table = compare_policies(problem, truth, churn_risk=rng.random(n), response=rng.random(n), seed=2)
    oracle = table.loc["oracle (true effects)", "true_incremental_profit"]
    assert (table["true_incremental_profit"] <= oracle + 1e-6).all()
    plan_row = table.loc["optimised plan (predicted uplift)"]
    blanket = table.filter(like="best average", axis=0).iloc[0]
    assert plan_row["true_incremental_profit"] > blanket["true_incremental_profit"]
    assert (table["spend"] <= 3000.0 + 1e-6).all()


def test_bad_inputs_are_named() -> None:
    customers = pd.Index(["a", "b"])
    with pytest.raises(DataContractError, match="one row per customer"):
        build_problem(customers, ACTIONS, np.zeros((3, 3)))
    with pytest.raises(DataContractError, match="finite"):
        build_problem(customers, ACTIONS, np.array([[np.nan, 1, 1], [1, 1, 1]]))
    with pytest.raises(ConfigurationError, match="redemption_probability"):
        Action("x", "email", redemption_probability=1.5)
    with pytest.raises(ConfigurationError, match="channels no action uses"):
        build_problem(customers, ACTIONS, np.zeros((2, 3)), capacities={"sms": 3})


def test_activation_rows_and_price_sensitive_tags() -> None:
    from crm_models.plan import plan_activation, price_sensitive_tags

    problem = random_problem(4, 50, budget=None, caps=None)
    assignments = assign_holdout(solve_exact(problem), 0.2, seed=0)
    rows = plan_activation(assignments, pd.Timestamp("2024-06-30"))
    assert list(rows.columns) == ["customer_id", "action", "channel", "expected_value", "holdout", "as_of"]
    assert len(rows) == (assignments["action"] != NO_ACTION).sum()
    assert (rows["as_of"] == "2024-06-30").all()
    assert rows["holdout"].sum() == assignments["holdout"].sum()
    values = pd.DataFrame({"coupon_10": [5.0, -1.0, 0.5, 9.0, 2.0], "call": [0, 0, 0, 0, 0]})
    tags = price_sensitive_tags(values, ["coupon_10"], quantile=0.6)
    assert tags.tolist() == ["price sensitive", "", "", "price sensitive", ""]


def test_uplift_values_recover_a_known_linear_effect() -> None:
    from sklearn.linear_model import LinearRegression

    from crm_models.plan import uplift_action_values
    from crm_models.uplift import TLearner

    rng = np.random.default_rng(0)
    n = 4000
    X = pd.DataFrame({"x": rng.normal(size=n)})
    t = rng.choice(["control", "coupon"], size=n)
    y = 10 + 2 * X["x"] + np.where(t == "coupon", 3 + 1.5 * X["x"], 0) + rng.normal(size=n)
    values, draws = uplift_action_values(TLearner(LinearRegression(), control="control"), X, t, y, X.head(5),
                                         margin=0.5, n_bootstrap=5, seed=1)
    np.testing.assert_allclose(values["coupon"], 0.5 * (3 + 1.5 * X["x"].head(5)), atol=0.15)
    assert draws["coupon"].shape == (5, 5)


def test_simulated_contact_history_is_seeded_and_makes_the_limit_bind() -> None:
    from crm_models.plan import simulate_contact_history

    ids = pd.Index([f"c{i}" for i in range(3000)])
    history = simulate_contact_history(ids, "2024-06-30", period_days=30, mean_recent=1.0, seed=4)
    pd.testing.assert_frame_equal(history, simulate_contact_history(ids, "2024-06-30", period_days=30,
                                                                    mean_recent=1.0, seed=4))
    assert list(history.columns) == ["customer_id", "timestamp", "channel", "proactive"]
    end = pd.Timestamp("2024-07-01")
    assert (history["timestamp"] < end).all() and (history["timestamp"] >= end - pd.Timedelta(days=60)).all()
    recent = history[(history["timestamp"] >= end - pd.Timedelta(days=30)) & history["proactive"]]
    left = remaining_contacts(ids, history, limit=2, period_days=30, as_of="2024-06-30")
    expected = np.maximum(2 - recent["customer_id"].value_counts().reindex(ids, fill_value=0).to_numpy(), 0)
    np.testing.assert_array_equal(left, expected)
    # Poisson(1) proactive-share 0.8 recent contacts: P(>= 2) is about 19%, so the limit binds for some, not all
    assert 0.10 < (left == 0).mean() < 0.30
    assert (history["timestamp"] < end - pd.Timedelta(days=30)).any(), "older contacts the limit must ignore"
    assert not history["proactive"].all(), "service messages, which do not count"
    with pytest.raises(ConfigurationError):
        simulate_contact_history(ids, "2024-06-30", period_days=0)


def test_decision_reasons_name_the_first_reason_that_explains_no_action() -> None:
    from crm_models.plan import NO_ACTION_REASONS, decision_reasons

    actions = (Action("a", "email", contact_cost=1.0), Action("b", "email", contact_cost=1.0))
    value = np.array([[5.0, 0.0],    # planned
                      [0.5, 0.2],    # nothing pays back its 1.0 cost
                      [4.0, 0.0],    # profitable and eligible but the budget is gone
                      [3.0, 0.0],    # profitable, forbidden by a rule
                      [6.0, 0.0]])   # profitable, forbidden only by the contact limit
    eligible = np.array([[1, 1], [1, 1], [1, 1], [0, 1], [1, 1]], dtype=bool)
    remaining = np.array([2, 2, 2, 2, 0])
    customers = pd.Index(list("vwxyz"))
    problem = build_problem(customers, actions, value, eligible=eligible, remaining=remaining, budget=1.0)
    plan = solve_exact(problem)
    assert plan.assignments["action"].tolist() == ["a"] + [NO_ACTION] * 4
    reasons = decision_reasons(problem, plan.assignments, remaining)
    assert reasons.tolist() == ["planned", *NO_ACTION_REASONS]
    # without the contact counts the last customer's block cannot be told apart from a rule
    assert decision_reasons(problem, plan.assignments).iloc[-1] == "not eligible (rules)"


def test_demo_comparison_applies_the_contact_limit_and_a_total_budget() -> None:
    from sklearn.linear_model import LinearRegression

    from crm_models.datasets import make_demo
    from crm_models.plan import demo_plan_comparison
    from crm_models.uplift import TLearner

    demo = make_demo(seed=2, n_customers=800)
    experiment, truth = demo.experiment, demo.truth["experiment"]
    ids = experiment["unit_id"].astype(str)
    remaining = pd.Series(np.where(np.arange(len(ids)) % 3 == 0, 0, 2), index=ids.to_numpy())
    result = demo_plan_comparison(experiment, truth, budget=150.0, remaining=remaining, n_bootstrap=0, seed=1,
                                  learner=TLearner(LinearRegression(), control="control"))
    assert result.problem.budget == 150.0
    assert result.plan.spend <= 150.0 + 1e-9 and (result.comparison["spend"] <= 150.0 + 1e-9).all()
    left = remaining.reindex(result.problem.customers).to_numpy()
    np.testing.assert_array_equal(result.remaining, left)
    treated = (result.assignments["action"] != NO_ACTION).to_numpy()
    assert treated.any() and (left[treated] >= 1).all(), "nobody without contacts left is planned"
    assert list(result.values.columns) == [a.name for a in result.problem.actions]
    assert result.values.index.equals(result.problem.customers)


def test_plan_files_go_beside_the_table_and_never_under_reports(tmp_path) -> None:
    from crm_models.plan import plan_activation, price_sensitive_tags
    from crm_models.plan.export import write_plan_files

    problem = random_problem(4, 30, budget=None, caps=None)
    assignments = assign_holdout(solve_exact(problem), 0.2, seed=0)
    activation = plan_activation(assignments, "2024-06-30")
    values = pd.DataFrame(problem.value, index=problem.customers, columns=[a.name for a in ACTIONS])
    tags = price_sensitive_tags(values, ["coupon_10", "coupon_20"])
    paths = write_plan_files(tmp_path / "data" / "processed" / "demo", activation, tags)
    back = pd.read_csv(paths["activation"])
    assert len(back) == len(activation) and back["customer_id"].tolist() == activation["customer_id"].tolist()
    tagged = pd.read_csv(paths["tags"])
    assert tagged["customer_id"].tolist() == tags.index[tags != ""].tolist()
    assert set(tagged["plan_tags"]) == {"price sensitive"}
    assert not list(paths["tags"].parent.glob(".*.tmp")), "no temporary file left behind"
    (tmp_path / "pyproject.toml").write_text("")
    with pytest.raises(ConfigurationError, match="reports/"):
        write_plan_files(tmp_path / "reports" / "run", activation, tags)
    assert not (tmp_path / "reports").exists()


def test_policy_profit_plot_orders_bars_and_labels_shares_only_for_gains() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crm_models.plotting.plan import plot_policy_profit
    from crm_models.plotting.style import NEGATIVE, NEUTRAL

    table = pd.DataFrame({"true_incremental_profit": [120.0, -40.0, 200.0],
                          "share_of_oracle": [0.6, -0.2, 1.0]},
                         index=["optimised plan", "everyone gets coupon_10", "oracle (true effects)"])
    ax = plot_policy_profit(table, currency="EUR")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["everyone gets coupon_10", "optimised plan",
                                                           "oracle (true effects)"]
    bars = ax.patches
    assert [b.get_width() for b in bars] == [-40.0, 120.0, 200.0]
    assert matplotlib.colors.to_hex(bars[0].get_facecolor()) == NEGATIVE.lower()
    assert matplotlib.colors.to_hex(bars[2].get_facecolor()) == NEUTRAL.lower()
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["-EUR 40", "EUR 120 (60% of oracle)", "EUR 200 (100% of oracle)"]
    plt.close(ax.figure)


def test_demo_plan_beats_simpler_targeting_on_the_true_effects() -> None:
    """On the demo brand (true per-customer effects known) the plan built on conversion uplift earns more true
    incremental profit than sending the best average coupon at random, by churn risk or by response, within the
    same budget, and gets most of the way to the oracle."""
    from crm_models.datasets import make_demo
    from crm_models.plan import demo_plan_comparison

    demo = make_demo(seed=42, n_customers=5000)
    result = demo_plan_comparison(demo.experiment, demo.truth["experiment"], n_bootstrap=0, seed=42)
    table = result.comparison["true_incremental_profit"]
    plan = table["optimised plan (predicted uplift)"]
    others = table.drop(["optimised plan (predicted uplift)", "oracle (true effects)"])
    assert (plan > others).all(), table.to_dict()
    assert plan >= 0.6 * table["oracle (true effects)"]
    assert (result.comparison["spend"] <= result.plan.budget + 1e-9).all()
