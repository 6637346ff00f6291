"""customer_summary by hand (issue 21, mutation survivors of `summary`): periods, units, the holdout columns of
customers without holdout purchases, the output's columns and types, the engine settings, and the errors for
windows without purchases.

Each test names the class of wrong implementation it guards against.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.exceptions import ConfigurationError, DataContractError
from crm_models.summary import customer_summary

# a: 1 Jan 10:00 (10) and 1 Jan 15:00 (5), 3 Jan (20), 8 Jan (40); b: 2 Jan (7) only; c: a return only.
TX = pd.DataFrame({
    "customer_id": ["a", "a", "a", "a", "b", "c"],
    "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-01 15:00", "2024-01-03 00:00", "2024-01-08 00:00",
                                 "2024-01-02 00:00", "2024-01-04 00:00"]),
    "amount": [10.0, 5.0, 20.0, 40.0, 7.0, -3.0],
})


def test_columns_types_and_order_by_hand() -> None:
    """Guards: columns renamed, lost or reordered, frequency not an integer, ids not text, customers unsorted.

    Daily periods, end 10 Jan: a has periods 1, 3, 8 Jan -> x = 2, t_x = 7, T = 9, zbar = (20 + 40) / 2 = 30;
    b has one period -> x = 0, t_x = 0, T = 8, zbar = 0.
    """
    summary = customer_summary(TX, observation_end="2024-01-10")
    assert list(summary.columns) == ["frequency", "recency", "T", "monetary_value", "first_purchase"]
    assert summary.index.name == "customer_id" and str(summary.index.dtype) == "string"
    assert summary.index.tolist() == ["a", "b"]
    assert str(summary["frequency"].dtype) == "int64"
    assert [str(summary[c].dtype) for c in ("recency", "T", "monetary_value")] == ["float64"] * 3
    assert summary.loc["a"].drop("first_purchase").tolist() == [2, 7.0, 9.0, 30.0]
    assert summary.loc["b"].drop("first_purchase").tolist() == [0, 0.0, 8.0, 0.0]
    assert summary.loc["a", "first_purchase"] == pd.Timestamp("2024-01-01")


@pytest.mark.parametrize("period", ["h", "H"])
def test_hourly_periods_in_either_case(period) -> None:
    """Guards: the period read case-sensitively or mapped to another truncation (hours: 10:00 and 15:00 on
    1 Jan are two purchases; the first is 10, so the repeat mean is (5 + 20 + 40) / 3)."""
    summary = customer_summary(TX, observation_end="2024-01-10", period=period)
    assert summary.loc["a", "frequency"] == 3
    assert summary.loc["a", "monetary_value"] == pytest.approx(65 / 3)
    assert summary.loc["a", "recency"] == pytest.approx(7 - 10 / 24)
    assert summary.loc["a", "T"] == pytest.approx(9 + 13 / 24), "1 Jan 10:00 to 10 Jan 23:00, the last hour"


def test_hourly_purchases_late_on_the_end_day_keep_recency_within_t() -> None:
    """Regression: with hourly periods T was measured to the end day's midnight, so a purchase later that day
    had recency > T (here 9 5/24 > 8 14/24) and the CLV models refused the summary ("recency <= T"). T now runs
    to the start of the window's last hour (23:00 of a whole end day; the hour of an end with a time)."""
    from crm_models.clv import BetaGeoModel

    tx = pd.DataFrame({"customer_id": ["a", "a", "b", "b"],
                       "timestamp": pd.to_datetime(["2024-01-01 10:00", "2024-01-10 15:00", "2024-01-02 00:00",
                                                    "2024-01-05 00:00"]),
                       "amount": [1.0, 2.0, 3.0, 4.0]})
    for end in ("2024-01-10", None):  # a whole day given, or the day of the last purchase by default
        summary = customer_summary(tx, observation_end=end, period="H")
        assert summary.loc["a", "recency"] == pytest.approx(9 + 5 / 24)
        assert summary.loc["a", "T"] == pytest.approx(9 + 13 / 24)
        assert summary.loc["b", "T"] == pytest.approx(8 + 23 / 24)
        assert (summary["recency"] <= summary["T"]).all()
        BetaGeoModel().fit_from_summary(summary)  # the contract check passes
    timed = customer_summary(tx, observation_end="2024-01-10 15:00", period="H")
    assert timed.loc["a", "T"] == pytest.approx(timed.loc["a", "recency"]), "a purchase in the last hour: T"
    holdout = customer_summary(tx, observation_end="2024-01-12", calibration_end="2024-01-10", period="H")
    assert holdout.loc["a", "T"] == pytest.approx(9 + 13 / 24) and holdout["duration_holdout"].tolist() == [2.0, 2.0]


@pytest.mark.parametrize("period", ["w", "W"])
def test_weekly_periods_in_either_case(period) -> None:
    """Guards: weeks mapped to another truncation (1 and 3 Jan 2024 share the week of Monday 1 Jan; 8 Jan
    starts the next week: one repeat worth 40, recency one week in days)."""
    summary = customer_summary(TX, observation_end="2024-01-10", period=period)
    assert summary.loc["a", "frequency"] == 1 and summary.loc["a", "monetary_value"] == pytest.approx(40.0)
    assert summary.loc["a", "recency"] == pytest.approx(7.0)


def test_an_unknown_period_is_refused_naming_it() -> None:
    """Guards: the period check dropped or its message losing the parameter."""
    with pytest.raises(ValueError, match="period"):
        customer_summary(TX, period="M")


def test_time_unit_as_a_number_of_days() -> None:
    """Guards: the unit applied to only some of recency, T and the holdout duration (7 days = "W")."""
    weeks = customer_summary(TX, observation_end="2024-01-10", calibration_end="2024-01-05", time_unit="W")
    days7 = customer_summary(TX, observation_end="2024-01-10", calibration_end="2024-01-05", time_unit=7.0)
    pd.testing.assert_frame_equal(weeks, days7)
    assert weeks.loc["a", "T"] == pytest.approx(4 / 7) and weeks.loc["a", "duration_holdout"] == pytest.approx(5 / 7)


def test_holdout_columns_by_hand_and_for_customers_without_holdout_purchases() -> None:
    """Guards: holdout counts or means wrong, a customer without holdout purchases given nulls instead of 0,
    the duration measured from another day.

    Calibration to 5 Jan (inclusive), observation to 10 Jan: a's calibration periods 1 and 3 Jan (x = 1,
    zbar = 20), holdout 8 Jan (1 period worth 40); b bought only on 2 Jan: holdout 0 and 0.0; duration 5 days.
    """
    summary = customer_summary(TX, observation_end="2024-01-10", calibration_end="2024-01-05")
    assert list(summary.columns) == ["frequency", "recency", "T", "monetary_value", "first_purchase",
                                     "frequency_holdout", "monetary_value_holdout", "duration_holdout"]
    assert summary.loc["a", ["frequency", "recency", "T", "monetary_value"]].tolist() == [1, 2.0, 4.0, 20.0]
    assert summary.loc["a", ["frequency_holdout", "monetary_value_holdout"]].tolist() == [1, 40.0]
    assert summary.loc["b", ["frequency_holdout", "monetary_value_holdout"]].tolist() == [0, 0.0]
    assert str(summary["frequency_holdout"].dtype) == "int64"
    assert summary["duration_holdout"].tolist() == [5.0, 5.0]


def test_engine_settings_reach_duckdb(tmp_path) -> None:
    """Guards: ``memory_limit`` or ``temp_directory`` not handed to the DuckDB connection (a bad limit must be
    refused by DuckDB; the spill folder is made)."""
    spill = tmp_path / "spill"
    summary = customer_summary(TX, observation_end="2024-01-10", memory_limit="256MB", temp_directory=spill)
    assert spill.is_dir() and summary.loc["a", "frequency"] == 2
    duckdb = pytest.importorskip("duckdb")
    with pytest.raises(duckdb.Error, match="(?i)memory"):
        customer_summary(TX, observation_end="2024-01-10", memory_limit="lots")


def test_no_purchases_at_all_is_a_named_error() -> None:
    """Guards: an input with returns only giving an empty summary or an engine error instead of naming the
    amount column and the rule (with and without an end date)."""
    returns = TX.assign(amount=-TX["amount"].abs())
    for end in (None, "2024-01-10"):
        with pytest.raises(DataContractError) as error:
            customer_summary(returns, observation_end=end)
        assert error.value.column == "amount" and error.value.rule == "at least one purchase"
        assert "no purchases" in str(error.value)


def test_an_end_before_every_purchase_names_the_parameter_without_ids() -> None:
    """Guards: the error naming the wrong parameter or rule, or showing customer ids in its example rows."""
    with pytest.raises(DataContractError) as error:
        customer_summary(TX, observation_end="2023-12-31")
    assert error.value.rule == "observation_end must not fall before the first purchase"
    assert error.value.column == "timestamp" and "2024-01-01 10:00:00" in str(error.value)
    assert list(error.value.examples.columns) == ["timestamp", "amount"]
    with pytest.raises(DataContractError) as error:
        customer_summary(TX, observation_end="2024-01-10", calibration_end="2023-12-31")
    assert error.value.rule == "calibration_end must not fall before the first purchase"
    assert "calibration_end=2023-12-31" in str(error.value)


def test_calibration_end_on_the_observation_end_is_refused() -> None:
    """Guards: ``>=`` loosened to ``>`` (a holdout of zero days)."""
    with pytest.raises(ConfigurationError, match="calibration_end"):
        customer_summary(TX, observation_end="2024-01-10", calibration_end="2024-01-10")
    later = customer_summary(TX, observation_end="2024-01-10", calibration_end="2024-01-09")
    assert later["duration_holdout"].iloc[0] == 1.0


def test_a_backend_handed_in_runs_the_summary() -> None:
    """Guards: ``backend`` not handed to the data contract (the frame then goes to a new connection instead)."""
    from crm_models.data.engine import duckdb_backend

    con = duckdb_backend()
    assert con.con.sql("SHOW TABLES").fetchall() == []
    summary = customer_summary(TX, observation_end="2024-01-10", backend=con)
    assert len(con.con.sql("SHOW TABLES").fetchall()) >= 1, "the transactions were registered on this backend"
    assert summary.loc["a", "frequency"] == 2


def test_customers_come_back_sorted_by_id() -> None:
    """Guards: the engine's order (a hash aggregation's, arbitrary) returned instead of the sorted ids."""
    rng = np.random.default_rng(7)
    ids = [f"c{i:04d}" for i in rng.permutation(400)]
    tx = pd.DataFrame({"customer_id": ids * 2,
                       "timestamp": pd.to_datetime(["2024-01-02"] * 400 + ["2024-01-05"] * 400),
                       "amount": np.arange(800, dtype=float)})
    summary = customer_summary(tx, observation_end="2024-01-10")
    assert summary.index.tolist() == sorted(ids)
    assert (summary["frequency"] == 1).all() and (summary["recency"] == 3.0).all()
