"""Segments over time checked by hand: segment_history, the snapshot lookup, migration_since, flows in words
and segment trends (issue 21, mutation testing of ``crm_models.rfm.migration``).

Each test names the mutation classes it was written against. ``segment_history`` is defined as
``rfm_scores(transactions, observation_end=date)`` followed by ``segment_customers`` at each date, so some
expectations are built from those two (tested by hand in ``test_rfm_scores_by_hand.py``).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from crm_models.data.engine import duckdb_backend
from crm_models.exceptions import ConfigurationError, DataContractError
from crm_models.rfm import rfm_scores, segment_customers
from crm_models.rfm.migration import (
    ACTIVITY_ORDER,
    NEW_ROW,
    migration_flows,
    migration_matrix,
    migration_since,
    segment_history,
    segment_trends,
)
from crm_models.rfm.segments import SEED_003_RULES


def _tx(rows: list[tuple[object, str, float]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], format="ISO8601")
    return frame


SHOP = _tx([
    ("a", "2024-01-10", 10.0), ("a", "2024-03-15", 20.0), ("a", "2024-06-20", 30.0),
    ("b", "2024-02-01", 50.0), ("b", "2024-03-30", 5.0),
    ("c", "2024-05-05", 5.0),
    ("d", "2024-03-31 18:00", 8.0), ("d", "2024-06-29", 8.0),
    ("e", "2024-01-02", 1.0),
])


def _n_tables(con) -> int:
    return con.con.execute("select count(*) from information_schema.tables").fetchall()[0][0]


# --------------------------------------------------------------------------------------------- segment_history
def test_segment_history_is_the_scores_and_segments_of_each_date() -> None:
    # Dates are days: "2024-03-31 10:00" and "2024-03-31" are one snapshot (the whole day); snapshots come out
    # in date order with a fresh 0..n-1 index. mutations checked: the date of each snapshot (observation_end
    # not passed on), the rule set not passed on (`segment_customers(scores, None)`), every output column
    # (name and source), the customer ids as text, `ignore_index=False`
    history = segment_history(SHOP, ["2024-06-30", "2024-03-31 10:00", "2024-03-31"], rules="seed_003")
    assert list(history.columns) == ["as_of", "customer_id", "segment", "R", "F", "M", "monetary"]
    assert history["as_of"].drop_duplicates().tolist() == [pd.Timestamp("2024-03-31"), pd.Timestamp("2024-06-30")]
    assert history.index.equals(pd.RangeIndex(len(history)))
    for day, part in history.groupby("as_of"):
        scores = rfm_scores(SHOP, observation_end=day)
        segments = segment_customers(scores, "seed_003")
        assert part["customer_id"].tolist() == list(scores.index)
        assert part["segment"].tolist() == segments.astype(str).tolist()
        for column in ("R", "F", "M", "monetary"):
            assert part[column].tolist() == scores[column].tolist(), column
    march = history[history["as_of"] == "2024-03-31"].set_index("customer_id")
    # by hand: up to 31 March, a spent 30, b 55, d 8 (its purchase at 18:00 on the 31st is in), e 1; c not yet
    assert march["monetary"].to_dict() == {"a": 30.0, "b": 55.0, "d": 8.0, "e": 1.0}
    assert set(history["segment"]) <= {r.name for r in SEED_003_RULES} | {"needs attention"}


def test_segment_history_uses_the_backend_given_and_names_bad_dates() -> None:
    # mutations checked: `backend=` dropped / None, the parameter name "dates" in the date error, the empty-
    # dates error's message
    con = duckdb_backend()
    before = _n_tables(con)
    segment_history(SHOP, ["2024-06-30"], backend=con)
    assert _n_tables(con) > before
    with pytest.raises(ConfigurationError, match="dates='someday'"):
        segment_history(SHOP, ["someday"])
    with pytest.raises(DataContractError, match="^no snapshot dates given"):
        segment_history(SHOP, [])


# ------------------------------------------------------------------------------------ snapshot lookup errors
def test_a_missing_snapshot_lists_the_first_five_dates_of_the_history() -> None:
    # mutations checked: the examples (dropped, `[:6]`), the message naming the date asked for, the parameter
    # name "date" of a date that cannot be read
    days = pd.date_range("2024-01-31", periods=6, freq="ME")
    history = pd.DataFrame({"as_of": days, "customer_id": "a", "segment": "lost", "monetary": 1.0})
    with pytest.raises(DataContractError, match="no snapshot at 2024-07-15") as info:
        migration_matrix(history, "2024-07-15", days[-1])
    assert info.value.examples == [d.date() for d in days[:5]]
    with pytest.raises(ConfigurationError, match="date='soon'"):
        migration_matrix(history, "soon", days[-1])


def test_migration_matrix_follows_the_rule_set_given() -> None:
    # With the seed-003 rules the rows and columns are those rules in order, then the other names seen (here
    # the seed set's remainder). mutation checked: `parse_rules(None)` (the default map's order)
    history = segment_history(SHOP, ["2024-03-31", "2024-06-30"], rules="seed_003")
    matrix = migration_matrix(history, "2024-03-31", "2024-06-30", rules="seed_003")
    names = [r.name for r in SEED_003_RULES]
    seen = sorted(set(history["segment"]) - set(names))
    assert list(matrix["counts"].columns) == names + seen
    assert list(matrix["counts"].index) == [*names, *seen, NEW_ROW]
    assert int(matrix["counts"].loc[NEW_ROW].sum()) == 1  # c bought first in May


# --------------------------------------------------------------------------------------------- migration_since
def test_migration_since_compares_with_the_snapshot_days_before() -> None:
    # as_of 30 June, 90 days: the earlier snapshot is 1 April. mutations checked: `after + days`, each argument
    # of the two segment_history calls, of migration_matrix and of migration_flows (`top`, `since`), the
    # fields of the result
    m = migration_since(SHOP, "2024-06-30", days=90, rules="seed_003", top=1)
    assert (m.before, m.after) == (pd.Timestamp("2024-04-01"), pd.Timestamp("2024-06-30"))
    history = segment_history(SHOP, ["2024-04-01", "2024-06-30"], rules="seed_003")
    expected = migration_matrix(history, "2024-04-01", "2024-06-30", rules="seed_003")
    assert set(m.matrix) == {"counts", "shares", "revenue"}
    for key, frame in expected.items():
        pd.testing.assert_frame_equal(m.matrix[key], frame)
    all_flows = migration_flows(expected, top=10, since="01 April 2024")
    assert len(all_flows) >= 2, "the example needs two moves for `top` to matter"
    assert m.flows == all_flows[:1] and m.flows[0].endswith("since 01 April 2024")


def test_migration_since_before_the_data_and_with_a_backend() -> None:
    # None when nobody had bought by the earlier date; an as_of before every purchase is bad input and raises.
    # mutations checked: `backend=` of both segment_history calls, the parameter name "as_of"
    assert migration_since(SHOP, "2024-02-15", days=60) is None
    with pytest.raises(DataContractError):
        migration_since(SHOP, "2023-12-31")
    with pytest.raises(ConfigurationError, match="as_of='someday'"):
        migration_since(SHOP, "someday")
    for days in (90, 200):  # 200 days: the earlier call fails on the backend and the result is None
        con = duckdb_backend()
        before = _n_tables(con)
        migration_since(SHOP, "2024-06-30", days=days, backend=con)
        assert _n_tables(con) >= before + 2, "both snapshots read the data on the backend given"


# --------------------------------------------------------------------------------------------- migration_flows
def _counts() -> pd.DataFrame:
    return pd.DataFrame(0, index=[*ACTIVITY_ORDER, "vip", NEW_ROW], columns=[*ACTIVITY_ORDER, "vip"])


def test_flows_go_on_after_the_new_customers_and_name_moves_to_other_segments() -> None:
    # The new customers are the largest flow; the flows after them still come (mutation: `break` instead of
    # `continue`). A move between a map segment and one outside the order only "moved" (mutations `or` for
    # `and`, `not in` on either side: a KeyError or a wrong verb).
    counts = _counts()
    counts.loc[NEW_ROW, "champions"] = 9
    counts.loc["champions", "vip"] = 5
    counts.loc["vip", "lost"] = 4
    counts.loc["lost", "champions"] = 2
    words = migration_flows({"counts": counts}, since="May")
    assert words == [
        "9 new customers arrived as champions since May",
        "5 champions customers moved vip since May",
        "4 vip customers moved lost since May",
        "2 lost customers moved up to champions since May",
    ]


def test_tied_flows_keep_the_order_of_the_table() -> None:
    # Every move between two segments of the map (and every arrival) has size 1, 2 or 3 (seeded): within a size
    # the sentences keep the table's order (segment before, then segment after), also for more moves than
    # NumPy sorts by insertion. Expected order from Python's stable `sorted`. mutation checked: `kind=` dropped
    # or None (quicksort reorders ties on 121 moves)
    rng = np.random.default_rng(21)
    counts = pd.DataFrame(0, index=[*ACTIVITY_ORDER, NEW_ROW], columns=list(ACTIVITY_ORDER))
    cells = [(s, t) for s in counts.index for t in counts.columns if s != t]
    sizes = {cell: int(rng.integers(1, 4)) for cell in cells}
    for (source, target), n in sizes.items():
        counts.loc[source, target] = n
    rank = {name: i for i, name in enumerate(ACTIVITY_ORDER)}

    def sentence(source: str, target: str) -> str:
        n = sizes[(source, target)]
        if source == NEW_ROW:
            return f"{n} new customers arrived as {target} since the previous snapshot"
        verb = "slipped to" if rank[target] > rank[source] else "moved up to"
        return f"{n} {source} customers {verb} {target} since the previous snapshot"

    expected = [sentence(*cell) for cell in sorted(cells, key=lambda cell: -sizes[cell])]
    assert migration_flows({"counts": counts}, top=len(cells)) == expected


# ---------------------------------------------------------------------------------------------- segment_trends
def test_segment_trends_keeps_segments_in_order_of_appearance_and_sums_spend() -> None:
    # Segments come in the order they first appear in the history (not sorted), spend_to_date is the segment's
    # spend up to the snapshot, and integer customer ids in the transactions match the text ids of the history.
    # mutations checked: `groupby("segment", sort=True)`, the spend column, `astype(None)` of the ids
    history = pd.DataFrame({
        "as_of": pd.to_datetime(["2024-03-31"] * 3), "customer_id": ["7", "8", "9"],
        "segment": ["zeta", "alpha", "zeta"], "monetary": [10.0, 2.5, 4.0],
    })
    tx = _tx([(7, "2024-04-02", 3.0), (8, "2024-06-15", 1.0), (9, "2024-07-30", 1.0)])
    out = segment_trends(tx, history, active_within_days=30)
    assert out["segment"].tolist() == ["zeta", "alpha"]
    assert out["spend_to_date"].tolist() == pytest.approx([14.0, 2.5])
    assert out["customers"].tolist() == [2, 1]
    assert out["active_share"].tolist() == pytest.approx([0.5, 0.0])  # 7 bought within 30 days, 9 and 8 later
    assert out["as_of"].tolist() == [pd.Timestamp("2024-03-31")] * 2
    assert list(out.columns) == ["as_of", "segment", "customers", "spend_to_date", "active_share"]


def test_snapshot_dates_in_examples_are_dates() -> None:
    # the examples of the missing-snapshot error are calendar dates (what a reader compares with the date asked)
    history = pd.DataFrame({"as_of": pd.to_datetime(["2024-03-31"]), "customer_id": ["a"], "segment": ["lost"],
                            "monetary": [1.0]})
    with pytest.raises(DataContractError) as info:
        migration_matrix(history, "2024-03-30", "2024-03-31")
    assert info.value.examples == [dt.date(2024, 3, 31)]


# ------------------------------------------------------------------------------------------------ the defaults
def _busy_shop(n: int = 80) -> pd.DataFrame:
    """Seeded customers with purchases spread over the first half of 2024: many moves between two quarters."""
    rng = np.random.default_rng(7)
    days = pd.date_range("2024-01-01", "2024-06-30", freq="D")
    rows = [(f"c{i:02d}", str(pd.Timestamp(day).date()), float(rng.integers(1, 100)))
            for i in range(n) for day in rng.choice(days, size=int(rng.integers(1, 8)), replace=False)]
    return _tx(rows)


def test_documented_defaults_of_migration_since_and_migration_flows() -> None:
    # days=90 (a quarter) and the five largest moves. mutations checked: the defaults `days=91`, `top=6` of
    # migration_since and `top=6` of migration_flows
    tx = _busy_shop()
    m = migration_since(tx, "2024-06-30")
    assert m.before == pd.Timestamp("2024-04-01")
    every = migration_flows(m.matrix, top=100, since="01 April 2024")
    assert len(every) > 5, "the example needs more than five moves"
    assert m.flows == every[:5]
    assert migration_flows(m.matrix, since="01 April 2024") == every[:5]


def test_segment_trends_default_window_and_a_data_end_on_the_last_day() -> None:
    # Default window: 90 days after the snapshot day, [1 April, 30 June) for 31 March: x buys on 29 June (in),
    # y on 30 June (out). With a 30-day window [1 April, 1 May) the data end exactly at midnight of its last day
    # (30 April) is enough for the share to be known. mutations checked: `active_within_days=91`, completeness
    # `stop - 1 day < data_end`
    history = pd.DataFrame({"as_of": pd.to_datetime(["2024-03-31"] * 2), "customer_id": ["x", "y"],
                            "segment": ["s", "s"], "monetary": [1.0, 1.0]})
    tx = _tx([("x", "2024-06-29", 1.0), ("y", "2024-06-30", 1.0)])
    assert segment_trends(tx, history)["active_share"].tolist() == [0.5]
    edge = _tx([("x", "2024-04-10", 1.0), ("z", "2024-04-30", 1.0)])
    assert segment_trends(edge, history, active_within_days=30)["active_share"].tolist() == [0.5]
