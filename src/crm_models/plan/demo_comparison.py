"""The planning comparison on the demo brand, whose coupon experiment has known per-customer effects.

The experiment is split in two halves by customer: uplift models learn from the first, the plan is made for the
second, and every policy is scored with the second half's true effects (``truth["unit_effect"]``).

Values come from a model of the conversion uplift (incremental conversion x order value x margin): on the demo's
revenue outcome, mostly zeros with a heavy tail, uplift models barely rank customers (correlation with the true
effect near 0), and a plan built on them does no better than sending the best average coupon to everyone. The
demo's revenue is what customers paid after the discount, so the discount is not counted a second time as a cost:
an action costs its e-mail (``contact_cost``) unless ``coupon_face_values`` says otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crm_models.plan.compare import compare_policies
from crm_models.plan.holdout import assign_holdout, profit_interval, sent_profit
from crm_models.plan.problem import Action, PlanningProblem, build_problem
from crm_models.plan.solve import CampaignPlan, plan_campaign
from crm_models.plan.uplift_values import conversion_action_values


@dataclass
class DemoPlanComparison:
    """What :func:`demo_plan_comparison` produced: the problem, the plan with its holdout, the comparison table
    (true incremental profit per policy) and the plan's expected profit with its bootstrap interval."""

    problem: PlanningProblem
    plan: CampaignPlan
    assignments: pd.DataFrame
    comparison: pd.DataFrame
    expected_profit: float
    interval: tuple[float, float]
    remaining: np.ndarray | None = None

    @property
    def values(self) -> pd.DataFrame:
        """Predicted incremental value of each action per planned customer (one column per action)."""
        return pd.DataFrame(self.problem.value, index=self.problem.customers,
                            columns=[a.name for a in self.problem.actions])


def demo_plan_comparison(experiment: pd.DataFrame, truth: dict[str, Any], *, margin: float = 0.3,
                         budget_share: float = 0.5, contact_cost: float = 0.05, holdout_share: float = 0.1,
                         n_bootstrap: int = 20, learner: Any = None, budget: float | None = None,
                         remaining: pd.Series | None = None, coupon_face_values: dict[str, float] | None = None,
                         seed: int = 0) -> DemoPlanComparison:
    """Plan coupons for half of the demo experiment's customers and compare policies on the true effects.

    Actions are the experiment's coupon arms sent by e-mail. Each costs ``contact_cost`` plus, when
    ``coupon_face_values`` is given, face value x the arm's conversion rate in the training half (the chance it is
    redeemed). The budget is enough to contact ``budget_share`` of the planned customers unless a total ``budget``
    is given. ``remaining`` (contacts each customer may still receive, indexed by customer id; missing customers
    count as unrestricted) applies the contact limit to the plan and to every policy it is compared with. The
    default uplift learner is a T-learner with logistic regressions (Kunzel et al. 2019) on ``converted``.
    """
    from sklearn.linear_model import LogisticRegression

    from crm_models.uplift import TLearner

    features = list(truth["features"])
    control = truth["control"]
    rng = np.random.default_rng(seed)
    train = rng.random(len(experiment)) < 0.5
    X = experiment[features].astype(float)
    X_train, X_score = X[train], X[~train]
    t_train = experiment.loc[train, "variant"].astype(str).to_numpy()
    arms = [a for a in truth["arms"] if a != control]
    buyers = experiment[train & (experiment["converted"] == 1)]
    order_value = buyers.groupby("variant")["revenue"].mean().reindex(arms).fillna(0.0).to_dict()
    learner = learner or TLearner(LogisticRegression(max_iter=1000), control=control)
    values, draws = conversion_action_values(learner, X_train, t_train,
                                             experiment.loc[train, "converted"].to_numpy(), order_value, X_score,
                                             margin=margin, n_bootstrap=n_bootstrap, seed=seed)
    conversion = experiment[train].groupby("variant")["converted"].mean()
    faces = coupon_face_values or {}
    actions = tuple(Action(arm, "email", contact_cost=contact_cost, face_value=float(faces.get(arm, 0.0)),
                           redemption_probability=float(conversion.get(arm, 0.0))) for arm in arms)
    customers = pd.Index(experiment.loc[~train, "unit_id"].astype(str), name="customer_id")
    values.index = customers
    left = None if remaining is None else remaining.reindex(customers).fillna(np.inf).to_numpy(dtype=float)
    total = budget_share * contact_cost * len(customers) if budget is None else float(budget)
    problem = build_problem(customers, actions, values[arms], budget=total, remaining=left)
    plan = plan_campaign(problem)
    assignments = assign_holdout(plan, holdout_share, seed=seed)
    true_value = np.column_stack([truth["unit_effect"]["revenue"][arm][~train] * margin for arm in arms])
    churn_risk = experiment.loc[~train, "pre_recency_days"].to_numpy(dtype=float)
    response = experiment.loc[~train, "pre_converted"].to_numpy(dtype=float) + 1e-6 * rng.random(len(customers))
    comparison = compare_policies(problem, true_value, churn_risk=churn_risk, response=response, seed=seed)
    interval = profit_interval(assignments, draws) if draws else (np.nan, np.nan)
    return DemoPlanComparison(problem, plan, assignments, comparison, sent_profit(assignments), interval, left)
