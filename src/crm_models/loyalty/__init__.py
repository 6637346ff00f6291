"""Loyalty programmes: tier rules replayed on purchase history, a points ledger, liability and what-if.

* :class:`LoyaltyRules` (tiers, qualification, movement, points) from a mapping or a YAML file;
* :func:`replay_tiers`: every member's tier at every evaluation, transitions, tier mix, progress;
* :func:`points_ledger` / :func:`build_ledger`: points earned, redeemed, expired (first in, first out) and
  outstanding per customer, and points expiring soon;
* :func:`points_liability`, :func:`historical_breakage`, :func:`forecast_points`: what the points are worth and
  how many will be redeemed, from a fitted CLV purchase model;
* :func:`run_programme`, :func:`customer_loyalty`: tiers and points together, one row per customer;
* :func:`compare_rules`: two rule sets on the same history, side by side.
"""

from crm_models.loyalty.ledger import PointsLedger, build_ledger, points_ledger
from crm_models.loyalty.liability import (
    PointsForecast,
    forecast_points,
    historical_breakage,
    points_liability,
)
from crm_models.loyalty.programme import ProgrammeRun, customer_loyalty, run_programme
from crm_models.loyalty.rules import LoyaltyRules, PointsRules, Tier
from crm_models.loyalty.tiers import TierReplay, met_tier, replay_tiers
from crm_models.loyalty.whatif import WhatIf, compare_rules

__all__ = [
    "LoyaltyRules",
    "PointsForecast",
    "PointsLedger",
    "PointsRules",
    "ProgrammeRun",
    "Tier",
    "TierReplay",
    "WhatIf",
    "build_ledger",
    "compare_rules",
    "customer_loyalty",
    "forecast_points",
    "historical_breakage",
    "met_tier",
    "points_ledger",
    "points_liability",
    "replay_tiers",
    "run_programme",
]
