"""A whole programme run: tiers replayed, then points earned at the tier held, then the per-customer table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crm_models.data.quality import QualityReport
from crm_models.loyalty.ledger import PointsLedger, ledger_from_points, purchase_points
from crm_models.loyalty.rules import LoyaltyRules
from crm_models.loyalty.tiers import TierReplay, replay_tiers

#: months of purchases behind the benefit cost of tier discounts
BENEFIT_WINDOW_MONTHS = 12


@dataclass
class ProgrammeRun:
    """Tiers and points of one rule set on one history (see :func:`run_programme`)."""

    rules: LoyaltyRules
    tiers: TierReplay
    ledger: PointsLedger

    @property
    def as_of(self) -> pd.Timestamp:
        """The last day replayed."""
        return self.tiers.as_of

    @property
    def quality(self) -> QualityReport:
        """Rows left out of the replay (returns, zero amounts, rows after ``as_of``), by reason."""
        return self.ledger.quality

    def members_per_tier(self) -> pd.Series:
        """Members in each tier at ``as_of`` (every tier listed, lowest first)."""
        counts = self.tiers.current["tier"].value_counts()
        return counts.reindex(self.rules.tier_names, fill_value=0).rename("members")

    def benefit_cost(self) -> pd.Series:
        """Cost of tier benefits: discounts on the last 12 months of purchases at the tier held at each, and
        the fixed benefits of a year for the members in each tier at ``as_of``."""
        purchases = self.tiers.purchases
        start = (purchases.end - pd.DateOffset(months=BENEFIT_WINDOW_MONTHS)).to_datetime64()
        recent = purchases.time >= start
        share = np.array([t.discount_share for t in self.rules.tiers])[self.tiers.purchase_tier]
        discounts = float(np.sum(share[recent] * purchases.amount[recent]))
        fixed = float(np.dot(self.members_per_tier().to_numpy(),
                             [t.annual_benefit_cost for t in self.rules.tiers]))
        return pd.Series({"discounts": discounts, "fixed_benefits": fixed, "total": discounts + fixed})

    def customer_table(self) -> pd.DataFrame:
        """One row per customer: ``tier``, ``next_tier``, ``progress``, ``points_outstanding``,
        ``points_expiring_soon``, ``next_points_expiry`` (the columns the per-run customer table takes)."""
        current = self.tiers.current[["tier", "next_tier", "progress"]]
        points = self.ledger.customers.rename(columns={"outstanding": "points_outstanding",
                                                       "expiring_soon": "points_expiring_soon",
                                                       "next_expiry": "next_points_expiry"})
        table = current.join(points[["points_outstanding", "points_expiring_soon", "next_points_expiry"]],
                             how="outer")
        table["tier"] = table["tier"].fillna(self.rules.tier_names[0])  # bonus-only customers: entry tier
        table[["points_outstanding", "points_expiring_soon"]] = \
            table[["points_outstanding", "points_expiring_soon"]].fillna(0.0)
        return table


def run_programme(
    transactions: Any,
    rules: LoyaltyRules,
    *,
    as_of: Any = None,
    bonus: pd.DataFrame | None = None,
    redemptions: pd.DataFrame | None = None,
    expiring_within_days: int = 30,
) -> ProgrammeRun:
    """Replay ``rules`` on ``transactions`` up to the end of ``as_of``: tiers, then points.

    Each purchase earns ``rules.points.per_currency_unit`` x the multiplier of the tier held at that purchase
    (the purchase that reaches a higher tier earns at the old one). ``bonus`` and ``redemptions`` are as in
    :func:`crm_models.loyalty.ledger.points_ledger`; bonus events with an ``event`` column are priced by
    ``rules.points.bonus_points``.
    """
    replay = replay_tiers(transactions, rules, as_of=as_of)
    multiplier = np.array([t.earn_multiplier for t in rules.tiers])[replay.purchase_tier]
    points = purchase_points(replay.purchases, rules.points.per_currency_unit, multiplier, rules.points.rounding)
    ledger = ledger_from_points(replay.purchases, points, expiry_months=rules.points.expiry_months, bonus=bonus,
                                bonus_points=dict(rules.points.bonus_points), redemptions=redemptions,
                                expiring_within_days=expiring_within_days)
    return ProgrammeRun(rules=rules, tiers=replay, ledger=ledger)


def customer_loyalty(transactions: Any, rules: LoyaltyRules, **options: Any) -> pd.DataFrame:
    """Per customer at ``as_of``: tier, next tier, progress, points outstanding and points expiring within
    ``expiring_within_days`` days (:meth:`ProgrammeRun.customer_table`); ``options`` are the keyword arguments
    of :func:`run_programme` (``as_of``, ``bonus``, ``redemptions``, ``expiring_within_days``)."""
    return run_programme(transactions, rules, **options).customer_table()
