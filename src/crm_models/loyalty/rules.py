"""Loyalty programme rules as data: tiers, how members qualify, when they move, and how they earn points.

A rule set is a plain frozen dataclass built from a mapping (``LoyaltyRules.from_dict``) or a YAML file
(``LoyaltyRules.from_yaml``, read with ``yaml.safe_load``). Every broken rule raises
:class:`~crm_models.exceptions.ConfigurationError` naming the key (``tiers[2].min_spend``), the rule and the
value given, so that a CRM team can fix the file without reading code.

Example (YAML)::

    name: Three tiers, yearly review
    window_months: 12            # spend and orders are counted over the 12 months before each evaluation
    evaluation: quarterly        # monthly | quarterly | yearly, or a list of dates
    qualify_on: any              # a tier is met when spend OR orders reach it ("all": both)
    upgrade: immediate           # immediate | evaluation
    downgrade: one_level         # one_level | to_level_met | never
    grace_evaluations: 1         # failing evaluations tolerated before a downgrade
    grace_requires_purchase: true
    tiers:
      - {name: member}
      - {name: silver, min_spend: 250, min_orders: 6, earn_multiplier: 1.25}
      - {name: gold, min_spend: 750, min_orders: 12, earn_multiplier: 1.5, discount_share: 0.05}
    points:
      per_currency_unit: 1
      expiry_months: 12
      point_value: 0.01
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from crm_models.exceptions import ConfigurationError

EVALUATION_FREQUENCIES = {"monthly": "ME", "quarterly": "QE", "yearly": "YE"}
UPGRADE_MODES = ("immediate", "evaluation")
DOWNGRADE_MODES = ("one_level", "to_level_met", "never")
QUALIFY_MODES = ("any", "all")
ROUNDING_MODES = ("floor", "none")


def _fail(key: str, rule: str, value: Any) -> ConfigurationError:
    return ConfigurationError(f"loyalty rules: {key} = {value!r} breaks the rule: {rule}")


def _number(raw: Mapping[str, Any], key: str, where: str, default: float, *, minimum: float = 0.0,
            maximum: float = math.inf, integer: bool = False) -> float:
    value = raw.get(key, default)
    name = f"{where}{key}"
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(name, "must be a finite number", value)
    if integer and float(value) != int(value):
        raise _fail(name, "must be a whole number", value)
    if not minimum <= value <= maximum:
        bounds = f">= {minimum}" if maximum == math.inf else f"between {minimum} and {maximum}"
        raise _fail(name, f"must be {bounds}", value)
    return int(value) if integer else float(value)


def _choice(raw: Mapping[str, Any], key: str, where: str, default: str, allowed: Sequence[str]) -> str:
    value = raw.get(key, default)
    if value not in allowed:
        raise _fail(f"{where}{key}", f"must be one of {list(allowed)}", value)
    return str(value)


def _check_keys(raw: Any, allowed: Sequence[str], where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping):
        raise _fail(where.rstrip(".") or "rules", "must be a mapping of keys to values", raw)
    unknown = sorted(set(raw) - set(allowed))
    if unknown:
        raise ConfigurationError(
            f"loyalty rules: unknown key(s) {[f'{where}{k}' for k in unknown]}; allowed keys are {list(allowed)}")
    return raw


@dataclass(frozen=True)
class Tier:
    """One membership tier.

    ``min_spend`` and ``min_orders`` are the qualifying thresholds over the rolling window;
    ``earn_multiplier`` multiplies the base earn rate; ``discount_share`` is the share of a member's spend given
    back as a tier discount and ``annual_benefit_cost`` the yearly cost of fixed benefits (gifts, priority
    service) per member; both feed the benefit cost of a what-if comparison.
    """

    name: str
    min_spend: float = 0.0
    min_orders: int = 0
    earn_multiplier: float = 1.0
    discount_share: float = 0.0
    annual_benefit_cost: float = 0.0

    @classmethod
    def from_dict(cls, raw: Any, where: str = "tier.") -> Tier:
        """Build a tier from a mapping; errors name the key under ``where`` (e.g. ``tiers[1].``)."""
        keys = ("name", "min_spend", "min_orders", "earn_multiplier", "discount_share", "annual_benefit_cost")
        raw = _check_keys(raw, keys, where)
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _fail(f"{where}name", "every tier needs a non-empty name", name)
        return cls(
            name=name.strip(),
            min_spend=_number(raw, "min_spend", where, 0.0),
            min_orders=_number(raw, "min_orders", where, 0, integer=True),
            earn_multiplier=_number(raw, "earn_multiplier", where, 1.0),
            discount_share=_number(raw, "discount_share", where, 0.0, maximum=1.0),
            annual_benefit_cost=_number(raw, "annual_benefit_cost", where, 0.0),
        )


@dataclass(frozen=True)
class PointsRules:
    """How points are earned, valued and expire.

    ``per_currency_unit`` points per unit of money spent (times the tier's multiplier), rounded down per
    purchase when ``rounding="floor"``; ``expiry_months`` (``None``: never) after the day a lot was earned the
    lot expires at the start of that day (earned 2024-01-15 with 12 months: usable through 2025-01-14);
    ``point_value`` is the money one point is worth when redeemed; ``bonus_points`` maps bonus events
    (``sign_in``, ``review``) to the points they earn.
    """

    per_currency_unit: float = 1.0
    expiry_months: int | None = 12
    point_value: float = 0.01
    rounding: str = "floor"
    bonus_points: Mapping[str, float] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Any, where: str = "points.") -> PointsRules:
        """Build the points rules from a mapping; errors name the key."""
        raw = _check_keys(raw, ("per_currency_unit", "expiry_months", "point_value", "rounding", "bonus_points"),
                          where)
        expiry = raw.get("expiry_months", 12)
        if expiry is not None:
            expiry = _number(raw, "expiry_months", where, 12, minimum=1, integer=True)
        bonus = raw.get("bonus_points", {}) or {}
        if not isinstance(bonus, Mapping):
            raise _fail(f"{where}bonus_points", "must map event names to points", bonus)
        checked = {str(k): _number(bonus, k, f"{where}bonus_points.", 0.0) for k in bonus}
        return cls(
            per_currency_unit=_number(raw, "per_currency_unit", where, 1.0),
            expiry_months=expiry,
            point_value=_number(raw, "point_value", where, 0.01),
            rounding=_choice(raw, "rounding", where, "floor", ROUNDING_MODES),
            bonus_points=checked,
        )


@dataclass(frozen=True)
class LoyaltyRules:
    """A whole programme: tiers (lowest first), qualification, movement between tiers, and points.

    Parameters
    ----------
    tiers
        Lowest first. The first tier is where every customer starts and must have no thresholds; each higher
        tier must not ask for less spend or fewer orders than the one below it.
    window_months
        Spend and orders are counted over this many calendar months up to each evaluation (or purchase, for
        immediate upgrades).
    evaluation
        ``"monthly"``, ``"quarterly"`` or ``"yearly"`` (period ends), or a list of dates. A date means the whole
        day: the evaluation on 2024-03-31 counts every purchase on that day.
    qualify_on
        ``"any"``: a tier is met when spend or orders reach its thresholds; ``"all"``: when both do.
    upgrade
        ``"immediate"``: a member moves up on the purchase that meets a higher tier; ``"evaluation"``: only at
        evaluation dates.
    downgrade
        ``"one_level"``: a member who falls short drops one tier per evaluation; ``"to_level_met"``: straight
        to the tier they meet; ``"never"``: tiers are kept for good.
    grace_evaluations
        Consecutive failing evaluations tolerated before a downgrade applies (0: downgrade at the first).
    grace_requires_purchase
        Grace protects only active members: those with at least one purchase in the window.
    points
        The :class:`PointsRules`.
    """

    tiers: tuple[Tier, ...]
    window_months: int = 12
    evaluation: str | tuple[pd.Timestamp, ...] = "quarterly"
    qualify_on: str = "any"
    upgrade: str = "immediate"
    downgrade: str = "one_level"
    grace_evaluations: int = 0
    grace_requires_purchase: bool = True
    points: PointsRules = field(default_factory=PointsRules)
    name: str = "loyalty rules"

    @property
    def tier_names(self) -> list[str]:
        """Tier names, lowest first."""
        return [tier.name for tier in self.tiers]

    @classmethod
    def from_dict(cls, raw: Any) -> LoyaltyRules:
        """Build and validate a rule set from a mapping (see the module docstring for the keys)."""
        keys = ("name", "tiers", "window_months", "evaluation", "qualify_on", "upgrade", "downgrade",
                "grace_evaluations", "grace_requires_purchase", "points")
        raw = _check_keys(raw, keys, "")
        tiers_raw = raw.get("tiers")
        if not isinstance(tiers_raw, Sequence) or isinstance(tiers_raw, str) or len(tiers_raw) == 0:
            raise _fail("tiers", "must be a non-empty list of tiers, lowest first", tiers_raw)
        tiers = tuple(Tier.from_dict(t, f"tiers[{i}].") for i, t in enumerate(tiers_raw))
        _check_tiers(tiers)
        grace_purchase = raw.get("grace_requires_purchase", True)
        if not isinstance(grace_purchase, bool):
            raise _fail("grace_requires_purchase", "must be true or false", grace_purchase)
        name = raw.get("name", "loyalty rules")
        if not isinstance(name, str):
            raise _fail("name", "must be text", name)
        return cls(
            tiers=tiers,
            window_months=_number(raw, "window_months", "", 12, minimum=1, integer=True),
            evaluation=_evaluation(raw.get("evaluation", "quarterly")),
            qualify_on=_choice(raw, "qualify_on", "", "any", QUALIFY_MODES),
            upgrade=_choice(raw, "upgrade", "", "immediate", UPGRADE_MODES),
            downgrade=_choice(raw, "downgrade", "", "one_level", DOWNGRADE_MODES),
            grace_evaluations=_number(raw, "grace_evaluations", "", 0, integer=True),
            grace_requires_purchase=grace_purchase,
            points=PointsRules.from_dict(raw.get("points", {}) or {}),
            name=name,
        )

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> LoyaltyRules:
        """Read a rule set from a YAML file (safe-loaded: no Python objects are built from the file)."""
        import yaml

        try:
            with open(path, encoding="utf-8") as handle:
                raw = yaml.safe_load(handle)
        except yaml.YAMLError as error:
            raise ConfigurationError(f"loyalty rules: {os.fspath(path)} is not valid YAML: {error}") from error
        return cls.from_dict(raw)

    def evaluation_dates(self, first: pd.Timestamp, last: pd.Timestamp) -> list[pd.Timestamp]:
        """Evaluation days (midnight, each meaning the whole day) from ``first`` through ``last``."""
        first, last = pd.Timestamp(first).normalize(), pd.Timestamp(last).normalize()
        if isinstance(self.evaluation, str):
            days = pd.date_range(first, last, freq=EVALUATION_FREQUENCIES[self.evaluation])
            return [pd.Timestamp(d).normalize() for d in days]
        return [d for d in self.evaluation if first <= d <= last]


def _evaluation(value: Any) -> str | tuple[pd.Timestamp, ...]:
    if isinstance(value, str):
        if value not in EVALUATION_FREQUENCIES:
            raise _fail("evaluation", f"must be one of {list(EVALUATION_FREQUENCIES)} or a list of dates", value)
        return value
    if not isinstance(value, Sequence) or len(value) == 0:
        raise _fail("evaluation", f"must be one of {list(EVALUATION_FREQUENCIES)} or a list of dates", value)
    days = []
    for i, item in enumerate(value):
        if isinstance(item, bool | int | float):
            raise _fail(f"evaluation[{i}]", "must be a date such as 2024-03-31 (numbers are not dates)", item)
        try:
            stamp = pd.Timestamp(item)
        except (TypeError, ValueError):
            raise _fail(f"evaluation[{i}]", "must be a date such as 2024-03-31", item) from None
        if stamp is pd.NaT or stamp != stamp.normalize():
            raise _fail(f"evaluation[{i}]", "must be a date without a time of day", item)
        days.append(stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp)
    if len(set(days)) != len(days) or days != sorted(days):
        raise _fail("evaluation", "dates must be distinct and in increasing order", value)
    return tuple(days)


def _check_tiers(tiers: tuple[Tier, ...]) -> None:
    names = [t.name for t in tiers]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise _fail("tiers", "tier names must be distinct", duplicated)
    base = tiers[0]
    if base.min_spend > 0 or base.min_orders > 0:
        raise _fail("tiers[0]", "the first (entry) tier has no thresholds: every customer starts there",
                    {"min_spend": base.min_spend, "min_orders": base.min_orders})
    for i in range(1, len(tiers)):
        low, high = tiers[i - 1], tiers[i]
        if high.min_spend < low.min_spend or high.min_orders < low.min_orders:
            raise _fail(f"tiers[{i}]", f"tier {high.name!r} must not ask for less spend or fewer orders than "
                        f"{low.name!r} below it", {"min_spend": high.min_spend, "min_orders": high.min_orders})
        if high.min_spend == low.min_spend and high.min_orders == low.min_orders:
            raise _fail(f"tiers[{i}]", f"tier {high.name!r} has the same thresholds as {low.name!r}",
                        {"min_spend": high.min_spend, "min_orders": high.min_orders})
