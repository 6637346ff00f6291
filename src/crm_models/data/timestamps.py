"""One rule for time zones: the engine works on naive UTC.

The contract allows naive timestamps or tz-aware ones (one kind per table). Aggregations truncate to days, so
aware values are converted to UTC and their zone dropped before they reach the engine, and every end date a
user passes (``observation_end``, ``calibration_end``, cutoffs) is read the same way: an aware value is the
UTC day of that instant, a naive value is taken as it is.
"""

from __future__ import annotations

from typing import Any

import pandas as pd


def utc_naive(value: Any) -> pd.Timestamp:
    """``value`` as a naive timestamp in UTC (aware values converted first, naive values unchanged)."""
    stamp = pd.Timestamp(value)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return stamp


def utc_day(value: Any) -> pd.Timestamp:
    """The calendar day (midnight, naive UTC) of ``value``; see :func:`utc_naive`."""
    return utc_naive(value).normalize()


def naive_utc_column(frame: pd.DataFrame, column: str = "timestamp") -> pd.DataFrame:
    """``frame`` with an aware ``column`` converted to naive UTC (a frame without a zone is returned as it is)."""
    if column in frame.columns and getattr(frame[column].dt, "tz", None) is not None:
        return frame.assign(**{column: frame[column].dt.tz_convert("UTC").dt.tz_localize(None)})
    return frame
