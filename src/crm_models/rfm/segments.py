"""Segments from RFM scores: an ordered rule table, the value x loyalty matrix and a segment summary.

Rules are applied in order and the first rule a customer satisfies names its segment; customers no rule
matches fall in a named remainder segment, so every customer is in exactly one segment.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crm_models.exceptions import DataContractError

_OPERATORS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}
_CONDITION = re.compile(r"^\s*(>=|<=|==|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")
_RANGE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*-\s*(-?\d+(?:\.\d+)?)\s*$")
_EQUALS = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*$")
DIMENSIONS = ("R", "F", "M")


@dataclass(frozen=True)
class SegmentRule:
    """A named segment: conditions on the 0-100 percentile scores, e.g. ``{"R": ">=80", "M": "<60"}``.

    A condition is a comparison (``">=80"``, ``"<40"``) or an inclusive range (``"40-79"``); a dimension left
    out is unconstrained. With ``scale="score"`` the conditions apply to the 1-5 quantile scores (columns
    ``R``, ``F``, ``M``) instead, e.g. ``{"R": "4-5", "F": "1"}``.
    """

    name: str
    conditions: Mapping[str, str] = field(default_factory=dict)
    action: str = ""
    scale: str = "percentile"

    def mask(self, scores: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the customers that satisfy every condition."""
        selected = np.ones(len(scores), dtype=bool)
        for dimension, condition in self.conditions.items():
            if dimension not in DIMENSIONS:
                raise DataContractError(
                    f"segment rule {self.name!r} constrains unknown dimension {dimension!r}",
                    column=dimension, rule=f"dimensions are {DIMENSIONS}",
                )
            if self.scale not in ("percentile", "score"):
                raise DataContractError(f"segment rule {self.name!r} has an unknown scale {self.scale!r}",
                                        rule="scale is 'percentile' (0-100) or 'score' (1-5)")
            values = scores[f"{dimension}_pct" if self.scale == "percentile" else dimension].to_numpy()
            selected &= _evaluate(condition, values, self.name)
        return selected


def _evaluate(condition: str, values: np.ndarray, rule_name: str) -> np.ndarray:
    text = str(condition)
    match = _CONDITION.match(text)
    if match:
        return _OPERATORS[match.group(1)](values, float(match.group(2)))
    match = _RANGE.match(text)
    if match:
        low, high = float(match.group(1)), float(match.group(2))
        return (values >= low) & (values <= high)
    match = _EQUALS.match(text)
    if match:
        return values == float(match.group(1))
    raise DataContractError(
        f"segment rule {rule_name!r} has a condition {text!r} that cannot be read",
        rule="conditions look like '>=80', '<40', '40-79' or '5'",
    )


SEED_003_RULES: tuple[SegmentRule, ...] = (
    SegmentRule("high value", {"R": ">=80", "F": ">=80", "M": ">=80"},
                "Reward and retain: loyalty perks, early access, no blanket discounts."),
    SegmentRule("potential", {"R": ">=60", "F": ">=60", "M": "<60"},
                "Grow basket size: cross-sell, bundles, free-shipping thresholds."),
    SegmentRule("at risk", {"R": "<40", "F": ">=40", "M": ">=40"},
                "Win back now: personal outreach and a targeted offer before they lapse."),
    SegmentRule("low value", {"R": "<40", "F": "<40", "M": "<40"},
                "Keep costs low: automated, low-frequency campaigns only."),
)
SEED_003_REMAINDER = "needs attention"
DEFAULT_REMAINDER = "unsegmented"
DEFAULT_REMAINDER_ACTION = "Nurture with relevant content; test offers to move them up."


def _grid(name: str, r: str, f: str, action: str) -> SegmentRule:
    return SegmentRule(name, {"R": r, "F": f}, action, scale="score")


#: The complete R x F segment map (the default): every one of the 25 (R, F) score cells belongs to exactly one of
#: eleven named segments, so no customer is left in a catch-all. The names and their meaning follow the widely
#: used RFM segment grid (e.g. Bloomreach Engagement documentation, "RFM segmentation", 11 segments; the same
#: grid appears in many CRM tools); the cell boundaries and actions here are this project's. M is not part of
#: the map: it modifies the action through :func:`value_modifier` (spend tier within each segment).
RFM_GRID_RULES: tuple[SegmentRule, ...] = (
    _grid("champions", "5", "4-5", "Reward: early access, referrals and reviews; no blanket discounts."),
    _grid("loyal", "3-4", "4-5", "Upsell and ask for reviews; loyalty programme benefits."),
    _grid("potential loyalists", "4-5", "2-3", "Offer membership or a loyalty programme; recommend products."),
    _grid("new customers", "5", "1", "Onboard: welcome series and a reason for a second purchase."),
    _grid("promising", "4", "1", "Build the relationship: relevant content and a small first-repeat incentive."),
    _grid("need attention", "3", "3", "Re-engage with limited-time offers based on past purchases."),
    _grid("about to sleep", "3", "1-2", "Revive interest: popular products and a modest discount."),
    _grid("cannot lose them", "1-2", "5", "Win back in person: a strong offer and a conversation about why."),
    _grid("at risk", "1-2", "3-4", "Personal reactivation e-mails and renewals before they lapse."),
    _grid("hibernating", "2", "1-2", "Low-cost reminders of relevant products; do not overspend."),
    _grid("lost", "1", "1-2", "One reactivation attempt, then stop spending on them."),
)

#: Named rule sets a suite chooses from (parameter ``segment_rules``).
RULE_SETS: dict[str, tuple[SegmentRule, ...]] = {"rfm_grid": RFM_GRID_RULES, "seed_003": SEED_003_RULES}
DEFAULT_RULE_SET = "rfm_grid"
DEFAULT_RULES = RFM_GRID_RULES
_REMAINDERS = {"seed_003": SEED_003_REMAINDER}


def remainder_for(rules: Any) -> str:
    """The catch-all segment name of a rule set (the seed-003 rules call it "needs attention")."""
    return _REMAINDERS.get(rules, DEFAULT_REMAINDER) if isinstance(rules, str) else DEFAULT_REMAINDER


def _text(record: Mapping, key: str) -> str:
    """``record[key]`` as text; a missing key, ``None``, NaN (an empty cell of a rule table) or ``""`` give ``""``."""
    value = record.get(key)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    return str(value)


def parse_rules(rules: Sequence[SegmentRule | Mapping] | pd.DataFrame | str | None) -> tuple[SegmentRule, ...]:
    """Accept rules as a rule-set name (``"rfm_grid"``, ``"seed_003"``), ``SegmentRule`` objects, dicts
    (``{"segment": ..., "R": ">=80", "action": ...}``) or a DataFrame with those columns; ``None`` gives the
    default map :data:`RFM_GRID_RULES`."""
    if rules is None:
        return RFM_GRID_RULES
    if isinstance(rules, str):
        if rules not in RULE_SETS:
            raise DataContractError(f"unknown segment rule set {rules!r}", column="segment_rules",
                                    rule=f"one of {', '.join(RULE_SETS)}", examples=[rules])
        return RULE_SETS[rules]
    records = rules.to_dict(orient="records") if isinstance(rules, pd.DataFrame) else list(rules)
    parsed = []
    for record in records:
        if isinstance(record, SegmentRule):
            parsed.append(record)
            continue
        name = _text(record, "segment") or _text(record, "name")
        if not name:
            raise DataContractError("a segment rule has no name", column="segment", rule="every rule is named",
                                    examples=[record])
        conditions = {d: str(record[d]) for d in DIMENSIONS if d in record and pd.notna(record[d]) and record[d] != ""}
        scale = _text(record, "scale") or "percentile"
        parsed.append(SegmentRule(str(name), conditions, _text(record, "action"), scale=scale))
    names = [r.name for r in parsed]
    if len(set(names)) != len(names):
        raise DataContractError("segment names repeat", column="segment", rule="segment names are unique",
                                examples=names)
    return tuple(parsed)


def segment_customers(
    scores: pd.DataFrame,
    rules: Sequence[SegmentRule | Mapping] | pd.DataFrame | str | None = None,
    *,
    remainder: str | None = None,
) -> pd.Series:
    """The segment of each customer: the first rule (in order) that it satisfies, else ``remainder``.

    ``scores`` is the output of :func:`crm_models.rfm.rfm_scores`; ``rules`` a rule-set name (default: the
    complete R x F map ``"rfm_grid"``, where the remainder never occurs) or a rule table. Returns a categorical
    Series on the scores' index; the remainder is a category only when some customer falls in it.
    """
    parsed = parse_rules(rules)
    remainder = remainder if remainder is not None else remainder_for(rules)
    if remainder in {r.name for r in parsed}:
        raise DataContractError(f"the remainder segment {remainder!r} is also a rule name",
                                rule="remainder differs from every rule name")
    labels = np.full(len(scores), remainder, dtype=object)
    unassigned = np.ones(len(scores), dtype=bool)
    for rule in parsed:
        hit = rule.mask(scores) & unassigned
        labels[hit] = rule.name
        unassigned &= ~hit
    order = [r.name for r in parsed] + ([remainder] if unassigned.any() else [])
    return pd.Series(pd.Categorical(labels, categories=order), index=scores.index, name="segment")


VALUE_TIERS = ("low spend", "mid spend", "high spend")


def value_modifier(scores: pd.DataFrame) -> pd.Series:
    """The spend tier within a segment, from the monetary score M (1-2 low, 3 mid, 4-5 high): the grid's
    segments come from R and F, and M decides how much an action may cost (e.g. a personal call for
    *at risk, high spend*, an e-mail for *at risk, low spend*)."""
    m = scores["M"].to_numpy()
    labels = np.where(m >= 4, VALUE_TIERS[2], np.where(m <= 2, VALUE_TIERS[0], VALUE_TIERS[1]))
    return pd.Series(pd.Categorical(labels, categories=list(VALUE_TIERS)), index=scores.index, name="value_tier")


VALUE_LOYALTY_LABELS = {(True, True): "gold", (False, True): "potential", (True, False): "at risk",
                        (False, False): "low value"}


def value_loyalty_matrix(scores: pd.DataFrame, *, threshold: float = 50.0) -> pd.Series:
    """The value x loyalty quadrant of each customer.

    Value is the monetary percentile ``M_pct``; loyalty is the mean of the recency and frequency percentiles.
    High value and high loyalty is *gold*, low value with high loyalty *potential*, high value with low loyalty
    *at risk*, and both low *low value*.
    """
    high_value = scores["M_pct"].to_numpy() >= threshold
    loyal = (scores["R_pct"].to_numpy() + scores["F_pct"].to_numpy()) / 2.0 >= threshold
    labels = [VALUE_LOYALTY_LABELS[(bool(v), bool(lo))] for v, lo in zip(high_value, loyal, strict=True)]
    categories = ["gold", "potential", "at risk", "low value"]
    return pd.Series(pd.Categorical(labels, categories=categories), index=scores.index, name="value_loyalty")


def segment_summary(
    scores: pd.DataFrame,
    segments: pd.Series,
    rules: Sequence[SegmentRule | Mapping] | pd.DataFrame | str | None = None,
    *,
    remainder_action: str = DEFAULT_REMAINDER_ACTION,
) -> pd.DataFrame:
    """One row per segment: customers, their share, revenue and revenue share, mean recency (days), frequency
    and spend, and the suggested action from the rule table."""
    actions = {r.name: r.action for r in parse_rules(rules)}
    frame = scores.assign(segment=segments)
    grouped = frame.groupby("segment", observed=False)
    table = pd.DataFrame({
        "customers": grouped.size(),
        "revenue": grouped["monetary"].sum(),
        "mean_recency_days": grouped["recency_days"].mean(),
        "mean_frequency": grouped["frequency"].mean(),
        "mean_monetary": grouped["monetary"].mean(),
    })
    table["customer_share"] = table["customers"] / max(int(table["customers"].sum()), 1)
    total_revenue = float(table["revenue"].sum())
    table["revenue_share"] = table["revenue"] / total_revenue if total_revenue else 0.0
    table["action"] = [actions.get(str(name), remainder_action) for name in table.index]
    table.index = table.index.astype(str)
    table.index.name = "segment"
    return table[["customers", "customer_share", "revenue", "revenue_share", "mean_recency_days",
                  "mean_frequency", "mean_monetary", "action"]]
