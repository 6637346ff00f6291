"""Assignment table + transaction log -> per-unit experiment outcomes over windows after assignment.

A CRM team has who got which coupon and when (the *assignment* table: ``unit_id``, ``variant``, ``assigned_at``)
and the transaction log. :func:`experiment_outcomes` turns the two into one row per unit with, for every window
of ``N`` days after assignment:

* ``purchased_{N}d`` (0/1), ``orders_{N}d``, ``revenue_{N}d``, ``net_revenue_{N}d`` (revenue less coupon cost)
  and, when the log has ``quantity``, ``items_{N}d``;

plus the time to the first purchase after assignment with its censoring (for Kaplan-Meier curves by arm, see
:mod:`crm_models.ab.repurchase`) and pre-period totals for CUPED (``pre_orders``, ``pre_revenue``, ``pre_items``).

**Which side of a boundary an event lands on.** Window ``N`` is the half-open interval
``[assigned_at, assigned_at + N days)``: a purchase at exactly the assignment instant counts (day 0), one at
exactly ``N`` days does not (it is the first instant of the next window, so windows of 30 and 60 days split the
follow-up without overlap). A purchase strictly before ``assigned_at`` is never an outcome: it counts only in the
pre-period ``[assigned_at - pre_days, assigned_at)``. A unit whose window is not complete at the observation end
(``assigned_at + N days`` after it) has missing (NaN) outcomes for that window, never zeros:
:meth:`ExperimentOutcomes.complete` gives the units to analyse for one window.

The aggregation is one ibis expression, run by DuckDB by default; transactions given as an ibis table from
another backend (Spark, a warehouse) are aggregated where they live.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from crm_models.data.contract import coerce_identifier
from crm_models.data.engine import TableSource, as_ibis_table, is_ibis_table, naive_utc, register_frame
from crm_models.data.quality import QualityReport
from crm_models.data.timestamps import end_exclusive, end_inclusive_day, naive_utc_column, utc_naive
from crm_models.exceptions import DataContractError

__all__ = ["ExperimentOutcomes", "experiment_outcomes"]

REASON_UNKNOWN_UNIT = "transaction of a unit not in the assignment table"
REASON_MISSING_ID = "transaction without a customer id"
REASON_BEFORE_ASSIGNMENT = "purchase before assignment (pre-period only)"
REASON_AFTER_END = "transaction after the observation end"
REASON_RETURN = "return (negative amount)"
NOTE_NO_TRANSACTIONS = "units without any transaction in the log up to the observation end"

_DAY = pd.Timedelta(days=1)


@dataclass
class ExperimentOutcomes:
    """Per-unit outcomes derived from transactions, and how they were derived.

    Attributes
    ----------
    table
        One row per unit: the assignment table's columns, ``followup_days`` (assignment to observation end),
        ``purchase_days`` (days to the first purchase at or after assignment, or to the observation end when
        there is none), ``purchase_observed`` (1 = a purchase was seen, 0 = censored), the window outcomes
        (NaN where the window is incomplete) and the pre-period totals.
    windows
        The window lengths in days.
    quality
        Transactions in, kept as outcomes, and dropped by reason; units without any transaction are in
        ``units_without_transactions`` and in the report's notes.
    observation_end
        Where follow-up ends (naive UTC): the last transaction's instant by default, else the exclusive bound of
        the given end (``"2024-03-31"`` gives 2024-04-01 00:00; see ``end_exclusive``).
    last_day
        The last calendar day the log covers (``"2024-03-31"`` gives 2024-03-31): the day to state in reports.
    units_without_transactions, units_incomplete
        Units with no transaction at all (often an id mismatch when large), and per window the units whose
        window had not ended at ``observation_end``.
    """

    table: pd.DataFrame
    windows: tuple[int, ...]
    quality: QualityReport
    observation_end: pd.Timestamp
    unit: str = "unit_id"
    variant: str = "variant"
    outcome_columns: dict[int, list[str]] = field(default_factory=dict)
    units_without_transactions: int = 0
    units_incomplete: dict[int, int] = field(default_factory=dict)
    last_day: pd.Timestamp | None = None

    def complete(self, window: int) -> pd.DataFrame:
        """Rows of the units whose ``window``-day window is complete (ready for ``analyze_experiment``)."""
        if window not in self.windows:
            raise ValueError(f"window {window} was not computed; windows are {list(self.windows)}")
        return self.table.loc[self.table["followup_days"] >= window].reset_index(drop=True)


def _fail(message: str, column: str, rule: str, examples: Any = None) -> None:
    raise DataContractError(message, column=column, rule=rule, examples=examples)


def _check_assignments(assignments: pd.DataFrame, unit: str, variant: str, assigned_at: str) -> pd.DataFrame:
    if not isinstance(assignments, pd.DataFrame):
        raise TypeError("assignments must be a pandas DataFrame (one row per unit)")
    for col in (unit, variant, assigned_at):
        if col not in assignments.columns:
            _fail(f"column {col!r} not found in the assignment table", col, "required column",
                  list(assignments.columns))
    if not pd.api.types.is_datetime64_any_dtype(assignments[assigned_at]):
        _fail("the assignment time must be a timestamp column (integers are never guessed as times)",
              assigned_at, "datetime dtype", assignments.head())
    frame = naive_utc_column(assignments, assigned_at)
    if frame[unit].isna().any():
        _fail("every assigned unit needs an id", unit, "no missing values", frame.loc[frame[unit].isna()])
    dup = coerce_identifier(frame[unit]).duplicated(keep=False)  # 1, 1.0 and "1" are one unit
    if dup.any():
        _fail("units appear more than once (a unit is assigned to exactly one arm, once)", unit,
              "one row per unit; ids compare as text (data.contract.coerce_identifier)",
              frame.loc[dup.to_numpy()].sort_values(unit, key=coerce_identifier))
    if frame[variant].isna().any():
        _fail("every unit needs a variant", variant, "no missing values", frame.loc[frame[variant].isna()])
    if frame[assigned_at].isna().any():
        _fail("every unit needs an assignment time", assigned_at, "no missing values",
              frame.loc[frame[assigned_at].isna()])
    return frame


def experiment_outcomes(
    assignments: pd.DataFrame,
    transactions: TableSource,
    *,
    windows: Sequence[int] = (30, 60, 90),
    unit: str = "unit_id",
    variant: str = "variant",
    assigned_at: str = "assigned_at",
    observation_end: Any = None,
    pre_days: float | None = 90,
    coupon_cost: str | Mapping[str, float] | None = None,
    returns: Literal["drop", "net"] = "drop",
    backend: Any = None,
) -> ExperimentOutcomes:
    """Per-unit outcomes over windows after assignment, from the transaction log.

    Parameters
    ----------
    assignments
        One row per unit: ``unit`` (matched to the transactions' ``customer_id``), ``variant`` and
        ``assigned_at`` (timestamp; naive or tz-aware, aware values are read in UTC). Other columns (segments,
        clusters, covariates) are carried into the result.
    transactions
        Canonical transactions (``customer_id, timestamp, amount``, optional ``order_id``, ``quantity``) as a
        pandas DataFrame, a Parquet/CSV path or an ibis table.
    windows
        Window lengths in days; window ``N`` is ``[assigned_at, assigned_at + N days)`` (module docstring).
    observation_end
        The last moment the log covers (a date means the whole day). Default: the last transaction's time.
        Later transactions are dropped and counted.
    pre_days
        Length of the pre-period for the ``pre_*`` covariates (``None``: no pre-period columns).
    coupon_cost
        The coupon's cost, subtracted in ``net_revenue_{N}d``: the name of a transactions column with each
        transaction's coupon cost (the discount granted), or ``{arm: cost}`` charged once per unit that
        purchases in the window (a single-use coupon). Default: a ``coupon_cost`` column when the log has one,
        else no cost.
    returns
        ``"drop"`` (default) leaves negative amounts out and counts them; ``"net"`` subtracts them from revenue
        (they are never orders).
    backend
        An ibis backend to register pandas frames with (default: a new DuckDB connection, or the transactions'
        own backend when they are an ibis table).

    Returns
    -------
    ExperimentOutcomes
    """
    import ibis

    win = tuple(sorted({int(w) for w in windows}))
    if not win or win[0] <= 0:
        raise ValueError(f"windows must be positive numbers of days, got {list(windows)}")
    if returns not in ("drop", "net"):
        raise ValueError(f"returns must be 'drop' or 'net', got {returns!r}")
    frame = _check_assignments(assignments, unit, variant, assigned_at)

    if isinstance(transactions, pd.DataFrame):
        transactions = naive_utc_column(transactions)
        if "customer_id" in transactions.columns and pd.api.types.is_float_dtype(transactions["customer_id"]):
            # ids as the data contract writes them (17850.0 -> "17850"), like the assignment ids below
            transactions = transactions.assign(customer_id=coerce_identifier(transactions["customer_id"]))
    if backend is None and is_ibis_table(transactions):
        backend = transactions.get_backend()
    tx = as_ibis_table(transactions, backend)
    backend = tx.get_backend()
    for column in ("customer_id", "timestamp", "amount"):
        if column not in tx.columns:
            _fail(f"transactions lack the column {column!r}; read them with crm_models.data.read_transactions",
                  column, "required column")
    cost_column: str | None = None
    cost_per_arm: dict[str, float] = {}
    if isinstance(coupon_cost, Mapping):
        cost_per_arm = {str(k): float(v) for k, v in coupon_cost.items()}
    elif isinstance(coupon_cost, str):
        if coupon_cost not in tx.columns:
            _fail(f"coupon cost column {coupon_cost!r} not found in the transactions", coupon_cost,
                  "required column", list(tx.columns))
        cost_column = coupon_cost
    elif coupon_cost is None and "coupon_cost" in tx.columns:
        cost_column = "coupon_cost"
    has_orders = "order_id" in tx.columns
    has_items = "quantity" in tx.columns

    # the observation end: inclusive instant (default: last transaction) or an exclusive bound (a date)
    if observation_end is None:
        last = tx.timestamp.max().execute()
        if last is None or pd.isna(last):
            _fail("the transaction log is empty", "timestamp", "at least one transaction")
        end_instant = utc_naive(last)
        end_bound, end_inclusive = end_instant, True
        last_day = end_instant.normalize()
    else:
        end_bound, end_inclusive = end_exclusive(observation_end, "observation_end"), False
        end_instant = end_bound
        last_day = end_inclusive_day(observation_end, "observation_end")
    # an exclusive bound is itself after the end (a unit assigned at the next midnight of a date end)
    late = frame[assigned_at] > end_instant if end_inclusive else frame[assigned_at] >= end_bound
    if late.any():
        _fail("units assigned after the observation end: the log cannot hold their outcomes", assigned_at,
              f"assigned_at within the observation end {observation_end if observation_end is not None else end_instant}"
              f" (last day {last_day:%Y-%m-%d})", frame.loc[late])

    # ids as text the way the data contract writes them (a whole float 17850.0 is "17850", as in canonical
    # transactions), so numeric and text ids of the same customer match
    unit_ids = coerce_identifier(frame[unit]).astype(str)
    keys = pd.DataFrame({"_unit": unit_ids.to_numpy(), "_t0": frame[assigned_at].to_numpy()})
    if cost_per_arm:
        arms = frame[variant].astype(str)
        unknown = sorted(set(cost_per_arm) - set(arms.unique()))
        if unknown:
            raise ValueError(f"coupon_cost names arms {unknown} that are not in the assignment table")
        keys["_cost"] = arms.map(cost_per_arm).fillna(0.0).astype(float).to_numpy()
    # DuckDB: a zero-copy view; other backends (Spark refuses temporary tables): an in-memory table that the
    # backend registers itself when the query runs
    units = register_frame(backend, keys) if getattr(backend, "name", "") == "duckdb" else ibis.memtable(keys)

    t = tx.select(
        _cid=tx.customer_id.cast("string"),
        _ts=naive_utc(tx.timestamp),
        _amount=tx.amount.cast("float64"),
        _order=tx.order_id.cast("string") if has_orders else ibis.null("string"),
        _qty=tx.quantity.cast("float64") if has_items else ibis.literal(0.0),
        _ccost=tx[cost_column].cast("float64").fill_null(0.0) if cost_column else ibis.literal(0.0),
    )
    # Python datetimes hold microseconds: round the bound up, or a last transaction with nanoseconds would fall
    # outside an inclusive end (and an exclusive end just after an instant would drop the instant itself).
    bound = ibis.literal(pd.Timestamp(end_bound).ceil("us").to_pydatetime())
    joined = t.left_join(units, t._cid == units._unit).select(t, units._unit, *(
        [units._t0, units._cost] if cost_per_arm else [units._t0]))
    in_time = (joined._ts <= bound) if end_inclusive else (joined._ts < bound)
    known = joined._unit.notnull()
    is_return = joined._amount < 0
    counts = joined.aggregate(
        rows_in=joined.count(),
        amount_in=joined._amount.sum(),
        missing=joined.count(where=joined._cid.isnull()),
        missing_amt=joined._amount.sum(where=joined._cid.isnull()),
        unknown=joined.count(where=joined._cid.notnull() & ~known),
        unknown_amt=joined._amount.sum(where=joined._cid.notnull() & ~known),
        late=joined.count(where=known & ~in_time),
        late_amt=joined._amount.sum(where=known & ~in_time),
        before=joined.count(where=known & in_time & (joined._ts < joined._t0)),
        before_amt=joined._amount.sum(where=known & in_time & (joined._ts < joined._t0)),
        ret=joined.count(where=known & in_time & (joined._ts >= joined._t0) & is_return),
        ret_amt=joined._amount.sum(where=known & in_time & (joined._ts >= joined._t0) & is_return),
    ).to_pandas().iloc[0].fillna(0)

    rows = joined.filter(known & in_time)
    rows = rows.mutate(_post=rows._ts >= rows._t0, _purchase=rows._amount >= 0)
    aggs: dict[str, Any] = {
        "_any": rows.count(),
        "_first": rows._ts.min(where=rows._post & rows._purchase),
    }
    for n in win:
        edge = rows._t0 + ibis.interval(days=n)
        inside = rows._post & (rows._ts < edge)
        buy = inside & rows._purchase
        money = buy if returns == "drop" else inside
        aggs[f"orders_{n}d"] = rows._order.nunique(where=buy) if has_orders else rows.count(where=buy)
        aggs[f"revenue_{n}d"] = rows._amount.sum(where=money)
        aggs[f"_ccost_{n}d"] = rows._ccost.sum(where=money)
        if has_items:
            aggs[f"items_{n}d"] = rows._qty.sum(where=money)
    if pre_days is not None:
        start = rows._t0 - ibis.interval(seconds=round(float(pre_days) * 86400))
        pre = ~rows._post & (rows._ts >= start) & rows._purchase
        aggs["pre_orders"] = rows._order.nunique(where=pre) if has_orders else rows.count(where=pre)
        aggs["pre_revenue"] = rows._amount.sum(where=pre)
        if has_items:
            aggs["pre_items"] = rows._qty.sum(where=pre)
    per_unit = rows.group_by("_unit").aggregate(**aggs).to_pandas()

    out = _assemble(frame, unit, variant, assigned_at, keys, per_unit, win, end_instant, pre_days, has_items,
                    cost_per_arm)
    report = QualityReport(rows_in=int(counts["rows_in"]), amount_in=float(counts["amount_in"]),
                           unit="transactions")
    for reason, key in ((REASON_MISSING_ID, "missing"), (REASON_UNKNOWN_UNIT, "unknown"),
                        (REASON_AFTER_END, "late"), (REASON_BEFORE_ASSIGNMENT, "before")):
        if counts[key] > 0:
            report.add_drop(reason, int(counts[key]), float(counts[f"{key}_amt"]))
    if returns == "drop" and counts["ret"] > 0:
        report.add_drop(REASON_RETURN, int(counts["ret"]), float(counts["ret_amt"]))
    report.rows_kept = report.rows_in - report.rows_dropped
    report.amount_kept = report.amount_in - sum(d["amount"] for d in report.drops)
    no_tx = int(len(frame) - per_unit["_any"].gt(0).sum())
    report.notes.append(f"{no_tx:,} of {len(frame):,} {NOTE_NO_TRANSACTIONS}")
    incomplete = {n: int((out["followup_days"] < n).sum()) for n in win}
    for n, k in incomplete.items():
        if k:
            report.notes.append(f"{k:,} units had not completed the {n}-day window at the observation end "
                                f"(their {n}-day outcomes are missing, not zero)")
    columns = {n: [c for c in out.columns if c.endswith(f"_{n}d") and not c.startswith("pre_")] for n in win}
    return ExperimentOutcomes(table=out, windows=win, quality=report, observation_end=end_instant, unit=unit,
                              variant=variant, outcome_columns=columns, units_without_transactions=no_tx,
                              units_incomplete=incomplete, last_day=last_day)


def _assemble(frame: pd.DataFrame, unit: str, variant: str, assigned_at: str, keys: pd.DataFrame,
              per_unit: pd.DataFrame, windows: tuple[int, ...], end_instant: pd.Timestamp,
              pre_days: float | None, has_items: bool, cost_per_arm: Mapping[str, float]) -> pd.DataFrame:
    """Join the engine's per-unit sums back onto the assignment table, in its row order."""
    per_unit = per_unit.assign(_unit=per_unit["_unit"].astype(str)).set_index("_unit")
    per_unit = per_unit.reindex(keys["_unit"].to_numpy())
    t0 = pd.to_datetime(keys["_t0"]).to_numpy()
    followup = (np.datetime64(end_instant.to_datetime64()) - t0) / np.timedelta64(1, "D")
    first = pd.to_datetime(per_unit["_first"]).to_numpy()
    seen = ~pd.isna(first)
    days = np.where(seen, (first - t0) / np.timedelta64(1, "D"), followup)
    out = frame.reset_index(drop=True).copy()
    out["followup_days"] = followup.astype(float)
    out["purchase_days"] = days.astype(float)
    out["purchase_observed"] = seen.astype(np.int64)
    for n in windows:
        complete = followup >= n
        orders = per_unit[f"orders_{n}d"].fillna(0).to_numpy(float)
        revenue = per_unit[f"revenue_{n}d"].fillna(0).to_numpy(float)
        cost = per_unit[f"_ccost_{n}d"].fillna(0).to_numpy(float)
        if cost_per_arm:
            cost = cost + np.where(orders > 0, keys["_cost"].to_numpy(float), 0.0)
        values = {
            f"purchased_{n}d": (orders > 0).astype(float),
            f"orders_{n}d": orders,
            f"revenue_{n}d": revenue,
            f"net_revenue_{n}d": revenue - cost,
        }
        if has_items:
            values[f"items_{n}d"] = per_unit[f"items_{n}d"].fillna(0).to_numpy(float)
        for name, v in values.items():
            out[name] = np.where(complete, v, np.nan)
    if pre_days is not None:
        out["pre_orders"] = per_unit["pre_orders"].fillna(0).to_numpy(float)
        out["pre_revenue"] = per_unit["pre_revenue"].fillna(0).to_numpy(float)
        if has_items:
            out["pre_items"] = per_unit["pre_items"].fillna(0).to_numpy(float)
    return out
