"""The aggregation engine: ibis expressions run on DuckDB by default, or on any backend the user hands in.

Functions that aggregate events accept a pandas DataFrame, a CSV/Parquet path (or a folder / glob of
Parquet files), or an ibis table from any backend (DuckDB, Spark, a warehouse). pandas frames and paths are
registered with an embedded DuckDB connection; ibis tables are used where they live, so the same expression
runs on a Spark cluster without moving the events to the driver.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import pandas as pd

TableSource = Any  # pandas.DataFrame | str | os.PathLike | ibis.expr.types.Table


def duckdb_backend(memory_limit: str | None = None, temp_directory: str | os.PathLike[str] | None = None,
                   threads: int | None = None) -> Any:
    """A fresh embedded DuckDB ibis backend.

    ``memory_limit`` (for example ``"6GB"``) and ``temp_directory`` bound out-of-core aggregations: DuckDB
    spills to the temp directory instead of exceeding the limit.
    """
    import ibis

    config: dict[str, Any] = {}
    if memory_limit is not None:
        config["memory_limit"] = memory_limit
    if temp_directory is not None:
        Path(temp_directory).mkdir(parents=True, exist_ok=True)
        config["temp_directory"] = str(temp_directory)
    if threads is not None:
        config["threads"] = threads
    backend = ibis.duckdb.connect(**config)
    # No progress bar in logs. Inside Jupyter DuckDB refuses the setting without ipywidgets (and shows none).
    with contextlib.suppress(Exception):  # duckdb.InvalidInputException; its module path varies by version
        backend.raw_sql("SET enable_progress_bar = false")
    return backend


def engine_backend(backend: Any = None, memory_limit: str | None = None,
                   temp_directory: str | os.PathLike[str] | None = None) -> Any:
    """The backend an aggregation runs on: ``backend`` when given; else a new DuckDB backend bounded by
    ``memory_limit`` / ``temp_directory`` when either is set (:func:`duckdb_backend`); else ``None`` (the
    default connection of :func:`as_ibis_table`)."""
    if backend is None and (memory_limit is not None or temp_directory is not None):
        return duckdb_backend(memory_limit=memory_limit, temp_directory=temp_directory)
    return backend


def purchase_rows(table: Any) -> Any:
    """The purchases of a canonical transactions ibis table, typed for the engine.

    A row with a non-negative amount and a known customer is a purchase (a $0 order is still a visit; returns,
    negative amounts, are ignored); ``customer_id`` becomes a string, ``timestamp`` a timestamp and ``amount``
    a float64. Other columns are kept.
    """
    rows = table.filter([table.amount >= 0, table.customer_id.notnull()])
    return rows.mutate(customer_id=rows.customer_id.cast("string"), timestamp=naive_utc(rows.timestamp),
                       amount=rows.amount.cast("float64"))


def naive_utc(values: Any) -> Any:
    """An ibis timestamp column as naive UTC (the project's one rule, :mod:`crm_models.data.timestamps`).

    A zoned column is not simply cast: a backend drops the zone in its *session* time zone (DuckDB with
    ``TimeZone='America/New_York'`` turns 2023-12-31 23:30 UTC into 18:30). The instant is taken as microseconds
    since the epoch (a difference of two instants, which no session zone changes) and added to a naive epoch.
    Naive columns are cast as they are.
    """
    import ibis
    import ibis.expr.datatypes as dt

    dtype = values.type()
    if not (dtype.is_timestamp() and dtype.timezone is not None):
        return values.cast("timestamp")
    epoch = ibis.literal(pd.Timestamp("1970-01-01", tz="UTC"), type=dt.Timestamp(timezone="UTC"))
    micros = values.delta(epoch, unit="microsecond")
    return ibis.literal(pd.Timestamp("1970-01-01"), type=dt.Timestamp()) + micros.as_interval("us")


def is_ibis_table(obj: Any) -> bool:
    """True for an ibis table expression (without importing ibis when it is not one)."""
    module = type(obj).__module__
    return module.startswith("ibis.") and hasattr(obj, "schema") and hasattr(obj, "to_pandas")


def as_ibis_table(source: TableSource, backend: Any = None) -> Any:
    """Return an ibis table for ``source``.

    An ibis table is returned as it is (its own backend runs the query). A pandas DataFrame is registered
    with ``backend`` (a new DuckDB connection by default). A path is read by DuckDB: ``.parquet`` files,
    folders or globs of Parquet files, and ``.csv``/``.csv.gz`` files.
    """
    if is_ibis_table(source):
        return source
    con = backend if backend is not None else duckdb_backend()
    if isinstance(source, pd.DataFrame):
        return register_frame(con, source)
    if isinstance(source, str | os.PathLike):
        path = str(source)
        lowered = path.lower()
        if Path(path).is_dir():
            return con.read_parquet(os.path.join(path, "**", "*.parquet"))
        if lowered.endswith((".parquet", ".pq")) or "*" in path:
            return con.read_parquet(path)
        if lowered.endswith((".csv", ".csv.gz", ".txt", ".tsv")):
            return con.read_csv(path)
        raise ValueError(f"cannot tell the format of {path!r}: expected .parquet, a folder of Parquet, or .csv")
    raise TypeError(f"expected a pandas DataFrame, a file path or an ibis table, got {type(source).__name__}")


def register_frame(con: Any, frame: pd.DataFrame) -> Any:
    """Make ``frame`` queryable on ``con`` and return it as an ibis table.

    DuckDB registers the frame as a zero-copy view (ibis 12's ``create_table`` emits SQL that DuckDB 2.0 rejects);
    other backends copy it into a temporary table.
    """
    name = _temp_name()
    if getattr(con, "name", "") == "duckdb":
        con.con.register(name, frame)
        return con.table(name)
    return con.create_table(name, frame, temp=True)


_counter = [0]


def _temp_name() -> str:
    _counter[0] += 1
    return f"crm_input_{os.getpid()}_{_counter[0]}"
