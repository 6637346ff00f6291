"""The data contract: map user columns onto the canonical tables and check them.

Every reader returns a clean table with the canonical column names of ``ARCHITECTURE.md`` or raises
:class:`~crm_models.exceptions.DataContractError` naming the column, the broken rule and a few offending
rows. Readers never drop rows: dropping on purpose (returns, missing ids, duplicates, ...) is the job of
:func:`crm_models.data.quality.clean_transactions`, which counts every dropped row by reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crm_models.data.engine import TableSource, is_ibis_table
from crm_models.exceptions import ConfigurationError, DataContractError

EXAMPLE_ROWS = 5
# A time of day followed by "Z" or a UTC offset ("+02:00", "-0500", "+02"); a bare date never matches.
_OFFSET_PATTERN = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?)\s*$",
                             re.IGNORECASE)


@dataclass(frozen=True)
class TableContract:
    """Required and optional canonical columns of one table kind, with the rule each column follows."""

    name: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    timestamps: tuple[str, ...] = ()
    numerics: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    #: optional free-text columns (descriptions, categories, devices): read as pandas strings when present
    texts: tuple[str, ...] = ()


TRANSACTIONS = TableContract(
    name="transactions",
    required=("customer_id", "timestamp", "amount"),
    optional=("order_id", "quantity", "channel", "product_id"),
    timestamps=("timestamp",),
    numerics=("amount", "quantity"),
    identifiers=("customer_id", "order_id", "product_id"),
)
TOUCHPOINTS = TableContract(
    name="touchpoints",
    required=("customer_id", "timestamp", "channel", "conversion"),
    optional=("value",),
    timestamps=("timestamp",),
    numerics=("conversion", "value"),
    identifiers=("customer_id",),
)


def _read_any(source: TableSource, csv_options: Mapping[str, Any] | None) -> pd.DataFrame | Any:
    if isinstance(source, pd.DataFrame) or is_ibis_table(source):
        return source
    path = str(source)
    if path.lower().endswith((".parquet", ".pq")):
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, **dict(csv_options or {}))


def check_unique_columns(frame: Any, table: str) -> None:
    """Raise ``DataContractError`` when ``frame`` has two columns with the same name (which one is meant?)."""
    names = pd.Index([str(c) for c in frame.columns])
    repeated = sorted(set(names[names.duplicated()]))
    if repeated:
        raise DataContractError(
            f"the {table} table has {len(repeated)} duplicated column name(s): {repeated}; "
            f"columns: {list(names)}",
            column=repeated[0],
            rule="column names must be unique",
        )


def _rename(frame: Any, contract: TableContract, columns: Mapping[str, str] | None) -> Any:
    """Rename user columns (``{canonical: user_name}``) and check the required ones are present.

    Refuses duplicated column names, and a mapping onto a canonical name that the input also has as a
    column of its own (``columns={"amount": "revenue"}`` next to an ``amount`` column): either would leave two
    columns with one name and the engine would pick one silently.
    """
    check_unique_columns(frame, contract.name)
    mapping = dict(columns or {})
    unknown = sorted(set(mapping) - set(contract.required) - set(contract.optional))
    if unknown:
        raise DataContractError(
            f"column mapping for {contract.name} names unknown canonical columns {unknown}",
            rule=f"canonical columns are {list(contract.required + contract.optional)}",
        )
    available = list(frame.columns)
    for canonical, user in mapping.items():
        if user not in available:
            raise DataContractError(
                f"the {contract.name} table has no column {user!r} (mapped to {canonical!r}); "
                f"available columns: {available}",
                column=user,
                rule="every mapped column must exist in the input",
            )
    renames = {user: canonical for canonical, user in mapping.items() if user != canonical}
    targets = sorted({canonical for canonical in renames.values()
                      if canonical in available and canonical not in renames})
    if targets:
        canonical = targets[0]
        raise DataContractError(
            f"columns={{{canonical!r}: {mapping[canonical]!r}}} maps onto {canonical!r}, but the {contract.name} "
            f"table already has a column {canonical!r}; available columns: {available}. Drop or rename one of "
            "them, or map from the existing column.",
            column=canonical,
            rule="a mapped name must not also exist in the input",
        )
    if renames:
        if is_ibis_table(frame):  # ibis renames with {new_name: old_name}
            frame = frame.rename({canonical: user for user, canonical in renames.items()})
        else:
            frame = frame.rename(columns=renames)
    present = set(frame.columns)
    for name in contract.required:
        if name not in present:
            raise DataContractError(
                f"the {contract.name} table lacks the required column {name!r}; available columns: "
                f"{list(frame.columns)}. Pass columns={{'{name}': '<your column>'}} to map it.",
                column=name,
                rule="required column",
            )
    keep = [c for c in contract.required + contract.optional if c in present]
    extra = [c for c in frame.columns if c not in keep]
    return frame[keep + extra] if not is_ibis_table(frame) else frame.select(*keep, *extra)


def _check_not_empty(frame: pd.DataFrame, contract: TableContract) -> None:
    if len(frame) == 0:
        raise DataContractError(
            f"the {contract.name} table is empty", rule="a table must have at least one row"
        )


TIMESTAMP_UNITS = ("s", "ms", "us", "ns")
# Numbers written as text ("1718000000", "20240102"): never guessed as dates.
_NUMBER_PATTERN = re.compile(r"^\s*[+-]?\d+(?:\.\d*)?\s*$")
# A date that starts with two small numbers ("02/06/2024", "2.6.24", "13-06-2024"): day-first or month-first?
_ZONE_SUFFIX = re.compile(r"\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?)\s*$", re.IGNORECASE)  # the offset of _OFFSET_PATTERN
_DAY_MONTH_PATTERN = re.compile(r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})(?!\d)")


def coerce_timestamp(
    frame: pd.DataFrame,
    column: str,
    timestamp_format: str | None = None,
    *,
    timestamp_unit: str | None = None,
    dayfirst: bool | None = None,
) -> pd.Series:
    """Parse ``frame[column]`` into datetimes: all naive, or all tz-aware converted to UTC.

    Numbers (numeric columns, or text that is only digits) are never guessed as dates: they need
    ``timestamp_unit`` (``"s"``, ``"ms"``, ``"us"`` or ``"ns"`` since 1970-01-01 UTC) or a ``timestamp_format``
    such as ``"%Y%m%d"``. Dates that start with two small numbers (``"02/06/2024"``) are ambiguous between
    day-first and month-first and need ``dayfirst`` or ``timestamp_format``.

    Raises ``DataContractError`` for missing or unparseable values, numbers without a unit, ambiguous
    day/month values and a mix of naive and tz-aware values (the contract allows one kind per table).
    """
    if timestamp_unit is not None and timestamp_unit not in TIMESTAMP_UNITS:
        raise ConfigurationError(
            f"timestamp_unit={timestamp_unit!r} is not a unit; give one of {list(TIMESTAMP_UNITS)}")
    raw = frame[column]
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = raw
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_convert("UTC")
    elif _is_number_column(raw):
        parsed = _parse_numbers(frame, column, timestamp_format, timestamp_unit)
    else:
        if timestamp_format is None:
            _check_day_month(frame, column, dayfirst)
        parsed = _parse_timestamps(frame, column, timestamp_format, dayfirst)
    missing = parsed.isna() & raw.isna()
    if missing.any():
        raise DataContractError(
            f"{missing.sum()} rows have no {column}",
            column=column,
            rule="timestamp must not be missing",
            examples=frame.loc[missing],
        )
    bad = parsed.isna() & raw.notna()
    if bad.any():
        raise DataContractError(
            f"{bad.sum()} rows have a {column} that cannot be parsed as a date/time",
            column=column,
            rule="timestamp must be a parseable date/time"
            + (f" in format {timestamp_format!r}" if timestamp_format else "")
            + (f" with its day and month in the order dayfirst={dayfirst}" if dayfirst is not None else ""),
            examples=frame.loc[bad],
        )
    return parsed


def _is_number_column(raw: pd.Series) -> bool:
    """True for a numeric column, or a text column whose values are all numbers written as text."""
    if pd.api.types.is_bool_dtype(raw):
        return False
    if pd.api.types.is_numeric_dtype(raw):
        return True
    values = raw.dropna()
    if len(values) == 0 or not (pd.api.types.is_string_dtype(values) or values.dtype == object):
        return False
    if values.dtype == object and not values.map(
            lambda v: isinstance(v, str | int | float | np.integer | np.floating)).all():
        return False
    return bool(values.astype("string").str.match(_NUMBER_PATTERN).all())


def _parse_numbers(frame: pd.DataFrame, column: str, timestamp_format: str | None,
                   timestamp_unit: str | None) -> pd.Series:
    """Numbers as timestamps: only with an explicit unit (epoch) or format (e.g. ``"%Y%m%d"``)."""
    raw = frame[column]
    if timestamp_format is not None:
        text = raw.astype("string").str.strip().str.replace(r"\.0+$", "", regex=True)
        return pd.to_datetime(text, format=timestamp_format, errors="coerce")
    if timestamp_unit is None:
        raise DataContractError(
            f"{column} holds numbers, and numbers are never guessed as timestamps (1718000000 could be seconds, "
            "or nanoseconds in 1970). Pass timestamp_unit='s', 'ms', 'us' or 'ns' for time since 1970-01-01 UTC, "
            "or timestamp_format='%Y%m%d' for dates written as digits",
            column=column,
            rule="integer timestamps need timestamp_unit or timestamp_format",
            examples=frame.loc[raw.notna()].head(EXAMPLE_ROWS),
        )
    numbers = pd.to_numeric(raw, errors="coerce")
    return pd.to_datetime(numbers, unit=timestamp_unit, errors="coerce")


def _check_day_month(frame: pd.DataFrame, column: str, dayfirst: bool | None) -> None:
    """Refuse ``"02/06/2024"``-style values unless ``dayfirst`` says which number is the day."""
    if dayfirst is not None:
        return
    text = frame[column].astype("string")
    fields = text.str.extract(_DAY_MONTH_PATTERN)
    matched = fields[0].notna()
    if not matched.any():
        return
    first = pd.to_numeric(fields.loc[matched, 0])
    second = pd.to_numeric(fields.loc[matched, 1])
    day_first_rows, month_first_rows = first > 12, second > 12
    if day_first_rows.any() and month_first_rows.any():
        hint = "some rows can only be day-first and others only month-first: the column mixes both"
    elif day_first_rows.any():
        hint = "some rows can only be day-first; if every row is, pass dayfirst=True"
    elif month_first_rows.any():
        hint = "some rows can only be month-first; if every row is, pass dayfirst=False"
    else:
        hint = "every value could be read either way"
    rows = frame.loc[matched]
    ordered = pd.concat([rows.loc[day_first_rows.to_numpy()].head(2), rows.loc[month_first_rows.to_numpy()].head(2),
                         rows.head(EXAMPLE_ROWS)])
    raise DataContractError(
        f"{int(matched.sum())} rows have a {column} like {text[matched].iloc[0]!r} that is ambiguous between "
        f"day-first and month-first ({hint}). Pass dayfirst=True or dayfirst=False, or timestamp_format "
        "(e.g. '%d/%m/%Y %H:%M')",
        column=column,
        rule="day/month order must be given (dayfirst= or timestamp_format=) for dates like 02/06/2024",
        examples=ordered[~ordered.index.duplicated()].head(EXAMPLE_ROWS),
    )


def _wrong_day_month(raw: pd.Series, parsed: pd.Series, dayfirst: bool) -> pd.Series:
    """Rows whose parsed month is not the number ``dayfirst`` says is the month (e.g. "13/06/2024" with
    ``dayfirst=False``, which a lenient parser would silently swap)."""
    text = raw.astype("string")
    fields = text.str.extract(_DAY_MONTH_PATTERN)
    matched = fields[0].notna() & parsed.notna()
    if not matched.any():
        return pd.Series(False, index=raw.index)
    month_field = fields[1] if dayfirst else fields[0]
    expected = pd.to_numeric(month_field.where(matched), errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    months = parsed.dt.month.to_numpy(dtype=float, na_value=np.nan)
    aware = (matched & text.str.contains(_OFFSET_PATTERN, na=False)).to_numpy(dtype=bool)
    if aware.any():
        # The month as written is that of the wall time before the offset, not of the UTC instant
        # ("01/06/2024 00:30+02:00" is 31 May in UTC): parse those rows again without their offset.
        wall = text[aware].reset_index(drop=True).str.replace(_ZONE_SUFFIX, "", regex=True)
        local = _to_datetime(wall, {"errors": "coerce", "dayfirst": dayfirst})
        months[aware] = local.dt.month.to_numpy(dtype=float, na_value=np.nan)
    return pd.Series(matched.to_numpy(dtype=bool) & (expected != months), index=raw.index)


def _parse_timestamps(frame: pd.DataFrame, column: str, timestamp_format: str | None,
                      dayfirst: bool | None = None) -> pd.Series:
    raw = frame[column]
    if raw.dtype == object and raw.map(lambda v: isinstance(v, pd.Timestamp | np.datetime64) or hasattr(v, "tzinfo")).any():
        aware = raw.map(lambda v: getattr(v, "tzinfo", None) is not None)
        naive = raw.notna() & ~aware
    else:
        text = raw.astype("string")
        aware = text.str.contains(_OFFSET_PATTERN, na=False).astype(bool)
        naive = raw.notna() & ~aware
    if aware.any() and naive.any():
        examples = pd.concat([frame.loc[aware].head(2), frame.loc[naive].head(3)])
        raise DataContractError(
            f"{column} mixes time-zone-aware values ({int(aware.sum())} rows) with naive values "
            f"({int(naive.sum())} rows)",
            column=column,
            rule="timestamps must all carry a time zone or all be naive (one kind per table)",
            examples=examples,
        )
    kwargs: dict[str, Any] = {"errors": "coerce"}
    if timestamp_format is not None:
        kwargs["format"] = timestamp_format
    if aware.any():
        kwargs["utc"] = True
    if timestamp_format is None and dayfirst is not None:
        # dayfirst is about dates written day/month/year ("02/06/2024"); a year-first date ("2024-06-02") has one
        # reading, and pandas given dayfirst=True would read it as year-day-month (2 -> month, 6 -> day).
        values = raw.reset_index(drop=True)  # positions, so that a repeated index label cannot mix rows up
        ordered = values.astype("string").str.match(_DAY_MONTH_PATTERN, na=False).astype(bool)
        parts = [_to_datetime(values[ordered], {**kwargs, "dayfirst": dayfirst}),
                 _to_datetime(values[~ordered], kwargs)]
        kept = [part for part in parts if len(part)]
        parsed = pd.concat(kept).sort_index() if kept else _to_datetime(values, kwargs)
        parsed.index = raw.index
    else:
        parsed = _to_datetime(raw, kwargs)
    if timestamp_format is None and dayfirst is not None:
        wrong = _wrong_day_month(raw, parsed, dayfirst)
        if wrong.any():  # reported as unparseable by the caller
            parsed = parsed.mask(wrong)
    return parsed


def _to_datetime(raw: pd.Series, kwargs: dict[str, Any]) -> pd.Series:
    """``pd.to_datetime(raw, **kwargs)``; without a ``format``, rows that do not fit the format pandas inferred
    from the first value get a second, per-value pass (with the same ``utc`` and ``dayfirst``)."""
    parsed = pd.to_datetime(raw, **kwargs)
    retry = parsed.isna() & raw.notna()
    if "format" not in kwargs and retry.any():
        reparsed = pd.to_datetime(raw[retry], format="mixed", errors="coerce", utc=bool(kwargs.get("utc")),
                                  dayfirst=bool(kwargs.get("dayfirst")))
        parsed = parsed.copy()
        parsed[retry] = reparsed
    return parsed


def coerce_numeric(frame: pd.DataFrame, column: str, *, allow_missing: bool = False) -> pd.Series:
    """Parse ``frame[column]`` as float; raise ``DataContractError`` naming rows that are not numbers."""
    raw = frame[column]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        parsed = raw.astype("float64")
    else:
        parsed = pd.to_numeric(raw, errors="coerce").astype("float64")
    bad = parsed.isna() & raw.notna()
    if bad.any():
        raise DataContractError(
            f"{bad.sum()} rows have a non-numeric {column}",
            column=column,
            rule=f"{column} must be a number",
            examples=frame.loc[bad],
        )
    if not allow_missing and parsed.isna().any():
        raise DataContractError(
            f"{parsed.isna().sum()} rows have no {column}",
            column=column,
            rule=f"{column} must not be missing",
            examples=frame.loc[parsed.isna()],
        )
    infinite = np.isinf(parsed.to_numpy(dtype="float64", na_value=np.nan))
    if infinite.any():
        raise DataContractError(
            f"{infinite.sum()} rows have an infinite {column}",
            column=column,
            rule=f"{column} must be finite",
            examples=frame.loc[infinite],
        )
    return parsed


def coerce_identifier(series: pd.Series) -> pd.Series:
    """Identifiers become strings; floats that are whole numbers lose their ``.0`` (``17850.0`` -> ``17850``).

    The same holds for whole floats inside an object column (``[17850.0, "17850"]`` -> ``["17850", "17850"]``),
    so one customer written two ways in one column is one id.
    """
    if pd.api.types.is_float_dtype(series):
        whole = series.dropna()
        if (whole == np.floor(whole)).all():
            return series.astype("Int64").astype("string")
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) not in ("string", "empty"):
        series = series.map(_whole_float_as_int)
    out = series.astype("string").str.strip()
    return out.mask(out == "", pd.NA)


def _whole_float_as_int(value: Any) -> Any:
    """``17850.0`` -> ``17850`` for a finite whole float; anything else unchanged."""
    if isinstance(value, float | np.floating) and np.isfinite(value) and float(value).is_integer():
        return int(value)
    return value


def _validate_pandas(frame: pd.DataFrame, contract: TableContract, timestamp_format: str | None,
                     timestamp_unit: str | None = None, dayfirst: bool | None = None) -> pd.DataFrame:
    _check_not_empty(frame, contract)
    out = frame.copy()
    for column in contract.identifiers:
        if column in out.columns:
            out[column] = coerce_identifier(out[column])
    for column in contract.timestamps:
        out[column] = coerce_timestamp(out, column, timestamp_format, timestamp_unit=timestamp_unit,
                                       dayfirst=dayfirst)
    for column in contract.numerics:
        if column in out.columns:
            out[column] = coerce_numeric(out, column, allow_missing=column not in contract.required)
    for column in ("channel", *contract.texts):
        if column in out.columns:
            out[column] = out[column].astype("string")
    return out.reset_index(drop=True)


def _validate_ibis(table: Any, contract: TableContract) -> Any:
    """Check an ibis table's schema and emptiness on its own backend, without pulling the rows."""
    schema = table.schema()
    for column in contract.timestamps:
        if not schema[column].is_timestamp() and not schema[column].is_date():
            raise DataContractError(
                f"{column} has type {schema[column]}, not a timestamp",
                column=column,
                rule="timestamp columns of an ibis table must already be timestamps (cast them in the query)",
            )
    for column in contract.numerics:
        if column in schema and not schema[column].is_numeric() and not schema[column].is_boolean():
            raise DataContractError(
                f"{column} has type {schema[column]}, not a number",
                column=column,
                rule=f"{column} must be numeric",
                examples=table.select(column).limit(EXAMPLE_ROWS).to_pandas(),
            )
    if int(table.count().execute()) == 0:
        raise DataContractError(f"the {contract.name} table is empty", rule="a table must have at least one row")
    return table


def read_table(
    source: TableSource,
    contract: TableContract,
    *,
    columns: Mapping[str, str] | None = None,
    timestamp_format: str | None = None,
    timestamp_unit: str | None = None,
    dayfirst: bool | None = None,
    csv_options: Mapping[str, Any] | None = None,
) -> Any:
    """Read ``source`` and check it against ``contract``; see :func:`read_transactions`."""
    frame = _read_any(source, csv_options)
    frame = _rename(frame, contract, columns)
    if is_ibis_table(frame):
        return _validate_ibis(frame, contract)
    return _validate_pandas(frame, contract, timestamp_format, timestamp_unit, dayfirst)


def read_transactions(
    source: TableSource,
    *,
    columns: Mapping[str, str] | None = None,
    timestamp_format: str | None = None,
    timestamp_unit: str | None = None,
    dayfirst: bool | None = None,
    csv_options: Mapping[str, Any] | None = None,
) -> Any:
    """Read transactions into the canonical table ``customer_id, timestamp, amount [, order_id, ...]``.

    Parameters
    ----------
    source
        A CSV or Parquet path, a pandas DataFrame, or an ibis table (checked on its own backend and returned
        as an ibis table, so that Spark or warehouse data stay where they are).
    columns
        Mapping from canonical names to the user's names, e.g. ``{"customer_id": "CustomerID",
        "timestamp": "InvoiceDate", "amount": "Revenue"}``. Columns not mentioned must already carry the
        canonical name. Extra columns are kept after the canonical ones.
    timestamp_format
        An explicit ``strftime`` format for the timestamp column (faster and unambiguous).
    timestamp_unit
        For timestamps stored as numbers: ``"s"``, ``"ms"``, ``"us"`` or ``"ns"`` since 1970-01-01 UTC. Numbers
        are never guessed as timestamps: without a unit (or a format such as ``"%Y%m%d"``) they are refused.
    dayfirst
        For dates like ``"02/06/2024"``: ``True`` reads 2 June, ``False`` 6 February. Such dates are refused
        unless ``dayfirst`` or ``timestamp_format`` is given; with ``dayfirst`` a value that cannot follow the
        order (``"13/06/2024"`` with ``dayfirst=False``) is reported, never silently swapped. Year-first dates
        (``"2024-06-02"``) are always year-month-day, whatever ``dayfirst`` says.

    Returns
    -------
    A pandas DataFrame (or an ibis table for ibis input) with string identifiers, datetime timestamps (all
    naive, or all UTC) and float amounts. Rows are never dropped here.

    Raises
    ------
    DataContractError
        For a missing or duplicated column (or a mapping onto a name the input also has), an empty table, an
        unparseable or missing timestamp, numeric timestamps without a unit, ambiguous day/month dates, a
        non-numeric amount, or a mix of time-zone-aware and naive timestamps; the message names the column,
        the rule and example rows.
    """
    return read_table(source, TRANSACTIONS, columns=columns, timestamp_format=timestamp_format,
                      timestamp_unit=timestamp_unit, dayfirst=dayfirst, csv_options=csv_options)


def read_touchpoints(
    source: TableSource,
    *,
    columns: Mapping[str, str] | None = None,
    timestamp_format: str | None = None,
    timestamp_unit: str | None = None,
    dayfirst: bool | None = None,
    csv_options: Mapping[str, Any] | None = None,
) -> Any:
    """Read ad touchpoints into ``customer_id, timestamp, channel, conversion [, value]``.

    ``conversion`` must be 0 or 1; see :func:`read_transactions` for the other rules.
    """
    table = read_table(source, TOUCHPOINTS, columns=columns, timestamp_format=timestamp_format,
                       timestamp_unit=timestamp_unit, dayfirst=dayfirst, csv_options=csv_options)
    if isinstance(table, pd.DataFrame):
        bad = ~table["conversion"].isin([0.0, 1.0])
        if bad.any():
            raise DataContractError(
                f"{bad.sum()} rows have a conversion other than 0 or 1",
                column="conversion",
                rule="conversion must be 0 or 1",
                examples=table.loc[bad],
            )
        table["conversion"] = table["conversion"].astype("int64")
        missing_channel = table["channel"].isna()
        if missing_channel.any():
            raise DataContractError(
                f"{missing_channel.sum()} rows have no channel",
                column="channel",
                rule="channel must not be missing",
                examples=table.loc[missing_channel],
            )
    return table


def read_experiment(
    source: TableSource,
    *,
    variant: str = "variant",
    unit_id: str = "unit_id",
    outcomes: Sequence[str],
    covariates: Sequence[str] = (),
) -> pd.DataFrame:
    """Read an experiment table: one row per unit, its ``variant`` and numeric outcome/covariate columns."""
    frame = _read_any(source, None)
    if is_ibis_table(frame):
        frame = frame.to_pandas()
    if len(frame) == 0:
        raise DataContractError("the experiment table is empty", rule="a table must have at least one row")
    for column in (unit_id, variant, *outcomes, *covariates):
        if column not in frame.columns:
            raise DataContractError(
                f"the experiment table lacks the column {column!r}; available columns: {list(frame.columns)}",
                column=column,
                rule="required column",
            )
    out = frame.rename(columns={unit_id: "unit_id", variant: "variant"}).copy()
    out["unit_id"] = coerce_identifier(out["unit_id"])
    out["variant"] = out["variant"].astype("string")
    if out["variant"].isna().any():
        raise DataContractError(
            "some units have no variant", column=variant, rule="every unit must have a variant",
            examples=frame.loc[out["variant"].isna().to_numpy()],
        )
    duplicated = out["unit_id"].duplicated(keep=False)
    if duplicated.any():
        raise DataContractError(
            f"{duplicated.sum()} rows share a unit id", column=unit_id,
            rule="one row per unit", examples=frame.loc[duplicated.to_numpy()],
        )
    for column in (*outcomes, *covariates):
        out[column] = coerce_numeric(out, column)
    return out
