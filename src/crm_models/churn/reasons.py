"""Plain-language descriptions of the churn features, for reasons shown to CRM teams."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from functools import lru_cache

_FIXED = {
    "recency_days": "last purchase {v:.0f} days ago",
    "tenure_days": "customer for {v:.0f} days",
    "n_orders": "{v:.0f} orders in total",
    "n_purchase_days": "bought on {v:.0f} different days",
    "spend_total": "total spend {v:,.0f}",
    "order_value_mean": "average order {v:,.0f}",
    "order_value_max": "largest order {v:,.0f}",
    "order_value_cv": "order values vary by {pct} around their average",
    "orders_per_30d": "{v:.1f} orders a month on average",
    "ipt_mean": "usually {v:.0f} days between purchases",
    "ipt_std": "gap between purchases varies by {v:.0f} days",
    "ipt_max": "longest gap between purchases {v:.0f} days",
    "ipt_min": "shortest gap between purchases {v:.0f} days",
    "ipt_last": "last gap between purchases {v:.0f} days",
    "recency_over_ipt": "silent for {v:.1f}x their usual gap between purchases",
    "recency_over_ipt_max": "silent for {v:.1f}x their longest gap so far",
    "recency_z": "silence {v:+.1f} standard deviations from their usual gap",
    "ipt_trend": "last gap {v:.1f}x their usual gap",
    "recency_over_tenure": "silent for {pct} of their time as a customer",
    "returns_share": "returned {pct} of what they bought",
    "n_return_orders": "{v:.0f} returns",
    "basket_quantity_mean": "{v:.0f} items per order on average",
    "basket_products_mean": "{v:.1f} different products per order",
    "n_distinct_products": "bought {v:.0f} different products",
    "product_diversity": "{v:.1f} new products per order",
    "n_channels": "bought through {v:.0f} channel(s)",
    "orders_same_season_last_year": "{v:.0f} orders in this season last year",
    "weekend_share": "{pct} of orders at weekends",
    "season_share": "{pct} of past orders in this season of the year",
    "bg_frequency": "{v:.0f} repeat purchase days",
    "bg_recency_weeks": "last repeat purchase {v:.0f} weeks after the first",
    "bg_T_weeks": "first purchase {v:.0f} weeks ago",
    "bg_p_alive": "BG/NBD probability still active {pct}",
    "bg_expected_purchases": "BG/NBD expects {v:.1f} purchases in the horizon",
    "bg_p_no_purchase": "BG/NBD chance of no purchase in the horizon {pct}",
}

_PATTERNS = [
    (re.compile(r"^orders_(\d+)d$"), "{v:.0f} orders in the last {w} days"),
    (re.compile(r"^spend_(\d+)d$"), "spend {v:,.0f} in the last {w} days"),
    (re.compile(r"^orders_trend_(\d+)d$"), "{v:+.0f} orders in the last {w} days vs the {w} before"),
    (re.compile(r"^spend_trend_(\d+)d$"), "spend in the last {w} days {trend} vs the {w} before"),
]


def describe_feature(name: str, value: float) -> str:
    """A short phrase for one feature value, e.g. ``describe_feature("recency_days", 120)``."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return f"{name} = {value}"
    return formatter(name)(v)


@lru_cache(maxsize=4096)
def formatter(name: str) -> Callable[[float], str]:
    """The phrase builder of one feature (resolved once per name, then applied to many values)."""
    unknown = _unknown(name)
    if name in _FIXED:
        template = _FIXED[name]

        def fixed(v: float) -> str:
            return unknown if math.isnan(v) else template.format(v=v, pct=f"{v:.0%}")

        return fixed
    for pattern, template in _PATTERNS:
        match = pattern.match(name)
        if match:
            window = match.group(1)

            def windowed(v: float, template: str = template, window: str = window) -> str:
                if math.isnan(v):
                    return unknown
                trend = _trend(v)
                return template.format(v=v, w=window, trend=trend)

            return windowed

    def generic(v: float) -> str:
        return unknown if math.isnan(v) else f"{name} = {v:.3g}"

    return generic


def _trend(log_ratio: float) -> str:
    """Words for ``log1p(now) - log1p(before)``: "up 35%", "down 80%", "more than 10x"."""
    if log_ratio > math.log(10.0):
        return "more than 10x higher"
    change = math.expm1(log_ratio)
    if change < -0.995:
        return "down to almost nothing"
    return f"{'up' if change >= 0 else 'down'} {abs(change):.0%}"


def _unknown(name: str) -> str:
    if name.startswith(("ipt_", "recency_over_ipt")) or name in ("recency_z", "ipt_trend"):
        return f"{name.replace('_', ' ')}: no rhythm yet (only one purchase day)"
    return f"{name.replace('_', ' ')} unknown"
