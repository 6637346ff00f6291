"""Stakeholder tables of the loyalty report (``notebooks/08_loyalty.ipynb``): labels, and the tables whose rows mix
units (members, points, money, shares), formatted row by row with the rounding of
:mod:`crm_models.plotting.tables`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crm_models.plotting.tables import MISSING, format_money, format_number, format_share

#: Readers' names of the loyalty columns (current tiers, progress, points, forecast schedule).
LABELS: dict[str, str] = {
    "tier": "Tier",
    "next_tier": "Next tier",
    "spend_window": "Spend in the window",
    "orders_window": "Orders in the window",
    "spend_to_next": "Spend still needed",
    "orders_to_next": "Orders still needed",
    "progress": "Progress to the next tier",
    "progress_percent": "Progress to the next tier, %",
    "members": "Members",
    "member_share": "Share of members",
    "points_outstanding": "Points outstanding",
    "points_expiring_soon": "Points expiring soon",
    "expected_redeemed": "Points expected to be redeemed",
    "expected_expired": "Points expected to expire",
    "redemption_cost": "Redemption cost",
}
#: Money and share columns of those frames, and the decimals that keep thresholds readable (99.69 of 100 is not
#: "100", and orders are whole).
MONEY: tuple[str, ...] = ("spend_window", "spend_to_next", "redemption_cost")
SHARES: tuple[str, ...] = ("progress", "member_share")
DECIMALS: dict[str, int] = {"spend_window": 2, "spend_to_next": 2, "orders_window": 0, "orders_to_next": 0,
                            "progress_percent": 1}

#: How each measure of :func:`liability_table` is shown: (label, kind).
LIABILITY_ROWS: dict[str, tuple[str, str]] = {
    "points_earned": ("Points earned to date", "points"),
    "points_redeemed": ("Points redeemed to date", "points"),
    "points_expired": ("Points expired to date", "points"),
    "points_outstanding": ("Points outstanding", "points"),
    "liability_at_face_value": ("Liability at face value", "money"),
    "points_expiring_soon": ("Points expiring soon", "points"),
    "value_expiring_soon": ("Value of the points expiring soon", "money"),
    "historical_breakage": ("Historical breakage (expired share of used points)", "share"),
    "expected_redeemed": ("Forecast: points redeemed before they expire", "points"),
    "expected_expired": ("Forecast: points that will expire", "points"),
    "expected_breakage": ("Forecast: breakage (share of outstanding points)", "share"),
    "booked_liability": ("Forecast: liability to book (expected redemption value)", "money"),
}


def format_measure(value: Any, kind: str, currency: str = "") -> str:
    """One figure by its kind: ``"money"`` (currency, whole units, cents below 10), ``"share"`` (percent) or
    ``"points"``/``"count"`` (whole numbers); missing values as a dash."""
    if value is None or pd.isna(value):
        return MISSING
    if kind == "money":
        return format_money(value, currency, 2 if abs(float(value)) < 10 else 0)
    if kind == "share":
        return format_share(value)
    return format_number(value, 0)


def _kind_of_measure(name: str) -> str:
    """The kind of a :func:`crm_models.loyalty.compare_rules` summary row, from its name."""
    lowered = name.lower()
    if "breakage" in lowered or "share" in lowered:
        return "share"
    if "cost" in lowered or "liability" in lowered:
        return "money"
    return "count"


def whatif_table(whatif: Any, currency: str = "") -> pd.DataFrame:
    """The what-if summary (one row per measure, one column per rule set and the difference) as text: members and
    points as whole numbers, costs and liability in ``currency``, breakage as a percentage."""
    summary = whatif.summary
    out = pd.DataFrame(index=pd.Index([str(i) for i in summary.index], name="Measure"))
    for column in summary.columns:
        label = "Difference (second minus first)" if column == "difference" else str(column)
        out[label] = [format_measure(v, _kind_of_measure(str(m)), currency)
                      for m, v in summary[column].items()]
    return out


def close_to_next_table(close: pd.DataFrame, n: int) -> pd.DataFrame:
    """The first ``n`` members of ``TierReplay.close_to_next(...)`` (closest first): tier, next tier, spend and
    orders in the window and still needed, and progress in percent with one decimal (so 99.7% does not read as
    100%). Show with ``stakeholder_table(..., labels=LABELS, money=MONEY, decimals=DECIMALS)``."""
    columns = ["tier", "next_tier", "spend_window", "orders_window", "spend_to_next", "orders_to_next"]
    top = close.head(n)
    return top[columns].assign(tier=top["tier"].astype(str), next_tier=top["next_tier"].astype(str),
                               progress_percent=np.floor(top["progress"].to_numpy(dtype=float) * 1000) / 10)


def liability_table(liability: pd.Series, forecast: Any = None, *, currency: str = "",
                    expiring_days: int | None = None, notes: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Points and their value to date (:func:`crm_models.loyalty.points_liability`) and, when given, the forecast
    (a :class:`~crm_models.loyalty.PointsForecast`), one row per measure with a ``Value`` column (text) and a
    ``Note``: the forecast's assumptions, why breakage is unknown, and any ``notes`` (measure key -> text)."""
    values = liability if forecast is None else pd.concat([liability, forecast.totals])
    values = values[~values.index.duplicated(keep="first")]
    notes = {**_default_notes(liability, forecast, currency), **(notes or {})}
    rows, texts, remarks = [], [], []
    for key, (label, kind) in LIABILITY_ROWS.items():
        if key not in values.index:
            continue
        if expiring_days is not None and "expiring soon" in label:
            label = label.replace("expiring soon", f"expiring in the next {expiring_days} days")
        rows.append(label)
        texts.append(format_measure(values[key], kind, currency))
        remarks.append(notes.get(key, ""))
    return pd.DataFrame({"Value": texts, "Note": remarks}, index=pd.Index(rows, name="Measure"))


def _default_notes(liability: pd.Series, forecast: Any, currency: str) -> dict[str, str]:
    notes: dict[str, str] = {}
    if pd.isna(liability.get("historical_breakage")):
        notes["historical_breakage"] = "unknown: the data records no redemptions"
    if forecast is not None:
        assumed = forecast.assumptions
        notes["expected_breakage"] = (f"assuming {assumed['redemption_share']:.0%} of a customer's points are redeemed "
                                      "at each purchase")
        notes["booked_liability"] = f"at {format_money(assumed['point_value'], currency, 2)} a point"
        notes["expected_redeemed"] = f"purchases from: {assumed['model']}"
    return notes
