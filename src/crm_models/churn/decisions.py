"""From churn probabilities to decisions: risk tiers, value at risk and the action table."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crm_models.exceptions import DataContractError

TIERS = ("low", "medium", "high")
DEFAULT_THRESHOLDS = (0.6, 0.3)

DEFAULT_ACTIONS = {
    ("high", True): "personal outreach (call) with a retention offer",
    ("high", False): "automated win-back e-mail with an incentive",
    ("medium", True): "loyalty perk or early access, account check-in",
    ("medium", False): "re-engagement campaign without discount",
    ("low", True): "business as usual; thank-you / VIP content",
    ("low", False): "business as usual (no incentive)",
}


def risk_tiers(
    proba: Any,
    *,
    thresholds: tuple[float, float] = DEFAULT_THRESHOLDS,
    capacity: int | None = None,
    medium_capacity: int | None = None,
    index: Any = None,
) -> pd.Series:
    """Assign ``high`` / ``medium`` / ``low`` tiers.

    By probability (default): ``p >= thresholds[0]`` is high, ``p >= thresholds[1]`` medium. By capacity:
    the ``capacity`` customers with the highest probability are high (e.g. "the 500 we can call"); of the
    others, the next ``medium_capacity`` are medium when it is given, else those with
    ``p >= thresholds[1]`` (so a likely churner beyond the capacity is never called "low"). Ties are broken
    by input order.
    """
    p = np.asarray(proba, dtype=float)
    if index is None and isinstance(proba, pd.Series):
        index = proba.index
    if np.isnan(p).any():
        raise ValueError("churn probabilities contain missing values")
    high_cut, medium_cut = thresholds
    if not 0.0 <= medium_cut <= high_cut <= 1.0:
        raise ValueError(f"thresholds must be (high, medium) with 0 <= medium <= high <= 1, got {thresholds}")
    tiers = np.full(len(p), "low", dtype=object)
    if capacity is not None:
        if capacity < 0 or (medium_capacity is not None and medium_capacity < 0):
            raise ValueError(f"capacities must be >= 0, got {capacity} and {medium_capacity}")
        order = np.argsort(-p, kind="stable")
        if medium_capacity is None:
            tiers[p >= medium_cut] = "medium"
        else:
            tiers[order[capacity : capacity + medium_capacity]] = "medium"
        tiers[order[:capacity]] = "high"
    else:
        tiers[p >= medium_cut] = "medium"
        tiers[p >= high_cut] = "high"
    return pd.Series(
        pd.Categorical(tiers, categories=list(TIERS), ordered=True), index=index, name="risk_tier"
    )


def value_at_risk(proba: Any, value: Any) -> np.ndarray:
    """Expected value lost: churn probability times the customer's value (e.g. CLV)."""
    p = np.asarray(proba, dtype=float)
    v = np.asarray(value, dtype=float)
    if p.shape != v.shape:
        raise ValueError(f"proba and value must have the same shape, got {p.shape} and {v.shape}")
    return p * v


def churn_decisions(
    proba: pd.Series,
    *,
    X: pd.DataFrame | None = None,
    clv: pd.Series | pd.DataFrame | None = None,
    clv_column: str = "clv",
    segments: pd.Series | None = None,
    reasons: pd.Series | None = None,
    thresholds: tuple[float, float] = DEFAULT_THRESHOLDS,
    capacity: int | None = None,
    medium_capacity: int | None = None,
    high_value_quantile: float = 0.8,
    actions: Mapping[Any, str] | None = None,
) -> pd.DataFrame:
    """One row per customer: probability, tier, value, value at risk, segment, reason and action.

    ``proba`` is indexed by ``customer_id``. The value is ``clv`` (a Series, or a frame's ``clv_column``)
    joined on ``customer_id`` when given, otherwise the spend of the last 365 days from ``X``
    (``value_basis`` says which). High value = at or above the ``high_value_quantile`` of values.
    ``actions`` overrides the default action text by tier, ``(tier, high_value)`` or ``(segment, tier)``.
    Rows are sorted by value at risk, largest first.
    """
    if not isinstance(proba, pd.Series):
        raise TypeError("proba must be a pandas Series indexed by customer_id")
    out = pd.DataFrame({"churn_probability": proba.astype(float)})
    if clv is not None:
        if isinstance(clv, pd.DataFrame) and clv_column not in clv:
            raise DataContractError(
                "the CLV frame lacks the value column",
                column=clv_column,
                rule="present",
                examples=clv.head(3),
            )
        series = clv[clv_column] if isinstance(clv, pd.DataFrame) else clv
        value = series.astype(float).reindex(out.index)
        missing = value.isna()
        if missing.all():
            raise DataContractError(
                "no customer of the churn scores has a CLV value (check the customer_id types)",
                column=clv_column,
                rule="CLV indexed by the same customer_id as the scores",
                examples=series.head(3),
            )
        out["value"] = value.fillna(0.0)
        out["value_basis"] = clv_column
    elif X is not None and "spend_365d" in X:
        out["value"] = X["spend_365d"].reindex(out.index).astype(float).fillna(0.0)
        out["value_basis"] = "spend_365d"
    else:
        out["value"] = 1.0
        out["value_basis"] = "count"
    out["value_at_risk"] = value_at_risk(out["churn_probability"], out["value"])
    out["risk_tier"] = risk_tiers(
        out["churn_probability"].to_numpy(),
        thresholds=thresholds,
        capacity=capacity,
        medium_capacity=medium_capacity,
        index=out.index,
    )
    cut = out["value"].quantile(high_value_quantile) if len(out) else 0.0
    out["high_value"] = out["value"] >= cut
    if segments is not None:
        out["segment"] = segments.reindex(out.index).astype(object).fillna("unsegmented")
    if reasons is not None:
        out["top_reason"] = reasons.reindex(out.index)
    out["action"] = [
        _action(tier, hv, seg, actions)
        for tier, hv, seg in zip(
            out["risk_tier"].astype(str),
            out["high_value"],
            out["segment"] if "segment" in out else [None] * len(out),
            strict=True,
        )
    ]
    return out.sort_values("value_at_risk", ascending=False, kind="stable")


def _action(tier: str, high_value: bool, segment: Any, actions: Mapping[Any, str] | None) -> str:
    if actions:
        for key in ((segment, tier), (tier, bool(high_value)), tier):
            if key in actions:
                return actions[key]
    return DEFAULT_ACTIONS[(tier, bool(high_value))]


def action_table(decisions: pd.DataFrame, by: str | list[str] | None = None) -> pd.DataFrame:
    """Summarise decisions by tier (and segment when present): customers, value at risk, action.

    The result has one row per group with the number of customers, mean churn probability, total value
    and value at risk, and the most common action, sorted by value at risk.
    """
    if by is None:
        by = ["segment", "risk_tier"] if "segment" in decisions else ["risk_tier"]
    keys = [by] if isinstance(by, str) else list(by)
    grouped = decisions.groupby(keys, observed=True, sort=False)
    table = grouped.agg(
        customers=("churn_probability", "size"),
        mean_churn_probability=("churn_probability", "mean"),
        total_value=("value", "sum"),
        value_at_risk=("value_at_risk", "sum"),
        action=("action", lambda s: s.mode().iloc[0] if len(s) else ""),
    )
    table["share_of_value_at_risk"] = table["value_at_risk"] / max(decisions["value_at_risk"].sum(), 1e-12)
    return table.sort_values("value_at_risk", ascending=False).reset_index()
