"""Campaign planning: which customer gets which action, under a budget, channel capacities and contact limits.

>>> from crm_models.plan import Action
>>> Action("coupon_10", channel="email", contact_cost=0.05, face_value=10, redemption_probability=0.2).name
'coupon_10'
"""

from crm_models.plan.compare import compare_policies, true_profit
from crm_models.plan.holdout import HOLDOUT, assign_holdout, profit_interval, readout_table, sent_profit
from crm_models.plan.problem import Action, PlanningProblem, action_costs, build_problem, remaining_contacts
from crm_models.plan.solve import NO_ACTION, CampaignPlan, plan_campaign, solve_exact, solve_lagrangian

__all__ = [
    "HOLDOUT",
    "NO_ACTION",
    "Action",
    "CampaignPlan",
    "PlanningProblem",
    "action_costs",
    "assign_holdout",
    "build_problem",
    "compare_policies",
    "plan_campaign",
    "profit_interval",
    "readout_table",
    "remaining_contacts",
    "sent_profit",
    "solve_exact",
    "solve_lagrangian",
    "true_profit",
]
