"""Stakeholder tables: a frame turned into what a report reader should see.

Human column labels instead of code names, rounded numbers, dates without times, the suite's currency on money
columns, missing values as a dash, and every text from the data HTML-escaped (ARCHITECTURE.md, "Workbench":
stakeholder output). The result is a pandas ``Styler`` that keeps the numbers underneath, so a notebook can still
sort or export them; :func:`format_money` and :func:`format_share` give the same rounding in sentences.

>>> import pandas as pd
>>> table = stakeholder_table(pd.DataFrame({"clv": [1234.5], "customer_share": [0.25]}), currency="EUR")
>>> "EUR 1,234" in table.to_html() or "EUR 1,235" in table.to_html()
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

MISSING = "-"

#: Labels for the column names the package produces (customer table, segment overview, CLV outputs).
LABELS: dict[str, str] = {
    "segment": "Segment",
    "value_loyalty": "Value x loyalty",
    "customers": "Customers",
    "customer_share": "Share of customers",
    "revenue": "Revenue to date",
    "revenue_share": "Share of revenue",
    "frequency": "Repeat purchases",
    "recency": "Time to last repeat purchase",
    "T": "Customer age",
    "monetary_value": "Average repeat purchase",
    "age_days": "Days as a customer",
    "days_since_last_purchase": "Days since last purchase",
    "mean_days_since_last_purchase": "Days since last purchase (average)",
    "probability_alive": "Chance still active",
    "mean_probability_alive": "Chance still active (average)",
    "expected_purchases": "Expected purchases",
    "expected_spend": "Expected spend per purchase",
    "clv": "Customer value (CLV)",
    "total_clv": "Customer value (CLV), total",
    "mean_clv": "Customer value (CLV), average",
    "clv_share": "Share of customer value",
    "churn_probability": "Chance of no purchase (churn risk)",
    "risk_tier": "Churn risk",
    "value_at_risk": "Value at risk",
    "high_risk_customers": "Customers at high churn risk",
    "top_reason": "Main reason for the risk",
    "action": "Recommended action",
    "segment_action": "What to do with the segment",
    "priority": "Priority",
    "tags": "Tags",
    "as_of": "As of",
    "rfm_cell": "RFM cell",
    "estimate": "Estimate",
    "se": "Standard error",
    "lower_95": "95% interval, lower",
    "upper_95": "95% interval, upper",
    "auc": "Ranks buyers above non-buyers (AUC)",
    "spearman": "Rank correlation (Spearman)",
    "top_capture": "Holdout purchases by the top 10%",
    "top_lift": "Lift of the top 10%",
    "mae": "Mean absolute error",
    "bias": "Mean error (bias)",
    "total_cac": "Acquisition cost, total",
    "mean_cac": "Acquisition cost, average",
    "ltv_cac": "Value per unit of acquisition cost",
    "holdout_mae": "Holdout: mean absolute error",
    "holdout_rmse": "Holdout: root mean squared error",
    "holdout_abs_relative_error": "Holdout: error of the total",
    "holdout_auc": "Holdout: ranking AUC",
}

#: Columns that hold money (the suite's currency is put on them).
MONEY: frozenset[str] = frozenset({
    "revenue", "monetary_value", "expected_spend", "clv", "total_clv", "mean_clv", "value_at_risk", "amount",
    "total_cac", "mean_cac", "total_value_at_risk",
})
#: Columns that hold shares or probabilities (shown as percentages).
SHARES: frozenset[str] = frozenset({
    "customer_share", "revenue_share", "clv_share", "probability_alive", "mean_probability_alive",
    "churn_probability", "share_of_input", "active_share",
})


def human_label(name: Any, labels: Mapping[str, str] | None = None) -> str:
    """The reader's name of a column: ``labels``, else :data:`LABELS`, else the name with ``_`` as spaces and
    a capital first letter (``"mean_recency_days"`` -> ``"Mean recency days"``)."""
    text = str(name)
    if labels and text in labels:
        return labels[text]
    if text in LABELS:
        return LABELS[text]
    words = text.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _finite(values: Iterable[Any]) -> np.ndarray:
    array = pd.to_numeric(pd.Series(list(values)), errors="coerce").to_numpy(dtype=float)
    return array[np.isfinite(array)]


def decimals_for(values: Iterable[Any], *, money: bool = False) -> int:
    """Decimals that keep a column readable: 0 when its typical (median absolute) value is 10 or more,
    1 from 1 to 10, 2 below 1 (a column of values like 0.37 keeps two). Money has 0 or 2 (cents), never 1."""
    finite = _finite(values)
    if finite.size == 0:
        return 0
    typical = float(np.median(np.abs(finite)))
    places = 0 if typical >= 10 else (1 if typical >= 1 else 2)
    return 2 if money and places == 1 else places


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def format_money(value: Any, currency: str = "", decimals: int = 0) -> str:
    """``1234.5`` -> ``"EUR 1,235"``: thousands separators, ``decimals`` places, the currency in front."""
    if _is_missing(value):
        return MISSING
    number = float(value)
    text = f"{abs(number):,.{decimals}f}"
    sign = "-" if number < 0 and float(text.replace(",", "")) != 0 else ""
    return f"{sign}{currency} {text}" if currency else f"{sign}{text}"


def format_share(value: Any) -> str:
    """A share as a rounded percentage: whole percent, one decimal below 1% (``0.004`` -> ``"0.4%"``)."""
    if _is_missing(value):
        return MISSING
    number = float(value)
    return f"{number:.1%}" if 0 < abs(number) < 0.01 else f"{number:.0%}"


def format_number(value: Any, decimals: int = 0) -> str:
    """``12345.678`` -> ``"12,346"`` (``decimals`` places, thousands separators)."""
    if _is_missing(value):
        return MISSING
    return f"{float(value):,.{decimals}f}"


def format_date(value: Any) -> str:
    """A date without its time: ``2024-12-31 00:00:00`` -> ``"31 Dec 2024"``."""
    if _is_missing(value):
        return MISSING
    return f"{pd.Timestamp(value):%d %b %Y}"


def _formatter(series: pd.Series, name: str, currency: str, money: set[str], shares: set[str],
               decimals: Mapping[str, int]) -> Callable[[Any], str] | None:
    if name in shares:
        return format_share
    if pd.api.types.is_datetime64_any_dtype(series):
        return format_date
    if pd.api.types.is_bool_dtype(series):
        return lambda v: MISSING if _is_missing(v) else ("yes" if v else "no")
    if not pd.api.types.is_numeric_dtype(series):
        return None
    places = decimals.get(name)
    if name in money:
        places = decimals_for(series, money=True) if places is None else places
        return lambda v: format_money(v, currency, places)
    if pd.api.types.is_integer_dtype(series):
        return lambda v: format_number(v, 0)
    places = decimals_for(series) if places is None else places
    return lambda v: format_number(v, places)


def stakeholder_table(
    frame: pd.DataFrame,
    *,
    currency: str = "",
    labels: Mapping[str, str] | None = None,
    money: Iterable[str] = (),
    shares: Iterable[str] = (),
    decimals: Mapping[str, int] | None = None,
    index_label: str | None = None,
    ids: Callable[[pd.Index], Any] | None = None,
) -> Any:
    """``frame`` as a table for stakeholders (a pandas ``Styler``; display it or call ``.to_html()``).

    Columns are renamed with :func:`human_label` (``labels`` first), index values found in ``labels`` or
    :data:`LABELS` likewise (other index values, e.g. pseudonymized ids, are kept); money columns (:data:`MONEY` plus
    ``money``) get ``currency`` and rounded amounts, shares and probabilities (:data:`SHARES` plus ``shares``)
    whole percentages, other numbers the decimals of :func:`decimals_for` (or ``decimals[column]``), dates
    no time of day, missing values a dash. Text cells and the index are HTML-escaped (data may hold markup).
    ``ids`` is applied to the index first, e.g. ``crm_models.reporting.privacy.pseudonymize`` for customer ids.
    """
    money_set = set(MONEY) | set(money)
    share_set = set(SHARES) | set(shares)
    places = dict(decimals or {})
    shown = frame.copy()
    if ids is not None:
        shown.index = pd.Index(ids(shown.index), name=shown.index.name)
    formatters: dict[str, Callable[[Any], str]] = {}
    for column in frame.columns:
        fmt = _formatter(frame[column], str(column), currency, money_set, share_set, places)
        if fmt is not None:
            formatters[human_label(column, labels)] = fmt
    shown.columns = [human_label(c, labels) for c in frame.columns]
    if isinstance(shown.index, pd.DatetimeIndex):
        shown.index = pd.Index([format_date(v) for v in shown.index], name=shown.index.name)
    elif shown.index.nlevels == 1:
        known = {**LABELS, **(labels or {})}
        shown.index = pd.Index([known.get(v, v) if isinstance(v, str) else v for v in shown.index],
                               name=shown.index.name)
    name = index_label if index_label is not None else shown.index.name
    shown.index.name = None if name is None else human_label(name, labels)
    styler = shown.style.format(formatters, na_rep=MISSING, escape="html")
    styler = styler.format_index(escape="html", axis=0).format_index(escape="html", axis=1)
    text_columns = [c for c in shown.columns if c not in formatters]
    if text_columns:
        styler = styler.set_properties(subset=text_columns, **{"text-align": "left"})
    return styler

