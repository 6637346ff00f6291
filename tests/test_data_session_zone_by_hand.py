"""Zoned timestamps that reach the engine as a path or an ibis table become naive UTC whatever the backend's
session time zone (ARCHITECTURE.md, "Dates"; :mod:`crm_models.data.timestamps`): a plain cast drops the zone in
the session's zone, so with DuckDB's ``TimeZone`` set to America/New_York 2023-12-31 23:30 UTC became 18:30."""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.data import as_canonical_table, duckdb_backend
from crm_models.data.engine import purchase_rows

UTC_STAMPS = ["2023-12-31 23:30:00.123456", "2024-03-10 07:30:00.000000"]  # New Year in UTC; a US DST day


def _zoned_parquet(tmp_path, zone: str = "UTC"):
    stamps = pd.to_datetime(UTC_STAMPS).tz_localize("UTC").tz_convert(zone)
    path = tmp_path / "tx.parquet"
    pd.DataFrame({"customer_id": ["a", "b"], "timestamp": stamps, "amount": [1.0, 2.0]}).to_parquet(path)
    return path


def _new_york_backend():
    con = duckdb_backend()
    con.raw_sql("SET TimeZone = 'America/New_York'")
    return con


@pytest.mark.parametrize("zone", ["UTC", "Asia/Tokyo"])
@pytest.mark.parametrize("form", ["path", "ibis table"])
def test_zoned_timestamps_become_utc_whatever_the_session_zone(tmp_path, zone, form) -> None:
    """The canonical table and the purchase rows hold the UTC wall time, naive, with a New York session."""
    con = _new_york_backend()
    path = _zoned_parquet(tmp_path, zone)
    source = path if form == "path" else con.read_parquet(str(path))
    table = as_canonical_table(source, backend=con)
    expected = list(pd.to_datetime(UTC_STAMPS))
    assert table.schema()["timestamp"].timezone is None
    assert list(table.to_pandas()["timestamp"]) == expected
    assert list(purchase_rows(table).to_pandas().sort_values("amount")["timestamp"]) == expected


def test_purchase_rows_of_a_zoned_table_are_utc_whatever_the_session_zone(tmp_path) -> None:
    """``purchase_rows`` on a zoned ibis table that did not pass the adapter keeps the UTC day too."""
    con = _new_york_backend()
    rows = purchase_rows(con.read_parquet(str(_zoned_parquet(tmp_path))))
    assert list(rows.to_pandas().sort_values("amount")["timestamp"]) == list(pd.to_datetime(UTC_STAMPS))


def test_a_funnel_window_on_a_zoned_events_table_is_cut_in_utc_whatever_the_session_zone(tmp_path) -> None:
    """``funnel(..., end=...)`` on zoned events read through a New York session keeps an event at 23:30 UTC on
    31 Dec inside a 31 Dec end (a plain cast would have moved it to 18:30 local and kept it too, so the check is
    the event at 01:30 UTC on 1 Jan, 20:30 on 31 Dec in New York: outside the window, not inside)."""
    from crm_models.lifecycle import funnel

    stamps = pd.to_datetime(["2023-12-30 10:00", "2023-12-31 23:30", "2024-01-01 01:30"]).tz_localize("UTC")
    path = tmp_path / "events.parquet"
    pd.DataFrame({"customer_id": ["a", "a", "b"], "event": ["visit", "buy", "visit"],
                  "timestamp": stamps}).to_parquet(path)
    con = _new_york_backend()
    table = funnel(con.read_parquet(str(path)), ["visit", "buy"], end="2023-12-31", backend=con)
    assert list(table["customers"]) == [1, 1]  # b's 1 Jan visit (UTC) lies after the end
