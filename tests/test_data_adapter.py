"""The one way in: any source -> a canonical ibis table on a given backend, with the contract checked there."""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.data import as_canonical_table, duckdb_backend
from crm_models.exceptions import ConfigurationError, DataContractError
from crm_models.rfm import rfm_scores
from crm_models.summary import customer_summary

USER = pd.DataFrame({
    "cid": ["a", "b", "a", "c"],
    "when": pd.to_datetime(["2024-01-01 10:00", "2024-01-02 11:00", "2024-01-05 12:00", "2024-01-06 13:00"]),
    "revenue": [10.0, 20.0, 5.0, 7.5],
    "note": ["w", "x", "y", "z"],
})
MAPPING = {"customer_id": "cid", "timestamp": "when", "amount": "revenue"}


def canonical(table) -> pd.DataFrame:
    frame = table.to_pandas()
    return frame.sort_values(["timestamp", "customer_id"]).reset_index(drop=True)


@pytest.mark.parametrize("form", ["frame", "csv", "parquet", "ibis"])
def test_every_source_form_gives_the_same_canonical_table(tmp_path, form) -> None:
    import ibis

    if form == "frame":
        source = USER
    elif form == "csv":
        source = tmp_path / "tx.csv"
        USER.to_csv(source, index=False)
    elif form == "parquet":
        source = tmp_path / "tx.parquet"
        USER.to_parquet(source)
    else:
        source = ibis.memtable(USER)
    table = as_canonical_table(source, columns=MAPPING)
    assert list(table.columns[:3]) == ["customer_id", "timestamp", "amount"] and "note" in table.columns
    frame = canonical(table)
    assert frame["amount"].tolist() == [10.0, 20.0, 5.0, 7.5]
    assert frame["timestamp"].iloc[0] == pd.Timestamp("2024-01-01 10:00")


def test_frames_are_registered_on_the_given_backend() -> None:
    con = duckdb_backend()
    table = as_canonical_table(USER, columns=MAPPING, backend=con)
    assert table.get_backend() is con


def test_aware_frame_timestamps_become_naive_utc() -> None:
    aware = USER.assign(when=USER["when"].dt.tz_localize("Europe/Berlin"))
    frame = canonical(as_canonical_table(aware, columns=MAPPING))
    assert frame["timestamp"].iloc[0] == pd.Timestamp("2024-01-01 09:00")


def test_unparseable_text_timestamp_in_a_csv_is_named_with_the_row(tmp_path) -> None:
    """customer_summary on this CSV raised DuckDB's ConversionException (no column, no row)."""
    path = tmp_path / "tx.csv"
    USER.rename(columns={"cid": "customer_id", "revenue": "amount"}).assign(
        timestamp=["2024-01-01", "2024-01-02", "soon", "2024-01-04"]).drop(columns="when").to_csv(path, index=False)
    with pytest.raises(DataContractError) as info:
        customer_summary(path)
    assert info.value.column == "timestamp"
    assert "soon" in str(info.value) and "1 rows" in str(info.value)


def test_text_amount_on_the_backend_is_named_with_the_row() -> None:
    """customer_summary raised IbisTypeError (string and int not comparable), naming no row."""
    frame = USER.rename(columns=dict(zip(MAPPING.values(), MAPPING.keys(), strict=True)))
    frame = frame.assign(amount=["10", "20", "lots", "7.5"])
    with pytest.raises(DataContractError) as info:
        customer_summary(frame)
    assert info.value.column == "amount" and "lots" in str(info.value)


def test_integer_timestamps_on_the_backend_need_a_unit(tmp_path) -> None:
    """customer_summary cast an integer column to timestamps silently."""
    path = tmp_path / "tx.parquet"
    pd.DataFrame({"customer_id": ["a", "b"], "timestamp": [1718000000, 1718086400], "amount": [1.0, 2.0]}
                 ).to_parquet(path)
    with pytest.raises(DataContractError, match="timestamp_unit"):
        customer_summary(path)
    table = as_canonical_table(path, timestamp_unit="s")
    assert canonical(table)["timestamp"].tolist() == [pd.Timestamp("2024-06-10 06:13:20"),
                                                     pd.Timestamp("2024-06-11 06:13:20")]
    with pytest.raises(ConfigurationError, match="timestamp_unit"):
        as_canonical_table(path, timestamp_unit="minutes")


def test_empty_and_missing_timestamps_are_named_on_the_backend() -> None:
    import ibis

    frame = USER.rename(columns=dict(zip(MAPPING.values(), MAPPING.keys(), strict=True)))
    with pytest.raises(DataContractError, match="empty"):
        as_canonical_table(ibis.memtable(frame.iloc[0:0]))
    with pytest.raises(DataContractError, match="1 rows have no timestamp"):
        as_canonical_table(frame.assign(timestamp=frame["timestamp"].where(frame["amount"] != 5.0)))


def test_summary_and_rfm_run_on_the_given_backend() -> None:
    frame = USER.rename(columns=dict(zip(MAPPING.values(), MAPPING.keys(), strict=True)))
    con = duckdb_backend()
    default = customer_summary(frame, observation_end="2024-01-06")
    on_backend = customer_summary(as_canonical_table(frame, backend=con), observation_end="2024-01-06")
    pd.testing.assert_frame_equal(default, on_backend)
    pd.testing.assert_frame_equal(rfm_scores(frame, observation_end="2024-01-06"),
                                  rfm_scores(frame, observation_end="2024-01-06", backend=con))
