"""Funnels from events: ordered stages, a conversion window, per-stage counts and conversion with intervals.

Two variants, as product-analytics tools define them:

* ``mode="closed"`` (default): a customer enters at their first event of stage 1 in the period and reaches
  stage ``k`` when an event of stage ``k`` happens at or after the time they reached stage ``k - 1`` (and, with
  a ``window``, no later than ``window`` after the entry). Each stage is then a subset of the one before, so
  ``conversion_from_previous`` is a binomial proportion of the customers who reached the previous stage.
* ``mode="open"``: a customer reaches stage ``k`` when they have any event of it in the period, whatever they
  did before; ``customers`` counts them, and ``conversion_from_previous`` is the share of customers at stage
  ``k - 1`` who also reached stage ``k`` (in any order). Times between stages are only defined for the closed
  variant.

Intervals are Wilson score intervals (Wilson 1927, *JASA* 22, 209-212; Brown, Cai & DasGupta 2001,
*Statistical Science* 16, 101-133). The per-customer stage times are computed by the engine (a chain of joins
and group-bys, one per stage, on DuckDB by default with spilling to disk), and only one row per stage and
segment comes back, so the event table can be far larger than memory.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from crm_models.data.engine import TableSource, engine_backend, naive_utc
from crm_models.data.timestamps import end_exclusive, utc_naive
from crm_models.exceptions import DataContractError
from crm_models.lifecycle._common import check_alpha, engine_table, segment_table, wilson_interval

__all__ = ["funnel", "normalize_stages"]

StageSpec = Sequence[str | Sequence[str]] | Mapping[str, str | Sequence[str]]


def normalize_stages(stages: StageSpec) -> list[tuple[str, tuple[str, ...]]]:
    """``stages`` as ``[(label, event names), ...]``.

    A stage is an event name, a sequence of event names (any of them reaches the stage; labelled ``"a | b"``)
    or, with a mapping, ``{label: names}``. An event name may belong to one stage only.
    """
    items = list(stages.items()) if isinstance(stages, Mapping) else [(None, s) for s in stages]
    if len(items) < 2:
        raise ValueError(f"a funnel needs at least two stages, got {len(items)}")
    out: list[tuple[str, tuple[str, ...]]] = []
    seen: dict[str, str] = {}
    for label, spec in items:
        names = (spec,) if isinstance(spec, str) else tuple(spec)
        if not names or not all(isinstance(n, str) and n for n in names):
            raise ValueError(f"every stage needs one or more non-empty event names, got {spec!r}")
        name = str(label) if label is not None else " | ".join(names)
        for event in names:
            if event in seen:
                raise ValueError(f"event {event!r} is in two stages ({seen[event]!r} and {name!r}): "
                                 "each event name may reach one stage only")
            seen[event] = name
        out.append((name, names))
    labels = [label for label, _ in out]
    if len(set(labels)) != len(labels):
        raise ValueError(f"stage labels must be unique, got {labels}")
    return out


def funnel(
    events: TableSource,
    stages: StageSpec,
    *,
    window: str | pd.Timedelta | None = None,
    mode: str = "closed",
    by: Any = None,
    start: Any = None,
    end: Any = None,
    alpha: float = 0.05,
    backend: Any = None,
    memory_limit: str | None = None,
    temp_directory: str | None = None,
) -> pd.DataFrame:
    """Customers reaching each stage of a funnel, with conversion, intervals and time between stages.

    Parameters
    ----------
    events
        Canonical events (``customer_id, event, timestamp``) as pandas, a Parquet/CSV path or folder, or an
        ibis table (see :func:`crm_models.data.read_events`).
    stages
        Ordered stages, e.g. ``["browse", "product_view", "add_to_cart", "checkout", "payment"]``; a stage
        may accept several event names (``[("view", "quick_view"), "cart"]`` or a ``{label: names}`` mapping).
    window
        Conversion window from the entry (stage 1) for the closed funnel, e.g. ``"7D"``; none by default.
    mode
        ``"closed"`` (ordered, default) or ``"open"``; see the module docstring.
    by
        Drop-off by segment: the name of an events column (its value on the customer's entry event for a
        closed funnel, the smallest value over the customer's funnel events for an open one), or a customer ->
        segment mapping (Series indexed by customer id, or a frame with ``customer_id`` and ``segment``).
    start, end
        Only events with ``start <= timestamp`` and up to ``end`` (a date means the whole day) count.
    alpha
        One minus the confidence level of the Wilson intervals.
    backend, memory_limit, temp_directory
        An ibis backend for pandas input and paths; or limits for the default DuckDB connection (memory cap and
        spill folder for event tables larger than memory).

    Returns
    -------
    One row per stage (and segment, when ``by`` is given): ``step`` (1-based), ``stage``, ``customers`` (who
    reached it), ``conversion_from_previous`` with ``_lower``/``_upper``, ``conversion_from_start`` with
    ``_lower``/``_upper``, ``drop_off`` (customers at the previous stage who did not reach this one) and, for
    the closed funnel, ``median_time_from_previous`` (a Timedelta).
    """
    import ibis

    alpha = check_alpha(alpha)
    if mode not in ("closed", "open"):
        raise ValueError(f"mode must be 'closed' or 'open', got {mode!r}")
    spec = normalize_stages(stages)
    window_td = None if window is None else pd.Timedelta(window)
    if window_td is not None and window_td <= pd.Timedelta(0):
        raise ValueError(f"window must be positive, got {window!r}")
    backend = engine_backend(backend, memory_limit, temp_directory)
    keep = (by,) if isinstance(by, str) else ()
    table = engine_table(events, ("customer_id", "event", "timestamp"), table="events", backend=backend, keep=keep)
    if isinstance(by, str) and by not in table.columns:
        raise DataContractError(f"by={by!r} is not a column of the events", column=by,
                                rule="by is an events column or a customer -> segment mapping")

    names = [event for _, group in spec for event in group]
    rows = table.filter([table.customer_id.notnull(), table.event.isin(names)])
    rows = rows.mutate(customer_id=rows.customer_id.cast("string"), timestamp=naive_utc(rows.timestamp))
    if start is not None:
        rows = rows.filter(rows.timestamp >= ibis.literal(utc_naive(start).to_pydatetime()))
    if end is not None:
        rows = rows.filter(rows.timestamp < ibis.literal(end_exclusive(end, "end").to_pydatetime()))
    cases = [(rows.event.isin(list(group)), index) for index, (_, group) in enumerate(spec)]
    stage_of = ibis.cases(*cases, else_=-1)
    rows = rows.mutate(stage=stage_of)

    if mode == "closed":
        wide = _closed(rows, len(spec), window_td)
    else:
        wide = _open(rows, len(spec))
    segmented = by is not None
    if isinstance(by, str):
        if mode == "closed":
            entry = rows.filter(rows.stage == 0).join(wide.select("customer_id", "t0"), "customer_id")
            entry = entry.filter(entry.timestamp == entry.t0)
        else:
            entry = rows
        values = entry.group_by("customer_id").aggregate(segment=entry[by].cast("string").min())
        wide = wide.left_join(values, "customer_id").drop("customer_id_right")
    elif segmented:
        mapping = segment_table(by, rows, name="by")
        wide = wide.left_join(mapping, "customer_id").drop("customer_id_right")
    if segmented:
        wide = wide.mutate(segment=wide.segment.fill_null("(none)"))

    metrics: dict[str, Any] = {}
    for k in range(len(spec)):
        reached = wide[f"t{k}"].notnull()
        metrics[f"n{k}"] = reached.sum()
        if k > 0:
            metrics[f"both{k}"] = (reached & wide[f"t{k - 1}"].notnull()).sum()
            metrics[f"from_start{k}"] = (reached & wide["t0"].notnull()).sum()
            if mode == "closed":
                metrics[f"gap{k}"] = wide[f"gap{k}"].median()
    grouped = wide.group_by("segment").aggregate(**metrics) if segmented else wide.aggregate(**metrics)
    result = grouped.to_pandas()
    return _per_stage(result, spec, mode, alpha, segmented)


def _closed(rows: Any, n_stages: int, window: pd.Timedelta | None) -> Any:
    """Per customer: the time each stage was reached in order (``t0 .. t{K-1}``) and the gaps in seconds."""
    import ibis

    entry = rows.filter(rows.stage == 0)
    wide = entry.group_by("customer_id").aggregate(t0=entry.timestamp.min())
    current = wide.select("customer_id", "t0", prev=wide.t0)
    for k in range(1, n_stages):
        stage_rows = rows.filter(rows.stage == k).select("customer_id", "timestamp")
        joined = stage_rows.join(current, "customer_id")
        conditions = [joined.timestamp >= joined.prev]
        if window is not None:
            # in microseconds (the engine's resolution) when the window has a fraction of a second: whole
            # seconds would cut "1500ms" to 1 s
            micro = int(window // pd.Timedelta(1, "us"))
            limit = ibis.interval(seconds=micro // 1_000_000) if micro % 1_000_000 == 0 else \
                ibis.interval(microseconds=micro)
            conditions.append(joined.timestamp <= joined.t0 + limit)
        joined = joined.filter(conditions)
        step = joined.group_by(["customer_id", "t0", "prev"]).aggregate(reached=joined.timestamp.min())
        step = step.select(
            "customer_id", "t0", prev=step.reached,
            **{f"t{k}": step.reached,
               f"gap{k}": (step.reached.epoch_seconds() - step.prev.epoch_seconds()).cast("float64")},
        )
        wide = wide.left_join(step.select("customer_id", f"t{k}", f"gap{k}"), "customer_id").drop(
            "customer_id_right")
        current = step.select("customer_id", "t0", "prev")
    return wide


def _open(rows: Any, n_stages: int) -> Any:
    """Per customer: the first time of each stage, in any order (``t0 .. t{K-1}``; null when never reached)."""
    firsts = {f"t{k}": rows.timestamp.min(where=rows.stage == k) for k in range(n_stages)}
    return rows.group_by("customer_id").aggregate(**firsts)


def _per_stage(result: pd.DataFrame, spec: list[tuple[str, tuple[str, ...]]], mode: str, alpha: float,
               segmented: bool) -> pd.DataFrame:
    records = []
    groups = result.sort_values("segment") if segmented else result
    for _, row in groups.iterrows():
        start_n = float(row["n0"] or 0)
        for k, (label, _) in enumerate(spec):
            n_k = float(row[f"n{k}"] or 0)
            record: dict[str, Any] = {"segment": str(row["segment"])} if segmented else {}
            record.update({"step": k + 1, "stage": label, "customers": int(n_k)})
            if k == 0:
                previous, both, from_start = n_k, n_k, n_k
            else:
                previous = float(row[f"n{k - 1}"] or 0)
                both = float(row[f"both{k}"] or 0)
                from_start = float(row[f"from_start{k}"] or 0)
            record["conversion_from_previous"] = both / previous if previous else np.nan
            low, high = wilson_interval(both, previous, alpha)
            record["conversion_from_previous_lower"], record["conversion_from_previous_upper"] = float(low), float(high)
            record["conversion_from_start"] = from_start / start_n if start_n else np.nan
            low, high = wilson_interval(from_start, start_n, alpha)
            record["conversion_from_start_lower"], record["conversion_from_start_upper"] = float(low), float(high)
            record["drop_off"] = int(previous - both)
            if mode == "closed":
                gap = row.get(f"gap{k}") if k > 0 else None
                record["median_time_from_previous"] = (
                    pd.Timedelta(seconds=float(gap)) if gap is not None and pd.notna(gap) else pd.NaT)
            records.append(record)
    frame = pd.DataFrame(records)
    if segmented:
        frame["segment"] = frame["segment"].astype("string")
    frame["stage"] = frame["stage"].astype("string")
    return frame
