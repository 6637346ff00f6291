"""Acquisition cohorts: customers grouped by the calendar period of their first purchase, followed period by period.

For cohort ``c`` (week, month or quarter of the first purchase) and ``k`` periods since acquisition (``k = 0`` is
the acquisition period itself), the table holds the customers acquired, how many of them bought in period
``c + k`` (``active``), their orders and revenue, the per-acquired-customer averages and the cumulative value.
A cell is ``complete`` when period ``c + k`` ends on or before the observation end; the last, partly observed
period of each cohort is kept but flagged, and :func:`retention_curve` pools complete cells only.

Intervals on shares are Wilson score intervals (Wilson 1927, *JASA* 22, 209-212; Brown, Cai & DasGupta 2001,
*Statistical Science* 16, 101-133): the Wald interval undercovers for the small shares and small cohorts common
here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crm_models.data.engine import TableSource
from crm_models.lifecycle._common import check_alpha, period_unit, purchases, wilson_interval

__all__ = ["cohort_matrix", "cohort_table", "retention_curve"]

_OFFSETS = {"W": pd.DateOffset(weeks=1), "M": pd.DateOffset(months=1), "Q": pd.DateOffset(months=3)}


def cohort_table(
    transactions: TableSource,
    *,
    period: str = "M",
    observation_end: Any = None,
    alpha: float = 0.05,
    backend: Any = None,
) -> pd.DataFrame:
    """Cohort x periods-since-acquisition table, aggregated by the engine.

    Parameters
    ----------
    transactions
        Canonical transactions (pandas, path or ibis table). Rows with a non-negative amount are purchases;
        returns are ignored (net them first with :func:`crm_models.data.clean_transactions` if they should count).
    period
        ``"W"`` (ISO weeks starting Monday), ``"M"`` (calendar months) or ``"Q"`` (calendar quarters).
    observation_end
        Last day observed (a date means the whole day, :func:`crm_models.data.timestamps.end_exclusive`);
        defaults to the day of the last purchase. Later rows are ignored.
    alpha
        One minus the confidence level of the Wilson intervals on ``active_share``.

    Returns
    -------
    One row per (``cohort``, ``period``) with ``period`` running from 0 to the last period the cohort reaches
    by the end (zero rows filled in): ``customers``, ``active``, ``orders``, ``revenue``, ``active_share``
    (``active / customers``) with ``active_share_lower``/``_upper``, ``orders_per_customer``,
    ``revenue_per_customer``, ``cumulative_revenue_per_customer`` and ``complete``.
    """
    alpha = check_alpha(alpha)
    unit = period_unit(period)
    rows, bound = purchases(transactions, backend=backend, observation_end=observation_end)
    rows = rows.mutate(period_start=rows.timestamp.truncate(unit))
    first = rows.group_by("customer_id").aggregate(cohort=rows.period_start.min())
    joined = rows.join(first, "customer_id")
    joined = joined.mutate(period=_periods_between(joined.cohort, joined.period_start, unit))
    activity = joined.group_by(["cohort", "period"]).aggregate(
        active=joined.customer_id.nunique(), orders=joined.count(), revenue=joined.amount.sum())
    sizes = first.group_by("cohort").aggregate(customers=first.count())
    activity = activity.to_pandas()
    sizes = sizes.to_pandas()
    return _assemble(activity, sizes, unit, bound, alpha)


def _assemble(activity: pd.DataFrame, sizes: pd.DataFrame, unit: str, bound: pd.Timestamp,
              alpha: float) -> pd.DataFrame:
    offset = _OFFSETS[unit]
    sizes["cohort"] = pd.to_datetime(sizes["cohort"])
    activity["cohort"] = pd.to_datetime(activity["cohort"])
    grid = []
    for cohort in sorted(sizes["cohort"]):
        n_periods = 0
        while cohort + offset * n_periods < bound:
            n_periods += 1
        grid.append(pd.DataFrame({"cohort": cohort, "period": np.arange(n_periods, dtype="int64")}))
    table = pd.concat(grid, ignore_index=True)
    activity["period"] = activity["period"].astype("int64")
    table = table.merge(sizes, on="cohort", how="left").merge(activity, on=["cohort", "period"], how="left")
    for column in ("active", "orders"):
        table[column] = table[column].fillna(0).astype("int64")
    table["revenue"] = table["revenue"].fillna(0.0).astype("float64")
    table["customers"] = table["customers"].astype("int64")
    table["active_share"] = table["active"] / table["customers"]
    low, high = wilson_interval(table["active"], table["customers"], alpha)
    table["active_share_lower"], table["active_share_upper"] = low, high
    table["orders_per_customer"] = table["orders"] / table["customers"]
    table["revenue_per_customer"] = table["revenue"] / table["customers"]
    table["cumulative_revenue_per_customer"] = table.groupby("cohort")["revenue_per_customer"].cumsum()
    ends = np.array([c + offset * (k + 1) for c, k in zip(table["cohort"], table["period"], strict=True)])
    table["complete"] = pd.to_datetime(ends) <= bound
    return table.sort_values(["cohort", "period"]).reset_index(drop=True)


def retention_curve(cohorts: pd.DataFrame, *, alpha: float = 0.05, min_period: int = 1) -> pd.DataFrame:
    """Retention by periods since acquisition, pooled over the cohorts that fully observed each period.

    For period ``k`` the share is ``sum active / sum customers`` over complete cells, with a Wilson interval
    (each acquired customer counted once per period, so the count is binomial given the cohorts). Columns:
    ``period``, ``cohorts``, ``customers``, ``active``, ``retention``, ``lower``, ``upper``.
    """
    alpha = check_alpha(alpha)
    done = cohorts.loc[cohorts["complete"] & (cohorts["period"] >= min_period)]
    pooled = done.groupby("period").agg(cohorts=("cohort", "nunique"), customers=("customers", "sum"),
                                        active=("active", "sum")).reset_index()
    pooled["retention"] = pooled["active"] / pooled["customers"]
    pooled["lower"], pooled["upper"] = wilson_interval(pooled["active"], pooled["customers"], alpha)
    return pooled


def cohort_matrix(cohorts: pd.DataFrame, value: str = "active_share", *, complete_only: bool = True) -> pd.DataFrame:
    """``value`` pivoted to cohorts (rows) x periods since acquisition (columns), for the heat map.

    Incomplete cells are left empty (NaN) when ``complete_only`` is true, so a partly observed month does not
    read as a drop.
    """
    frame = cohorts if not complete_only else cohorts.assign(
        **{value: cohorts[value].where(cohorts["complete"])})
    return frame.pivot(index="cohort", columns="period", values=value)


def _periods_between(start: Any, stop: Any, unit: str) -> Any:
    """Whole calendar periods from ``start`` to ``stop`` (both truncated to ``unit``) as an ibis expression."""
    if unit == "M":
        return ((stop.year() - start.year()) * 12 + (stop.month() - start.month())).cast("int64")
    if unit == "Q":
        return ((stop.year() - start.year()) * 4 + (stop.quarter() - start.quarter())).cast("int64")
    seconds = stop.epoch_seconds() - start.epoch_seconds()
    return (seconds / (7 * 86_400.0)).round().cast("int64")
