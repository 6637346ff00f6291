"""Turn the accepted transaction inputs into one ibis table, through the one adapter of ``crm_models.data``.

Accepted inputs: a pandas DataFrame, a CSV or Parquet path (or folder / glob of Parquet files), or an ibis
table from any backend. They go through :func:`crm_models.data.read_transactions` (the data contract) and
:func:`crm_models.data.engine.as_ibis_table` (frames and paths registered with ``backend``, a fresh DuckDB
connection by default), like ``customer_summary`` and the RFM inputs. Time is handled as epoch seconds inside
the expressions, so tz-aware and naive timestamps behave the same (naive timestamps are read as UTC).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crm_models.exceptions import DataContractError

REQUIRED = ("customer_id", "timestamp", "amount")


@dataclass(frozen=True)
class TransactionSource:
    """An ibis table of canonical transactions plus what optional columns it carries."""

    table: Any
    has_order_id: bool
    has_quantity: bool
    has_product_id: bool
    has_channel: bool
    has_n_items: bool
    first_epoch: float
    last_epoch: float


def execute(expr: Any) -> pd.DataFrame:
    """Run an ibis expression on its own backend (ibis' default backend for an unbound memtable)."""
    return expr.to_pandas()


def to_ibis(transactions: Any, backend: Any = None) -> Any:
    """Canonical transactions as an ibis table, contract-checked (see the module docstring).

    A pandas frame is checked row by row by ``read_transactions`` (types parsed, finite amounts) and its
    tz-aware timestamps converted to naive UTC; paths and ibis tables are checked on their backend.
    """
    from crm_models.data import as_ibis_table, read_transactions
    from crm_models.data.engine import is_ibis_table
    from crm_models.data.timestamps import naive_utc_column

    if isinstance(transactions, pd.DataFrame):
        frame = naive_utc_column(read_transactions(transactions))
        return as_ibis_table(frame, backend)
    if is_ibis_table(transactions) or isinstance(transactions, str | os.PathLike):
        return read_transactions(as_ibis_table(transactions, backend))
    raise TypeError(
        "transactions must be a pandas DataFrame, a CSV/Parquet path or an ibis table, "
        f"got {type(transactions).__name__}"
    )


def prepare(transactions: Any, backend: Any = None) -> TransactionSource:
    """The contract-checked table (:func:`to_ibis`), its time range and its optional columns.

    Churn also needs every row to carry a customer, a time and an amount: one engine query counts the
    missing values per column (and finds the time range), and a :class:`DataContractError` shows a few
    offending rows.
    """
    import ibis.expr.datatypes as dt

    table = to_ibis(transactions, backend)
    schema = table.schema()
    if isinstance(schema["timestamp"], dt.Date):
        table = table.mutate(timestamp=table.timestamp.cast("timestamp"))
    table = table.mutate(_epoch=table.timestamp.epoch_seconds().cast("float64"))
    bounds = execute(
        table.aggregate(
            first=table._epoch.min(),
            last=table._epoch.max(),
            n=table.count(),
            **{f"null_{c}": table[c].isnull().sum() for c in REQUIRED},
        )
    )
    if int(bounds["n"].iloc[0]) == 0:
        raise DataContractError("transactions are empty", column="timestamp", rule="at least one row")
    for column in REQUIRED:
        missing = int(bounds[f"null_{column}"].iloc[0])
        if missing:
            examples = execute(table.filter(table[column].isnull()).select(*REQUIRED).limit(5))
            raise DataContractError(
                f"{missing} transaction(s) have a missing {column}",
                column=column,
                rule="not null",
                examples=examples,
            )
    return TransactionSource(
        table=table,
        has_order_id="order_id" in schema,
        has_quantity="quantity" in schema and schema["quantity"].is_numeric(),
        has_product_id="product_id" in schema,
        has_channel="channel" in schema,
        has_n_items="n_items" in schema and schema["n_items"].is_numeric(),
        first_epoch=float(bounds["first"].iloc[0]),
        last_epoch=float(bounds["last"].iloc[0]),
    )


def to_epoch(moment: Any) -> float:
    """Seconds since 1970-01-01 UTC for a date-like (naive values are read as UTC)."""
    stamp = pd.Timestamp(moment)
    if stamp.tzinfo is not None:
        stamp = stamp.tz_convert("UTC").tz_localize(None)
    return (stamp - pd.Timestamp("1970-01-01")) / pd.Timedelta(seconds=1)


def from_epoch(seconds: float) -> pd.Timestamp:
    """Inverse of :func:`to_epoch` (a naive UTC timestamp)."""
    return pd.Timestamp("1970-01-01") + pd.Timedelta(seconds=float(seconds))


def to_days(horizon: Any) -> float:
    """A horizon or window given as days (number), a ``Timedelta`` or a string like ``"90D"``."""
    if isinstance(horizon, int | float | np.integer | np.floating) and not isinstance(horizon, bool):
        days = float(horizon)
    else:
        days = pd.Timedelta(horizon) / pd.Timedelta(days=1)
    if not np.isfinite(days) or days <= 0:
        raise ValueError(f"a horizon / window must be a positive duration, got {horizon!r}")
    return days
