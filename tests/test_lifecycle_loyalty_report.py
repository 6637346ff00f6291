"""Package helpers behind notebooks 07 and 08: the points forecast from the customer table (hand-computed),
the cycle overview, the funnel's sentence and events, and the loyalty tables whose rows mix units."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from crm_models.customers import CustomerTableSettings
from crm_models.exceptions import DataContractError
from crm_models.lifecycle.report import cycle_overview, funnel_table, load_web_events
from crm_models.loyalty import build_ledger
from crm_models.loyalty.table_forecast import TablePurchaseRates, forecast_points_from_table
from crm_models.plotting.lifecycle_tables import funnel_finding
from crm_models.plotting.loyalty_tables import format_measure, liability_table, whatif_table


def _table(expected: float, alive: float, as_of: str = "2024-07-01") -> SimpleNamespace:
    frame = pd.DataFrame({"expected_purchases": [expected], "probability_alive": [alive]},
                         index=pd.Index(["A"], name="customer_id"))
    return SimpleNamespace(frame=frame, settings=CustomerTableSettings(horizon=52, time_unit="W"),
                           as_of=pd.Timestamp(as_of))


def test_points_forecast_from_the_table_hand_computed():
    # 100 points earned 2024-01-01 expire 2025-01-01; the forecast starts at the end of 2024-07-01 (183 days left)
    history = pd.DataFrame({"customer_id": ["A"], "timestamp": pd.to_datetime(["2024-01-01"]), "amount": [100.0]})
    ledger = build_ledger(history, earn_rate=1.0, expiry_months=12, as_of="2024-07-01")
    forecast = forecast_points_from_table(ledger, _table(expected=4.0, alive=0.5), redemption_share=0.5,
                                          point_value=0.01)
    weeks = 183 / 7
    if_alive = (4.0 / 0.5) * weeks / 52  # purchases of an alive customer up to the expiry, spread evenly
    survives = 1 - 0.5 + 0.5 * np.exp(-0.5 * if_alive)
    assert forecast.totals["expected_expired"] == pytest.approx(100 * survives, rel=1e-9)
    assert forecast.totals["booked_liability"] == pytest.approx(100 * (1 - survives) * 0.01, rel=1e-9)
    assert forecast.assumptions["model"] == TablePurchaseRates.method_name
    # an inactive customer redeems nothing: every point expires
    none = forecast_points_from_table(ledger, _table(expected=0.0, alive=0.0), redemption_share=0.5, point_value=0.01)
    assert none.totals["expected_expired"] == pytest.approx(100.0)


def test_points_forecast_refuses_a_table_of_another_day():
    history = pd.DataFrame({"customer_id": ["A"], "timestamp": pd.to_datetime(["2024-01-01"]), "amount": [100.0]})
    ledger = build_ledger(history, earn_rate=1.0, expiry_months=12, as_of="2024-07-01")
    with pytest.raises(DataContractError, match="as of 2024-06-30"):
        forecast_points_from_table(ledger, _table(4.0, 0.5, as_of="2024-06-30"), redemption_share=0.5,
                                   point_value=0.01)


def test_table_rates_match_the_horizon_expectation_at_the_horizon():
    rates = TablePurchaseRates(horizon=52)
    summary = TablePurchaseRates.summary(_table(3.0, 0.6).frame, 52)
    x, tx, big_t = (summary[c].to_numpy() for c in ("frequency", "recency", "T"))
    assert rates.expected_purchases(52, x, tx, big_t)[0] == pytest.approx(3.0)
    assert rates.expected_purchases(13, x, tx, big_t)[0] == pytest.approx(0.75)
    assert rates.probability_alive(x, tx, big_t)[0] == pytest.approx(0.6)


def test_cycle_overview_counts_overdue_repeat_customers_per_segment():
    table = pd.DataFrame({
        "segment": ["a", "a", "a", "b", "b"],
        "frequency": [2, 3, 0, 1, 4],
        "clv": [10.0, 20.0, 99.0, 5.0, 7.0],
        "usual_interval_days": [10.0, 30.0, 50.0, 20.0, 40.0],
        "overdue": pd.array([True, False, True, pd.NA, True], dtype="boolean"),
    }, index=list("vwxyz"))
    out = cycle_overview(table)
    assert out.loc["a", "repeat_customers"] == 2 and out.loc["a", "overdue_customers"] == 1  # x buys once: left out
    assert out.loc["a", "overdue_clv"] == 10.0 and out.loc["a", "median_usual_interval_days"] == 20.0
    assert out.loc["b", "overdue_customers"] == 1 and out.loc["b", "overdue_share"] == 0.5  # unknown is not overdue
    with pytest.raises(DataContractError, match="overdue"):
        cycle_overview(table.drop(columns="overdue"))


def _steps() -> pd.DataFrame:
    return pd.DataFrame({
        "stage": ["browse", "product_view", "add_to_cart"],
        "customers": [100, 60, 15],
        "conversion_from_previous": [1.0, 0.6, 0.25],
        "conversion_from_previous_lower": [1.0, 0.5, 0.15],
        "conversion_from_previous_upper": [1.0, 0.7, 0.35],
        "conversion_from_start": [1.0, 0.6, 0.15],
        "median_time_from_previous": pd.to_timedelta([np.nan, 120, 300], unit="s"),
    })


def test_funnel_sentence_names_the_biggest_drop_off():
    words = funnel_finding(_steps())
    assert "before **add to cart**" in words and "only 25%" in words and "15% of visitors reach add to cart" in words
    assert "no web events" in funnel_finding(None)
    marked = _steps().assign(stage=["browse", "view", "<img src=x onerror=alert(1)>"])
    assert "<img" not in funnel_finding(marked) and "&lt;img" in funnel_finding(marked)  # event names are data
    table = funnel_table(_steps(), {"conversion_from_previous": [0.62, 0.3]})
    assert table["minutes_from_previous"].iloc[1:].tolist() == [2.0, 5.0]
    assert np.isnan(table["known_conversion"].iloc[0]) and table["known_conversion"].iloc[2] == 0.3


def test_web_events_none_without_a_source_and_simulated_up_to_the_as_of_date():
    assert load_web_events(None, customer_ids=["a"], as_of=pd.Timestamp("2024-12-31")) is None
    web = load_web_events("demo", customer_ids=[f"c{i}" for i in range(50)], as_of=pd.Timestamp("2024-12-31"), seed=1)
    assert web.truth is not None and set(web.events["customer_id"]) <= {f"c{i}" for i in range(50)}
    assert web.events["timestamp"].max() < pd.Timestamp("2025-01-01")
    assert web.quality.rows_dropped == web.truth["duplicates"]  # the generator's double-fired calls are dropped


def test_loyalty_tables_format_each_row_by_its_unit():
    assert format_measure(1234.4, "money", "EUR") == "EUR 1,234"
    assert format_measure(5.5, "money", "EUR") == "EUR 5.50"
    assert format_measure(0.256, "share") == "26%" and format_measure(np.nan, "share") == "-"
    summary = pd.DataFrame({"old": [10.0, 1500.0, 0.4], "new": [12.0, 1800.0, np.nan]},
                           index=pd.Index(["members: gold", "benefit cost: total", "historical breakage (expired share)"],
                                          name="measure"))
    summary["difference"] = summary["new"] - summary["old"]
    shown = whatif_table(SimpleNamespace(summary=summary), "EUR")
    assert shown.loc["members: gold"].tolist() == ["10", "12", "2"]
    assert shown.loc["benefit cost: total"].tolist() == ["EUR 1,500", "EUR 1,800", "EUR 300"]
    assert shown.loc["historical breakage (expired share)"].tolist() == ["40%", "-", "-"]
    liability = pd.Series({"points_outstanding": 5000.0, "liability_at_face_value": 50.0, "historical_breakage": np.nan})
    table = liability_table(liability, currency="GBP")
    assert table.loc["Liability at face value", "Value"] == "GBP 50"
    assert "no redemptions" in table.loc["Historical breakage (expired share of used points)", "Note"]


def test_close_to_next_table_keeps_progress_below_the_threshold_visible():
    from crm_models.plotting.loyalty_tables import close_to_next_table

    close = pd.DataFrame({"tier": ["member", "silver"], "next_tier": ["silver", "gold"],
                          "spend_window": [99.69, 240.0], "orders_window": [3, 9], "spend_to_next": [0.31, 10.0],
                          "orders_to_next": [2.0, 1.0], "progress": [0.9969, 0.96]}, index=["a", "b"])
    out = close_to_next_table(close, 1)
    assert list(out.index) == ["a"] and out["progress_percent"].iloc[0] == 99.6  # not rounded up to 100
    assert "progress" not in out and out["next_tier"].iloc[0] == "silver"
