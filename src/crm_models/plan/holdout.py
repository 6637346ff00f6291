"""Holdouts recorded with the plan, so the next run can read the campaign out as an experiment."""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_models.exceptions import ConfigurationError, DataContractError
from crm_models.plan.solve import NO_ACTION, CampaignPlan

HOLDOUT = "holdout"


def assign_holdout(plan: CampaignPlan, share: float = 0.1, *, seed: int = 0) -> pd.DataFrame:
    """The plan's assignments with a random holdout per action: ``holdout`` (True: chosen but not sent) and
    ``variant`` (the action's name for those who receive it, ``"holdout"`` for the held-out ones).

    Within each action exactly ``round(share * n)`` of its ``n`` customers are held out (simple random sampling
    without replacement, seeded), so the read-out compares like with like.
    """
    if not 0.0 <= share < 1.0:
        raise ConfigurationError(f"holdout share must lie in [0, 1), got {share}")
    rng = np.random.default_rng(seed)
    out = plan.assignments.copy()
    out["holdout"] = False
    for action, rows in out.groupby("action", sort=True).groups.items():
        if action == NO_ACTION:
            continue
        k = round(share * len(rows))
        if k:
            held = rng.choice(np.asarray(rows, dtype=object), size=k, replace=False)
            out.loc[held, "holdout"] = True
    out["variant"] = np.where(out["holdout"], HOLDOUT, out["action"])
    return out


def sent_profit(assignments: pd.DataFrame) -> float:
    """Expected profit of what is actually sent (held-out customers receive nothing and cost nothing)."""
    sent = (assignments["action"] != NO_ACTION) & ~assignments.get("holdout", False)
    return float(assignments.loc[sent, "expected_profit"].sum())


def readout_table(assignments: pd.DataFrame, outcomes: pd.DataFrame, action: str) -> pd.DataFrame:
    """An experiment table for one action (``unit_id``, ``variant`` with ``"control"`` for its holdout, and the
    outcome columns) ready for :func:`crm_models.ab.analyze_experiment`, from the recorded plan and the
    outcomes observed since (indexed by customer id)."""
    if "holdout" not in assignments:
        raise DataContractError("the plan has no holdout column", column="holdout",
                                rule="assign_holdout before the campaign is sent")
    members = assignments[assignments["action"] == action]
    if members.empty:
        raise DataContractError(f"no customer was planned for {action!r}", column="action",
                                rule="an action of the plan", examples=sorted(assignments["action"].unique())[:5])
    frame = pd.DataFrame({"unit_id": members.index.astype(str),
                          "variant": np.where(members["holdout"], "control", action)})
    observed = outcomes.set_axis(outcomes.index.astype(str)).reindex(frame["unit_id"])  # ids compared as text
    return pd.concat([frame.reset_index(drop=True), observed.reset_index(drop=True)], axis=1)


def profit_interval(assignments: pd.DataFrame, value_draws: dict[str, np.ndarray], *,
                    level: float = 0.9) -> tuple[float, float]:
    """Percentile interval of the sent plan's profit over draws of the per-customer values (e.g. from
    bootstrap refits of the uplift models): ``value_draws[action]`` has shape ``(draws, customers)`` in the
    order of ``assignments``. Costs are taken as known. Every action that is sent needs its draws (a plan that
    sends nothing has the interval (0, 0))."""
    sent = ((assignments["action"] != NO_ACTION) & ~assignments.get("holdout", False)).to_numpy()
    lacking = sorted(set(assignments.loc[sent, "action"]) - set(value_draws))
    if lacking:
        raise DataContractError("value draws are missing for actions the plan sends", column="action",
                                rule="draws for every action sent", examples=lacking[:5])
    for action, draws in value_draws.items():
        if np.ndim(draws) != 2 or np.shape(draws)[1] != len(assignments):
            raise DataContractError("value draws need one column per customer of the plan", column=action,
                                    rule=f"shape (draws, {len(assignments)})", examples=[np.shape(draws)])
    if not sent.any():
        return (0.0, 0.0)
    totals = None
    for action, draws in value_draws.items():
        rows = sent & (assignments["action"] == action).to_numpy()
        part = np.asarray(draws)[:, rows].sum(axis=1) - assignments.loc[rows, "cost"].sum()
        totals = part if totals is None else totals + part
    if totals is None:
        return (0.0, 0.0)
    alpha = (1.0 - level) / 2.0
    return float(np.quantile(totals, alpha)), float(np.quantile(totals, 1.0 - alpha))
