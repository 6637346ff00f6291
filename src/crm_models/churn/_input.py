"""Turn the accepted transaction inputs into one ibis table and check it against the data contract.

Accepted inputs: a pandas DataFrame, a path to a Parquet file (or folder / glob of Parquet files), or an
ibis table from any backend. pandas frames and paths are registered with DuckDB (ibis' default backend).
Time is handled as epoch seconds inside the expressions, so tz-aware and naive timestamps behave the same
(naive timestamps are read as UTC).
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crm_models.exceptions import DataContractError

REQUIRED = ("customer_id", "timestamp", "amount")
OPTIONAL = (
    "order_id",
    "quantity",
    "product_id",
    "channel",
    "n_items",
)  # n_items: distinct products of an order


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


_BACKEND: Any = None


def default_backend() -> Any:
    """The DuckDB connection used for pandas frames and Parquet paths (created on first use).

    Its progress bar is switched off: model code never prints, and DuckDB draws one on the terminal for
    queries that run longer than two seconds.
    """
    global _BACKEND
    if _BACKEND is None:
        import ibis

        backend = ibis.duckdb.connect()
        # in Jupyter without ipywidgets DuckDB refuses the setting (and draws no bar there anyway)
        with contextlib.suppress(Exception):
            backend.raw_sql("SET enable_progress_bar = false")
        _BACKEND = backend
    return _BACKEND


def execute(expr: Any) -> pd.DataFrame:
    """Run an ibis expression on its own backend, or on :func:`default_backend` when it has none."""
    import ibis.common.exceptions as exc

    try:
        backend = expr._find_backend(use_default=False)
    except exc.IbisError:
        backend = None
    if backend is None:
        return default_backend().to_pandas(expr)
    return expr.to_pandas()


def to_ibis(transactions: Any) -> Any:
    """Return an ibis table for a pandas DataFrame, a Parquet path or an ibis table (unchanged)."""
    import ibis
    import ibis.expr.types as ir

    if isinstance(transactions, ir.Table):
        return transactions
    if isinstance(transactions, str | os.PathLike):
        path = str(transactions)
        if os.path.isdir(path):  # a folder of Parquet parts (e.g. partitioned demo data)
            path = os.path.join(path, "*.parquet")
        return default_backend().read_parquet(path)
    if isinstance(transactions, pd.DataFrame):
        return ibis.memtable(_clean_pandas(transactions))
    raise TypeError(
        "transactions must be a pandas DataFrame, a Parquet path or an ibis table, "
        f"got {type(transactions).__name__}"
    )


def _clean_pandas(frame: pd.DataFrame) -> pd.DataFrame:
    """Check a pandas frame row by row (nulls, types) and normalise tz-aware timestamps to naive UTC."""
    missing = [c for c in REQUIRED if c not in frame.columns]
    if missing:
        raise DataContractError(
            "transactions lack a required column",
            column=missing[0],
            rule=f"required columns are {list(REQUIRED)}",
            examples=frame.head(3),
        )
    keep = [c for c in (*REQUIRED, *OPTIONAL) if c in frame.columns]
    out = frame[keep].copy()
    ts = out["timestamp"]
    if not pd.api.types.is_datetime64_any_dtype(ts):
        raise DataContractError(
            "timestamp must be a datetime column",
            column="timestamp",
            rule="dtype datetime64 (naive or tz-aware)",
            examples=frame.loc[:, ["customer_id", "timestamp"]].head(3),
        )
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        out["timestamp"] = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    if not pd.api.types.is_numeric_dtype(out["amount"]):
        raise DataContractError(
            "amount must be numeric",
            column="amount",
            rule="numeric money values (negative for returns)",
            examples=frame.loc[:, ["customer_id", "amount"]].head(3),
        )
    for column in ("customer_id", "timestamp", "amount"):
        bad = out[column].isna()
        if bad.any():
            raise DataContractError(
                f"{int(bad.sum())} transaction(s) have a missing {column}",
                column=column,
                rule="not null",
                examples=frame.loc[bad.to_numpy()].head(5),
            )
    if not np.isfinite(out["amount"].to_numpy(dtype="float64")).all():
        bad = ~np.isfinite(out["amount"].to_numpy(dtype="float64"))
        raise DataContractError(
            "amount has non-finite values",
            column="amount",
            rule="finite",
            examples=frame.loc[bad].head(5),
        )
    out["amount"] = out["amount"].astype("float64")
    out["timestamp"] = out["timestamp"].astype("datetime64[us]")
    return out


def prepare(transactions: Any) -> TransactionSource:
    """Validate the schema, compute the data's time range and return a :class:`TransactionSource`."""
    import ibis.expr.datatypes as dt

    table = to_ibis(transactions)
    schema = table.schema()
    for column in REQUIRED:
        if column not in schema:
            raise DataContractError(
                "transactions lack a required column",
                column=column,
                rule=f"required columns are {list(REQUIRED)}",
                examples=list(schema.names),
            )
    if not isinstance(schema["timestamp"], dt.Timestamp | dt.Date):
        raise DataContractError(
            "timestamp must be a timestamp column",
            column="timestamp",
            rule="temporal type",
            examples=[str(schema["timestamp"])],
        )
    if not schema["amount"].is_numeric():
        raise DataContractError(
            "amount must be numeric",
            column="amount",
            rule="numeric money values (negative for returns)",
            examples=[str(schema["amount"])],
        )
    if isinstance(schema["timestamp"], dt.Date):
        table = table.mutate(timestamp=table.timestamp.cast("timestamp"))
    table = table.mutate(_epoch=table.timestamp.epoch_seconds().cast("float64"))
    bounds = execute(table.aggregate(first=table._epoch.min(), last=table._epoch.max(), n=table.count()))
    if int(bounds["n"].iloc[0]) == 0:
        raise DataContractError("transactions are empty", column="timestamp", rule="at least one row")
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
