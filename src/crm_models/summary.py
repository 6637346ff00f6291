"""Transactions -> one row per customer: frequency, recency, age ``T`` and monetary value.

The sufficient statistics of the BG/NBD, Pareto/NBD and Gamma-Gamma models (Fader, Hardie & Lee 2005, section 2;
Fader & Hardie 2013): for a customer first seen at ``t0``,

* ``frequency`` (``x``): number of *repeat* purchases, i.e. distinct purchase periods after the first one
  (purchases in the same period, a day by default, count once);
* ``recency`` (``t_x``): time from the first to the last purchase;
* ``T``: time from the first purchase to the end of the observation window;
* ``monetary_value`` (``zbar``): mean value of the repeat purchases (0 when there are none).

The aggregation is one ibis expression, run by DuckDB by default; an ibis table from another backend (Spark,
a warehouse) runs where it lives and only the per-customer result comes back.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from crm_models.data.adapter import as_canonical_table
from crm_models.data.engine import TableSource, engine_backend, purchase_rows
from crm_models.data.timestamps import as_engine_bound, end_exclusive, end_inclusive_day
from crm_models.exceptions import ConfigurationError, DataContractError
from crm_models.units import SECONDS_PER_DAY, time_unit_days

__all__ = ["customer_summary", "time_unit_days"]

PERIODS = {"D": "D", "H": "h", "W": "W"}


def customer_summary(
    transactions: TableSource,
    *,
    observation_end: str | pd.Timestamp | None = None,
    calibration_end: str | pd.Timestamp | None = None,
    time_unit: str | float = "D",
    period: str = "D",
    backend: Any = None,
    memory_limit: str | None = None,
    temp_directory: str | None = None,
) -> pd.DataFrame:
    """Per-customer ``frequency, recency, T, monetary_value`` (plus holdout columns) from transactions.

    Parameters
    ----------
    transactions
        Canonical transactions (``customer_id, timestamp, amount``) as a pandas DataFrame, a Parquet/CSV path or
        folder, or an ibis table. Rows with a non-negative amount count as purchases (a $0 order is still a visit; CDNOW has some);
        negative amounts (returns) are ignored: net them first if they should lower spend
        (:func:`crm_models.data.clean_transactions`).
    observation_end
        Last day of the observation window (inclusive). Defaults to the day of the last transaction.
    calibration_end
        When given, the summary describes the calibration period up to this day (inclusive) and adds holdout
        columns for ``(calibration_end, observation_end]``: ``frequency_holdout`` (purchase periods),
        ``monetary_value_holdout`` (mean value per purchase period) and ``duration_holdout``. Customers first
        seen after ``calibration_end`` are left out.
    time_unit
        Unit of ``recency``, ``T`` and ``duration_holdout``: ``"D"``, ``"W"`` or a number of days.
    period
        Purchases in the same period are merged into one: ``"D"`` (day, default), ``"H"`` (hour) or ``"W"``.
    backend
        An ibis backend to register pandas frames and paths with (a new DuckDB connection by default). Every
        source goes through :func:`crm_models.data.as_canonical_table`, which checks the contract on the backend.
    memory_limit, temp_directory
        For the default DuckDB connection: a memory cap such as ``"6GB"`` and the folder DuckDB spills to when
        the aggregation exceeds it (out-of-core runs over Parquet folders larger than memory).

    Returns
    -------
    A DataFrame indexed by ``customer_id`` with ``frequency`` (int), ``recency``, ``T``, ``monetary_value``,
    ``first_purchase`` and, with a calibration end, the holdout columns.
    """
    import ibis

    unit_seconds = time_unit_days(time_unit) * SECONDS_PER_DAY
    if period.upper() not in PERIODS:
        raise ValueError(f"period must be one of {sorted(PERIODS)}, got {period!r}")
    backend = engine_backend(backend, memory_limit, temp_directory)
    table = as_canonical_table(transactions, "transactions", backend=backend, extra_columns=False)
    purchases = purchase_rows(table).select("customer_id", "timestamp", "amount")
    # Ends are applied to the raw timestamps *before* purchases are merged into periods, so that a weekly
    # period never pulls in a purchase made after the end in the end's own week (issue 11, item 2).
    end_bound, end_day = _resolve_end(purchases, observation_end)
    unfiltered = purchases
    purchases = purchases.filter(purchases.timestamp < ibis.literal(as_engine_bound(end_bound)))
    truncate = PERIODS[period.upper()]

    def per_period(rows: Any) -> Any:
        rows = rows.select("customer_id", "amount", period_start=rows.timestamp.truncate(truncate))
        return rows.group_by(["customer_id", "period_start"]).aggregate(amount=rows.amount.sum())

    if calibration_end is not None:
        cal_bound = end_exclusive(calibration_end, "calibration_end")
        cal_day = end_inclusive_day(calibration_end, "calibration_end")
        if cal_day >= end_day:
            raise ConfigurationError(
                f"calibration_end {cal_day.date()} must fall before observation_end {end_day.date()}")
        cal_literal = ibis.literal(as_engine_bound(cal_bound))
        calibration = per_period(purchases.filter(purchases.timestamp < cal_literal))
        holdout_rows = per_period(purchases.filter(purchases.timestamp >= cal_literal))
        reference = _last_period_start(cal_bound, cal_day, truncate)
    else:
        calibration = per_period(purchases)
        reference = _last_period_start(end_bound, end_day, truncate)

    # One pass, no window: the first period's amount is the amount at the minimum period (arg_min), and the
    # repeat value is the total less that first amount.
    stats = calibration.group_by("customer_id").aggregate(
        first_purchase=calibration.period_start.min(),
        last_purchase=calibration.period_start.max(),
        frequency=calibration.count() - 1,
        total_value=calibration.amount.sum(),
        first_value=calibration.amount.argmin(calibration.period_start),
    )
    frequency = stats.frequency.cast("int64")
    repeat_value = stats.total_value - stats.first_value
    reference_literal = ibis.literal(reference.to_pydatetime())
    result = stats.select(
        customer_id=stats.customer_id,
        frequency=frequency,
        recency=((stats.last_purchase.epoch_seconds() - stats.first_purchase.epoch_seconds()) / unit_seconds)
        .cast("float64"),
        T=((reference_literal.epoch_seconds() - stats.first_purchase.epoch_seconds()) / unit_seconds).cast("float64"),
        monetary_value=ibis.ifelse(frequency > 0, repeat_value / frequency, 0.0).cast("float64"),
        first_purchase=stats.first_purchase,
    )
    columns = ["frequency", "recency", "T", "monetary_value", "first_purchase"]

    if calibration_end is not None:
        holdout = holdout_rows.group_by("customer_id").aggregate(
            holdout_count=holdout_rows.count(),
            holdout_value=holdout_rows.amount.sum(),
        )
        joined = result.left_join(holdout, "customer_id")
        count = joined.holdout_count.fill_null(0).cast("int64")
        duration = (end_day - cal_day).days / time_unit_days(time_unit)
        result = joined.select(
            "customer_id", *columns,
            frequency_holdout=count,
            monetary_value_holdout=ibis.ifelse(count > 0, joined.holdout_value / count, 0.0).cast("float64"),
            duration_holdout=ibis.literal(float(duration)),
        )
        columns += ["frequency_holdout", "monetary_value_holdout", "duration_holdout"]

    # Sorted by the engine and converted once (arrow buffers released as pandas takes them): at tens of millions
    # of customers the result is the largest object in memory, so it is never copied again here.
    arrow = result.order_by("customer_id").to_pyarrow()
    frame = arrow.to_pandas(self_destruct=True, split_blocks=True)
    del arrow
    if len(frame) == 0:
        _raise_nothing_before(unfiltered, observation_end, calibration_end)
    frame["customer_id"] = frame["customer_id"].astype("string")
    frame = frame.set_index("customer_id")
    return frame[columns]


def _last_period_start(bound: pd.Timestamp, day: pd.Timestamp, truncate: str) -> pd.Timestamp:
    """The time ``T`` is measured to: the start of the last period in which a purchase of the window (which
    ends just before ``bound``) can fall, so that a purchase in that period has ``recency == T``, never more.

    For days this is the window's last day; for weeks the last day too (a week's start is never later). For
    hours it is the hour of the last instant the window includes (23:00 for a whole-day end): measuring to
    the day's midnight put purchases made later on the end day at ``recency > T``, which the CLV models refuse.
    """
    if truncate == "h":
        return (bound - pd.Timedelta(1, "ns")).floor("h")
    return day


def _resolve_end(purchases: Any, observation_end: str | pd.Timestamp | None) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The exclusive bound and the last day of the observation window (the one rule of
    :func:`crm_models.data.timestamps.end_exclusive`); by default the whole day of the last purchase."""
    if observation_end is not None:
        return (end_exclusive(observation_end, "observation_end"),
                end_inclusive_day(observation_end, "observation_end"))
    last = purchases.timestamp.max().execute()
    if last is None or pd.isna(last):
        raise DataContractError("there are no purchases (rows with a non-negative amount)", column="amount",
                                rule="at least one purchase")
    day = pd.Timestamp(last).normalize()
    return day + pd.Timedelta(days=1), day


def _raise_nothing_before(purchases: Any, observation_end: Any, calibration_end: Any) -> None:
    """A named error for a window that ends before every purchase (instead of an empty summary)."""
    first_rows = purchases.order_by(["timestamp", "customer_id"]).limit(3).to_pandas()
    if first_rows.empty:
        raise DataContractError("there are no purchases (rows with a non-negative amount)", column="amount",
                                rule="at least one purchase")
    parameter, value = (("calibration_end", calibration_end) if calibration_end is not None
                        else ("observation_end", observation_end))
    first = pd.Timestamp(first_rows["timestamp"].iloc[0])
    raise DataContractError(
        f"{parameter}={value!s} falls before the first purchase ({first}); no customer has a purchase in the "
        "window, so the summary would be empty",
        column="timestamp",
        rule=f"{parameter} must not fall before the first purchase",
        examples=first_rows.drop(columns="customer_id"),
    )
