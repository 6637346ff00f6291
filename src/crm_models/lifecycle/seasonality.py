"""Seasonality profiles: when purchases happen (weekday, hour of day, month), overall or per segment.

A profile is the share of purchases falling in each slot, with the number of purchases and of distinct
customers behind it, and an ``index`` relative to an even spread (1.0 = as many as if purchases were spread
evenly over the slots; for months the even spread weighs each month by its number of days in a common year).
Shares carry Wilson score intervals (Wilson 1927) so that thin segments do not read as strong preferences.
Timestamps are read in UTC (naive timestamps as they are), like every engine aggregation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crm_models.data.engine import TableSource
from crm_models.exceptions import DataContractError
from crm_models.lifecycle._common import check_alpha, purchases, segment_table, wilson_interval

__all__ = ["seasonality_profile"]

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype="float64")


def seasonality_profile(
    transactions: TableSource,
    *,
    unit: str = "weekday",
    by: Any = None,
    observation_end: Any = None,
    alpha: float = 0.05,
    backend: Any = None,
) -> pd.DataFrame:
    """Share of purchases per weekday, hour or month, per segment.

    Parameters
    ----------
    transactions
        Canonical transactions; each row with a non-negative amount is one purchase.
    unit
        ``"weekday"`` (Monday first), ``"hour"`` (0-23) or ``"month"``.
    by
        A transactions column (e.g. ``"channel"``) or a customer -> segment mapping (Series indexed by customer
        id, e.g. RFM segments); none for one overall profile.

    Returns
    -------
    One row per segment and slot (every slot present, zeros included): ``segment`` (``"all"`` without
    ``by``), ``slot`` (0-based), ``label``, ``purchases``, ``customers``, ``share`` with ``share_lower``/
    ``share_upper``, and ``index``.
    """
    alpha = check_alpha(alpha)
    if unit not in ("weekday", "hour", "month"):
        raise ValueError(f"unit must be 'weekday', 'hour' or 'month', got {unit!r}")
    keep = (by,) if isinstance(by, str) else ()
    rows, _ = purchases(transactions, backend=backend, observation_end=observation_end, keep=keep)
    if isinstance(by, str) and by not in rows.columns:
        raise DataContractError(f"by={by!r} is not a column of the transactions", column=by,
                                rule="by is a transactions column or a customer -> segment mapping")
    if unit == "weekday":
        slot = rows.timestamp.day_of_week.index()
    elif unit == "hour":
        slot = rows.timestamp.hour()
    else:
        slot = rows.timestamp.month() - 1
    rows = rows.mutate(slot=slot.cast("int64"))
    if isinstance(by, str):
        rows = rows.mutate(segment=rows[by].cast("string").fill_null("(none)"))
    elif by is not None:
        mapping = segment_table(by, rows, name="by")
        rows = rows.left_join(mapping, "customer_id").drop("customer_id_right")
        rows = rows.mutate(segment=rows.segment.fill_null("(none)"))
    else:
        import ibis

        rows = rows.mutate(segment=ibis.literal("all"))
    counts = rows.group_by(["segment", "slot"]).aggregate(purchases=rows.count(),
                                                          customers=rows.customer_id.nunique())
    frame = counts.to_pandas()
    return _complete(frame, unit, alpha)


def _complete(frame: pd.DataFrame, unit: str, alpha: float) -> pd.DataFrame:
    labels = {"weekday": WEEKDAYS, "hour": tuple(f"{h:02d}:00" for h in range(24)), "month": MONTHS}[unit]
    n_slots = len(labels)
    segments = sorted(frame["segment"].astype(str).unique())
    grid = pd.MultiIndex.from_product([segments, range(n_slots)], names=["segment", "slot"]).to_frame(index=False)
    frame = frame.assign(segment=frame["segment"].astype(str), slot=frame["slot"].astype("int64"))
    out = grid.merge(frame, on=["segment", "slot"], how="left")
    out["purchases"] = out["purchases"].fillna(0).astype("int64")
    out["customers"] = out["customers"].fillna(0).astype("int64")
    totals = out.groupby("segment")["purchases"].transform("sum")
    out["share"] = out["purchases"] / totals
    out["share_lower"], out["share_upper"] = wilson_interval(out["purchases"], totals, alpha)
    even = _DAYS_IN_MONTH / _DAYS_IN_MONTH.sum() if unit == "month" else np.full(n_slots, 1.0 / n_slots)
    out["index"] = out["share"] / even[out["slot"].to_numpy()]
    out.insert(2, "label", [labels[s] for s in out["slot"]])
    out["segment"] = out["segment"].astype("string")
    out["label"] = out["label"].astype("string")
    return out
