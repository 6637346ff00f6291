"""Segments over time: as-of snapshots, the migration matrix between two dates, flows in words, segment trends.

Each snapshot scores only the transactions up to its date (``rfm_scores(..., observation_end=date)``, computed by
the engine), so a snapshot never sees the future. Percentile scores are relative to the customers present at
that date, as in the report of that date.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crm_models.data.timestamps import end_exclusive, end_inclusive_day
from crm_models.exceptions import DataContractError
from crm_models.rfm.scores import rfm_scores
from crm_models.rfm.segments import RFM_GRID_RULES, parse_rules, segment_customers

#: Segments of the default map from most to least active (used to say "slipped" or "moved up").
ACTIVITY_ORDER: tuple[str, ...] = tuple(rule.name for rule in RFM_GRID_RULES)
NEW_ROW = "not yet a customer"


def segment_history(transactions: Any, dates: Sequence[Any], *, rules: Any = None,
                    backend: Any = None) -> pd.DataFrame:
    """One row per customer and as-of date: ``as_of``, ``customer_id``, ``segment``, the R/F/M scores and
    ``monetary`` (net spend up to that date). A date means the whole day."""
    if len(dates) == 0:
        raise DataContractError("no snapshot dates given", column="dates", rule="at least one date")
    frames = []
    for date in sorted({end_inclusive_day(d, "dates") for d in dates}):
        scores = rfm_scores(transactions, observation_end=date, backend=backend)
        segments = segment_customers(scores, rules)
        frames.append(pd.DataFrame({
            "as_of": date, "customer_id": scores.index.astype(str), "segment": segments.astype(str).to_numpy(),
            "R": scores["R"].to_numpy(), "F": scores["F"].to_numpy(), "M": scores["M"].to_numpy(),
            "monetary": scores["monetary"].to_numpy(),
        }))
    return pd.concat(frames, ignore_index=True)


def _snapshot(history: pd.DataFrame, date: Any) -> pd.DataFrame:
    day = end_inclusive_day(date, "date")
    part = history[history["as_of"] == day]
    if part.empty:
        raise DataContractError(f"the segment history has no snapshot at {day.date()}", column="as_of",
                                rule="a date of the history",
                                examples=sorted(history["as_of"].dt.date.unique())[:5])
    return part.set_index("customer_id")


def migration_matrix(history: pd.DataFrame, start: Any, end: Any, *, rules: Any = None) -> dict[str, pd.DataFrame]:
    """How customers moved between segments from ``start`` to ``end`` (two dates of ``history``).

    Returns ``counts`` (rows: segment at ``start``, plus a row for customers who first bought after ``start``;
    columns: segment at ``end``), ``shares`` (each row of customers present at both dates divided by its total)
    and ``revenue`` (the customers' spend between the two dates, by flow). The counts of the segment rows sum to
    the customers present at both dates.
    """
    before, after = _snapshot(history, start), _snapshot(history, end)
    order = [r.name for r in parse_rules(rules)]
    names = order + sorted((set(before["segment"]) | set(after["segment"])) - set(order))
    both = before.index.intersection(after.index)
    new = after.index.difference(before.index)
    flows = pd.DataFrame({"from": before.loc[both, "segment"], "to": after.loc[both, "segment"],
                          "revenue": after.loc[both, "monetary"] - before.loc[both, "monetary"]})
    flows = pd.concat([flows, pd.DataFrame({"from": NEW_ROW, "to": after.loc[new, "segment"],
                                            "revenue": after.loc[new, "monetary"]})])
    rows = [*names, NEW_ROW]
    counts = pd.crosstab(flows["from"], flows["to"]).reindex(index=rows, columns=names, fill_value=0)
    revenue = (flows.pivot_table(index="from", columns="to", values="revenue", aggfunc="sum", observed=False)
               .reindex(index=rows, columns=names).fillna(0.0))
    present = counts.loc[names]
    totals = present.sum(axis=1).replace(0, np.nan)
    shares = present.div(totals, axis=0)
    for frame in (counts, revenue, shares):
        frame.index.name, frame.columns.name = "segment before", "segment after"
    return {"counts": counts, "shares": shares, "revenue": revenue}


def migration_flows(matrix: dict[str, pd.DataFrame], *, top: int = 5, since: str = "the previous snapshot",
                    order: Sequence[str] = ACTIVITY_ORDER) -> list[str]:
    """The largest moves between different segments, in words, e.g. "412 loyal customers slipped to at risk
    since the last quarter". "Slipped" when the later segment is less active in ``order``, "moved up" when more."""
    counts = matrix["counts"]
    rank = {name: i for i, name in enumerate(order)}
    moves = counts.stack()
    moves = moves[(moves > 0) & (moves.index.get_level_values(0) != moves.index.get_level_values(1))]
    sentences = []
    for (source, target), n in moves.sort_values(ascending=False, kind="stable").head(top).items():
        if source == NEW_ROW:
            sentences.append(f"{n:,} new customers arrived as {target} since {since}")
            continue
        verb = "moved"
        if source in rank and target in rank:
            verb = "slipped to" if rank[target] > rank[source] else "moved up to"
        sentences.append(f"{n:,} {source} customers {verb} {target} since {since}")
    return sentences


def segment_trends(transactions: pd.DataFrame, history: pd.DataFrame, *, active_within_days: int = 90) -> pd.DataFrame:
    """Per snapshot and segment: customers, spend up to the snapshot, and the share still active within
    ``active_within_days`` after it (a purchase in that window; ``NaN`` when the window passes the data's end).

    This checks a segment's label against what its customers did next: "lost" customers should rarely buy
    again, "champions" usually.
    """
    tx = transactions[transactions["amount"] > 0]
    stamps = pd.to_datetime(tx["timestamp"])
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    data_end = stamps.max()
    ids = tx["customer_id"].astype(str).to_numpy()
    rows = []
    for as_of, part in history.groupby("as_of", sort=True):
        start = end_exclusive(as_of)
        stop = start + pd.Timedelta(days=active_within_days)
        window = (stamps >= start).to_numpy() & (stamps < stop).to_numpy()
        buyers = set(ids[window])
        complete = stop - pd.Timedelta(days=1) <= data_end
        active = part["customer_id"].isin(buyers)
        grouped = part.assign(active=active).groupby("segment", sort=False)
        for segment, group in grouped:
            rows.append({"as_of": as_of, "segment": segment, "customers": len(group),
                         "spend_to_date": float(group["monetary"].sum()),
                         "active_share": float(group["active"].mean()) if complete else np.nan})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class Migration:
    """Segments at ``before`` and ``after`` compared: ``matrix`` from :func:`migration_matrix` and the largest
    ``flows`` in words from :func:`migration_flows`."""

    before: pd.Timestamp
    after: pd.Timestamp
    matrix: dict[str, pd.DataFrame]
    flows: list[str]


def migration_since(transactions: Any, as_of: Any, *, days: int = 90, rules: Any = None, top: int = 5,
                    backend: Any = None) -> Migration | None:
    """How segments changed in the ``days`` before ``as_of`` (the previous comparable snapshot, e.g. a quarter
    earlier), or ``None`` when nobody had bought by then (the data start later)."""
    after = end_inclusive_day(as_of, "as_of")
    before = after - pd.Timedelta(days=days)
    latest = segment_history(transactions, [after], rules=rules, backend=backend)  # bad input raises here
    try:
        earlier = segment_history(transactions, [before], rules=rules, backend=backend)
    except DataContractError:  # no purchase up to `before`: nothing to compare with
        return None
    history = pd.concat([earlier, latest], ignore_index=True)
    matrix = migration_matrix(history, before, after, rules=rules)
    return Migration(before, after, matrix, migration_flows(matrix, top=top, since=f"{before:%d %B %Y}"))
