"""Events exactly on a window edge, and tz-aware timestamps in a non-UTC zone near midnight (issue 21, item 1).

Every expectation is computed by hand from the documented rule, and every test names the plausible wrong
implementation (the mutation) it was checked against:

- churn (``crm_models.churn.features``): history is ``[b - lookback, b)`` and the label window ``[b, b + horizon)``
  with ``b = end_exclusive(cutoff)``; the ``w``-day feature windows are ``[b - w days, b)`` (``age <= w``) and the
  trend windows ``[b - 2w, b - w)``;
- journeys (``crm_models.attribution.build_journeys``): a touch is kept when ``end - lookback <= touch``;
- end dates (``crm_models.data.timestamps.end_exclusive``): a midnight timestamp means the whole day *in its own
  zone*, a time of day includes that instant.
"""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.attribution import build_journeys
from crm_models.churn import make_churn_dataset
from crm_models.data.timestamps import end_exclusive, end_inclusive_day
from crm_models.rfm import rfm_scores
from crm_models.rfm.scores import percentile_scores, quantile_scores

SECOND = pd.Timedelta(seconds=1)
B = pd.Timestamp("2024-04-01")  # end_exclusive("2024-03-31"): history ends at this midnight
CUTOFF = "2024-03-31"


def _churn_frame(rows: list[tuple[str, pd.Timestamp, float]], zone: str | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], format="ISO8601")
    if zone is not None:
        frame["timestamp"] = frame["timestamp"].dt.tz_localize(zone)
    # a far-away customer pins the time range so that every label window fits in the data
    return frame


def _edges() -> pd.DataFrame:
    rows = [
        # label window [B, B + 30 d): a purchase exactly at its end does not count -> churned
        ("label_end", B - pd.Timedelta(days=5), 10.0),
        ("label_end", B + pd.Timedelta(days=30), 10.0),
        # a purchase exactly at B is the first instant of the label window (not history) -> stays
        ("label_start", B - pd.Timedelta(days=5), 10.0),
        ("label_start", B, 10.0),
        # one second before B is history; nothing in the label window -> churned
        ("last_second", B - pd.Timedelta(days=50), 10.0),
        ("last_second", B - SECOND, 10.0),
        # exactly 30 days before B: inside the 30-day window (age == 30); one second earlier: the previous one
        ("w30_in", B - pd.Timedelta(days=30), 10.0),
        ("w30_out", B - pd.Timedelta(days=30) - SECOND, 10.0),
        # exactly 60 days before B: the last instant of the "previous 30 days" trend window [B - 60, B - 30)
        ("prev30_in", B - pd.Timedelta(days=60), 10.0),
        ("prev30_out", B - pd.Timedelta(days=60) - SECOND, 10.0),
        # population: a purchase exactly lookback (100 d) before B is in; one second earlier is out
        ("lookback_in", B - pd.Timedelta(days=100), 10.0),
        ("lookback_out", B - pd.Timedelta(days=100) - SECOND, 10.0),
        ("zz_range", pd.Timestamp("2024-06-30"), 1.0),
    ]
    return _churn_frame(rows)


@pytest.fixture(scope="module")
def edge_set():
    return make_churn_dataset(_edges(), CUTOFF, horizon=30, lookback=100, windows=(30, 90), use_bgnbd=False)


def test_label_window_is_half_open_at_both_ends(edge_set) -> None:
    # mutations checked: `_epoch < end` -> `<= end` (label_end would stay), `_epoch >= c` -> `> c`
    # (label_start would churn), the cutoff bound one day early/late (last_second would move)
    y = edge_set.y
    assert y["label_end"] == 1
    assert y["label_start"] == 0
    assert y["last_second"] == 1
    # the purchase at B is not history: one order in the features, 5 days of recency
    assert edge_set.X.loc["label_start", "n_orders"] == 1
    assert edge_set.X.loc["label_start", "recency_days"] == pytest.approx(5.0)
    assert edge_set.X.loc["last_second", "recency_days"] == pytest.approx(1 / 86_400, abs=1e-6)


def test_feature_windows_include_their_first_instant(edge_set) -> None:
    # mutations checked: `age <= w` -> `age < w` (w30_in drops out of orders_30d), and the trend window
    # `(age > w) & (age <= 2w)` -> `>= w` / `< 2w`
    X = edge_set.X
    assert X.loc["w30_in", "recency_days"] == pytest.approx(30.0)
    assert X.loc["w30_in", "orders_30d"] == 1 and X.loc["w30_in", "spend_30d"] == pytest.approx(10.0)
    assert X.loc["w30_out", "orders_30d"] == 0 and X.loc["w30_out", "spend_30d"] == 0.0
    assert X.loc["w30_out", "orders_90d"] == 1
    # trend: orders_30d - orders_prev_30d
    assert X.loc["w30_in", "orders_trend_30d"] == 1.0
    assert X.loc["w30_out", "orders_trend_30d"] == -1.0  # age 30 d + 1 s: previous window
    assert X.loc["prev30_in", "orders_trend_30d"] == -1.0  # age exactly 60: still the previous window
    assert X.loc["prev30_out", "orders_trend_30d"] == 0.0  # age 60 d + 1 s: in neither window


def test_lookback_population_includes_its_first_instant(edge_set) -> None:
    # mutation checked: `recency_days <= lookback` -> `<` (lookback_in would be dropped)
    assert "lookback_in" in edge_set.X.index
    assert "lookback_out" not in edge_set.X.index
    assert edge_set.X.loc["lookback_in", "recency_days"] == pytest.approx(100.0)


def test_aware_transactions_in_a_western_zone_near_midnight() -> None:
    # 21:00 in New York on the cutoff day is 01:00 UTC the next day. Naive data are UTC and a naive cutoff is a
    # UTC day, so this purchase is in the label window, not history. A reader that dropped the zone without
    # converting (tz_localize(None)) would make it history.
    rows = [
        ("ny", pd.Timestamp("2024-03-20 12:00"), 10.0),
        ("ny", pd.Timestamp("2024-03-31 21:00"), 10.0),  # EDT: 2024-04-01 01:00 UTC
        ("early", pd.Timestamp("2024-03-31 19:59"), 10.0),  # 23:59 UTC: history
        ("zz_range", pd.Timestamp("2024-06-30"), 1.0),
    ]
    ds = make_churn_dataset(_churn_frame(rows, "America/New_York"), CUTOFF, horizon=30, lookback=100,
                            use_bgnbd=False)
    assert ds.y["ny"] == 0
    assert ds.X.loc["ny", "n_orders"] == 1
    assert ds.X.loc["ny", "recency_days"] == pytest.approx(11 + 8 / 24)  # 03-20 12:00 EDT = 16:00 UTC
    assert ds.X.loc["early", "recency_days"] == pytest.approx(1 / (24 * 60))


def test_aware_transactions_in_an_eastern_zone_near_midnight() -> None:
    # 08:30 in Tokyo on April 1 is 23:30 UTC on March 31 (history); 09:00 is exactly B (label window).
    rows = [
        ("tokyo_hist", pd.Timestamp("2024-04-01 08:30"), 10.0),
        ("tokyo_label", pd.Timestamp("2024-03-25 09:00"), 10.0),
        ("tokyo_label", pd.Timestamp("2024-04-01 09:00"), 10.0),
        ("zz_range", pd.Timestamp("2024-06-30"), 1.0),
    ]
    ds = make_churn_dataset(_churn_frame(rows, "Asia/Tokyo"), CUTOFF, horizon=30, lookback=100,
                            use_bgnbd=False)
    assert ds.X.loc["tokyo_hist", "recency_days"] == pytest.approx(0.5 / 24)
    assert ds.y["tokyo_hist"] == 1
    assert ds.X.loc["tokyo_label", "n_orders"] == 1 and ds.y["tokyo_label"] == 0


def test_an_aware_midnight_cutoff_means_the_whole_day_in_its_own_zone() -> None:
    # ARCHITECTURE.md, "Dates": a midnight timestamp given as a cutoff means the whole day. For New York's
    # March 31 that is up to April 1 00:00 EDT = 04:00 UTC, so a purchase at 21:00 New York time on March 31
    # is history. The old bound (the UTC day of the instant, + 1 day = April 1 00:00 UTC) put it in the label
    # window, and left four hours of the customer's day out of history.
    rows = [
        ("ny", pd.Timestamp("2024-03-20 12:00"), 10.0),
        ("ny", pd.Timestamp("2024-03-31 21:00"), 10.0),
        ("zz_range", pd.Timestamp("2024-06-30"), 1.0),
    ]
    cutoff = pd.Timestamp(CUTOFF, tz="America/New_York")
    ds = make_churn_dataset(_churn_frame(rows, "America/New_York"), cutoff, horizon=30, lookback=100,
                            use_bgnbd=False)
    assert ds.X.loc["ny", "n_orders"] == 2
    assert ds.y["ny"] == 1
    assert ds.X.loc["ny", "recency_days"] == pytest.approx(3 / 24)  # 21:00 -> midnight, New York time


@pytest.mark.parametrize(
    ("value", "bound", "last_day"),
    [
        # naive and UTC values: unchanged rules
        ("2024-03-31", "2024-04-01 00:00", "2024-03-31"),
        (pd.Timestamp("2024-03-31", tz="UTC"), "2024-04-01 00:00", "2024-03-31"),
        (pd.Timestamp("2024-03-31 21:00", tz="America/New_York"), "2024-04-01 01:00:00.000000001",
         "2024-04-01"),
        # a whole day in its own zone
        (pd.Timestamp("2024-03-31", tz="America/New_York"), "2024-04-01 04:00", "2024-04-01"),
        (pd.Timestamp("2024-04-01", tz="Asia/Tokyo"), "2024-04-01 15:00", "2024-04-01"),
        ("2024-04-01T00:00:00+09:00", "2024-04-01 15:00", "2024-04-01"),
        # the day clocks spring forward has 23 hours: March 10 2024 in New York ends at 04:00 UTC on March 11
        (pd.Timestamp("2024-03-10", tz="America/New_York"), "2024-03-11 04:00", "2024-03-11"),
    ],
)
def test_end_exclusive_of_aware_values(value, bound, last_day) -> None:
    # mutations checked: the UTC day of the instant (the old rule: 2024-04-01 00:00 for New York, 2024-04-01
    # 00:00 for Tokyo), and `+ Timedelta(days=1)` (24 h) instead of one calendar day across the DST change
    assert end_exclusive(value) == pd.Timestamp(bound)
    # the last UTC day that holds an included instant
    assert end_inclusive_day(value) == pd.Timestamp(last_day)


# ---------------------------------------------------------------------------------------------- journeys
def _touches(rows: list[tuple[str, str, str, int]], zone: str | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "channel", "conversion"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], format="ISO8601")
    if zone is not None:
        frame["timestamp"] = frame["timestamp"].dt.tz_localize(zone)
    return frame


@pytest.mark.parametrize("zone", [None, "America/New_York", "Asia/Kolkata"])
def test_journey_lookback_keeps_a_touch_exactly_lookback_before_the_end(zone) -> None:
    # mutation checked: `timestamp >= end_ts - lookback` -> `>` (drops "email" of customer a)
    rows = [
        ("a", "2024-01-01 23:30", "email", 0),
        ("a", "2024-01-08 23:30", "search", 1),  # exactly 7 days later
        ("b", "2024-01-01 23:29:59", "display", 0),  # 7 days and 1 second before its conversion
        ("b", "2024-01-08 23:30", "search", 1),
        # non-converting journey: the end is its last touch
        ("c", "2024-01-02 00:00", "social", 0),
        ("c", "2024-01-09 00:00", "email", 0),
        ("c", "2024-01-09 00:00:01", "display", 0),
    ]
    out = build_journeys(_touches(rows, zone), lookback="7D", aggregate=False).set_index("customer_id")
    assert out.loc["a", "path"] == "email > search"
    assert out.loc["b", "path"] == "search"
    assert out.loc["c", "path"] == "email > display"  # social is 7 d + 1 s before the last touch
    assert list(out.loc["a", "days_to_end"]) == [7.0, 0.0]
    # a number of days is the same rule
    days = build_journeys(_touches(rows, zone), lookback=7, aggregate=False).set_index("customer_id")
    assert days.loc["a", "path"] == "email > search" and days.loc["b", "path"] == "search"


def test_journey_lookback_in_a_zone_across_midnight_and_dst() -> None:
    # New York springs forward on 2024-03-10. From 2024-03-03 12:00 EST (17:00 UTC) to 2024-03-10 12:00 EDT
    # (16:00 UTC) is 6 days 23 hours: inside a 7-day lookback (a Timedelta is absolute time). 11:00 EST the
    # same day is exactly 7 days before: kept; 10:59:59 is outside.
    rows = [
        ("a", "2024-03-03 10:59:59", "display", 0),
        ("a", "2024-03-03 11:00", "email", 0),
        ("a", "2024-03-03 12:00", "social", 0),
        ("a", "2024-03-10 12:00", "search", 1),
    ]
    out = build_journeys(_touches(rows, "America/New_York"), lookback=pd.Timedelta(days=7), aggregate=False)
    assert out.loc[0, "path"] == "email > social > search"
    assert list(out.loc[0, "days_to_end"]) == pytest.approx([7.0, 7.0 - 1 / 24, 0.0])


# -------------------------------------------------------------------------------------------------- RFM
def test_rfm_observation_end_is_the_whole_day_and_recency_counts_days() -> None:
    # mutations checked: `timestamp < bound` -> `<=` / the bound without the whole day, and recency counted
    # from the bound (one day more) instead of from the end day
    frame = pd.DataFrame({
        "customer_id": ["a", "a", "b", "c", "c"],
        "timestamp": pd.to_datetime(["2024-03-01", "2024-03-31 23:59:59", "2024-03-30 12:00",
                                     "2024-03-20", "2024-04-01 00:00"], format="ISO8601"),
        "amount": [10.0, 20.0, 5.0, 7.0, 100.0],
    })
    out = rfm_scores(frame, observation_end="2024-03-31")
    assert out.loc["a", "frequency"] == 2 and out.loc["a", "monetary"] == pytest.approx(30.0)
    assert out.loc["a", "recency_days"] == 0
    assert out.loc["b", "recency_days"] == 1
    assert out.loc["c", "frequency"] == 1 and out.loc["c", "monetary"] == pytest.approx(7.0)  # April 1 is out
    assert out.loc["c", "recency_days"] == 11
    # a time of day includes that instant only
    timed = rfm_scores(frame, observation_end="2024-03-31 23:59:59")
    assert timed.loc["a", "frequency"] == 2
    earlier = rfm_scores(frame, observation_end="2024-03-31 23:59:58")
    assert earlier.loc["a", "frequency"] == 1 and earlier.loc["a", "recency_days"] == 30


def test_rfm_scores_at_the_bin_edges() -> None:
    # 10 distinct values: mid-rank percentiles 5, 15, ..., 95 -> quintiles 1,1,2,2,3,3,4,4,5,5
    values = pd.Series(range(10), dtype="float64")
    pct = percentile_scores(values)
    assert list(pct) == pytest.approx([5.0 + 10.0 * i for i in range(10)])
    assert list(quantile_scores(pct, 5)) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    # a percentile exactly on a bin edge goes to the upper bin, 100 stays in the top bin
    assert list(quantile_scores([0.0, 20.0, 39.999, 40.0, 99.9, 100.0], 5)) == [1, 2, 2, 3, 5, 5]
    # ties share the mid-rank: three equal lowest values -> (1+2+3)/3 = 2 -> 100 * (2 - 0.5) / 4 = 37.5
    assert list(percentile_scores([1.0, 1.0, 1.0, 9.0])) == pytest.approx([37.5, 37.5, 37.5, 87.5])
    # lower recency is better: reversed ranks
    assert list(percentile_scores([0.0, 10.0], higher_is_better=False)) == pytest.approx([75.0, 25.0])


# ------------------------------------------------------------------------- RFM: thresholds, windows, errors
def _pct(rows: list[tuple[float, float, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["R_pct", "F_pct", "M_pct"], index=pd.Index(list("abcdef")[: len(rows)]))


def test_value_loyalty_quadrants_at_the_threshold() -> None:
    # value: M_pct >= 50; loyalty: (R_pct + F_pct) / 2 >= 50. mutations checked: `>` for `>=` (rows a, b),
    # mean over 3 (row c: 55 -> 36.7), `* 2` for `/ 2` (row d: 25 -> 100), the series' name / index / categories
    from crm_models.rfm import value_loyalty_matrix

    scores = _pct([(40, 60, 50), (40, 59, 49.9), (90, 20, 10), (30, 20, 60), (100, 100, 100)])
    quadrant = value_loyalty_matrix(scores)
    assert quadrant.astype(str).tolist() == ["gold", "low value", "potential", "at risk", "gold"]
    assert quadrant.name == "value_loyalty" and quadrant.index.equals(scores.index)
    assert list(quadrant.cat.categories) == ["gold", "potential", "at risk", "low value"]


def test_value_modifier_edges_and_categories() -> None:
    from crm_models.rfm.segments import value_modifier

    scores = pd.DataFrame({"M": [1, 2, 3, 4, 5]}, index=pd.Index(list("vwxyz"), name="customer_id"))
    tier = value_modifier(scores)
    assert tier.astype(str).tolist() == ["low spend", "low spend", "mid spend", "high spend", "high spend"]
    assert tier.name == "value_tier" and tier.index.equals(scores.index)
    assert list(tier.cat.categories) == ["low spend", "mid spend", "high spend"]


def test_segment_summary_by_hand() -> None:
    # 4 customers: two "gold" (spend 30 and 10), one "x" (spend 60), one in the remainder (spend 0).
    # mutations checked: shares over max(n, 2), revenue share 1.0 without revenue, the remainder's action
    from crm_models.rfm import segment_summary
    from crm_models.rfm.segments import SegmentRule

    scores = pd.DataFrame({"recency_days": [1, 3, 10, 20], "frequency": [2, 4, 1, 1],
                           "monetary": [30.0, 10.0, 60.0, 0.0]}, index=list("abcd"))
    segments = pd.Series(pd.Categorical(["gold", "gold", "x", "rest"], categories=["gold", "empty", "x", "rest"]),
                         index=scores.index)
    rules = [SegmentRule("gold", {}, "reward"), SegmentRule("x", {}, "grow"), SegmentRule("empty", {}, "pause")]
    table = segment_summary(scores, segments, rules, remainder_action="nurture")
    # a segment of the rule table without customers still has its row (observed=False)
    assert table.index.name == "segment" and list(table.index) == ["gold", "empty", "x", "rest"]
    assert table["customers"].tolist() == [2, 0, 1, 1]
    assert table["customer_share"].tolist() == pytest.approx([0.5, 0.0, 0.25, 0.25])
    assert table["revenue_share"].tolist() == pytest.approx([0.4, 0.0, 0.6, 0.0])
    assert table.loc[["gold", "x", "rest"], "mean_recency_days"].tolist() == pytest.approx([2.0, 10.0, 20.0])
    assert table["action"].tolist() == ["reward", "pause", "grow", "nurture"]
    single = segment_summary(scores.iloc[[3]], segments.iloc[[3]], rules)
    assert single.loc["rest", "customer_share"] == 1.0 and single.loc["rest", "revenue_share"] == 0.0


def _history() -> pd.DataFrame:
    rows = [
        # as_of, customer, segment, monetary (net spend up to the date)
        ("2024-03-31", "a", "champions", 100.0), ("2024-06-30", "a", "loyal", 130.0),
        ("2024-03-31", "b", "champions", 50.0), ("2024-06-30", "b", "champions", 90.0),
        ("2024-03-31", "c", "lost", 10.0), ("2024-06-30", "c", "champions", 25.0),
        ("2024-03-31", "e", "lost", 5.0),  # not at the second date (cannot happen in practice; still counted out)
        ("2024-06-30", "d", "vip", 40.0),  # new, in a segment outside the rule table
    ]
    frame = pd.DataFrame(rows, columns=["as_of", "customer_id", "segment", "monetary"])
    frame["as_of"] = pd.to_datetime(frame["as_of"])
    return frame.assign(R=3, F=3, M=3)


def test_migration_matrix_by_hand() -> None:
    # mutations checked: union -> intersection of the extra segment names ("vip" column lost), row shares along
    # the wrong axis, revenue as the later spend instead of the difference, index / column names
    from crm_models.rfm.migration import NEW_ROW, migration_flows, migration_matrix

    m = migration_matrix(_history(), "2024-03-31", "2024-06-30")
    counts, shares, revenue = m["counts"], m["shares"], m["revenue"]
    from crm_models.rfm.migration import ACTIVITY_ORDER

    # every segment of the map is a row and a column, even without customers; extra segments after them
    assert list(counts.columns) == [*ACTIVITY_ORDER, "vip"] and list(revenue.columns) == list(counts.columns)
    assert list(counts.index) == [*ACTIVITY_ORDER, "vip", NEW_ROW] and list(revenue.index) == list(counts.index)
    assert (counts.index.name, counts.columns.name) == ("segment before", "segment after")
    assert (shares.index.name, revenue.columns.name) == ("segment before", "segment after")
    assert counts.loc["champions", "loyal"] == 1 and counts.loc["champions", "champions"] == 1
    assert counts.loc["lost", "champions"] == 1 and counts.loc[NEW_ROW, "vip"] == 1
    assert int(counts.to_numpy().sum()) == 4  # e left: in no cell
    assert shares.loc["champions", "loyal"] == 0.5 and shares.loc["lost", "champions"] == 1.0
    assert shares.loc["loyal"].isna().all()  # nobody was loyal in March: no share
    assert revenue.loc["champions", "loyal"] == pytest.approx(30.0)
    assert revenue.loc["champions", "champions"] == pytest.approx(40.0)
    assert revenue.loc[NEW_ROW, "vip"] == pytest.approx(40.0)
    # flows in words: top=1 keeps only the largest move; a segment outside the order only "moved"
    words = migration_flows(m, top=10, since="March")
    assert "1 champions customers slipped to loyal since March" in words
    assert "1 lost customers moved up to champions since March" in words
    assert "1 new customers arrived as vip since March" in words
    assert len(words) == 3  # no zero moves, no stays
    assert len(migration_flows(m, top=1)) == 1
    renamed = {"counts": counts.rename(columns={"loyal": "vip2"}, index={"champions": "vip1"})}
    assert "1 vip1 customers moved vip2 since the previous snapshot" in migration_flows(renamed)


def test_segment_trends_window_and_completeness_edges() -> None:
    # Snapshot 2024-03-31 (whole day): the 30-day window after it is [2024-04-01, 2024-05-01). It is complete
    # when the data reach its last day (data end >= 2024-04-30 00:00).
    # mutations checked: `>= start` -> `>` (a), `< stop` -> `<=` (b), `amount > 0` -> `>= 0` (c) / `> 1` (d),
    # completeness `stop - 1 day <= end` -> `<` / `- 2 days` / `+ 1 day`, sort order of snapshots
    from crm_models.rfm.migration import segment_trends

    history = pd.DataFrame({
        "as_of": pd.to_datetime(["2024-03-31"] * 5),
        "customer_id": list("abcde"), "segment": ["s1", "s1", "s1", "s2", "s2"], "monetary": [1.0] * 5,
    })

    def tx(end: str) -> pd.DataFrame:
        return pd.DataFrame({
            "customer_id": ["a", "b", "c", "d", "zz"],
            "timestamp": pd.to_datetime(["2024-04-01 00:00", "2024-05-01 00:00", "2024-04-10", "2024-04-10", end],
                                        format="ISO8601"),
            "amount": [5.0, 5.0, 0.0, 0.5, 1.0],
        })

    complete = segment_trends(tx("2024-04-30 00:00"), history, active_within_days=30)
    assert complete["segment"].tolist() == ["s1", "s2"]
    assert complete["active_share"].tolist() == pytest.approx([1 / 3, 1 / 2])  # a of a,b,c; d of d,e
    assert complete["customers"].tolist() == [3, 2]
    short = tx("2024-04-29 23:59").drop(index=1)  # without b's purchase the data end on April 29
    incomplete = segment_trends(short, history, active_within_days=30)
    assert incomplete["active_share"].isna().all()
    # aware timestamps are converted to UTC first: 2024-04-30 20:00 in New York is 2024-05-01 00:00 UTC
    aware = tx("2024-05-02").assign(timestamp=lambda f: f["timestamp"].dt.tz_localize("UTC")
                                    .dt.tz_convert("America/New_York"))
    assert segment_trends(aware, history, active_within_days=30)["active_share"].tolist() == \
        pytest.approx([1 / 3, 1 / 2])
    # snapshots come out in date order whatever the history's order
    two = pd.concat([history.assign(as_of=pd.Timestamp("2024-04-15")), history])
    out = segment_trends(tx("2024-06-30"), two, active_within_days=30)
    assert out["as_of"].is_monotonic_increasing


@pytest.mark.parametrize(("call", "column", "rule"), [
    (lambda: __import__("crm_models.rfm.migration", fromlist=["x"]).segment_history(pd.DataFrame(), []),
     "dates", "at least one date"),
    (lambda: __import__("crm_models.rfm.migration", fromlist=["x"]).migration_matrix(
        _history(), "2024-01-31", "2024-06-30"), "as_of", "a date of the history"),
    (lambda: __import__("crm_models.rfm", fromlist=["x"]).segment_customers(_pct([(1, 1, 1)]), "nope"),
     "segment_rules", "one of rfm_grid, seed_003"),
])
def test_rfm_errors_name_the_column_and_the_rule(call, column, rule) -> None:
    # mutations checked: every `column=` / `rule=` argument of these errors dropped or changed
    from crm_models.exceptions import DataContractError

    with pytest.raises(DataContractError) as info:
        call()
    assert info.value.column == column and info.value.rule == rule
    assert str(info.value)


def test_rfm_rule_errors() -> None:
    from crm_models.exceptions import DataContractError
    from crm_models.rfm import segment_customers
    from crm_models.rfm.segments import SegmentRule

    scores = _pct([(10, 20, 30)]).assign(R=1, F=1, M=2)
    with pytest.raises(DataContractError, match="'Q'") as info:
        segment_customers(scores, [SegmentRule("bad", {"Q": ">=1"})])
    assert info.value.column == "Q" and info.value.rule == "dimensions are ('R', 'F', 'M')"
    with pytest.raises(DataContractError, match="unknown scale") as info:
        segment_customers(scores, [SegmentRule("bad", {"R": ">=1"}, scale="deciles")])
    assert info.value.rule == "scale is 'percentile' (0-100) or 'score' (1-5)"
    with pytest.raises(DataContractError, match="'about 5'") as info:
        segment_customers(scores, [SegmentRule("bad", {"R": "about 5"})])
    assert info.value.rule == "conditions look like '>=80', '<40', '40-79' or '5'"
    assert "'bad'" in str(info.value)
    # the score scale reads the 1-5 columns: R == 1 matches, the percentile R_pct (10) would not
    hit = segment_customers(scores, [SegmentRule("one", {"R": "1", "F": "1-2"}, scale="score")])
    assert hit.tolist() == ["one"]


def test_rule_tables_as_records_and_frames() -> None:
    # mutations checked: the "name" key, the action and scale keys, blank conditions, the DataFrame path
    from crm_models.exceptions import DataContractError
    from crm_models.rfm.segments import parse_rules

    table = pd.DataFrame({"segment": ["top", "rest"], "R": [">=4", ""], "F": ["4-5", None],
                          "action": ["reward", None], "scale": ["score", None]})
    top, rest = parse_rules(table)
    assert (top.name, dict(top.conditions), top.action, top.scale) == ("top", {"R": ">=4", "F": "4-5"}, "reward",
                                                                       "score")
    assert (rest.name, dict(rest.conditions), rest.action, rest.scale) == ("rest", {}, "", "percentile")
    (named,) = parse_rules([{"name": "n", "M": "<40"}])
    assert (named.name, dict(named.conditions), named.scale) == ("n", {"M": "<40"}, "percentile")
    with pytest.raises(DataContractError) as info:
        parse_rules([{"R": ">=1"}])
    assert (info.value.column, info.value.rule) == ("segment", "every rule is named")
    with pytest.raises(DataContractError) as info:
        parse_rules([{"segment": "a"}, {"name": "a"}])
    assert (info.value.column, info.value.rule) == ("segment", "segment names are unique")
    assert "repeat" in str(info.value)
