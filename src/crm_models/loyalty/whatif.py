"""What-if: two rule sets replayed on the same history, side by side."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crm_models.exceptions import ConfigurationError
from crm_models.loyalty.liability import historical_breakage
from crm_models.loyalty.programme import ProgrammeRun, run_programme
from crm_models.loyalty.rules import LoyaltyRules


@dataclass
class WhatIf:
    """The result of :func:`compare_rules`.

    Attributes
    ----------
    labels : the two rule sets' labels (columns of ``summary``).
    runs : the two :class:`~crm_models.loyalty.programme.ProgrammeRun` objects.
    summary : one row per measure (members per tier, benefit cost, points, liability), one column per rule set
        and a ``difference`` column (second minus first).
    tier_changes : customers by tier under the first rule set (rows) and the second (columns).
    changed : customers whose tier name differs between the rule sets; ``moved_up``/``moved_down`` when both
        rule sets have the same tier names (``None`` otherwise: ranks of different ladders do not compare).
    """

    labels: tuple[str, str]
    runs: tuple[ProgrammeRun, ProgrammeRun]
    summary: pd.DataFrame
    tier_changes: pd.DataFrame
    changed: int
    moved_up: int | None
    moved_down: int | None


def _measures(run: ProgrammeRun) -> pd.Series:
    members = run.members_per_tier()
    cost = run.benefit_cost()
    totals = run.ledger.totals()
    value = run.rules.points.point_value
    rows = {f"members: {tier}": float(n) for tier, n in members.items()}
    rows.update({
        "benefit cost: tier discounts, last 12 months": cost["discounts"],
        "benefit cost: fixed benefits for a year": cost["fixed_benefits"],
        "benefit cost: total": cost["total"],
        "points earned": float(totals["earned"]),
        "points expired": float(totals["expired"]),
        "points outstanding": float(totals["outstanding"]),
        f"points expiring in {run.ledger.expiring_within_days} days": float(totals["expiring_soon"]),
        "points liability at face value": float(totals["outstanding"]) * value,
        "historical breakage (expired share)": historical_breakage(run.ledger),
    })
    return pd.Series(rows)


def compare_rules(
    transactions: Any,
    first: LoyaltyRules,
    second: LoyaltyRules,
    *,
    as_of: Any = None,
    labels: tuple[str, str] | None = None,
    bonus: pd.DataFrame | None = None,
    redemptions: pd.DataFrame | None = None,
) -> WhatIf:
    """Replay ``first`` and ``second`` on the same ``transactions`` up to ``as_of`` and compare them.

    Labels default to the rule sets' names. Measures that exist in only one rule set (a tier the other lacks)
    show 0 members for the other. ``redemptions`` recorded under the current programme are replayed under both;
    when the other rule set would not have issued enough points for them, its ledger raises
    :class:`~crm_models.exceptions.DataContractError` naming the redemptions (compare without them then).
    """
    labels = labels or (first.name, second.name)
    if len(labels) != 2 or labels[0] == labels[1]:
        raise ConfigurationError(f"labels must be two different names, got {labels!r}")
    runs = tuple(run_programme(transactions, rules, as_of=as_of, bonus=bonus, redemptions=redemptions)
                 for rules in (first, second))
    left, right = (_measures(run) for run in runs)
    member_rows = [f"members: {t}" for t in dict.fromkeys(first.tier_names + second.tier_names)]
    order = member_rows + [r for r in left.index if not r.startswith("members: ")]
    summary = pd.DataFrame({labels[0]: left, labels[1]: right}).reindex(order)
    summary.loc[member_rows] = summary.loc[member_rows].fillna(0.0)
    summary["difference"] = summary[labels[1]] - summary[labels[0]]
    summary.index.name = "measure"
    a = runs[0].tiers.current["tier"]
    b = runs[1].tiers.current["tier"].reindex(a.index)
    tier_changes = pd.crosstab(a.rename(f"tier under {labels[0]}"), b.rename(f"tier under {labels[1]}"),
                               dropna=False)
    names_a, names_b = a.astype("string").to_numpy(), b.astype("string").to_numpy()
    changed = int(np.sum(names_a != names_b))
    moved_up = moved_down = None
    if first.tier_names == second.tier_names:
        codes_a, codes_b = a.cat.codes.to_numpy(), b.cat.codes.to_numpy()
        moved_up, moved_down = int(np.sum(codes_b > codes_a)), int(np.sum(codes_b < codes_a))
    return WhatIf(labels=tuple(labels), runs=runs, summary=summary, tier_changes=tier_changes, changed=changed,
                  moved_up=moved_up, moved_down=moved_down)
