"""What the plan hands on: rows for the CRM platform's activation export and tags for the customer table."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crm_models.data.timestamps import end_inclusive_day
from crm_models.plan.solve import NO_ACTION

ACTIVATION_COLUMNS = ["customer_id", "action", "channel", "expected_value", "holdout", "as_of"]


def plan_activation(assignments: pd.DataFrame, as_of: Any) -> pd.DataFrame:
    """The plan as rows a CRM platform acts on: real customer id, action, channel, expected incremental profit,
    holdout flag (True: planned but deliberately not sent, to measure the campaign) and the as-of date.
    Customers without an action are left out. Goes beside the customer table, never under ``reports/``."""
    planned = assignments[assignments["action"] != NO_ACTION]
    holdout = planned["holdout"] if "holdout" in planned else pd.Series(False, index=planned.index)
    out = pd.DataFrame({
        "customer_id": planned.index.astype(str),
        "action": planned["action"].to_numpy(),
        "channel": planned["channel"].to_numpy(),
        "expected_value": planned["expected_profit"].round(2).to_numpy(),
        "holdout": holdout.to_numpy(dtype=bool),
        "as_of": str(end_inclusive_day(as_of, "as_of").date()),
    })
    return out.sort_values("expected_value", ascending=False, kind="stable").reset_index(drop=True)


def price_sensitive_tags(values: pd.DataFrame, discount_actions: Sequence[str], *, quantile: float = 0.8,
                         tag: str = "price sensitive") -> pd.Series:
    """``tag`` for customers whose best predicted value from a discount action is positive and in the top
    ``1 - quantile`` of all customers (the seeds' "give price-sensitive customers discounts"); empty otherwise.
    ``values`` holds the predicted incremental value per action (one column each)."""
    best = values[list(discount_actions)].max(axis=1)
    cut = float(best.quantile(quantile)) if len(best) else 0.0
    hit = (best > 0) & (best >= cut)
    return pd.Series(np.where(hit, tag, ""), index=values.index, name="plan_tags", dtype=object)


#: Why a customer got no action, in the order the reasons are checked (see :func:`decision_reasons`).
NO_ACTION_REASONS = ("no action pays back its cost", "budget or capacity used up", "not eligible (rules)",
                     "contact limit reached")
PLANNED = "planned"


def decision_reasons(problem: Any, assignments: pd.DataFrame, remaining: np.ndarray | None = None) -> pd.Series:
    """Why each customer got what the plan says, in words: ``"planned"`` for a chosen action, else the first of
    :data:`NO_ACTION_REASONS` that explains it: no action's predicted value exceeds its cost; a profitable
    eligible action existed but the budget or a channel's capacity ran out first; the profitable actions are
    forbidden by an eligibility rule; or they are forbidden only because the customer has no contacts left
    (``remaining``: contacts left per customer, as given to :func:`crm_models.plan.build_problem`)."""
    profitable = (problem.value - problem.cost) > 0
    needs = np.array([a.contacts for a in problem.actions])
    blocked = (np.zeros_like(profitable) if remaining is None
               else np.asarray(remaining)[:, None] < needs[None, :])
    reasons = np.select(
        [(assignments["action"] != NO_ACTION).to_numpy(), ~profitable.any(axis=1),
         (profitable & problem.eligible).any(axis=1), (profitable & ~blocked).any(axis=1)],
        [PLANNED, *NO_ACTION_REASONS[:3]], default=NO_ACTION_REASONS[3])
    return pd.Series(reasons, index=assignments.index, name="reason", dtype=object)
