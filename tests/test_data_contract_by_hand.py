"""The pandas readers of the data contract, checked with hand-made tables whose right answer is known.

Each test names the mutation class (issue 21) it guards against: a keyword argument a reader forgets to pass on,
a branch skipped for one input form (an object column, a single row, a datetime column with a zone), an error
that loses its column, rule or example rows, or a boundary moved by one.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from crm_models.data import (
    read_events,
    read_experiment,
    read_order_lines,
    read_touchpoints,
    read_transactions,
)
from crm_models.exceptions import DataContractError


def tx(timestamps, **extra) -> pd.DataFrame:
    n = len(timestamps)
    data = {"customer_id": [f"c{i}" for i in range(n)], "timestamp": timestamps, "amount": [1.0] * n}
    data.update(extra)
    return pd.DataFrame(data)


# --------------------------------------------------------------------------- time zones of datetime columns
def test_an_aware_datetime_column_in_another_zone_comes_back_in_utc() -> None:
    """Guards against skipping the UTC conversion of an aware datetime64 column (the contract allows naive or
    UTC only): 10:00 in Berlin in winter is 09:00 UTC."""
    stamps = pd.Series(pd.to_datetime(["2024-01-15 10:00", "2024-01-16 23:30"])).dt.tz_localize("Europe/Berlin")
    out = read_transactions(tx(stamps))
    assert str(out["timestamp"].dt.tz) == "UTC"
    assert out["timestamp"].dt.tz_localize(None).tolist() == [pd.Timestamp("2024-01-15 09:00"),
                                                              pd.Timestamp("2024-01-16 22:30")]


def test_python_timestamps_mixing_aware_and_naive_are_refused() -> None:
    """Guards against reading the zone of pd.Timestamp objects in an object column from the wrong place (every
    value then looks naive and the mix goes through)."""
    frame = tx([pd.Timestamp("2024-01-01 10:00", tz="Europe/Berlin"), pd.Timestamp("2024-01-02 10:00")])
    assert frame["timestamp"].dtype == object
    with pytest.raises(DataContractError) as info:
        read_transactions(frame)
    assert info.value.column == "timestamp"
    assert "zone" in info.value.rule


def test_aware_python_timestamps_in_two_zones_become_utc() -> None:
    """Same guard, the valid case: 10:00 Berlin (+01:00) and 10:00 New York (-05:00) in January are 09:00 and
    15:00 UTC."""
    frame = tx([pd.Timestamp("2024-01-01 10:00", tz="Europe/Berlin"),
                pd.Timestamp("2024-01-01 10:00", tz="America/New_York")])
    out = read_transactions(frame)
    assert str(out["timestamp"].dt.tz) == "UTC"
    assert out["timestamp"].dt.hour.tolist() == [9, 15]


def test_offset_text_in_an_object_column_is_read_as_utc() -> None:
    """Guards against sending every object column down the python-datetime branch (text with an offset is then
    taken for naive): "+02:00" and "-05:00" on the same instant 08:00 UTC."""
    frame = tx(pd.Series(["2024-06-01 10:00+02:00", "2024-06-01 03:00-05:00"], dtype=object))
    out = read_transactions(frame)
    assert str(out["timestamp"].dt.tz) == "UTC"
    assert out["timestamp"].dt.hour.tolist() == [8, 8]


def test_a_mix_of_offset_text_and_naive_text_in_an_object_column_is_refused() -> None:
    frame = tx(pd.Series(["2024-06-01 10:00+02:00", "2024-06-02 10:00"], dtype=object))
    with pytest.raises(DataContractError) as info:
        read_transactions(frame)
    assert info.value.column == "timestamp" and "zone" in info.value.rule


def test_the_zone_mix_error_shows_rows_of_both_kinds() -> None:
    """Guards against unbounded example rows of one kind: with six aware rows and one naive row the message
    (which prints five rows) must still show the naive one."""
    values = [f"2024-06-0{d} 10:00+02:00" for d in range(1, 7)] + ["2024-06-09 10:00"]
    with pytest.raises(DataContractError) as info:
        read_transactions(tx(values))
    assert len(info.value.examples) <= 5
    assert "2024-06-09 10:00" in str(info.value)
    assert "2024-06-01 10:00+02:00" in str(info.value)


# --------------------------------------------------------------------------- numbers are never guessed as dates
def test_a_single_row_of_digits_is_not_guessed_as_a_date() -> None:
    """Guards against an off-by-one in the empty-column test of the number check (a one-row table of digits then
    skips the rule)."""
    with pytest.raises(DataContractError) as info:
        read_transactions(tx(["1718000000"]))
    assert info.value.column == "timestamp" and "timestamp_unit" in info.value.rule
    out = read_transactions(tx(["1718000000"]), timestamp_unit="s")
    assert out["timestamp"].tolist() == [pd.Timestamp("2024-06-10 06:13:20")]  # 1718000000 s after 1970-01-01


def test_integers_in_an_object_column_need_a_unit() -> None:
    """Guards against an inverted type check for object columns (integers held as objects would then be parsed
    as nanoseconds since 1970 without a word)."""
    frame = tx(pd.Series([1718000000, 1718086400], dtype=object))
    with pytest.raises(DataContractError) as info:
        read_transactions(frame)
    assert "timestamp_unit" in info.value.rule
    out = read_transactions(frame, timestamp_unit="s")
    assert out["timestamp"].dt.strftime("%Y-%m-%d").tolist() == ["2024-06-10", "2024-06-11"]


def test_a_timestamp_column_with_every_value_missing_is_named_as_missing() -> None:
    """Guards against the missing-timestamp error losing its rule (and against an empty column being taken for
    numbers)."""
    with pytest.raises(DataContractError) as info:
        read_transactions(tx([None, None]))
    assert info.value.column == "timestamp"
    assert "missing" in info.value.rule


# --------------------------------------------------------------------------- day and month
@pytest.mark.parametrize("value", ["05/12/2024", "12/05/2024", "12/12/2024"])
def test_twelve_is_a_month_so_the_date_reads_either_way(value) -> None:
    """Guards against moving the month bound from > 12 to >= 12: 12 can be a month, so "05/12/2024" and
    "12/05/2024" are ambiguous both ways and the hint must say so."""
    with pytest.raises(DataContractError) as info:
        read_transactions(tx([value]))
    assert "either way" in str(info.value)


def test_thirteen_can_only_be_a_day() -> None:
    with pytest.raises(DataContractError) as info:
        read_transactions(tx(["13/05/2024", "05/12/2024"]))
    assert "only be day-first" in str(info.value)


def test_dayfirst_leaves_iso_dates_in_the_same_column_alone() -> None:
    """Guards against testing the day/month order of rows that are not written day/month (an ISO date next to
    "02/06/2024" would then be refused): with dayfirst=True both are 2 and 3 June."""
    out = read_transactions(tx(["02/06/2024", "2024-06-03"]), dayfirst=True)
    assert out["timestamp"].tolist() == [pd.Timestamp("2024-06-02"), pd.Timestamp("2024-06-03")]


def test_read_transactions_passes_its_timestamp_format_on() -> None:
    """Guards against a reader dropping ``timestamp_format``: "02.06.2024" in "%d.%m.%Y" is 2 June (without the
    format it is refused as ambiguous)."""
    out = read_transactions(tx(["02.06.2024", "13.06.2024"]), timestamp_format="%d.%m.%Y")
    assert out["timestamp"].tolist() == [pd.Timestamp("2024-06-02"), pd.Timestamp("2024-06-13")]


# --------------------------------------------------------------------------- numbers and text columns
def test_a_missing_amount_is_shown_with_its_row() -> None:
    """Guards against the missing-number error losing its example rows."""
    frame = pd.DataFrame({"customer_id": ["a", "zz-row"], "timestamp": ["2024-01-01", "2024-01-02"],
                          "amount": [1.0, None]})
    with pytest.raises(DataContractError) as info:
        read_transactions(frame)
    assert info.value.column == "amount"
    assert info.value.examples["customer_id"].tolist() == ["zz-row"]


def test_channel_codes_become_text() -> None:
    """Guards against skipping the text coercion of ``channel`` (numeric channel codes would stay numbers and
    group differently from the same codes read from a CSV)."""
    out = read_transactions(tx(["2024-01-01", "2024-01-02"], channel=[1, 2]))
    assert pd.api.types.is_string_dtype(out["channel"])
    assert out["channel"].tolist() == ["1", "2"]


# --------------------------------------------------------------------------- touchpoints
def _touch(**overrides) -> pd.DataFrame:
    data = {"customer_id": ["a", "b", "c"], "timestamp": ["2024-01-01", "2024-01-02", "2024-01-03"],
            "channel": ["email", "search", "social"], "conversion": [0, 1, 0]}
    data.update(overrides)
    return pd.DataFrame(data)


def test_a_conversion_other_than_0_or_1_is_shown_with_its_row() -> None:
    with pytest.raises(DataContractError) as info:
        read_touchpoints(_touch(conversion=[0, 2, 1]))
    assert info.value.column == "conversion"
    assert info.value.examples["customer_id"].tolist() == ["b"]


def test_a_touchpoint_without_a_channel_names_the_channel_rule() -> None:
    """Guards against the rule text losing the column it is about (wording mutants of the rule)."""
    with pytest.raises(DataContractError) as info:
        read_touchpoints(_touch(channel=["email", None, "social"]))
    assert info.value.column == "channel"
    assert "channel" in info.value.rule and "missing" in info.value.rule


# --------------------------------------------------------------------------- experiments
def _experiment(**overrides) -> pd.DataFrame:
    data = {"unit_id": [1.0, 2.0, 3.0], "variant": ["A", "B", "A"], "y": [0.0, 1.0, 1.0]}
    data.update(overrides)
    return pd.DataFrame(data)


def test_experiment_unit_ids_become_text_without_a_trailing_zero() -> None:
    """Guards against writing the coerced unit ids to the wrong column: float ids 1.0, 2.0 must come back as the
    text "1", "2" (as the other readers do), so that they join with ids read from a CSV."""
    out = read_experiment(_experiment(), outcomes=["y"])
    assert out["unit_id"].tolist() == ["1", "2", "3"]
    assert pd.api.types.is_string_dtype(out["unit_id"])


def test_experiment_unit_without_a_variant_names_the_variant_rule() -> None:
    with pytest.raises(DataContractError) as info:
        read_experiment(_experiment(variant=["A", None, "B"]), outcomes=["y"])
    assert info.value.column == "variant" and "variant" in info.value.rule


def test_experiment_duplicated_units_are_shown() -> None:
    with pytest.raises(DataContractError) as info:
        read_experiment(_experiment(unit_id=[7.0, 8.0, 7.0]), outcomes=["y"])
    assert info.value.column == "unit_id"
    assert len(info.value.examples) == 2 and set(info.value.examples["variant"]) == {"A"}


# --------------------------------------------------------------------------- order lines
def _lines_csv(tmp_path, sep: str = ",") -> str:
    rows = [["order_id", "customer_id", "timestamp", "product_id", "quantity", "amount"],
            ["o1", "c1", "02.06.2024", "p1", "2", "3.5"],
            ["o2", "c2", "13.06.2024", "p2", "1", "4"]]
    path = tmp_path / "lines.csv"
    path.write_text("\n".join(sep.join(r) for r in rows) + "\n")
    return str(path)


def test_read_order_lines_passes_timestamp_format_and_csv_options_on(tmp_path) -> None:
    """Guards against ``read_order_lines`` dropping ``timestamp_format`` or ``csv_options``: a ';'-separated file
    with day-first dates is read as 2 and 13 June."""
    out = read_order_lines(_lines_csv(tmp_path, ";"), timestamp_format="%d.%m.%Y", csv_options={"sep": ";"})
    assert out["timestamp"].tolist() == [pd.Timestamp("2024-06-02"), pd.Timestamp("2024-06-13")]
    assert out["amount"].tolist() == [3.5, 4.0]


def test_python_datetimes_with_a_zone_are_read_as_utc() -> None:
    """python ``datetime`` objects with a zone (as a database driver returns them) become UTC instants."""
    berlin = dt.timezone(dt.timedelta(hours=2))
    frame = tx(pd.Series([dt.datetime(2024, 6, 1, 10, 0, tzinfo=berlin),
                          dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)], dtype=object))
    out = read_transactions(frame)
    assert out["timestamp"].dt.hour.tolist() == [8, 12]


# --------------------------------------------------------------------------- regression: dayfirst and ISO dates
@pytest.mark.parametrize("dayfirst", [True, False])
def test_dayfirst_never_swaps_day_and_month_of_iso_dates(dayfirst) -> None:
    """Regression (found by this round's mutation run): with ``dayfirst=True`` pandas reads "2024-06-03" as
    year-day-month, so the reader gave 6 March for 3 June, silently, and 14 June for "2024-06-14" in the same
    column. A year-first date has one reading whatever ``dayfirst`` says."""
    out = read_transactions(tx(["2024-06-03", "2024-06-04 10:00", "2024-06-14"]), dayfirst=dayfirst)
    assert out["timestamp"].tolist() == [pd.Timestamp("2024-06-03"), pd.Timestamp("2024-06-04 10:00"),
                                         pd.Timestamp("2024-06-14")]


def test_dayfirst_reads_each_row_by_its_own_form_under_a_repeated_index() -> None:
    """Day-first rows and ISO rows parsed apart are put back in their own rows, also when the input's index
    repeats a label."""
    frame = tx(["02/06/2024", "2024-06-03", "04/06/2024"]).set_axis([0, 0, 1])
    out = read_transactions(frame, dayfirst=True)
    assert out["timestamp"].tolist() == [pd.Timestamp("2024-06-02"), pd.Timestamp("2024-06-03"),
                                         pd.Timestamp("2024-06-04")]


# --------------------------------------------------------------------------- regression: every reader takes the keywords its errors name
def test_read_order_lines_takes_the_dayfirst_its_error_asks_for() -> None:
    """Regression (review rev5): ``read_order_lines`` refused "02/06/2024" with "Pass dayfirst=True or
    dayfirst=False" but had no ``dayfirst`` (a TypeError when the user did as told) and no ``timestamp_unit``."""
    lines = pd.DataFrame({"order_id": ["o1", "o2"], "customer_id": ["c1", "c2"],
                          "timestamp": ["02/06/2024", "13/06/2024"], "product_id": ["p1", "p2"],
                          "quantity": [1, 2], "amount": [3.5, 4.0]})
    with pytest.raises(DataContractError) as info:
        read_order_lines(lines)
    assert "dayfirst" in str(info.value)
    out = read_order_lines(lines, dayfirst=True)
    assert out["timestamp"].tolist() == [pd.Timestamp("2024-06-02"), pd.Timestamp("2024-06-13")]
    seconds = read_order_lines(lines.assign(timestamp=[1718000000, 1718086400]), timestamp_unit="s")
    assert seconds["timestamp"].dt.strftime("%Y-%m-%d").tolist() == ["2024-06-10", "2024-06-11"]


def test_read_events_takes_the_dayfirst_and_unit_its_errors_ask_for() -> None:
    """Regression (review rev5): ``read_events`` says its parameters are those of ``read_transactions`` and its
    errors ask for ``dayfirst`` / ``timestamp_unit``, but it took neither."""
    events = pd.DataFrame({"customer_id": ["a", "b"], "event": ["view", "buy"],
                           "timestamp": ["02/06/2024 10:00", "13/06/2024 11:30"]})
    with pytest.raises(DataContractError) as info:
        read_events(events)
    assert "dayfirst" in str(info.value)
    out = read_events(events, dayfirst=True)
    assert out["timestamp"].tolist() == [pd.Timestamp("2024-06-02 10:00"), pd.Timestamp("2024-06-13 11:30")]
    with pytest.raises(DataContractError) as info:
        read_events(events.assign(timestamp=[1718000000, 1718086400]))
    assert "timestamp_unit" in info.value.rule
    seconds = read_events(events.assign(timestamp=[1718000000, 1718086400]), timestamp_unit="s")
    assert seconds["timestamp"].tolist() == [pd.Timestamp("2024-06-10 06:13:20"), pd.Timestamp("2024-06-11 06:13:20")]


def test_a_day_first_date_with_an_offset_is_checked_in_its_own_zone() -> None:
    """Regression (review rev5): the day/month check compared the month written in the text with the month of
    the UTC instant, so "01/06/2024 00:30+02:00" (1 June, 31 May 22:30 UTC) was refused as not day-first; a real
    swap ("13/06/2024 10:00+02:00" with dayfirst=False) must still be refused."""
    out = read_transactions(tx(["01/06/2024 00:30+02:00", "31/05/2024 23:30-05:00"]), dayfirst=True)
    assert out["timestamp"].tolist() == [pd.Timestamp("2024-05-31 22:30", tz="UTC"),
                                         pd.Timestamp("2024-06-01 04:30", tz="UTC")]
    with pytest.raises(DataContractError) as info:
        read_transactions(tx(["06/01/2024 00:30+02:00", "13/06/2024 10:00+02:00"]), dayfirst=False)
    assert info.value.column == "timestamp" and "dayfirst=False" in info.value.rule
    assert info.value.examples["timestamp"].tolist() == ["13/06/2024 10:00+02:00"]
