"""One way in: any source -> a canonical ibis table on a given backend, with the contract checked there.

Every engine function (customer summary, RFM inputs, and the families added later) takes its events through
:func:`as_canonical_table`. It accepts a pandas DataFrame, a CSV/Parquet path (or a folder / glob of Parquet) or
an ibis table from any backend; maps the user's column names onto the canonical ones (the only place where
mapping happens); and checks the contract *on that backend*, without pulling the rows: required columns,
unique names, a non-empty table, timestamps that are timestamps (text is cast on the backend and the rows that do
not parse are shown; numbers need an explicit unit) and numbers that are numbers.

The pandas readers in :mod:`crm_models.data.contract` apply the same rules in memory (with day/month and time
zone handling for text); this adapter is for data that should stay where it lives.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from crm_models.data.contract import (
    EXAMPLE_ROWS,
    TIMESTAMP_UNITS,
    TOUCHPOINTS,
    TRANSACTIONS,
    TableContract,
    _rename,
)
from crm_models.data.engine import TableSource, as_ibis_table, naive_utc
from crm_models.data.timestamps import naive_utc_column
from crm_models.exceptions import ConfigurationError, DataContractError

CONTRACTS: dict[str, TableContract] = {"transactions": TRANSACTIONS, "touchpoints": TOUCHPOINTS}


def as_canonical_table(
    source: TableSource,
    kind: str = "transactions",
    *,
    backend: Any = None,
    columns: Mapping[str, str] | None = None,
    timestamp_unit: str | None = None,
    extra_columns: bool = True,
) -> Any:
    """``source`` as an ibis table with the canonical columns of ``kind``, checked on its backend.

    Parameters
    ----------
    source
        A pandas DataFrame (time-zone-aware timestamps become naive UTC, then it is registered with ``backend``),
        a CSV/Parquet path, folder or glob (read by ``backend``), or an ibis table (checked where it lives).
    kind
        The canonical table: ``"transactions"`` or ``"touchpoints"`` (``ARCHITECTURE.md``, "Canonical tables").
    backend
        The ibis backend for frames and paths; a new embedded DuckDB connection by default.
    columns
        Mapping from canonical names to the source's names, e.g. ``{"timestamp": "InvoiceDate"}``.
    timestamp_unit
        For timestamps stored as numbers: ``"s"``, ``"ms"``, ``"us"`` or ``"ns"`` since 1970-01-01 UTC.
        Numbers are never guessed as timestamps.
    extra_columns
        Keep every other column after the required canonical ones (``False``: the required columns only, which
        is what aggregations need; other columns then are neither checked nor sent to the backend).

    Returns
    -------
    An ibis table: the canonical columns first (timestamps as timestamps, numeric columns as float64), then
    the source's other columns.

    Raises
    ------
    DataContractError
        For a missing, duplicated or shadowed column, an empty table, missing or unparseable timestamps,
        numeric timestamps without a unit, or values of a numeric column that are not numbers; the message
        names the column, the rule and example rows (fetched from the backend).
    ConfigurationError
        For an unknown ``kind`` or ``timestamp_unit``.
    """
    if kind not in CONTRACTS:
        raise ConfigurationError(f"kind={kind!r} is not a canonical table; give one of {sorted(CONTRACTS)}")
    if timestamp_unit is not None and timestamp_unit not in TIMESTAMP_UNITS:
        raise ConfigurationError(
            f"timestamp_unit={timestamp_unit!r} is not a unit; give one of {list(TIMESTAMP_UNITS)}")
    contract = CONTRACTS[kind]
    if isinstance(source, pd.DataFrame):
        frame = naive_utc_column(_rename(source, contract, columns))
        if not extra_columns:
            frame = frame[list(contract.required)]
        table = _rename(as_ibis_table(frame, backend), contract, None)
    else:
        table = _rename(as_ibis_table(source, backend), contract, columns)
        if not extra_columns:
            table = table.select(*contract.required)
    return _check_on_backend(table, contract, timestamp_unit)


def _check_on_backend(table: Any, contract: TableContract, timestamp_unit: str | None) -> Any:
    """Cast the canonical columns on the backend and count what does not fit, in one aggregation."""
    schema = table.schema()
    casts: dict[str, Any] = {}
    for column in contract.timestamps:
        casts[column] = _timestamp_expression(table, column, schema[column], timestamp_unit)
    for column in contract.numerics:
        if column not in schema:
            continue
        dtype = schema[column]
        if dtype.is_numeric() or dtype.is_boolean():
            casts[column] = table[column].cast("float64")
        elif dtype.is_string():
            casts[column] = table[column].strip().try_cast("float64")
        else:
            raise DataContractError(
                f"{column} has type {dtype}, not a number", column=column, rule=f"{column} must be numeric",
                examples=table.select(column).limit(EXAMPLE_ROWS).to_pandas())

    counts = {"rows": table.count()}
    for column, cast in casts.items():
        raw = table[column]
        counts[f"missing:{column}"] = raw.isnull().sum()
        counts[f"bad:{column}"] = (raw.notnull() & cast.isnull()).sum()
    found = table.aggregate(**counts).to_pyarrow().to_pylist()[0]  # one row; pyarrow avoids a pandas round trip
    if int(found["rows"]) == 0:
        raise DataContractError(f"the {contract.name} table is empty", rule="a table must have at least one row")
    for column, cast in casts.items():
        bad, missing = int(found[f"bad:{column}"]), int(found[f"missing:{column}"])
        if bad:
            rule = (f"{column} must be a timestamp (text in ISO form, e.g. 2024-06-30 14:05:00)"
                    if column in contract.timestamps else f"{column} must be a number")
            raise DataContractError(
                f"{bad} rows have a {column} that cannot be read as "
                + ("a date/time" if column in contract.timestamps else "a number"),
                column=column, rule=rule,
                examples=table.filter(table[column].notnull() & cast.isnull()).limit(EXAMPLE_ROWS).to_pandas())
        if missing and column in contract.required:
            raise DataContractError(
                f"{missing} rows have no {column}", column=column, rule=f"{column} must not be missing",
                examples=table.filter(table[column].isnull()).limit(EXAMPLE_ROWS).to_pandas())
    return table.mutate(**casts) if casts else table


def _timestamp_expression(table: Any, column: str, dtype: Any, timestamp_unit: str | None) -> Any:
    """The timestamp column cast on the backend: naive timestamps and dates as they are, zoned timestamps as
    naive UTC (whatever the session time zone), text via ``try_cast``, numbers only with an explicit unit."""
    values = table[column]
    if dtype.is_timestamp():
        return naive_utc(values) if dtype.timezone is not None else values
    if dtype.is_date():
        return values.cast("timestamp")
    if dtype.is_string():
        return values.strip().try_cast("timestamp")
    if dtype.is_numeric():
        if timestamp_unit is None:
            raise DataContractError(
                f"{column} holds numbers ({dtype}), and numbers are never guessed as timestamps. Pass "
                "timestamp_unit='s', 'ms', 'us' or 'ns' for time since 1970-01-01 UTC",
                column=column, rule="integer timestamps need timestamp_unit",
                examples=table.select(column).limit(EXAMPLE_ROWS).to_pandas())
        integers = values.cast("int64")
        if timestamp_unit == "ns":
            return (integers // 1000).as_timestamp("us")
        return integers.as_timestamp(timestamp_unit)
    raise DataContractError(f"{column} has type {dtype}, not a timestamp", column=column,
                            rule="timestamp must be a timestamp, a date or ISO text",
                            examples=table.select(column).limit(EXAMPLE_ROWS).to_pandas())
