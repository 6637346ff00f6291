"""Journeys: building from touchpoints with the engine, encoding aggregated paths, data-contract errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.attribution import build_journeys, encode_journeys, markov_attribution
from crm_models.exceptions import DataContractError


def _touchpoints() -> pd.DataFrame:
    t = pd.Timestamp("2024-03-01")
    rows = [
        # customer a: converts on day 3 (after search, email), then a second journey that stays open
        ("a", t, "Search", 0, 0.0),
        ("a", t + pd.Timedelta(days=2), "Email", 0, 0.0),
        ("a", t + pd.Timedelta(days=3), "Email", 1, 40.0),
        ("a", t + pd.Timedelta(days=10), "Social", 0, 0.0),
        # customer b: one touch 60 days before converting, then two close ones
        ("b", t, "Display", 0, 0.0),
        ("b", t + pd.Timedelta(days=60), "Search", 0, 0.0),
        ("b", t + pd.Timedelta(days=61), "Direct", 1, 25.0),
        # customer c: never converts
        ("c", t + pd.Timedelta(days=5), "Social", 0, 0.0),
        ("c", t + pd.Timedelta(days=6), "Search", 0, 0.0),
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "channel", "conversion", "value"])
    return frame.sample(frac=1.0, random_state=3).reset_index(drop=True)  # order must not matter


def test_journeys_end_at_conversion_or_end_of_data():
    journeys = build_journeys(_touchpoints(), aggregate=False)
    got = {(r.customer_id, r.journey): (r.path, r.conversions, r.value) for r in journeys.itertuples()}
    assert got == {
        ("a", 0): ("Search > Email > Email", 1.0, 40.0),
        ("a", 1): ("Social", 0.0, 0.0),
        ("b", 0): ("Display > Search > Direct", 1.0, 25.0),
        ("c", 0): ("Social > Search", 0.0, 0.0),
    }
    np.testing.assert_allclose(journeys.set_index(["customer_id", "journey"]).loc[("a", 0), "days_to_end"], [3, 1, 0])


def test_aggregated_journeys_count_conversions_nulls_value():
    journeys = build_journeys(_touchpoints()).set_index("path")
    assert journeys["conversions"].sum() == 2
    assert journeys["nulls"].sum() == 2
    assert journeys["value"].sum() == pytest.approx(65.0)
    assert journeys.loc["Social", "nulls"] == 1


def test_lookback_grouping_collapse_and_max_touches():
    tp = _touchpoints()
    short = build_journeys(tp, aggregate=False, lookback="30D").set_index(["customer_id", "journey"])
    assert short.loc[("b", 0), "path"] == "Search > Direct"
    assert build_journeys(tp, aggregate=False, lookback=30).equals(build_journeys(tp, aggregate=False, lookback="30D"))
    collapsed = build_journeys(tp, aggregate=False, collapse_repeats=True).set_index(["customer_id", "journey"])
    assert collapsed.loc[("a", 0), "path"] == "Search > Email"
    sessions = build_journeys(tp, aggregate=False, session_gap="2D").set_index(["customer_id", "journey"])
    assert sessions.loc[("a", 0), "path"] == "Search > Email"  # the second Email came a day later
    sessions = build_journeys(tp, aggregate=False, session_gap="12h").set_index(["customer_id", "journey"])
    assert sessions.loc[("a", 0), "path"] == "Search > Email > Email"
    last_two = build_journeys(tp, aggregate=False, max_touches=2).set_index(["customer_id", "journey"])
    assert last_two.loc[("b", 0), "path"] == "Search > Direct"
    grouped = build_journeys(tp, channel_map={"Email": "Owned", "Direct": "Owned"}, aggregate=False)
    assert "Search > Owned > Owned" in set(grouped["path"])


def test_ibis_table_and_file_inputs_give_the_same_journeys(tmp_path):
    import ibis

    tp = _touchpoints()
    expected = build_journeys(tp)
    assert build_journeys(ibis.memtable(tp)).equals(expected)
    csv = tmp_path / "tp.csv"
    tp.to_csv(csv, index=False)
    assert build_journeys(str(csv)).equals(expected)


def test_conversion_sorts_after_a_touch_at_the_same_instant():
    t = pd.Timestamp("2024-01-01")
    tp = pd.DataFrame(
        {"customer_id": ["x", "x"], "timestamp": [t, t], "channel": ["B", "A"], "conversion": [1, 0]}
    )
    journeys = build_journeys(tp)
    assert journeys["path"].tolist() == ["A > B"]
    assert journeys["value"].tolist() == [0.0]
    utc = tp.assign(timestamp=tp["timestamp"].dt.tz_localize("UTC"))  # tz-aware times work the same
    assert build_journeys(utc).equals(journeys)


def test_channel_attribution_column_names_and_list_paths():
    frame = pd.DataFrame(
        {"path": ["a > b", "b"], "total_conversions": [2, 1], "total_null": [1, 3], "total_conversion_value": [20, 5]}
    )
    enc = encode_journeys(frame, conversions="total_conversions", nulls="total_null", value="total_conversion_value")
    assert enc.channels == ("a", "b")
    assert enc.value.sum() == 25
    lists = pd.DataFrame({"path": [["a", "b"], ("b",)], "conversions": [2, 1], "nulls": [1, 3]})
    assert encode_journeys(lists).codes.tolist() == [0, 1, 1]
    canonical = build_journeys(pd.concat([frame, frame]), sep=">", conversions="total_conversions",
                               nulls="total_null", value="total_conversion_value")
    assert canonical.to_dict("list") == {"path": ["a > b", "b"], "conversions": [4.0, 2.0], "nulls": [2.0, 6.0],
                                         "value": [40.0, 10.0]}
    other_sep = pd.DataFrame({"path": ["a|b", "b"], "conversions": [2, 1]})
    assert encode_journeys(other_sep, sep="|").codes.tolist() == [0, 1, 1]


def test_fast_parser_agrees_with_arrow_on_many_paths(monkeypatch):
    import crm_models.attribution.journeys as J

    rng = np.random.default_rng(5)
    names = np.array(["Paid Search", "Email", "TV", "Online Display", "(direct) none", "Affiliate Partner No 1"])
    paths = [" > ".join(rng.choice(names, rng.integers(1, 8))) for _ in range(6_000)]
    paths += ["Email>TV>  Email", " TV ", "Email >TV", "Brand New Channel > TV"]
    frame = pd.DataFrame({"path": paths, "conversions": 1})
    monkeypatch.setattr(J, "PARSE_CHUNK_ROWS", 1_000)
    fast = encode_journeys(frame)
    monkeypatch.setattr(J, "SAMPLE_ROWS", 10**9)
    slow = encode_journeys(frame)
    assert fast.channels == slow.channels
    assert "Brand New Channel" in fast.channels
    np.testing.assert_array_equal(fast.codes, slow.codes)
    np.testing.assert_array_equal(fast.offsets, slow.offsets)


def test_arrow_split_of_canonical_paths_answers_only_when_exact():
    import pyarrow as pa

    from crm_models.attribution._parse import NameTable, split_encode, split_spaced

    table = NameTable(["Email", "Paid Search", "TV"])
    canonical = pa.array(["Email > Paid Search > TV", "TV", "Paid Search > Paid Search"])
    codes, lengths = split_spaced(canonical, ">", table)
    assert codes.tolist() == [0, 1, 2, 2, 1, 1]
    assert lengths.tolist() == [3, 1, 2]
    reference = split_encode(canonical, ">", table)
    np.testing.assert_array_equal(codes, reference[0])
    np.testing.assert_array_equal(lengths, reference[1])
    # other spacing, empty tokens and unknown names are left to the other parsers
    for odd in (["Email>TV"], ["Email  > TV"], [" Email > TV"], ["Email > TV "], ["Email > > TV"], [""],
                ["Email > Radio"]):
        assert split_spaced(pa.array(odd), ">", table) is None, odd


# --------------------------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("paths", "rule"),
    [
        (["a > b", ""], "every path has at least one channel"),
        (["a > b", "a >  > b"], "every path has at least one channel"),
        (["a > b", "   "], "every path has at least one channel"),
    ],
)
def test_empty_paths_are_rejected(paths, rule):
    frame = pd.DataFrame({"path": paths, "conversions": [1, 1]})
    with pytest.raises(DataContractError, match=rule) as err:
        markov_attribution(frame)
    assert err.value.column == "path"
    assert err.value.examples is not None and len(err.value.examples) == 1


def test_unknown_separator_names_the_one_in_use():
    frame = pd.DataFrame({"path": ["a | b", "b | c"], "conversions": [1, 0], "nulls": [0, 1]})
    with pytest.raises(DataContractError, match=r"pass sep='\|'") as err:
        encode_journeys(frame, sep=">")
    assert err.value.rule == "known separator"
    with pytest.raises(DataContractError, match="separator"):
        encode_journeys(frame, sep="  ")


@pytest.mark.parametrize("column", ["conversions", "nulls", "value"])
def test_negative_or_missing_counts_are_rejected(column):
    frame = pd.DataFrame({"path": ["a", "b"], "conversions": [1.0, 2.0], "nulls": [0.0, 1.0], "value": [5.0, 3.0]})
    frame.loc[1, column] = -1.0
    with pytest.raises(DataContractError, match="negative") as err:
        encode_journeys(frame)
    assert err.value.column == column
    frame.loc[1, column] = np.nan
    with pytest.raises(DataContractError, match="finite"):
        encode_journeys(frame)


@pytest.mark.parametrize("name", ["(start)", "(conversion)", "(null)", "Conversion", "null", " START "])
def test_channels_named_like_reserved_states_are_rejected(name):
    frame = pd.DataFrame({"path": [f"a > {name}", "a"], "conversions": [1, 0], "nulls": [0, 1]})
    with pytest.raises(DataContractError, match="reserved") as err:
        markov_attribution(frame)
    assert len(err.value.examples) == 1
    tp = pd.DataFrame(
        {"customer_id": ["x"], "timestamp": [pd.Timestamp("2024-01-01")], "channel": [name], "conversion": [1]}
    )
    with pytest.raises(DataContractError, match="reserved"):
        build_journeys(tp)


def test_other_contract_errors():
    with pytest.raises(DataContractError, match="lacks"):
        encode_journeys(pd.DataFrame({"route": ["a"], "conversions": [1]}))
    with pytest.raises(DataContractError, match="lacks"):
        encode_journeys(pd.DataFrame({"path": ["a"], "conversions": [1]}), nulls="total_null")
    with pytest.raises(DataContractError, match="without conversions"):
        encode_journeys(pd.DataFrame({"path": ["a"], "conversions": [0], "value": [3.0]}))
    tp = _touchpoints()
    bad = tp.assign(conversion=tp["conversion"].replace(1, 2))
    with pytest.raises(DataContractError, match="0 or 1") as err:
        build_journeys(bad)
    assert err.value.column == "conversion" and len(err.value.examples) == 2
    with pytest.raises(DataContractError, match="separator"):
        build_journeys(tp.assign(channel=tp["channel"].replace("Email", "Email > News")))
    with pytest.raises(DataContractError, match="missing"):
        build_journeys(tp.assign(channel=tp["channel"].where(tp["channel"] != "Email", None)))
    with pytest.raises(DataContractError, match="lack the column"):
        build_journeys(tp.drop(columns="timestamp"))


def test_package_docstring_example_runs():
    import doctest

    from crm_models import attribution

    result = doctest.testmod(attribution, verbose=False)
    assert result.attempted >= 4 and result.failed == 0


def test_build_journeys_reads_a_folder_of_parquet_files(tmp_path) -> None:
    from crm_models.attribution import build_journeys
    from crm_models.datasets import make_demo

    touchpoints = make_demo(seed=4, n_customers=300).touchpoints
    folder = tmp_path / "touchpoints"
    folder.mkdir()
    half = len(touchpoints) // 2
    touchpoints.iloc[:half].to_parquet(folder / "part-0.parquet")
    touchpoints.iloc[half:].to_parquet(folder / "part-1.parquet")
    from_folder = build_journeys(folder)
    from_frame = build_journeys(touchpoints)
    pd.testing.assert_frame_equal(from_folder, from_frame, check_dtype=False)


# ------------------------------------------------------------------ timestamps (issue 12, item 9)


def _offset_touchpoints() -> pd.DataFrame:
    # "a" at 10:00+02:00 is 08:00 UTC, before "b" at 09:30 UTC; read naively, "a" would come second
    return pd.DataFrame(
        {
            "customer_id": ["c1", "c1", "c1"],
            "timestamp": ["2024-06-01 10:00:00+02:00", "2024-06-01 09:30:00+00:00", "2024-06-01 12:00:00Z"],
            "channel": ["a", "b", "c"],
            "conversion": [0, 0, 1],
        }
    )


@pytest.mark.parametrize("as_table", [False, True], ids=["pandas", "ibis"])
def test_touchpoint_timestamps_with_utc_offsets_keep_their_order(as_table, tmp_path):
    import ibis

    frame = _offset_touchpoints()
    source = ibis.memtable(frame) if as_table else frame
    assert build_journeys(source)["path"].tolist() == ["a > b > c"]
    csv = tmp_path / "touchpoints.csv"
    frame.to_csv(csv, index=False)
    assert build_journeys(str(csv))["path"].tolist() == ["a > b > c"]


@pytest.mark.parametrize("as_table", [False, True], ids=["pandas", "ibis"])
@pytest.mark.parametrize(
    ("values", "message"),
    [
        (["2024-06-01 09:00", "notatime"], "cannot be parsed as a date/time"),
        ([1718000000, 1718000100], "holds numbers"),
    ],
    ids=["unparseable", "integer"],
)
def test_unparseable_or_integer_touchpoint_timestamps_raise_a_named_error(as_table, values, message):
    import ibis

    frame = pd.DataFrame({"customer_id": ["c1", "c1"], "timestamp": values, "channel": ["a", "b"],
                          "conversion": [0, 1]})
    with pytest.raises(DataContractError, match=message) as info:
        build_journeys(ibis.memtable(frame) if as_table else frame)
    assert info.value.column == "timestamp"
