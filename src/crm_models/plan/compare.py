"""Compare the optimised plan with simpler policies on data whose true per-customer effects are known."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from crm_models.plan.problem import PlanningProblem
from crm_models.plan.solve import NO_ACTION, CampaignPlan, _greedy, plan_campaign


def true_profit(plan: CampaignPlan, problem: PlanningProblem, true_value: np.ndarray) -> float:
    """Incremental profit of ``plan`` if the true values were ``true_value`` (customers x actions)."""
    names = {a.name: j for j, a in enumerate(problem.actions)}
    picked = plan.assignments["action"].to_numpy()
    rows = np.nonzero(picked != NO_ACTION)[0]
    cols = np.array([names[a] for a in picked[rows]], dtype=int)
    return float((true_value[rows, cols] - problem.cost[rows, cols]).sum())


def ranked_policy(problem: PlanningProblem, action: int, score: np.ndarray, *, label: str) -> CampaignPlan:
    """Give one action to eligible customers in descending ``score`` until the budget or its capacity runs out,
    whatever the predicted profit (how a team without uplift models targets)."""
    only = np.zeros_like(problem.eligible)
    only[:, action] = problem.eligible[:, action]
    forced = replace(problem, value=problem.cost + 1.0, eligible=only)
    order = np.zeros_like(problem.value)
    order[:, action] = score
    choice = _greedy(forced, order)
    plan = _finish_with(problem, choice, label)
    return plan


def _finish_with(problem: PlanningProblem, choice: np.ndarray, label: str) -> CampaignPlan:
    from crm_models.plan.solve import _finish

    return _finish(problem, choice, None, label)


def compare_policies(problem: PlanningProblem, true_value: np.ndarray, *, churn_risk: np.ndarray | None = None,
                     response: np.ndarray | None = None, seed: int = 0) -> pd.DataFrame:
    """True incremental profit of the plan and of the alternatives, within the same budget and capacities.

    Policies: the optimised plan (predicted values); the best average action sent in random order; the best
    average action by churn risk (highest first); by response probability; and the oracle plan (solved on the
    true values, the best any policy can do). Columns: customers treated, spend, true profit, share of oracle.
    """
    rng = np.random.default_rng(seed)
    plans = {"optimised plan (predicted uplift)": plan_campaign(problem)}
    mean_net = np.where(problem.eligible, problem.value - problem.cost, np.nan)
    best_arm = int(np.nanargmax(np.nanmean(mean_net, axis=0)))
    arm_name = problem.actions[best_arm].name
    plans[f"everyone gets {arm_name} (best average), random order"] = ranked_policy(
        problem, best_arm, rng.random(len(problem.customers)), label="best average")
    if churn_risk is not None:
        plans[f"{arm_name} by churn risk"] = ranked_policy(problem, best_arm, np.asarray(churn_risk, float),
                                                           label="churn risk")
    if response is not None:
        plans[f"{arm_name} by response probability"] = ranked_policy(problem, best_arm,
                                                                     np.asarray(response, float),
                                                                     label="response")
    plans["oracle (true effects)"] = plan_campaign(replace(problem, value=np.asarray(true_value, float)))
    oracle = true_profit(plans["oracle (true effects)"], problem, true_value)
    rows = []
    for name, plan in plans.items():
        profit = true_profit(plan, problem, true_value)
        rows.append({"policy": name, "customers_treated": int((plan.assignments["action"] != NO_ACTION).sum()),
                     "spend": plan.spend, "true_incremental_profit": profit,
                     "share_of_oracle": profit / oracle if oracle > 0 else np.nan})
    return pd.DataFrame(rows).set_index("policy")
