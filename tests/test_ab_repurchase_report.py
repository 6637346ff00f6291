"""The repurchase section of the experiment report: hand-checkable on a tiny log, and the truth recovered on the demo."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crm_models.ab.report import readout_table
from crm_models.ab.repurchase_report import (
    NO_HISTORY_SEGMENT,
    load_repurchase_log,
    repurchase_report,
    repurchase_section,
    segments_before,
)
from crm_models.exceptions import DataContractError

START = pd.Timestamp("2024-01-01")


def _day(d: float) -> pd.Timestamp:
    return START + pd.Timedelta(days=d)


@pytest.fixture
def tiny():
    """Four control and four coupon customers assigned on 1 January, followed 74 days (the last transaction).

    Control: u1 buys on days 5 and 10 (and 74), u2 on day 40, u3 never, u4 only 10 days before assignment.
    Coupon: u5, u6, u7 buy on days 1, 2 and 20, u8 on day 50.
    """
    experiment = pd.DataFrame({
        "unit_id": [f"u{i}" for i in range(1, 9)],
        "variant": ["control"] * 4 + ["coupon"] * 4,
        "enrolled_at": [START] * 8,
        "tier": ["a", "b"] * 4,
    })
    rows = [("u1", 5, 10.0, 1), ("u1", 10, 30.0, 3), ("u1", 74, 5.0, 1), ("u2", 40, 20.0, 1), ("u4", -10, 50.0, 2),
            ("u5", 1, 40.0, 2), ("u6", 2, 10.0, 1), ("u7", 20, 30.0, 2), ("u8", 50, 60.0, 1)]
    log = pd.DataFrame({"customer_id": [r[0] for r in rows], "timestamp": [_day(r[1]) for r in rows],
                        "amount": [r[2] for r in rows], "order_id": [f"o{i}" for i in range(len(rows))],
                        "quantity": [r[3] for r in rows]})
    return experiment, log


def test_tiny_log_outcomes_curves_and_ratios_by_hand(tiny):
    experiment, log = tiny
    rep = repurchase_report(experiment, log, segment="tier", min_units=2)
    table = rep.outcomes.table.set_index("unit_id")
    assert table["purchased_30d"].tolist() == [1, 0, 0, 0, 1, 1, 1, 0]
    assert table.loc["u4", "pre_revenue"] == 50.0 and table.loc["u4", "orders_30d"] == 0
    curves = rep.curves.table.set_index("days")
    # no one is censored before day 74, so Kaplan-Meier equals the plain shares
    assert curves.loc[30.0, "mean_control"] == pytest.approx(0.25) and curves.loc[30.0, "mean_arm"] == pytest.approx(0.75)
    assert curves.loc[60.0, "mean_control"] == pytest.approx(0.5) and curves.loc[60.0, "mean_arm"] == pytest.approx(1.0)
    # Greenwood: control S(60) = 0.5, 0.5^2 (1/(4*3) + 1/(3*2)) = 0.0625; the coupon arm's S(60) = 0 has variance 0
    assert curves.loc[60.0, "abs_se"] == pytest.approx(0.25)
    ratios = rep.ratios.set_index("outcome")
    aov, items = ratios.loc["aov_30d"], ratios.loc["items_per_order_30d"]
    assert aov["mean_control"] == pytest.approx(40 / 2) and aov["mean_arm"] == pytest.approx(80 / 3)
    assert items["mean_control"] == pytest.approx(4 / 2) and items["mean_arm"] == pytest.approx(5 / 3)
    # one family: the read-out's two outcomes and the two ratio metrics share the Holm correction
    assert set(rep.ratios["outcome"]) == {"purchased_30d", "net_revenue_30d", "aov_30d", "items_per_order_30d"}
    assert rep.segments.table["segment"].tolist() == ["a", "b"]
    assert "**coupon** on repurchase within 30 days by tier" in rep.segments.verdict
    text = "\n".join(rep.sentences)
    assert "75.0% bought again within 30 days vs 25.0% in control" in text
    assert "100.0% bought again within 60 days vs 50.0% in control" in text
    assert "8 of 8 customers had completed the 30-day window" in text
    assert "None of the repurchase differences is significant" in text  # z = 2.0 at 60 days, p_holm 0.09
    assert "Simulated data" not in text
    assert rep.headline.startswith("Repurchase within 30 days") and "coupon +50.0 pp" in rep.headline
    assert rep.metrics()["repurchase_effect_60d_coupon"] == pytest.approx(0.5)


def test_tables_caption_metrics_and_keep_items_out_of_money(tiny):
    experiment, log = tiny
    rep = repurchase_report(experiment, log, segment="tier", min_units=2)
    tables = dict(rep.tables())
    assert list(tables) == ["Bought again within 30 days", "Revenue net of coupon cost, 30 days",
                            "Revenue per order, 30 days", "Items per order, 30 days"]
    assert tables["Items per order, 30 days"].money == []
    assert "mean_arm" in tables["Revenue per order, 30 days"].money
    bought = rep.ratios.set_index("outcome").loc["purchased_30d"]
    assert bought["abs_effect"] == pytest.approx(0.5) and bought["primary"] == "cuped"  # adjusted with pre_orders
    assert tables["Bought again within 30 days"].frame.loc["coupon", "effect_pp"] == pytest.approx(
        100 * bought["effect"])
    # the read-out table helper reads a plain tidy table as well as a read-out
    assert readout_table(rep.ratios, "aov_30d").frame.loc["coupon", "effect"] == pytest.approx(80 / 3 - 20)


def test_default_segment_is_rfm_before_the_start(tiny):
    experiment, log = tiny
    rep = repurchase_report(experiment, log, min_units=2)
    seg = rep.outcomes.table.set_index("unit_id")["rfm_segment"]
    assert seg["u4"] != NO_HISTORY_SEGMENT  # the only purchase before the start
    assert (seg.drop("u4") == NO_HISTORY_SEGMENT).all()
    assert "by RFM segment before the start" in rep.segment_text()


def test_segments_before_leaves_out_the_start_instant(tiny):
    _, log = tiny
    at_start = pd.DataFrame({"customer_id": ["u9"], "timestamp": [START], "amount": [9.0], "order_id": ["o9"],
                             "quantity": [1]})
    seg = segments_before(pd.concat([log, at_start], ignore_index=True), START)
    assert list(seg.index) == ["u4"]
    assert segments_before(log, START - pd.Timedelta(days=30)).empty


def test_bad_segment_column_is_named(tiny):
    experiment, log = tiny
    with pytest.raises(DataContractError, match="segment column 'rfm'"):
        repurchase_report(experiment, log, segment="rfm")
    with pytest.raises(ValueError, match="window 90"):
        repurchase_report(experiment, log, segment="tier", window=90)


def test_no_log_for_real_data_says_why(tiny):
    experiment, _ = tiny
    log, truth, why = load_repurchase_log(None, experiment=experiment, truth=None)
    assert log is None and truth is None and "transactions_source" in why


def test_files_of_a_real_experiment_give_the_same_report(tiny, tmp_path):
    """A CSV experiment (assignment times as text) and a CSV transaction log, as the notebook's parameters give
    them, read the same as the frames."""
    experiment, log = tiny
    experiment.to_csv(tmp_path / "experiment.csv", index=False)
    log.to_csv(tmp_path / "transactions.csv", index=False)
    from_files, why = repurchase_section(str(tmp_path / "transactions.csv"),
                                         pd.read_csv(tmp_path / "experiment.csv"), segment="tier", min_units=2)
    direct = repurchase_report(experiment, log, segment="tier", min_units=2)
    assert why == ""
    pd.testing.assert_frame_equal(from_files.curves.table, direct.curves.table)
    assert from_files.sentences[1:] == direct.sentences[1:]


def test_demo_curves_cover_the_true_60_day_effect():
    """5,000 demo customers (seed 7): most are censored before 60 days, the 60-day Kaplan-Meier interval still
    covers the true effect of both coupons, and the sentences state the truth next to the estimates."""
    from crm_models.datasets import make_demo

    demo = make_demo(seed=7, n_customers=5_000)
    log, truth, _ = load_repurchase_log(None, experiment=demo.experiment, truth=demo.truth["experiment"], seed=7)
    rep = repurchase_report(demo.experiment, log, truth=truth)
    rows = rep.curves.table[rep.curves.table["days"] == 60]
    assert len(rows) == 2
    for row in rows.itertuples(index=False):
        true = truth["repurchase_effect"][60][row.arm]
        assert row.ci_low <= true <= row.ci_high, (row.arm, row.effect, true)
    assert rep.outcomes.units_incomplete[60] > 0.5 * len(rep.outcomes.table)
    text = "\n".join(rep.sentences)
    assert "Simulated data: the true repurchase effects" in text
    assert f"{100 * truth['repurchase_effect'][60]['coupon_20']:+.1f} pp for coupon_20 at 60 days" in text
    significant = bool(rep.curves.table["significant"].any())
    assert ("None of the repurchase differences is significant" in text) == (not significant)
    assert np.isfinite(rep.segments.heterogeneity["p_value"]).all()


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=st.lists(st.one_of(st.none(), st.floats(0, 70).filter(lambda d: d not in (30.0, 60.0))),
                     min_size=8, max_size=8))
@example(days=[5.0, None, 40.0, None, 12.0, None, 1.0, None])  # the coupon arm never buys
def test_without_censoring_the_curves_equal_the_window_shares(days):
    """Everyone is followed 75 days: the Kaplan-Meier 30- and 60-day repurchase of each arm is the share of its
    customers with a purchase in the window. A purchase at exactly 30 or 60 days is left out here: see
    :func:`test_a_purchase_at_exactly_n_days_counts_the_same_in_curves_and_windows`."""
    experiment = pd.DataFrame({"unit_id": [f"u{i}" for i in range(8)], "variant": ["control", "coupon"] * 4,
                               "enrolled_at": [START] * 8, "tier": ["a"] * 8})
    rows = [(f"u{i}", d) for i, d in enumerate(days) if d is not None] + [("other", 75.0)]
    log = pd.DataFrame({"customer_id": [r[0] for r in rows], "timestamp": [_day(r[1]) for r in rows],
                        "amount": 10.0, "order_id": [f"o{i}" for i in range(len(rows))]})
    rep = repurchase_report(experiment, log, segment="tier", min_units=2)
    table = rep.outcomes.table
    for row in rep.curves.table.itertuples(index=False):
        n = int(row.days)
        share = table.groupby("variant")[f"purchased_{n}d"].mean()
        assert row.mean_control == pytest.approx(share["control"])
        assert row.mean_arm == pytest.approx(share["coupon"])
    assert "nan" not in " ".join(rep.sentences).lower()  # an arm without orders: "not estimable", never "nan"


def test_a_purchase_at_exactly_n_days_counts_the_same_in_curves_and_windows():
    experiment = pd.DataFrame({"unit_id": [f"u{i}" for i in range(4)], "variant": ["control", "coupon"] * 2,
                               "enrolled_at": [START] * 4, "tier": ["a"] * 4})
    log = pd.DataFrame({"customer_id": ["u1", "other"], "timestamp": [_day(30), _day(75)], "amount": 10.0,
                        "order_id": ["o1", "o2"]})
    rep = repurchase_report(experiment, log, segment="tier", min_units=2)
    assert rep.outcomes.table.set_index("unit_id").loc["u1", "purchased_30d"] == 0  # [0, 30) leaves day 30 out
    row = rep.curves.table.set_index("days").loc[30.0]
    assert row["mean_arm"] == pytest.approx(0.0)
