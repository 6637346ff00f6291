"""Campaign planning: which customer gets which action, under a budget, channel capacities and contact limits.

>>> from crm_models.plan import Action
>>> Action("coupon_10", channel="email", contact_cost=0.05, face_value=10, redemption_probability=0.2).name
'coupon_10'
"""

from crm_models.plan.compare import compare_policies, true_profit
from crm_models.plan.demo_comparison import DemoPlanComparison, demo_plan_comparison
from crm_models.plan.demo_contacts import simulate_contact_history
from crm_models.plan.holdout import HOLDOUT, assign_holdout, profit_interval, readout_table, sent_profit
from crm_models.plan.outputs import NO_ACTION_REASONS, decision_reasons, plan_activation, price_sensitive_tags
from crm_models.plan.problem import Action, PlanningProblem, action_costs, build_problem, remaining_contacts
from crm_models.plan.solve import NO_ACTION, CampaignPlan, plan_campaign, solve_exact, solve_lagrangian
from crm_models.plan.uplift_values import conversion_action_values, uplift_action_values

__all__ = [
    "HOLDOUT",
    "NO_ACTION",
    "NO_ACTION_REASONS",
    "Action",
    "CampaignPlan",
    "DemoPlanComparison",
    "PlanningProblem",
    "action_costs",
    "assign_holdout",
    "build_problem",
    "compare_policies",
    "conversion_action_values",
    "decision_reasons",
    "demo_plan_comparison",
    "plan_activation",
    "plan_campaign",
    "price_sensitive_tags",
    "profit_interval",
    "readout_table",
    "remaining_contacts",
    "sent_profit",
    "simulate_contact_history",
    "solve_exact",
    "solve_lagrangian",
    "true_profit",
    "uplift_action_values",
]
