"""Segments from RFM scores: an ordered rule table, the value x loyalty matrix and a segment summary.

Rules are applied in order and the first rule a customer satisfies names its segment; customers no rule
matches fall in a named remainder segment, so every customer is in exactly one segment.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crm_models.exceptions import DataContractError

_OPERATORS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}
_CONDITION = re.compile(r"^\s*(>=|<=|==|>|<)\s*(-?\d+(?:\.\d+)?)\s*$")
_RANGE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*-\s*(-?\d+(?:\.\d+)?)\s*$")
DIMENSIONS = ("R", "F", "M")


@dataclass(frozen=True)
class SegmentRule:
    """A named segment: conditions on the 0-100 percentile scores, e.g. ``{"R": ">=80", "M": "<60"}``.

    A condition is a comparison (``">=80"``, ``"<40"``) or an inclusive range (``"40-79"``); a dimension left
    out is unconstrained.
    """

    name: str
    conditions: Mapping[str, str] = field(default_factory=dict)
    action: str = ""

    def mask(self, scores: pd.DataFrame) -> np.ndarray:
        """Boolean mask of the customers that satisfy every condition."""
        selected = np.ones(len(scores), dtype=bool)
        for dimension, condition in self.conditions.items():
            if dimension not in DIMENSIONS:
                raise DataContractError(
                    f"segment rule {self.name!r} constrains unknown dimension {dimension!r}",
                    column=dimension, rule=f"dimensions are {DIMENSIONS}",
                )
            values = scores[f"{dimension}_pct"].to_numpy()
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
    raise DataContractError(
        f"segment rule {rule_name!r} has a condition {text!r} that cannot be read",
        rule="conditions look like '>=80', '<40' or '40-79'",
    )


DEFAULT_RULES: tuple[SegmentRule, ...] = (
    SegmentRule("high value", {"R": ">=80", "F": ">=80", "M": ">=80"},
                "Reward and retain: loyalty perks, early access, no blanket discounts."),
    SegmentRule("potential", {"R": ">=60", "F": ">=60", "M": "<60"},
                "Grow basket size: cross-sell, bundles, free-shipping thresholds."),
    SegmentRule("at risk", {"R": "<40", "F": ">=40", "M": ">=40"},
                "Win back now: personal outreach and a targeted offer before they lapse."),
    SegmentRule("low value", {"R": "<40", "F": "<40", "M": "<40"},
                "Keep costs low: automated, low-frequency campaigns only."),
)
DEFAULT_REMAINDER = "needs attention"
DEFAULT_REMAINDER_ACTION = "Nurture with relevant content; test offers to move them up."


def parse_rules(rules: Sequence[SegmentRule | Mapping] | pd.DataFrame | None) -> tuple[SegmentRule, ...]:
    """Accept rules as ``SegmentRule`` objects, dicts (``{"segment": ..., "R": ">=80", "action": ...}``) or a
    DataFrame with those columns; ``None`` gives :data:`DEFAULT_RULES`."""
    if rules is None:
        return DEFAULT_RULES
    records = rules.to_dict(orient="records") if isinstance(rules, pd.DataFrame) else list(rules)
    parsed = []
    for record in records:
        if isinstance(record, SegmentRule):
            parsed.append(record)
            continue
        name = record.get("segment") or record.get("name")
        if not name:
            raise DataContractError("a segment rule has no name", column="segment", rule="every rule is named",
                                    examples=[record])
        conditions = {d: str(record[d]) for d in DIMENSIONS if d in record and pd.notna(record[d]) and record[d] != ""}
        parsed.append(SegmentRule(str(name), conditions, str(record.get("action", "") or "")))
    names = [r.name for r in parsed]
    if len(set(names)) != len(names):
        raise DataContractError("segment names repeat", column="segment", rule="segment names are unique",
                                examples=names)
    return tuple(parsed)


def segment_customers(
    scores: pd.DataFrame,
    rules: Sequence[SegmentRule | Mapping] | pd.DataFrame | None = None,
    *,
    remainder: str = DEFAULT_REMAINDER,
) -> pd.Series:
    """The segment of each customer: the first rule (in order) that it satisfies, else ``remainder``.

    ``scores`` is the output of :func:`crm_models.rfm.rfm_scores`. Returns a string Series on its index.
    """
    parsed = parse_rules(rules)
    if remainder in {r.name for r in parsed}:
        raise DataContractError(f"the remainder segment {remainder!r} is also a rule name",
                                rule="remainder differs from every rule name")
    labels = np.full(len(scores), remainder, dtype=object)
    unassigned = np.ones(len(scores), dtype=bool)
    for rule in parsed:
        hit = rule.mask(scores) & unassigned
        labels[hit] = rule.name
        unassigned &= ~hit
    order = [r.name for r in parsed] + [remainder]
    return pd.Series(pd.Categorical(labels, categories=order), index=scores.index, name="segment")


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
    rules: Sequence[SegmentRule | Mapping] | pd.DataFrame | None = None,
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
