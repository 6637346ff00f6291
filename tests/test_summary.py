"""customer_summary: the published CDNOW summary, holdout columns, and hand-checked cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.datasets import load_cdnow
from crm_models.summary import customer_summary, time_unit_days


@pytest.fixture(scope="module")
def cdnow_sample(shared_data):
    return load_cdnow(shared_data / "cdnow_sample.txt")


def test_reproduces_published_cdnow_39_week_summary(shared_data, cdnow_sample) -> None:
    published = pd.read_csv(shared_data / "cdnow_summary_39wk.csv")
    published.index = published["ID"].astype(str)
    ours = customer_summary(cdnow_sample, observation_end="1997-09-30", time_unit="W").loc[published.index]
    assert len(ours) == 2_357
    np.testing.assert_array_equal(ours["frequency"].to_numpy(), published["x"].to_numpy())
    # The published file rounds to 2 decimals (half up); allow exactly that rounding.
    for column, reference in (("recency", "t_x"), ("T", "T"), ("monetary_value", "zbar")):
        difference = np.abs(ours[column].to_numpy() - published[reference].to_numpy())
        assert difference.max() <= 0.005 + 1e-9, column
    assert (ours["frequency"] > 0).sum() == 946


def test_holdout_columns(cdnow_sample) -> None:
    summary = customer_summary(cdnow_sample, observation_end="1998-06-30", calibration_end="1997-09-30",
                               time_unit="W")
    assert summary["duration_holdout"].iloc[0] == pytest.approx(273 / 7)
    # Customer 1 bought on 1997-12-12 only in the holdout window (26.48).
    one = summary.loc["1"]
    assert one["frequency"] == 2 and one["frequency_holdout"] == 1
    assert one["monetary_value_holdout"] == pytest.approx(26.48)
    tx = cdnow_sample
    holdout_days = tx.loc[tx["timestamp"] > "1997-09-30"].groupby("customer_id")["timestamp"].nunique()
    assert summary["frequency_holdout"].sum() == holdout_days.sum()


def test_hand_computed_case_merges_same_day_purchases() -> None:
    tx = pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "b", "c"],
        "timestamp": pd.to_datetime(["2024-01-01 09:00", "2024-01-01 18:00", "2024-01-08 00:00", "2024-01-15 00:00",
                                     "2024-01-10 00:00", "2024-01-20 00:00"]),
        "amount": [10.0, 5.0, 20.0, 40.0, 7.0, -3.0],
    })
    summary = customer_summary(tx, observation_end="2024-01-29", time_unit="W")
    a = summary.loc["a"]
    assert a["frequency"] == 2, "two same-day purchases count once"
    assert a["recency"] == pytest.approx(2.0) and a["T"] == pytest.approx(4.0)
    assert a["monetary_value"] == pytest.approx(30.0), "mean of repeat purchases only"
    assert summary.loc["b", "frequency"] == 0 and summary.loc["b", "monetary_value"] == 0.0
    assert "c" not in summary.index, "a return alone is not a purchase"


def test_timezone_aware_input_is_truncated_in_utc() -> None:
    tx = pd.DataFrame({
        "customer_id": ["a", "a"],
        "timestamp": pd.to_datetime(["2024-01-01T23:30:00+00:00", "2024-01-02T00:30:00+00:00"], utc=True),
        "amount": [1.0, 2.0],
    })
    summary = customer_summary(tx, observation_end="2024-01-03")
    assert summary.loc["a", "frequency"] == 1 and summary.loc["a", "recency"] == 1.0


def test_parquet_path_gives_the_same_summary(tmp_path, cdnow_sample) -> None:
    path = tmp_path / "tx.parquet"
    cdnow_sample.to_parquet(path)
    from_frame = customer_summary(cdnow_sample, observation_end="1997-09-30")
    from_path = customer_summary(path, observation_end="1997-09-30")
    pd.testing.assert_frame_equal(from_frame, from_path, check_dtype=False)


def test_bad_time_unit_and_calibration_order() -> None:
    with pytest.raises(ValueError, match="months are ambiguous"):
        time_unit_days("M")
    assert time_unit_days(30.4375) == 30.4375
    tx = pd.DataFrame({"customer_id": ["a"], "timestamp": pd.to_datetime(["2024-01-01"]), "amount": [1.0]})
    with pytest.raises(ValueError, match="must fall before"):
        customer_summary(tx, observation_end="2024-01-10", calibration_end="2024-01-10")


def test_aware_end_dates_are_read_as_utc_days() -> None:
    tx = pd.DataFrame({
        "customer_id": ["a", "a", "b", "b"],
        "timestamp": pd.to_datetime(["2024-01-01T10:00Z", "2024-01-03T10:00Z", "2024-01-02T10:00Z",
                                     "2024-01-06T01:00Z"], utc=True),
        "amount": [1.0, 2.0, 3.0, 4.0],
    })
    # 2024-01-05 21:00 in New York is 2024-01-06 02:00 UTC: the window ends on 6 January (UTC).
    aware_end = pd.Timestamp("2024-01-05 21:00", tz="America/New_York")
    summary = customer_summary(tx, observation_end=aware_end)
    assert summary.loc["b", "frequency"] == 1, "the purchase on 6 January (UTC) is inside the window"
    assert summary.loc["a", "T"] == 5.0
    with_holdout = customer_summary(tx, observation_end=aware_end,
                                    calibration_end=pd.Timestamp("2024-01-04", tz="UTC"))
    assert with_holdout.loc["b", "frequency_holdout"] == 1


# Issue 11 item 2: ends are applied to raw timestamps before purchases are merged into periods.
def test_weekly_period_does_not_count_purchases_after_the_calibration_end() -> None:
    tx = pd.DataFrame({"customer_id": ["a"] * 3,
                       "timestamp": pd.to_datetime(["2024-01-01", "2024-01-13", "2024-01-30"]),
                       "amount": [1.0, 2.0, 3.0]})
    summary = customer_summary(tx, calibration_end="2024-01-10", period="W")
    assert summary.loc["a", "frequency"] == 0, "13 January falls after the calibration end"
    assert summary.loc["a", "frequency_holdout"] == 2, "13 and 30 January are two holdout weeks"
    assert summary.loc["a", "monetary_value_holdout"] == pytest.approx(2.5)


def test_weekly_period_does_not_count_purchases_after_the_observation_end() -> None:
    tx = pd.DataFrame({"customer_id": ["a", "a"], "timestamp": pd.to_datetime(["2024-01-01", "2024-01-13"]),
                       "amount": [1.0, 2.0]})
    summary = customer_summary(tx, observation_end="2024-01-10", period="W")
    assert summary.loc["a", "frequency"] == 0


# Issue 11 item 7: one rule for end dates. A date (string or midnight timestamp) is the whole day; a time of day
# includes that instant and nothing later.
BOUNDARY_TX = pd.DataFrame({
    "customer_id": ["a", "a", "a", "a"],
    "timestamp": pd.to_datetime(["2024-01-01 08:00:00", "2024-01-10 12:00:00", "2024-01-10 23:59:59",
                                 "2024-01-11 00:00:00"]),
    "amount": [1.0, 2.0, 4.0, 8.0],
})
WHOLE_DAY_ENDS = ["2024-01-10", pd.Timestamp("2024-01-10"), __import__("datetime").date(2024, 1, 10)]


@pytest.mark.parametrize("end", WHOLE_DAY_ENDS, ids=["string", "midnight-timestamp", "date"])
def test_observation_end_date_means_the_whole_day(end) -> None:
    summary = customer_summary(BOUNDARY_TX, observation_end=end, period="H")
    assert summary.loc["a", "frequency"] == 2, "12:00 and 23:59:59 on 10 January are in, 11 January 00:00 is out"


def test_observation_end_with_a_time_includes_that_instant_only() -> None:
    summary = customer_summary(BOUNDARY_TX, observation_end="2024-01-10 12:00", period="H")
    assert summary.loc["a", "frequency"] == 1, "the purchase exactly at 12:00 is in, 23:59:59 is out"
    assert summary.loc["a", "T"] == pytest.approx(9 + 4 / 24), "T counts from 1 Jan 08:00 to the end's hour"


@pytest.mark.parametrize("end", WHOLE_DAY_ENDS, ids=["string", "midnight-timestamp", "date"])
def test_calibration_end_date_means_the_whole_day(end) -> None:
    summary = customer_summary(BOUNDARY_TX, calibration_end=end, observation_end="2024-01-20", period="H")
    assert summary.loc["a", "frequency"] == 2
    assert summary.loc["a", "frequency_holdout"] == 1, "only 11 January 00:00 is in the holdout"


def test_calibration_end_with_a_time_splits_at_that_instant() -> None:
    summary = customer_summary(BOUNDARY_TX, calibration_end="2024-01-10 12:00", observation_end="2024-01-20",
                               period="H")
    assert summary.loc["a", "frequency"] == 1 and summary.loc["a", "frequency_holdout"] == 2
