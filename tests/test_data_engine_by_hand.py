"""The engine side of the data layer (DuckDB backend, source forms, the canonical adapter, ibis events), checked
with small hand-made tables.

Each test names the mutation class (issue 21) it guards against: a keyword argument dropped or set wrong, a
string constant (a glob, a file suffix, a column name) changed, a cast left out, or an error that loses its
column, rule or example rows.
"""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.data import as_canonical_table, as_ibis_table, duckdb_backend, read_events, read_transactions
from crm_models.data.engine import purchase_rows
from crm_models.exceptions import ConfigurationError, DataContractError

TX = pd.DataFrame({"customer_id": ["a", "b", "c"],
                   "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
                   "amount": [1.0, 2.0, 4.0]})


# --------------------------------------------------------------------------- duckdb_backend
@pytest.mark.parametrize("exists", [True, False])
def test_duckdb_backend_uses_a_spill_folder_that_exists_or_is_nested(tmp_path, exists) -> None:
    """Guards against ``mkdir`` losing ``parents=True`` or ``exist_ok=True`` (or the path): a folder that already
    exists and one two levels down must both work, and DuckDB must be told to spill there."""
    folder = tmp_path / "spill" if exists else tmp_path / "a" / "b"
    if exists:
        folder.mkdir()
    con = duckdb_backend(temp_directory=folder)
    assert folder.is_dir()
    setting = con.raw_sql("SELECT current_setting('temp_directory')").fetchone()[0]
    assert setting == str(folder)


# --------------------------------------------------------------------------- as_ibis_table source forms
def test_a_folder_of_parquet_files_in_subfolders_is_read_whole(tmp_path) -> None:
    """Guards against a changed glob for folders: two Parquet files in partition subfolders give every row."""
    for part, rows in (("m=1", TX.iloc[:2]), ("m=2", TX.iloc[2:])):
        (tmp_path / part).mkdir()
        rows.to_parquet(tmp_path / part / "data.parquet")
    table = as_ibis_table(tmp_path, duckdb_backend())
    assert sorted(table.to_pandas()["amount"]) == [1.0, 2.0, 4.0]


def test_a_pq_file_is_read_as_parquet(tmp_path) -> None:
    """Guards against a changed suffix list: ``.pq`` is Parquet, as ``.parquet`` is."""
    TX.to_parquet(tmp_path / "tx.pq")
    assert as_ibis_table(tmp_path / "tx.pq", duckdb_backend()).count().execute() == 3


def test_purchase_rows_makes_integer_amounts_float() -> None:
    """Guards against dropping the ``amount`` cast: integer amounts come out as float64 (sums of money must not
    be integer arithmetic on the backend) and a return (negative amount) is left out."""
    frame = TX.assign(amount=[3, -2, 0])
    rows = purchase_rows(as_ibis_table(frame, duckdb_backend()))
    assert str(rows.schema()["amount"]) == "float64"
    assert sorted(rows.to_pandas()["amount"]) == [0.0, 3.0]


# --------------------------------------------------------------------------- as_canonical_table errors
def test_an_unknown_kind_is_named_with_the_choices() -> None:
    with pytest.raises(ConfigurationError) as info:
        as_canonical_table(TX, kind="orders")
    assert "orders" in str(info.value) and "transactions" in str(info.value)


def test_unreadable_timestamp_text_is_called_a_date_time() -> None:
    """Guards against the message calling a bad timestamp "a number" (wording that points the user to the wrong
    column type)."""
    frame = TX.assign(timestamp=["2024-01-01", "not a date", "2024-01-03"])
    with pytest.raises(DataContractError) as info:
        as_canonical_table(frame)
    assert info.value.column == "timestamp"
    assert "date/time" in str(info.value) and "a number" not in str(info.value)


def test_a_missing_amount_names_the_missing_rule() -> None:
    frame = TX.assign(amount=[1.0, None, 4.0])
    with pytest.raises(DataContractError) as info:
        as_canonical_table(frame)
    assert info.value.column == "amount" and "missing" in info.value.rule


def test_a_boolean_timestamp_column_is_a_contract_error_with_rows() -> None:
    """Guards against the last branch of the timestamp cast losing its message (a TypeError instead of a
    DataContractError) or its example rows."""
    frame = TX.assign(timestamp=[True, False, True])
    with pytest.raises(DataContractError) as info:
        as_canonical_table(frame)
    assert info.value.column == "timestamp" and "boolean" in str(info.value)
    assert len(info.value.examples) == 3


# --------------------------------------------------------------------------- ibis tables through the readers
def test_an_ibis_table_with_a_text_timestamp_names_the_rule() -> None:
    table = as_ibis_table(TX.assign(timestamp=["2024-01-01"] * 3), duckdb_backend())
    with pytest.raises(DataContractError) as info:
        read_transactions(table)
    assert info.value.column == "timestamp" and "timestamp" in info.value.rule


def test_an_ibis_table_with_a_text_amount_shows_at_most_five_rows() -> None:
    """Guards against the examples losing their row limit (the whole table would be pulled from the backend to
    show an error) or being dropped."""
    frame = pd.DataFrame({"customer_id": list("abcdefg"), "timestamp": pd.Timestamp("2024-01-01"),
                          "amount": ["1", "2", "x", "4", "5", "6", "7"]})
    with pytest.raises(DataContractError) as info:
        read_transactions(as_ibis_table(frame, duckdb_backend()))
    assert info.value.column == "amount"
    assert info.value.examples is not None and 1 <= len(info.value.examples) <= 5


# --------------------------------------------------------------------------- events
def test_read_events_passes_csv_options_on(tmp_path) -> None:
    """Guards against ``read_events`` dropping ``csv_options``: a ';'-separated file is read into its columns."""
    path = tmp_path / "events.csv"
    path.write_text("customer_id;event;timestamp\nc1; product_view ;2024-01-01 10:00\nc2;purchase;2024-01-02\n")
    out = read_events(path, csv_options={"sep": ";"})
    assert out["event"].tolist() == ["product_view", "purchase"]


def test_read_events_on_an_ibis_table_checks_the_event_type() -> None:
    """Guards against a changed column name in the ibis branch (a KeyError for every ibis events table) and
    against the type error losing its column or rule."""
    events = pd.DataFrame({"customer_id": ["a", "b"], "event": ["view", "buy"],
                           "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"])})
    con = duckdb_backend()
    table = read_events(as_ibis_table(events, con))
    assert table.count().execute() == 2
    with pytest.raises(DataContractError) as info:
        read_events(as_ibis_table(events.assign(event=[1, 2]), con))
    assert info.value.column == "event" and "string" in info.value.rule
