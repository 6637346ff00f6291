"""The data contract: readers map columns, coerce types and name the broken rule with example rows."""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.data import clean_transactions, quality_report, read_touchpoints, read_transactions
from crm_models.exceptions import DataContractError

MAPPING = {"customer_id": "cid", "timestamp": "when", "amount": "revenue"}


def raw_frame(**overrides: list) -> pd.DataFrame:
    data = {
        "cid": ["a", "b", "c", "a"],
        "when": ["2024-01-01 10:00", "2024-01-02 11:00", "2024-01-03 12:00", "2024-01-04 13:00"],
        "revenue": ["10.5", "20", "-5", "7.25"],
        "note": ["x", "y", "z", "w"],
    }
    data.update(overrides)
    return pd.DataFrame(data)


def test_mapping_renames_and_coerces_types() -> None:
    table = read_transactions(raw_frame(), columns=MAPPING)
    assert list(table.columns[:3]) == ["customer_id", "timestamp", "amount"]
    assert "note" in table.columns, "extra columns are kept"
    assert pd.api.types.is_datetime64_any_dtype(table["timestamp"])
    assert table["amount"].tolist() == [10.5, 20.0, -5.0, 7.25]
    assert len(table) == 4, "readers never drop rows"


def test_missing_column_names_the_column_and_the_fix() -> None:
    with pytest.raises(DataContractError) as info:
        read_transactions(raw_frame().drop(columns="revenue"), columns={"customer_id": "cid", "timestamp": "when"})
    assert info.value.column == "amount"
    assert "required column" in str(info.value)
    assert "columns={'amount'" in str(info.value)


def test_mapped_column_absent_is_named() -> None:
    with pytest.raises(DataContractError, match="no column 'Revenue'"):
        read_transactions(raw_frame(), columns={**MAPPING, "amount": "Revenue"})


def test_unparseable_timestamp_shows_the_offending_row() -> None:
    with pytest.raises(DataContractError) as info:
        read_transactions(raw_frame(when=["2024-01-01", "not a date", "2024-01-03", "2024-01-04"]), columns=MAPPING)
    message = str(info.value)
    assert info.value.column == "timestamp"
    assert "parseable" in message and "not a date" in message
    assert "1 rows" in message


def test_non_numeric_amount_shows_the_offending_row() -> None:
    with pytest.raises(DataContractError) as info:
        read_transactions(raw_frame(revenue=["1", "2", "three", "4"]), columns=MAPPING)
    assert info.value.column == "amount"
    assert "three" in str(info.value)
    assert "must be a number" in str(info.value)


def test_empty_table_is_rejected() -> None:
    with pytest.raises(DataContractError, match="empty"):
        read_transactions(raw_frame().iloc[0:0], columns=MAPPING)


def test_mixed_naive_and_aware_timestamps_are_rejected() -> None:
    when = ["2024-01-01 10:00", "2024-01-02 10:00+02:00", "2024-01-03 10:00", "2024-01-04T10:00Z"]
    with pytest.raises(DataContractError) as info:
        read_transactions(raw_frame(when=when), columns=MAPPING)
    assert "one kind per table" in str(info.value)
    assert "+02:00" in str(info.value)


def test_aware_timestamps_with_different_offsets_become_utc() -> None:
    when = ["2024-01-01 10:00+02:00", "2024-01-01T10:00Z", "2024-01-01 10:00-0500", "2024-01-01 10:00+00:00"]
    table = read_transactions(raw_frame(when=when), columns=MAPPING)
    assert str(table["timestamp"].dt.tz) == "UTC"
    assert table["timestamp"].dt.hour.tolist() == [8, 10, 15, 10]


def test_bare_dates_are_naive() -> None:
    table = read_transactions(raw_frame(when=["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"]),
                              columns=MAPPING)
    assert table["timestamp"].dt.tz is None


def test_float_customer_ids_lose_their_decimal() -> None:
    table = read_transactions(raw_frame(cid=[17850.0, 13047.0, 12583.0, 17850.0]), columns=MAPPING)
    assert table["customer_id"].tolist() == ["17850", "13047", "12583", "17850"]


def test_reads_csv_and_parquet_paths(tmp_path) -> None:
    frame = raw_frame()
    frame.to_csv(tmp_path / "tx.csv", index=False)
    frame.to_parquet(tmp_path / "tx.parquet")
    from_csv = read_transactions(tmp_path / "tx.csv", columns=MAPPING)
    from_parquet = read_transactions(str(tmp_path / "tx.parquet"), columns=MAPPING)
    pd.testing.assert_frame_equal(from_csv, from_parquet, check_dtype=False)


def test_ibis_table_is_checked_where_it_lives() -> None:
    import ibis

    frame = read_transactions(raw_frame(), columns=MAPPING)
    table = ibis.memtable(frame[["customer_id", "timestamp", "amount"]])
    checked = read_transactions(table)
    assert checked.count().execute() == 4
    bad = ibis.memtable(raw_frame()[["cid", "when", "revenue"]])
    with pytest.raises(DataContractError, match="not a timestamp"):
        read_transactions(bad, columns=MAPPING)


def test_quality_report_counts_every_dropped_row_by_reason() -> None:
    frame = pd.DataFrame({
        "customer_id": ["a", None, "b", "b", "c", "d", "a"],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-02", "2024-01-03",
                                     "2024-02-01", "2024-01-05"]),
        "amount": [10.0, 5.0, 3.0, 3.0, 0.0, 8.0, -4.0],
    })
    kept, report = clean_transactions(read_transactions(frame), observation_end="2024-01-31")
    assert report.dropped("missing customer id") == 1
    assert report.dropped("cancellation or return") == 1
    assert report.dropped("non-positive amount") == 1
    assert report.dropped("exact duplicate") == 1
    assert report.dropped("timestamp after observation end") == 1
    assert report.rows_kept == len(kept) == 2
    assert report.rows_in == report.rows_kept + report.rows_dropped, "nothing disappears silently"
    assert report.amount_kept == pytest.approx(13.0)
    table = report.to_frame()
    assert table.loc[table["reason"] == "kept", "rows"].item() == 2


def test_returns_can_be_kept() -> None:
    frame = read_transactions(pd.DataFrame({"customer_id": ["a", "a"], "timestamp": ["2024-01-01", "2024-01-02"],
                                            "amount": [10.0, -4.0]}))
    report = quality_report(frame, returns="keep")
    assert report.rows_kept == 2 and report.rows_dropped == 0


def test_touchpoint_conversion_must_be_binary() -> None:
    frame = pd.DataFrame({"customer_id": ["a", "b"], "timestamp": ["2024-01-01", "2024-01-02"],
                          "channel": ["Email", "Search"], "conversion": [0, 2]})
    with pytest.raises(DataContractError, match="conversion must be 0 or 1"):
        read_touchpoints(frame)


# Issue 11 item 7: one rule for end dates in clean_transactions and quality_report.
def boundary_transactions() -> pd.DataFrame:
    return read_transactions(pd.DataFrame({
        "customer_id": ["a", "a", "a", "a"],
        "timestamp": ["2024-01-01 08:00:00", "2024-01-10 12:00:00", "2024-01-10 23:59:59", "2024-01-11 00:00:00"],
        "amount": [1.0, 2.0, 4.0, 8.0],
    }))


@pytest.mark.parametrize("end", ["2024-01-10", pd.Timestamp("2024-01-10")], ids=["string", "midnight-timestamp"])
def test_clean_transactions_end_date_keeps_the_whole_day(end) -> None:
    kept, report = clean_transactions(boundary_transactions(), observation_end=end)
    assert kept["amount"].tolist() == [1.0, 2.0, 4.0]
    assert report.dropped("timestamp after observation end") == 1
    assert quality_report(boundary_transactions(), observation_end=end).rows_kept == 3


def test_clean_transactions_end_with_a_time_keeps_that_instant() -> None:
    kept, _ = clean_transactions(boundary_transactions(), observation_end="2024-01-10 12:00")
    assert kept["amount"].tolist() == [1.0, 2.0], "the row exactly at 12:00 is kept, 23:59:59 is not"


@pytest.mark.parametrize("end", ["2024-01-10", pd.Timestamp("2024-01-10", tz="UTC")], ids=["naive", "aware"])
def test_clean_transactions_end_date_on_aware_data_is_a_utc_day(end) -> None:
    frame = boundary_transactions()
    frame["timestamp"] = frame["timestamp"].dt.tz_localize("UTC")
    kept, _ = clean_transactions(frame, observation_end=end)
    assert kept["amount"].tolist() == [1.0, 2.0, 4.0]
