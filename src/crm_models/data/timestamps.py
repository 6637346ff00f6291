"""One rule for time zones: the engine works on naive UTC.

The contract allows naive timestamps or tz-aware ones (one kind per table). Aggregations truncate to days, so
aware values are converted to UTC and their zone dropped before they reach the engine, and every end date a
user passes (``observation_end``, ``calibration_end``, cutoffs) is read the same way: an aware value is the
UTC day of that instant, a naive value is taken as it is; an aware *midnight* given as an end or cutoff is
the whole day in its own zone (up to its next local midnight, read as a UTC instant).
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
    """``frame`` with an aware ``column`` converted to naive UTC (a frame without a zone, or whose ``column`` is
    not a datetime column, is returned as it is)."""
    if (column in frame.columns and pd.api.types.is_datetime64_any_dtype(frame[column])
            and getattr(frame[column].dt, "tz", None) is not None):
        return frame.assign(**{column: frame[column].dt.tz_convert("UTC").dt.tz_localize(None)})
    return frame


def _parse_end(value: Any, parameter: str) -> pd.Timestamp:
    """``value`` as a timestamp, or a ``ConfigurationError`` naming ``parameter`` when it is not a date."""
    from crm_models.exceptions import ConfigurationError

    if isinstance(value, (bool, int, float)) and not isinstance(value, pd.Timestamp):
        raise ConfigurationError(
            f"{parameter}={value!r} is a number; give a date such as '2024-06-30' (numbers are never guessed "
            "as timestamps)")
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError) as error:
        raise ConfigurationError(
            f"{parameter}={value!r} is not a date; give a date such as '2024-06-30' or a timestamp") from error
    if stamp is pd.NaT:
        raise ConfigurationError(f"{parameter} is missing (NaT); give a date such as '2024-06-30'")
    return stamp


def is_whole_day(value: Any) -> bool:
    """True when an end or cutoff ``value`` names a whole day: a string without a time, a ``date``, or a
    timestamp at midnight (in its own zone)."""
    if isinstance(value, str):
        text = value.strip()
        return pd.Timestamp(text) == pd.Timestamp(text).normalize()
    stamp = pd.Timestamp(value)
    return stamp == stamp.normalize()


def end_exclusive(value: Any, parameter: str = "end") -> pd.Timestamp:
    """The naive-UTC instant just after the last moment that an end or cutoff ``value`` includes.

    The one rule for end dates (ARCHITECTURE.md, "Dates"): a date without a time (``"2024-01-10"``, a
    ``datetime.date``, or a midnight ``pd.Timestamp``) means the whole day, so the bound is the next midnight;
    a value with a time of day includes that instant, so the bound is one nanosecond later. An aware midnight
    is the whole day in its own zone (the bound is its next local midnight as a naive-UTC instant: a day with
    a DST change lasts 23 or 25 hours); an aware instant is read as UTC, as :func:`utc_naive` does. Filter with ``timestamp < bound``.

    >>> end_exclusive("2024-01-10")
    Timestamp('2024-01-11 00:00:00')
    >>> end_exclusive(pd.Timestamp("2024-01-10")) == end_exclusive("2024-01-10")
    True
    >>> end_exclusive("2024-01-10 12:00")
    Timestamp('2024-01-10 12:00:00.000000001')
    """
    stamp = _parse_end(value, parameter)
    if is_whole_day(stamp):
        if stamp.tzinfo is not None:
            # the whole day in the value's own zone: its next local midnight (a calendar day, so a day with a
            # DST change ends after 23 or 25 hours), then read as a UTC instant
            return utc_naive(stamp.normalize() + pd.DateOffset(days=1))
        return utc_day(stamp) + pd.Timedelta(days=1)
    return utc_naive(stamp) + pd.Timedelta(1, "ns")


def end_inclusive_day(value: Any, parameter: str = "end") -> pd.Timestamp:
    """The last calendar day (midnight, naive UTC) that an end or cutoff ``value`` includes (see
    :func:`end_exclusive`): ``"2024-01-10"`` and ``"2024-01-10 12:00"`` both give 2024-01-10.

    >>> end_inclusive_day("2024-01-10 23:00")
    Timestamp('2024-01-10 00:00:00')
    """
    stamp = _parse_end(value, parameter)
    # Same day as ``(end_exclusive(value) - 1 ns).normalize()``, computed without the nanosecond so that the
    # result keeps the input's resolution (callers compare and subtract it with data of that resolution).
    if is_whole_day(stamp) and stamp.tzinfo is not None:
        last_instant = utc_naive(stamp.normalize() + pd.DateOffset(days=1)) - pd.Timedelta(1, "ns")
        return last_instant.normalize().as_unit(stamp.unit)
    return utc_day(stamp) if is_whole_day(stamp) else utc_naive(stamp).normalize()


def end_from_exclusive(bound: pd.Timestamp) -> pd.Timestamp:
    """An end value that :func:`end_exclusive` reads back to the exclusive ``bound``: the last whole day (a
    midnight) when ``bound`` is a midnight, otherwise the last instant before it (``bound`` - 1 ns). Use it to hand
    a window's end on to functions that take an end value; ``bound - 1 day`` would name the day before, at that
    time, for a bound that is not a midnight. (A bound one nanosecond after a midnight has that midnight as its
    last instant, which :func:`end_exclusive` reads as the whole day: the one case that does not round-trip.)

    >>> end_from_exclusive(pd.Timestamp("2024-01-11"))
    Timestamp('2024-01-10 00:00:00')
    >>> end_from_exclusive(end_exclusive("2024-01-10 12:00"))
    Timestamp('2024-01-10 12:00:00')
    """
    stamp = pd.Timestamp(bound)
    return stamp - pd.Timedelta(days=1) if is_whole_day(stamp) else stamp - pd.Timedelta(1, "ns")


def as_engine_bound(bound: pd.Timestamp) -> Any:
    """``bound`` (a naive-UTC exclusive bound from :func:`end_exclusive`) as a ``datetime`` for an ibis literal.

    Engines store microseconds and ``datetime`` has no nanoseconds, so a bound with a nanosecond part (a
    time-of-day end, which :func:`end_exclusive` moves one nanosecond past the instant) is rounded *up* to the
    next microsecond: an event exactly at the given instant stays inside the window.
    """
    return utc_naive(bound).ceil("us").to_pydatetime()


def bound_like(bound: pd.Timestamp, timestamps: pd.Series) -> pd.Timestamp:
    """A naive-UTC ``bound`` made comparable with ``timestamps``: localized to UTC when they carry a zone."""
    if getattr(timestamps.dt, "tz", None) is not None:
        return utc_naive(bound).tz_localize("UTC")
    return utc_naive(bound)
