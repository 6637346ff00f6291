"""The events table: contract, reader errors that name the column, and the quality report of clean_events."""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.data import clean_events, events_quality_report, read_events
from crm_models.datasets.demo_events import STAGES, simulate_web_events
from crm_models.exceptions import DataContractError

RAW = pd.DataFrame({
    "uid": ["17850.0", "17850", None, "13047", "13047", "13047"],
    "what": ["view", " cart ", "view", "", "pay", "pay"],
    "when": ["2024-01-01 10:00", "2024-01-02", "2024-01-03", "2024-01-03", "2024-01-05", "2024-01-05"],
})
MAPPING = {"customer_id": "uid", "event": "what", "timestamp": "when"}


def test_read_events_maps_and_normalises_columns() -> None:
    events = read_events(RAW, columns=MAPPING)
    assert list(events.columns[:3]) == ["customer_id", "event", "timestamp"]
    assert events["event"].tolist()[:2] == ["view", "cart"]
    assert pd.isna(events["event"].iloc[3])  # an empty name is missing
    assert pd.api.types.is_datetime64_any_dtype(events["timestamp"])


def test_clean_events_counts_every_dropped_row_by_reason() -> None:
    events = read_events(RAW, columns=MAPPING)
    kept, report = clean_events(events, observation_end="2024-01-04")
    assert report.rows_in == 6 and report.rows_kept == len(kept) == 2
    assert report.dropped("missing customer id") == 1
    assert report.dropped("missing event name") == 1
    assert report.dropped("exact duplicate") == 1
    assert report.dropped("timestamp after observation end") == 1  # the remaining pay on Jan 5
    assert report.rows_dropped + report.rows_kept == report.rows_in
    assert events_quality_report(events, observation_end="2024-01-04").to_frame().equals(report.to_frame())


def test_observation_end_date_means_the_whole_day() -> None:
    events = read_events(RAW, columns=MAPPING)
    kept, _ = clean_events(events, observation_end="2024-01-05")
    assert (kept["event"] == "pay").sum() == 1  # Jan 5 00:00 is inside the day


@pytest.mark.parametrize(
    ("frame", "column", "rule"),
    [
        (RAW.drop(columns="what"), "event", "required column"),
        (RAW.assign(when=["yesterday", *RAW["when"][1:]]), "timestamp", "parseable"),
        (RAW.assign(when=["2024-01-01 10:00+02:00", *RAW["when"][1:]]), "timestamp", "one kind per table"),
        (RAW.iloc[:0], None, "at least one row"),
    ],
)
def test_broken_events_raise_errors_naming_column_and_rule(frame, column, rule) -> None:
    mapping = {k: v for k, v in MAPPING.items() if v in frame.columns}
    with pytest.raises(DataContractError, match=rule) as error:
        read_events(frame, columns=mapping)
    assert error.value.column == column


def test_demo_events_follow_the_contract() -> None:
    demo = simulate_web_events(500, seed=2)
    events = read_events(demo.events)
    assert set(STAGES) <= set(events["event"])
    assert events["timestamp"].is_monotonic_increasing
    assert simulate_web_events(500, seed=2).events.equals(demo.events)  # deterministic
    assert demo.truth["conversion_from_previous"][0] == pytest.approx(0.6 * 0.55 + 0.4 * 0.70)
