"""The complete default segment map, segments over time and the migration matrix (issue 20)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.exceptions import DataContractError
from crm_models.rfm import rfm_scores, segment_customers
from crm_models.rfm.migration import (
    ACTIVITY_ORDER,
    NEW_ROW,
    migration_flows,
    migration_matrix,
    segment_history,
    segment_trends,
)
from crm_models.rfm.segments import RFM_GRID_RULES, RULE_SETS, value_modifier

SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"


def grid_scores(r: list[int], f: list[int], m: list[int] | None = None) -> pd.DataFrame:
    n = len(r)
    return pd.DataFrame({"R": r, "F": f, "M": m or [3] * n, "R_pct": 50.0, "F_pct": 50.0, "M_pct": 50.0},
                        index=[f"c{i}" for i in range(n)])


def test_every_score_cell_has_exactly_one_named_segment() -> None:
    cells = list(itertools.product(range(1, 6), range(1, 6)))
    scores = grid_scores([r for r, _ in cells], [f for _, f in cells])
    hits = np.stack([rule.mask(scores) for rule in RFM_GRID_RULES])
    assert (hits.sum(axis=0) == 1).all(), "each (R, F) cell lies in exactly one segment of the map"
    segments = segment_customers(scores)
    assert set(segments.cat.categories) == {rule.name for rule in RFM_GRID_RULES}
    assert len(RFM_GRID_RULES) == 11 and all(rule.action for rule in RFM_GRID_RULES)


def test_documented_cells() -> None:
    scores = grid_scores([5, 5, 4, 1, 1, 2, 3, 3], [5, 1, 1, 5, 1, 2, 3, 1])
    assert segment_customers(scores).tolist() == [
        "champions", "new customers", "promising", "cannot lose them", "lost", "hibernating", "need attention",
        "about to sleep"]


def test_seed_rules_stay_available_by_name() -> None:
    assert set(RULE_SETS) == {"rfm_grid", "seed_003"}
    with pytest.raises(DataContractError, match="unknown segment rule set"):
        segment_customers(grid_scores([1], [1]), "seed-3")


def test_value_modifier_follows_m() -> None:
    tiers = value_modifier(grid_scores([3, 3, 3, 3, 3], [3] * 5, [1, 2, 3, 4, 5]))
    assert tiers.astype(str).tolist() == ["low spend", "low spend", "mid spend", "high spend", "high spend"]


def _shop(seed: int = 0, n: int = 300) -> pd.DataFrame:
    """Customers buying at their own steady rhythm over 2023, some starting late, a third stopping early."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        gap = rng.integers(5, 120)
        start = pd.Timestamp("2023-01-01") + pd.Timedelta(days=int(rng.integers(0, 200)))
        stop = pd.Timestamp("2023-05-01") if i % 3 == 0 else pd.Timestamp("2024-01-01")
        day = start
        while day < max(stop, start + pd.Timedelta(days=1)):
            rows.append((f"c{i:03d}", day, float(rng.gamma(2.0, 20.0)) + 1))
            day += pd.Timedelta(days=int(gap))
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])


def test_migration_counts_sum_to_customers_present_at_both_dates() -> None:
    tx = _shop()
    history = segment_history(tx, ["2023-06-30", "2023-09-30"])
    matrix = migration_matrix(history, "2023-06-30", "2023-09-30")
    before = set(history.loc[history.as_of == "2023-06-30", "customer_id"])
    after = set(history.loc[history.as_of == "2023-09-30", "customer_id"])
    counts = matrix["counts"]
    assert int(counts.drop(index=NEW_ROW).to_numpy().sum()) == len(before & after)
    assert int(counts.loc[NEW_ROW].sum()) == len(after - before)
    shares = matrix["shares"].dropna()
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    spend = tx[(tx.timestamp > "2023-06-30 23:59:59") & (tx.timestamp < "2023-10-01")]["amount"].sum()
    assert matrix["revenue"].to_numpy().sum() == pytest.approx(spend)


def test_no_leakage_a_snapshot_ignores_later_purchases() -> None:
    tx = _shop()
    early = segment_history(tx, ["2023-06-30"])
    truncated = segment_history(tx[tx.timestamp < "2023-07-01"], ["2023-06-30"])
    pd.testing.assert_frame_equal(early, truncated)


def test_a_customer_who_stops_buying_only_slips() -> None:
    dates = pd.date_range("2023-01-01", "2023-12-31", freq="7D")
    regulars = [(f"r{i:02d}", day, 30.0) for i in range(40) for day in dates[i % 7::(i % 5) + 1]]
    quitter = [("q", day, 30.0) for day in dates if day < pd.Timestamp("2023-05-01")]
    tx = pd.DataFrame(regulars + quitter, columns=["customer_id", "timestamp", "amount"])
    snapshots = ["2023-05-01", "2023-06-15", "2023-08-01", "2023-09-15", "2023-11-01", "2023-12-31"]
    history = segment_history(tx, snapshots)
    path = history[history.customer_id == "q"].sort_values("as_of")["segment"].tolist()
    ranks = [ACTIVITY_ORDER.index(s) for s in path]
    assert ranks == sorted(ranks), path
    assert path[-1] in {"lost", "hibernating", "at risk", "cannot lose them"}


def test_flows_in_words() -> None:
    counts = pd.DataFrame(0, index=[*ACTIVITY_ORDER, NEW_ROW], columns=list(ACTIVITY_ORDER))
    counts.loc["loyal", "at risk"] = 412
    counts.loc["about to sleep", "need attention"] = 30
    counts.loc[NEW_ROW, "new customers"] = 7
    counts.loc["loyal", "loyal"] = 1000
    words = migration_flows({"counts": counts}, since="the last quarter")
    assert words[0] == "412 loyal customers slipped to at risk since the last quarter"
    assert words[1] == "30 about to sleep customers moved up to need attention since the last quarter"
    assert words[2] == "7 new customers arrived as new customers since the last quarter"


def test_trends_check_labels_against_what_customers_did_next() -> None:
    tx = _shop()
    history = segment_history(tx, ["2023-08-31", "2023-12-31"])
    trends = segment_trends(tx, history, active_within_days=60)
    assert trends.loc[trends.as_of == "2023-12-31", "active_share"].isna().all(), "window passes the data's end"
    aug = trends[trends.as_of == "2023-08-31"].set_index("segment")
    assert aug["customers"].sum() == (history.as_of == "2023-08-31").sum()
    assert aug["active_share"].between(0, 1).all()
    assert {"champions", "lost"} <= set(aug.index), "the seeded shop has both ends of the map"
    assert aug.loc["champions", "active_share"] > aug.loc["lost", "active_share"]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 5), st.integers(1, 5)), min_size=1, max_size=40))
def test_map_is_invariant_to_row_order(cells: list[tuple[int, int]]) -> None:
    scores = grid_scores([r for r, _ in cells], [f for _, f in cells])
    forward = segment_customers(scores)
    backward = segment_customers(scores.iloc[::-1])
    pd.testing.assert_series_equal(forward, backward.loc[forward.index])
    assert (forward.astype(str) != "unsegmented").all()


@pytest.mark.realdata
@pytest.mark.skipif(not (SHARED / "online_retail.csv.gz").exists(), reason="../shared/data is absent")
def test_default_map_covers_online_retail_and_the_demo_with_no_segment_over_35_percent() -> None:
    from crm_models.datasets.sources import load_transactions_source

    for source in ("demo", str(SHARED / "online_retail.csv.gz")):
        loaded = load_transactions_source(source)
        segments = segment_customers(rfm_scores(loaded.transactions, observation_end=loaded.observation_end))
        shares = segments.value_counts(normalize=True)
        assert (segments.astype(str) != "unsegmented").all()
        assert shares.max() <= 0.35, (source, shares.to_dict())
