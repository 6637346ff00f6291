"""The attribution report's facts on journeys small enough to check by hand.

Nine customers in January 2024: two go a -> b and convert (value 10 each), one goes a -> b without converting, one
converts on b alone (value 10), three touch b only and two touch a only without converting. So 9 journeys, 3
conversions (rate 1/3), conversion value 30; the exact first-order Markov credit is a 0.9, b 2.1 (shares 30% / 70%,
the package docstring's example); last touch gives b all 3 conversions and all 30 of value; first touch a 2, b 1;
linear a 1, b 2.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.attribution import report as ar
from crm_models.attribution.roi import ChannelROI
from crm_models.exceptions import ConfigurationError, DataContractError


def _touchpoints() -> pd.DataFrame:
    rows = []
    journeys = [(["a", "b"], 1)] * 2 + [(["a", "b"], 0)] + [(["b"], 1)] + [(["b"], 0)] * 3 + [(["a"], 0)] * 2
    for i, (path, converts) in enumerate(journeys):
        for k, channel in enumerate(path):
            last = k == len(path) - 1
            rows.append({"customer_id": f"C{i:03d}", "timestamp": pd.Timestamp("2024-01-02 10:00") + pd.Timedelta(days=k),
                         "channel": channel, "conversion": int(converts and last), "value": 10.0 * (converts and last)})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def report() -> ar.AttributionReport:
    spend = pd.DataFrame({"period": ["2024-01-01", "2024-01-01", "2024-02-01", "2024-02-01"],
                          "channel": ["a", "b", "a", "b"], "spend": [9.0, 7.0, 100.0, 100.0]})
    truth = {"attribution": pd.DataFrame({"conversions": [1.0, 2.0], "value": [10.0, 20.0]}, index=["a", "b"])}
    return ar.attribution_report(_touchpoints(), spend=spend, truth=truth, as_of="2024-01-31", order=1, max_order=2,
                                 n_boot=20, level=0.9, seed=1)


def test_totals_and_headline_credit_by_hand(report) -> None:
    assert report.n_journeys == 9 and report.n_conversions == 3 and report.conversion_value == 30
    assert report.conversion_rate == pytest.approx(1 / 3)
    assert report.markov.credit["conversions"].to_dict() == pytest.approx({"a": 0.9, "b": 2.1})
    assert report.top_channel == "b"
    assert report.shares.tolist() == pytest.approx([0.7, 0.3])
    assert report.true_shares.to_dict() == pytest.approx({"a": 1 / 3, "b": 2 / 3})


def test_share_table_has_method_names_and_hand_shares(report) -> None:
    table = ar.share_table(report)
    frame = table.frame
    assert list(frame.index) == ["b", "a"], "largest Markov share first"
    assert list(frame.columns) == [ar.method_label(m) for m in ar.COMPARED_METHODS]
    assert "Markov removal effects" in frame.columns and "Last touch" in frame.columns
    assert frame["Markov removal effects"].tolist() == pytest.approx([0.7, 0.3])
    assert frame["Last touch"].tolist() == pytest.approx([1.0, 0.0])
    assert frame["First touch"].tolist() == pytest.approx([1 / 3, 2 / 3])
    assert frame["Linear"].tolist() == pytest.approx([2 / 3, 1 / 3])
    assert table.shares == list(frame.columns)


def test_last_touch_gap_names_the_over_and_understated_channel(report) -> None:
    over, over_by, under, under_by = ar.last_touch_gap(report)
    assert (over, under) == ("b", "a")
    assert over_by == pytest.approx(0.3) and under_by == pytest.approx(0.3)


def test_headline_sentences_state_business_quantities(report) -> None:
    lines = ar.headline_sentences(report, description="the test shop", share=lambda v: f"{v:.0%}",
                                  money=lambda v, decimals=0: f"EUR {v:,.{decimals}f}", currency="EUR")
    text = "\n".join(lines)
    assert lines[0] == ("In the test shop up to 31 January 2024, 9 customer journeys led to **3 conversions** (33% of "
                        "journeys) worth **EUR 30**.")
    assert "**b** earns the most credit: **70% of conversions** (90% interval" in lines[1]
    assert "exact Markov removal effects (order 1)" in lines[1]
    assert "overstate **b** by 30 percentage points and understate **a** by 30" in text
    assert "Per EUR 1 spent, **" in text and "Recommendation: " in text
    assert "order" not in lines[0] and "truth" not in text, "technical checks stay out of the headline"


def test_headline_mentions_touches_left_out_after_the_report_date() -> None:
    late = pd.DataFrame({"customer_id": ["X"], "timestamp": [pd.Timestamp("2024-03-01")], "channel": ["a"],
                         "conversion": [1], "value": [99.0]})
    report = ar.attribution_report(pd.concat([_touchpoints(), late], ignore_index=True), as_of="2024-01-31",
                                   max_order=1, n_boot=5, seed=0)
    assert report.window.dropped == 1 and report.n_conversions == 3, "the late conversion is cut"
    assert "(1 later touches left out)" in ar.headline_sentences(report, description="x")[0]
    assert report.roi is None
    assert ar.budget_move(report.roi) == "no spend per channel given"


def test_cut_touchpoints_keeps_the_whole_as_of_day() -> None:
    frame = pd.DataFrame({"timestamp": pd.to_datetime(["2024-01-10 23:59:59", "2024-01-11 00:00:00",
                                                       "2024-01-09 08:00:00"]), "channel": ["a", "b", "c"]})
    window = ar.cut_touchpoints(frame, "2024-01-10")
    assert window.touchpoints["channel"].tolist() == ["a", "c"]
    assert window.dropped == 1 and window.as_of == pd.Timestamp("2024-01-10")
    assert ar.cut_touchpoints(frame, "2024-01-10 12:00").touchpoints["channel"].tolist() == ["c"]
    whole = ar.cut_touchpoints(frame, None)
    assert whole.touchpoints is frame and whole.dropped == 0 and whole.as_of is None
    aware = frame.assign(timestamp=frame["timestamp"].dt.tz_localize("UTC"))
    assert ar.cut_touchpoints(aware, "2024-01-10").touchpoints["channel"].tolist() == ["a", "c"]


def test_cut_touchpoints_refuses_a_date_before_the_data_and_a_non_date() -> None:
    frame = _touchpoints()
    with pytest.raises(DataContractError, match="no touchpoint on or before report_as_of 2023-12-31") as info:
        ar.cut_touchpoints(frame, "2023-12-31")
    assert "C000" not in str(info.value), "no customer id in the error text"
    with pytest.raises(ConfigurationError, match="report_as_of"):
        ar.cut_touchpoints(frame, "not a date")


def test_spend_is_cut_at_the_report_date_and_roi_follows_by_hand(report) -> None:
    roi = report.roi
    markov = roi.table[roi.table["method"] == "markov"].set_index("channel")
    assert markov["spend"].to_dict() == {"a": 9.0, "b": 7.0}, "February's spend lies after the report date"
    assert markov["cost_per_conversion"].to_dict() == pytest.approx({"a": 9 / 0.9, "b": 7 / 2.1})
    assert ar.best_roas(roi, "last_touch") == ("b", pytest.approx(30 / 7))
    table = ar.roas_table(report, "EUR")
    assert list(table.frame.index) == ["b", "a"]
    assert table.frame.loc["b", "Cost per conversion (Markov)"] == pytest.approx(7 / 2.1)
    assert table.frame.loc["b", "Value per EUR 1 spent (last touch)"].startswith("4.29 (")
    assert table.frame.loc["a", "Value per EUR 1 spent (last touch)"] == "0.00 (0.00 to 0.00)"
    assert table.money == ["Spend", "Cost per conversion (Markov)"]
    assert not any("_" in c for c in table.frame.columns)


def test_interval_table_puts_the_estimate_first(report) -> None:
    table = ar.interval_table(report, share=lambda v: f"{v:.0%}")
    assert list(table.columns) == [ar.method_label(m) for m in ar.INTERVAL_METHODS]
    assert table.loc["b", "Markov removal effects"].startswith("70% (")
    assert table.loc["b", "Last touch"] == "100% (100% to 100%)"


def test_markov_table_and_order_table_have_reader_labels(report) -> None:
    table = ar.markov_table(report)
    assert table.frame["Conversions credited"].tolist() == pytest.approx([2.1, 0.9])
    assert table.frame["Share of conversions"].tolist() == pytest.approx([0.7, 0.3])
    assert "Value credited" in table.money
    order = ar.order_table(report.selection)
    assert order.frame.index.name == "Markov order" and not any("_" in c for c in order.frame.columns)
    assert order.decimals == dict.fromkeys(["Held-out fit (log-likelihood per journey)", "Standard error",
                                            "Training fit (log-likelihood per journey)"], 3)


def _roi(shifts: list[dict]) -> ChannelROI:
    table = pd.DataFrame({"method": ["markov"] * 3, "channel": ["Display", "Paid Search", "Email"],
                          "spend": [100.0, 50.0, 0.0], "roas": [0.5, 3.0, np.nan],
                          "conversions_per_unit": [0.01, 0.1, np.nan]})
    columns = ["method", "from_channel", "to_channel", "metric", "from_upper", "to_lower", "gap"]
    return ChannelROI(table, pd.DataFrame(shifts, columns=columns), "roas", 0.9, 10, 0)


def test_budget_move_in_words_only_when_the_intervals_separate() -> None:
    assert ar.budget_move(_roi([])) == "no budget shift is supported by the intervals"
    shifts = [{"method": "linear", "from_channel": "Email", "to_channel": "Display", "metric": "roas",
               "from_upper": 1.0, "to_lower": 9.0, "gap": 8.0},
              {"method": "markov", "from_channel": "Display", "to_channel": "Paid Search", "metric": "roas",
               "from_upper": 0.8, "to_lower": 2.0, "gap": 1.2}]
    assert ar.budget_move(_roi(shifts)) == "shift budget from Display to Paid Search", "the Markov move, not linear's"
    assert ar.budget_move(_roi(shifts), "linear") == "shift budget from Email to Display"
    assert ar.best_roas(_roi([])) == ("Paid Search", 3.0), "channels without spend are not ranked"


def test_kpis_are_business_quantities_and_checks_stay_apart(report) -> None:
    kpis = ar.kpis(report)
    assert kpis["kpi_conversions"] == 3 and kpis["kpi_conversion_rate"] == pytest.approx(1 / 3)
    assert kpis["kpi_top_channel"] == "b" and kpis["kpi_top_channel_share"] == pytest.approx(0.7)
    assert kpis["kpi_budget_move"] == ar.budget_move(report.roi)
    assert isinstance(kpis["kpi_best_return_on_spend_channel"], str) and kpis["kpi_best_return_on_spend"] > 0
    assert not {"kpi_best_markov_order", "kpi_max_share_error_vs_truth"} & set(kpis)
    checks = ar.technical_metrics(report)
    assert checks["best_markov_order"] in (1.0, 2.0) and not any(k.startswith("kpi_") for k in checks)
    assert checks["max_share_error_vs_truth"] == pytest.approx(0.7 - 2 / 3), "largest gap to the true shares"


def test_truth_and_order_sentences_explain_the_checks(report) -> None:
    sentence = ar.truth_sentence(report, share=lambda v: f"{v:.0%}")
    assert "within 3.3 percentage points of the truth" in sentence
    assert ar.order_sentence(report).startswith(f"Held-out journeys are predicted best by a Markov chain of order "
                                                f"{report.selection.best_order}")
    real = ar.attribution_report(_touchpoints(), max_order=1, n_boot=5, seed=0)
    assert ar.truth_sentence(real) is None and real.true_shares is None


def test_credit_intervals_match_the_package_bootstrap_and_bound_shares() -> None:
    from crm_models.attribution import bootstrap_attribution, build_journeys

    journeys = build_journeys(_touchpoints())
    ours = ar.credit_intervals(journeys, "linear", n_boot=30, level=0.8, seed=4)
    package = bootstrap_attribution(journeys, "linear", n_boot=30, level=0.8, seed=4)
    for column in ("conversions", "conversions_lower", "conversions_upper"):
        assert ours[column].to_numpy() == pytest.approx(package.loc[ours.index, column].to_numpy()), column
    assert ours["share"].sum() == pytest.approx(1.0)
    assert ((ours["share_lower"] >= 0) & (ours["share_lower"] <= ours["share_upper"]) & (ours["share_upper"] <= 1)).all()
    assert ours.attrs["method"] == "linear" and ours.attrs["level"] == 0.8


@settings(max_examples=40, deadline=None)
@given(days=st.lists(st.integers(0, 60), min_size=1, max_size=30), cut=st.integers(0, 60), hour=st.integers(0, 23))
def test_cut_touchpoints_splits_at_the_end_of_the_day(days, cut, hour) -> None:
    start = pd.Timestamp("2024-01-01")
    stamps = pd.Series([start + pd.Timedelta(days=d, hours=hour) for d in days])
    frame = pd.DataFrame({"timestamp": stamps, "channel": "a"})
    as_of = start + pd.Timedelta(days=cut)
    if not (stamps < as_of + pd.Timedelta(days=1)).any():
        with pytest.raises(DataContractError):
            ar.cut_touchpoints(frame, as_of)
        return
    window = ar.cut_touchpoints(frame, as_of)
    kept = window.touchpoints["timestamp"]
    assert len(kept) + window.dropped == len(frame)
    assert (kept.dt.normalize() <= as_of).all()
    assert window.dropped == int((stamps.dt.normalize() > as_of).sum())


def test_load_spend_source_demo_costs_files_and_none(tmp_path) -> None:
    from crm_models.datasets.demo_touchpoints import COST_PER_TOUCH
    from crm_models.datasets.sources import load_spend_source

    touches = pd.DataFrame({"timestamp": pd.to_datetime(["2024-01-05", "2024-01-06", "2024-02-01"]),
                            "channel": ["Display", "Display", "Email"]})
    demo = load_spend_source("demo", touches)
    assert demo["spend"].sum() == pytest.approx(2 * COST_PER_TOUCH["Display"] + COST_PER_TOUCH["Email"])
    assert load_spend_source(None, touches, demo=True).equals(demo), "the demo brand gets its own spend by default"
    assert load_spend_source(None, touches) is None, "real data without spend_source: no spend"
    path = tmp_path / "spend.csv"
    path.write_text("channel,spend\nDisplay,12.5\n")
    assert load_spend_source(str(path))["spend"].tolist() == [12.5]
    with pytest.raises(ValueError, match="touchpoints="):
        load_spend_source("demo")
