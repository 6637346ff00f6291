"""Journeys: from raw touchpoints (built with ibis, DuckDB by default) or as aggregated paths.

A *journey* is the ordered sequence of channels a customer touched before converting, or before the end
of the data when they did not convert. The canonical journeys table has one row per distinct path:
``path`` (channels joined by a separator, or a list/tuple of channels), ``conversions``, ``nulls``
(journeys on that path that did not convert) and optional ``value`` (total conversion value). This is
the input format of ChannelAttribution, whose column names can be passed as parameters
(``conversions="total_conversions", nulls="total_null", value="total_conversion_value"``).

Every attribution function accepts such a frame and encodes it once into :class:`EncodedJourneys`:
integer channel codes in one flat array with offsets per path, parsed by Arrow (no Python loop over
paths), so millions of journeys stay cheap.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from crm_models.attribution._parse import NameTable, split_encode, split_spaced
from crm_models.exceptions import DataContractError
from crm_models.units import SECONDS_PER_DAY

#: Names of the chain's special states; no channel may be called like them (case and brackets ignored).
START_STATE = "(start)"
CONVERSION_STATE = "(conversion)"
NULL_STATE = "(null)"
RESERVED_NAMES = frozenset({"start", "conversion", "null"})
#: Separators we look for when the given one does not occur in any path.
COMMON_SEPARATORS = (">", "|", ",", ";", "/", "\u2192", "->", "=>")
DEFAULT_SEPARATOR = ">"
OUTPUT_SEPARATOR = " > "
PARSE_CHUNK_ROWS = 20_000  # paths parsed per block (cache-sized blocks are much faster)
SAMPLE_ROWS = 2_000  # paths parsed by Arrow to learn the channel names
ARROW_CHUNK_ROWS = 500_000  # block size when Arrow parses lists of channels
SEPARATOR_SAMPLE_ROWS = 10_000


@dataclass(frozen=True)
class EncodedJourneys:
    """Journeys as flat integer arrays (the internal form every method works on).

    Attributes
    ----------
    channels:
        Channel names, sorted; ``codes`` index into it.
    codes:
        Channel code of every touch, paths one after another (int32).
    offsets:
        ``codes[offsets[i]:offsets[i + 1]]`` is path ``i`` (int64, length ``n_paths + 1``).
    conversions, nulls, value:
        Per path: converting journeys, non-converting journeys, total conversion value (float64).
    days_to_end:
        Optional, aligned with ``codes``: days from each touch to the end of its journey (for
        time-decay credit on journey-level data).
    """

    channels: tuple[str, ...]
    codes: np.ndarray
    offsets: np.ndarray
    conversions: np.ndarray
    nulls: np.ndarray
    value: np.ndarray
    days_to_end: np.ndarray | None = None
    has_value: bool = False
    _cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n_paths(self) -> int:
        return len(self.offsets) - 1

    @property
    def n_channels(self) -> int:
        return len(self.channels)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @property
    def path_index(self) -> np.ndarray:
        """Path number of every touch (aligned with ``codes``)."""
        if "path_index" not in self._cache:
            self._cache["path_index"] = np.repeat(np.arange(self.n_paths, dtype=np.int64), self.lengths)
        return self._cache["path_index"]

    def reweighted(self, conversions: np.ndarray, nulls: np.ndarray, value: np.ndarray) -> EncodedJourneys:
        """The same paths with other counts (used by the bootstrap); shares the path arrays."""
        out = EncodedJourneys(
            self.channels, self.codes, self.offsets, np.asarray(conversions, float),
            np.asarray(nulls, float), np.asarray(value, float), self.days_to_end, self.has_value,
        )
        if "path_index" in self._cache:
            out._cache["path_index"] = self._cache["path_index"]
        return out

    def paths_as_strings(self, sep: str = OUTPUT_SEPARATOR) -> list[str]:
        """Paths joined by ``sep`` (for display and error messages; a Python loop, so keep it small)."""
        names = np.asarray(self.channels, dtype=object)
        return [sep.join(names[self.codes[a:b]]) for a, b in zip(self.offsets[:-1], self.offsets[1:])]

    def to_frame(self, sep: str = OUTPUT_SEPARATOR) -> pd.DataFrame:
        """Back to the canonical journeys table."""
        return pd.DataFrame(
            {"path": self.paths_as_strings(sep), "conversions": self.conversions, "nulls": self.nulls,
             "value": self.value}
        )


def _is_reserved(name: str) -> bool:
    return name.strip().strip("()").strip().lower() in RESERVED_NAMES


def _check_counts(frame: pd.DataFrame, column: str) -> np.ndarray:
    raw = frame[column]
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    bad = ~np.isfinite(values)
    if bad.any():
        raise DataContractError(
            f"{column!r} must hold finite numbers", column=column, rule="numeric, not missing",
            examples=frame.loc[bad],
        )
    negative = values < 0
    if negative.any():
        raise DataContractError(
            f"{column!r} holds negative counts", column=column, rule=">= 0", examples=frame.loc[negative]
        )
    return values


def encode_journeys(
    journeys: pd.DataFrame | EncodedJourneys,
    *,
    path: str = "path",
    conversions: str = "conversions",
    nulls: str | None = "nulls",
    value: str | None = "value",
    sep: str = DEFAULT_SEPARATOR,
    days_to_end: str | None = "days_to_end",
) -> EncodedJourneys:
    """Validate an aggregated journeys table and encode it for the attribution methods.

    Parameters
    ----------
    journeys:
        One row per path (or per journey). ``path`` holds channels joined by ``sep`` (whitespace around
        channel names is ignored) or a list/tuple of channel names.
    path, conversions, nulls, value:
        Column names. ``nulls`` and ``value`` are optional: when the named column is absent, the default
        names are simply not used (no nulls / no value); a non-default name that is absent is an error.
    sep:
        Separator of path strings.
    days_to_end:
        Optional column of per-touch days before the journey's end (as written by
        ``build_journeys(aggregate=False)``); used by time-decay credit.

    Raises
    ------
    DataContractError
        Missing columns, empty paths, a separator that occurs in no path while another common one does,
        negative or missing counts, value on paths without conversions, channels named like the reserved
        states ``(start)``, ``(conversion)``, ``(null)``.
    """
    if isinstance(journeys, EncodedJourneys):
        return journeys
    if not isinstance(journeys, pd.DataFrame):
        raise TypeError(f"journeys must be a pandas DataFrame, got {type(journeys).__name__}")
    if not isinstance(sep, str) or not sep.strip():
        raise DataContractError(
            f"the path separator must be a non-blank string, got {sep!r}", column=path, rule="separator"
        )
    for column, default in ((path, "path"), (conversions, "conversions")):
        if column not in journeys.columns:
            raise DataContractError(
                f"journeys table lacks the {default} column {column!r}; columns are {list(journeys.columns)}",
                column=column, rule="required column", examples=journeys.head(3),
            )
    for column, default in ((nulls, "nulls"), (value, "value"), (days_to_end, "days_to_end")):
        if column is not None and column != default and column not in journeys.columns:
            raise DataContractError(
                f"journeys table lacks the column {column!r}", column=column, rule="required column",
                examples=journeys.head(3),
            )
    frame = journeys.reset_index(drop=True)
    n = len(frame)
    conv = _check_counts(frame, conversions)
    null = _check_counts(frame, nulls) if nulls is not None and nulls in frame.columns else np.zeros(n)
    has_value = value is not None and value in frame.columns
    val = _check_counts(frame, value) if has_value else np.zeros(n)
    orphan = (val > 0) & (conv == 0)
    if orphan.any():
        raise DataContractError(
            "conversion value on paths without conversions", column=value, rule="value > 0 needs conversions > 0",
            examples=frame.loc[orphan],
        )

    raw = frame[path]
    missing = raw.isna().to_numpy()
    if missing.any():
        raise DataContractError("paths must not be missing", column=path, rule="not null",
                                examples=frame.loc[missing])
    first = raw.iloc[0] if n else ""
    is_sequence = n > 0 and isinstance(first, list | tuple | np.ndarray)
    if not is_sequence and n:
        try:
            strings = pa.array(raw.array if hasattr(raw, "array") else raw)
            if not (pa.types.is_string(strings.type) or pa.types.is_large_string(strings.type)):
                raise TypeError(strings.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            strings = pa.array(raw.astype(str).to_numpy(dtype=object), type=pa.large_string())
        if isinstance(strings, pa.ChunkedArray):
            strings = strings.combine_chunks()
        needle = sep.strip()
        head = strings.slice(0, SEPARATOR_SAMPLE_ROWS)
        if not pc.any(pc.match_substring(head, needle)).as_py() and not pc.any(
            pc.match_substring(strings, needle)
        ).as_py():
            others = [s for s in COMMON_SEPARATORS if s != needle and needle not in s]
            used = [s for s in others if pc.any(pc.match_substring(strings, s)).as_py()]
            if used:
                hits = pc.match_substring(strings, used[0]).to_numpy(zero_copy_only=False)
                raise DataContractError(
                    f"separator {sep!r} occurs in no path, but {used[0]!r} does: pass sep={used[0]!r}",
                    column=path, rule="known separator", examples=frame.loc[hits],
                )
    else:
        strings = None

    # parse in row blocks (bounded memory), one global dictionary of channel names
    lookup: dict[str, int] = {}
    code_chunks: list[np.ndarray] = []
    length_chunks: list[np.ndarray] = []
    empty_rows: list[np.ndarray] = []
    table: NameTable | None = None
    if strings is not None and n > SAMPLE_ROWS:
        # learn the channel names from a spread sample (Arrow), then take the fast byte-level path
        picks = np.unique(np.linspace(0, n - 1, SAMPLE_ROWS).astype(np.int64))
        sample_paths = strings.take(pa.array(picks))
        sample = pc.utf8_trim_whitespace(pc.split_pattern(sample_paths, pattern=sep.strip()).flatten())
        for name in sorted(pc.unique(sample).to_pylist()):
            if name:
                lookup.setdefault(name, len(lookup))
    block = PARSE_CHUNK_ROWS if strings is not None else ARROW_CHUNK_ROWS
    starts = list(range(0, n, block))
    prepared: dict[int, tuple[np.ndarray, np.ndarray] | None] = {}
    if strings is not None and lookup:
        # the byte-level path on every block first (threads do not help: the blocks are cache-sized and
        # numpy holds the GIL for most of these small operations)
        table = NameTable(list(lookup))
        # paths written as "a > b" (the sample tells): Arrow's split and hash lookup, else (or for a block
        # it cannot decide) the byte-level path
        spaced = split_spaced(sample_paths, sep, table) is not None
        for lo in starts:
            chunk = strings.slice(lo, min(n, lo + block) - lo)
            prepared[lo] = (spaced and split_spaced(chunk, sep, table)) or split_encode(chunk, sep, table)
    for lo in starts:
        hi = min(n, lo + block)
        fast = prepared.get(lo)
        if fast is None and strings is not None and lookup and table is not None and len(table.names) != len(lookup):
            table = NameTable(list(lookup))  # names learned from an earlier block: try the fast path again
            fast = split_encode(strings.slice(lo, hi - lo), sep, table)
        if fast is not None:
            code_chunks.append(fast[0])
            length_chunks.append(fast[1])
            continue
        if strings is None:
            lists = pa.array([list(map(str, p)) for p in raw.iloc[lo:hi]], type=pa.list_(pa.string()))
        else:
            lists = pc.split_pattern(strings.slice(lo, hi - lo), pattern=sep.strip())
        flat = pc.utf8_trim_whitespace(lists.flatten())
        offs = np.asarray(lists.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
        lens = np.diff(offs)
        bad = lens == 0
        if len(flat):
            blank = pc.utf8_length(flat).to_numpy(zero_copy_only=False) == 0
            if blank.any():
                bad |= np.bincount(np.repeat(np.arange(hi - lo), lens)[blank], minlength=hi - lo) > 0
        if bad.any():
            empty_rows.append(np.flatnonzero(bad) + lo)
            break
        encoded = pc.dictionary_encode(flat)
        names_chunk = encoded.dictionary.to_pylist()
        to_global = np.array([lookup.setdefault(name, len(lookup)) for name in names_chunk], dtype=np.int32)
        idx = encoded.indices.to_numpy(zero_copy_only=False)
        code_chunks.append(to_global[idx] if len(idx) else np.zeros(0, np.int32))
        length_chunks.append(lens)
        del lists, flat, encoded
    if empty_rows:
        raise DataContractError(
            "empty paths or empty channel names in paths", column=path,
            rule="every path has at least one channel and no empty channel between separators",
            examples=frame.loc[empty_rows[0]],
        )
    lengths = np.concatenate(length_chunks) if length_chunks else np.zeros(0, np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    names = list(lookup)
    order = np.argsort(np.asarray(names, dtype=object), kind="stable") if names else np.zeros(0, np.int64)
    sorted_names = tuple(names[i] for i in order)
    remap = np.empty(len(names), dtype=np.int32)
    remap[order] = np.arange(len(names), dtype=np.int32)
    identity = bool(np.array_equal(order, np.arange(len(names))))
    codes = (np.concatenate([c if identity else remap[c] for c in code_chunks]) if code_chunks
             else np.zeros(0, np.int32))
    codes = codes.astype(np.int16 if len(names) < 2**15 else np.int32, copy=False)
    del code_chunks

    reserved = [i for i, name in enumerate(sorted_names) if _is_reserved(name)]
    if reserved:
        touch_rows = np.repeat(np.arange(n), lengths)[np.isin(codes, reserved)]
        raise DataContractError(
            f"channel {sorted_names[reserved[0]]!r} is named like a reserved state "
            f"({START_STATE}, {CONVERSION_STATE}, {NULL_STATE}); rename it",
            column=path, rule="channel names differ from start/conversion/null",
            examples=frame.loc[np.unique(touch_rows)],
        )

    days = None
    if days_to_end is not None and days_to_end in frame.columns:
        days = np.concatenate([np.asarray(d, dtype=float) for d in frame[days_to_end]]) if n else np.zeros(0)
        if len(days) != len(codes):
            raise DataContractError(
                "days_to_end must hold one number per touch of the path", column=days_to_end,
                rule="same length as path", examples=frame.head(3),
            )
    return EncodedJourneys(
        channels=sorted_names, codes=codes, offsets=offsets,
        conversions=conv, nulls=null, value=val, days_to_end=days, has_value=has_value,
    )


# ----------------------------------------------------------------------------------------------------
# build_journeys: raw touchpoints -> journeys, with the engine (ibis; DuckDB by default)
# ----------------------------------------------------------------------------------------------------


def _to_seconds(lookback: Any) -> float | None:
    if lookback is None:
        return None
    if isinstance(lookback, int | float | np.integer | np.floating):
        delta = pd.Timedelta(days=float(lookback))
    else:
        delta = pd.Timedelta(lookback)
    if delta <= pd.Timedelta(0):
        raise ValueError(f"lookback must be positive, got {lookback!r}")
    return delta.total_seconds()


def _as_ibis_table(touchpoints: Any) -> tuple[Any, Any]:
    """Return (ibis table, backend) for a pandas frame, a file path or an ibis table."""
    import ibis
    from ibis.expr.types import Table

    if isinstance(touchpoints, Table):
        return touchpoints, None
    if isinstance(touchpoints, pd.DataFrame):
        # an in-memory table, run by ibis' default backend (DuckDB); ``create_table(temp=True)`` fails
        # with ibis 12 on duckdb 2.0 (``DROP VIEW IF EXISTS`` without a name)
        return ibis.memtable(touchpoints), None
    from crm_models.data.engine import as_ibis_table, duckdb_backend

    con = duckdb_backend()  # the engine's reader: Parquet files, folders and globs of Parquet, CSV
    return as_ibis_table(touchpoints, con), con


def _bad_rows_error(table: Any, predicate: Any, message: str, column: str, rule: str) -> None:
    bad = table.filter(predicate)
    if int(bad.count().to_pyarrow().as_py()) > 0:
        raise DataContractError(message, column=column, rule=rule, examples=bad.limit(5).to_pandas())


# A time of day followed by "Z" or a UTC offset (the rule of crm_models.data.contract, in SQL regex form).
_OFFSET_REGEX = r"(?i)\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|UTC|[+-]\d{2}(:?\d{2})?)\s*$"
_INTEGER_TIMES_RULE = (
    "timestamps must be dates/times: integers are never read as times (the unit is unknown); convert them "
    "first, e.g. pd.to_datetime(column, unit='s')"
)


def _frame_timestamps_as_utc(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """A copy of ``frame`` with ``column`` parsed by the data contract: naive stays naive, values with a
    UTC offset are converted to UTC (then naive, as the engine works on naive UTC), integers and
    unparseable values raise :class:`DataContractError`."""
    from crm_models.data.contract import coerce_timestamp

    raw = frame[column]
    if pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
        raise DataContractError(
            f"{column} holds numbers ({raw.dtype}), not dates/times", column=column, rule=_INTEGER_TIMES_RULE,
            examples=frame.head(5),
        )
    parsed = coerce_timestamp(frame, column)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    out = frame.copy()
    out[column] = parsed
    return out


def _timestamps_as_utc(t: Any, column: str) -> Any:
    """``t[column]`` as timestamps: tz-aware columns stay (ordered as instants), string columns with UTC
    offsets are cast as instants, other strings as naive times; integers and strings that are no
    date/time raise :class:`DataContractError` (not the backend's conversion error)."""
    import ibis.expr.datatypes as dt

    ts = t[column]
    kind = ts.type()
    if kind.is_timestamp():
        return ts
    if kind.is_numeric() or kind.is_boolean():
        raise DataContractError(
            f"{column} holds numbers ({kind}), not dates/times", column=column, rule=_INTEGER_TIMES_RULE,
            examples=t.limit(5).to_pandas(),
        )
    if kind.is_date():
        return ts.cast("timestamp")
    text = ts.cast("string").strip()
    aware = text.re_search(_OFFSET_REGEX)
    n_aware = int(t.filter(aware).count().to_pyarrow().as_py())
    n_naive = int(t.filter(text.notnull() & ~aware).count().to_pyarrow().as_py())
    if n_aware and n_naive:
        raise DataContractError(
            f"{column} mixes time-zone-aware values ({n_aware} rows) with naive values ({n_naive} rows)",
            column=column, rule="timestamps must all carry a time zone or all be naive (one kind per table)",
            examples=t.filter(aware).limit(2).union(t.filter(~aware).limit(3)).to_pandas(),
        )
    parsed = text.try_cast(dt.Timestamp(timezone="UTC") if n_aware else dt.timestamp)
    _bad_rows_error(
        t, text.notnull() & parsed.isnull(), f"{column} holds values that cannot be parsed as a date/time", column,
        "timestamp must be a parseable date/time",
    )
    return parsed


def build_journeys(
    touchpoints: Any,
    *,
    lookback: Any = None,
    channel_map: dict[str, str] | None = None,
    collapse_repeats: bool = False,
    session_gap: Any = None,
    max_touches: int | None = None,
    aggregate: bool = True,
    sep: str = OUTPUT_SEPARATOR,
    customer_id: str = "customer_id",
    timestamp: str = "timestamp",
    channel: str = "channel",
    conversion: str = "conversion",
    value: str | None = "value",
    path: str | None = None,
    conversions: str = "conversions",
    nulls: str | None = "nulls",
) -> pd.DataFrame:
    """Turn canonical touchpoints into journeys, computed by the engine (ibis; DuckDB by default).

    A customer's touches are ordered by time (a conversion sorts after a plain touch at the same instant);
    a journey ends at a touch flagged ``conversion == 1`` (that touch belongs to it) or at the customer's
    last touch in the data (a non-converting journey). The next journey starts after the conversion.

    Parameters
    ----------
    touchpoints:
        A pandas frame, a CSV/Parquet path or an ibis table (run on its own backend, e.g. Spark) with
        ``customer_id``, ``timestamp``, ``channel``, ``conversion`` (0/1) and optional ``value``.
    lookback:
        Keep only touches within this window before the journey's end (a ``pd.Timedelta``, a string
        such as ``"30D"``, or a number of days); the end is the conversion, or the last touch of a
        non-converting journey. ``None`` keeps everything.
    channel_map:
        Channel grouping, ``{"Facebook": "Social", "Instagram": "Social"}``; unmapped channels stay.
    collapse_repeats:
        Merge consecutive touches on the same channel (one session per run of a channel).
    session_gap:
        Session rule: a touch on the same channel as the previous touch of the journey, less than this
        long after it (``"30min"``, a ``pd.Timedelta`` or a number of days), belongs to the same session
        and is dropped. ``collapse_repeats=True`` is the same rule with an unlimited gap.
    max_touches:
        Keep only the last ``max_touches`` touches of each journey.
    aggregate:
        ``True`` (default): one row per distinct path with ``path``, ``conversions``, ``nulls``,
        ``value``. ``False``: one row per journey with ``customer_id``, ``journey`` (number of the
        customer's journey, from 0), ``path``, ``conversions`` (0/1), ``nulls`` (1 - conversions),
        ``value``, ``n_touches`` and ``days_to_end`` (per touch, days before the journey's end; used by
        time-decay credit).
    sep:
        Separator that joins channels in ``path``.
    customer_id, timestamp, channel, conversion, value:
        Column names in ``touchpoints``; ``value`` is optional (missing column: value 0).

    path, conversions, nulls:
        Aggregated journeys instead of touchpoints: when ``path`` names a column (or the frame has a
        ``path`` column and no ``timestamp``), the frame is taken as one row per path, as in
        ChannelAttribution (``path="path", conversions="total_conversions", nulls="total_null",
        value="total_conversion_value"``), with ``sep`` the separator of its paths. It is validated and
        returned in the canonical form (paths joined by ``" > "``, identical paths summed).

    Raises
    ------
    DataContractError
        An empty table, missing columns, missing ids/times/channels, integer or unparseable times,
        conversion flags other than 0/1, negative values,
        channel names that contain the separator or are named like the reserved chain states; for
        aggregated journeys the errors of :func:`encode_journeys`.
    """
    import ibis

    if isinstance(touchpoints, pd.DataFrame) and (
        path is not None or ("path" in touchpoints.columns and timestamp not in touchpoints.columns)
    ):
        enc = encode_journeys(touchpoints, path=path or "path", conversions=conversions, nulls=nulls,
                              value=value, sep=sep)
        frame = enc.to_frame(OUTPUT_SEPARATOR)
        frame = frame.groupby("path", as_index=False, sort=False)[["conversions", "nulls", "value"]].sum()
        frame = frame.sort_values(["conversions", "nulls", "path"], ascending=[False, False, True], kind="stable")
        return frame.reset_index(drop=True)

    lookback_seconds = _to_seconds(lookback)
    if max_touches is not None and max_touches < 1:
        raise ValueError(f"max_touches must be at least 1, got {max_touches}")
    if isinstance(touchpoints, pd.DataFrame) and timestamp in touchpoints.columns:
        touchpoints = _frame_timestamps_as_utc(touchpoints, timestamp)
    t, _connection = _as_ibis_table(touchpoints)  # keep the DuckDB connection alive while we query
    columns = set(t.columns)
    for col in (customer_id, timestamp, channel, conversion):
        if col not in columns:
            raise DataContractError(
                f"touchpoints lack the column {col!r}; columns are {sorted(columns)}", column=col,
                rule="required column", examples=t.limit(3).to_pandas(),
            )
    if int(t.count().to_pyarrow().as_py()) == 0:
        raise DataContractError(
            "the touchpoints table is empty: there are no journeys to attribute", column=None,
            rule="a table must have at least one row",
        )
    has_value = value is not None and value in columns
    if value is not None and value != "value" and not has_value:
        raise DataContractError(f"touchpoints lack the value column {value!r}", column=value,
                                rule="required column", examples=t.limit(3).to_pandas())

    ts = _timestamps_as_utc(t, timestamp)
    t = t.select(
        customer_id=t[customer_id].cast("string"),
        timestamp=ts,
        channel=t[channel].cast("string").strip(),
        conversion=t[conversion],
        value=(t[value].cast("float64") if has_value else ibis.literal(0.0)),
    )
    for col in ("customer_id", "timestamp", "channel"):
        _bad_rows_error(t, t[col].isnull(), f"{col} must not be missing", col, "not null")
    _bad_rows_error(
        t, t.conversion.isnull() | ~t.conversion.cast("float64").isin([0.0, 1.0]),
        "conversion must be 0 or 1", conversion, "conversion in {0, 1}",
    )
    if has_value:
        _bad_rows_error(t, t.value.isnull() | (t.value < 0), "value must be a number >= 0", value, ">= 0")
    _bad_rows_error(t, t.channel == "", "channel must not be empty", channel, "non-empty channel name")
    t = t.mutate(conversion=t.conversion.cast("int64"))
    if channel_map:
        t = t.mutate(channel=t.channel.substitute({str(k): str(v) for k, v in channel_map.items()}))

    names = t.select("channel").distinct().to_pandas()["channel"].astype(str).tolist()
    needle = sep.strip()
    clash = [c for c in names if needle and needle in c]
    reserved = [c for c in names if _is_reserved(c)]
    if clash or reserved:
        bad_name = (clash or reserved)[0]
        rule = (
            f"channel names must not contain the separator {sep!r}" if clash
            else "channel names differ from the reserved states (start), (conversion), (null)"
        )
        raise DataContractError(
            f"channel {bad_name!r} cannot be used: {rule}", column=channel, rule=rule,
            examples=t.filter(t.channel == bad_name).limit(5).to_pandas(),
        )

    order = [t.timestamp, t.conversion]
    running = ibis.window(group_by=t.customer_id, order_by=order, rows=(None, 0))
    t = t.mutate(journey=t.conversion.sum().over(running) - t.conversion)
    whole = ibis.window(group_by=[t.customer_id, t.journey])
    t = t.mutate(
        end_ts=t.timestamp.max().over(whole),
        converted=t.conversion.max().over(whole),
        journey_value=(t.value * t.conversion).sum().over(whole),
    )
    if lookback_seconds is not None:
        t = t.filter(t.timestamp >= t.end_ts - ibis.interval(seconds=round(lookback_seconds)))
    if collapse_repeats or session_gap is not None:
        within = ibis.window(group_by=[t.customer_id, t.journey], order_by=[t.timestamp, t.conversion])
        previous = t.channel.lag().over(within)
        new_session = previous.isnull() | (previous != t.channel)
        if not collapse_repeats:
            gap_seconds = _to_seconds(session_gap)
            previous_time = t.timestamp.lag().over(within)
            elapsed = (t.timestamp.epoch_seconds() - previous_time.epoch_seconds()).cast("float64")
            new_session = new_session | (elapsed >= gap_seconds)
        # Materialize the window flag before filtering: Spark cannot filter on a window expression directly.
        t = t.mutate(new_session_=new_session)
        t = t.filter(t.new_session_).drop("new_session_")
    if max_touches is not None:
        backwards = ibis.window(
            group_by=[t.customer_id, t.journey], order_by=[t.timestamp.desc(), t.conversion.desc()]
        )
        t = t.mutate(touch_rank_=ibis.row_number().over(backwards))
        t = t.filter(t.touch_rank_ < max_touches).drop("touch_rank_")

    seconds_left = (t.end_ts.epoch_seconds() - t.timestamp.epoch_seconds()).cast("float64")
    per_journey = _ordered_journeys(t, seconds_left / SECONDS_PER_DAY, sep)
    if aggregate:
        expr = (
            per_journey.group_by("path")
            .aggregate(
                conversions=per_journey.conversions.sum().cast("float64"),
                nulls=(1 - per_journey.conversions).sum().cast("float64"),
                value=per_journey.value.sum().cast("float64"),
            )
            .order_by([ibis.desc("conversions"), ibis.desc("nulls"), "path"])
        )
        out = expr.to_pandas()
        return out[["path", "conversions", "nulls", "value"]].reset_index(drop=True)
    expr = per_journey.mutate(
        conversions=per_journey.conversions.cast("float64"),
        nulls=(1 - per_journey.conversions).cast("float64"),
        value=per_journey.value.cast("float64"),
    ).order_by(["customer_id", "journey"])
    out = expr.to_pandas()
    out["days_to_end"] = [np.asarray(d, dtype=float) for d in out["days_to_end"]]
    cols = ["customer_id", "journey", "path", "conversions", "nulls", "value", "n_touches", "days_to_end"]
    return out[cols].reset_index(drop=True)


def _ordered_journeys(t: Any, days_left: Any, sep: str) -> Any:
    """One row per (customer, journey): the channels in time order joined by ``sep``, and days to the end.

    Touches are ordered by time, then conversion flag, then channel name (a deterministic tie-break). DuckDB
    runs an order-sensitive aggregate; backends without one (Spark) collect (time, flag, channel, days)
    structs and sort the array, which orders by the same keys, so every backend returns the same journeys.
    """
    import ibis

    keys = ["customer_id", "journey"]
    common = {"conversions": t.converted.max(), "value": t.journey_value.max(), "n_touches": t.count()}
    if _supports_ordered_collect(t):
        order = [t.timestamp, t.conversion, t.channel]
        return t.group_by(keys).aggregate(
            path=t.channel.collect(order_by=order).join(sep),
            days_to_end=days_left.collect(order_by=order),
            **common,
        )
    touch = ibis.struct({"ts": t.timestamp, "flag": t.conversion, "channel": t.channel, "days": days_left})
    grouped = t.group_by(keys).aggregate(touches=touch.collect(), **common)
    ordered = grouped.touches.sort()
    return grouped.mutate(
        path=ordered.map(lambda item: item.channel).join(sep),
        days_to_end=ordered.map(lambda item: item.days),
    ).drop("touches")


def _supports_ordered_collect(t: Any) -> bool:
    """True on backends whose SQL has order-sensitive aggregates that ibis can emit (DuckDB)."""
    try:
        return t._find_backend().name == "duckdb"
    except Exception:  # noqa: BLE001 - an unbound table: use the portable form
        return False
