"""The demo brand's coupon experiment read from its transaction log: known repurchase truth recovered end to end."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.ab import analyze_ratios, experiment_outcomes, repurchase_curves, segment_effects
from crm_models.datasets import make_demo
from crm_models.datasets.demo_repurchase import DISCOUNT, coupon_transactions


@pytest.fixture(scope="module")
def demo_run():
    demo = make_demo(seed=7, n_customers=20_000)
    log, truth = coupon_transactions(demo)
    out = experiment_outcomes(demo.experiment, log, windows=(30, 60), assigned_at="enrolled_at")
    return demo, log, truth, out


def test_log_is_deterministic_and_ends_at_the_observation_end(demo_run):
    demo, log, _, _ = demo_run
    again, _ = coupon_transactions(demo)
    pd.testing.assert_frame_equal(log, again)
    assert log["timestamp"].max() <= demo.truth["experiment"]["end"]  # nothing after the observation end
    assert set(log["customer_id"]) <= set(demo.experiment["unit_id"])


def test_pre_period_from_the_log_matches_the_experiment_table(demo_run):
    demo, _, _, out = demo_run
    expected = demo.experiment.set_index("unit_id").loc[out.table["unit_id"], "pre_orders"].to_numpy()
    assert np.array_equal(out.table["pre_orders"].to_numpy(), expected)
    assert out.quality.dropped("transaction after the observation end") == 0


def test_repurchase_curves_recover_the_true_arm_effects(demo_run):
    """Most units are followed for less than 60 days; Kaplan-Meier still covers the true 30- and 60-day effects."""
    _, _, truth, out = demo_run
    res = repurchase_curves(out, days=(30, 60))
    for row in res.table.itertuples(index=False):
        true = truth["repurchase_effect"][int(row.days)][row.arm]
        assert row.ci_low <= true <= row.ci_high, (row.arm, row.days, row.effect, true)
        assert row.mean_control == pytest.approx(truth["repurchase_rate"][int(row.days)]["control"], abs=0.015)
    assert res.logrank["p_value"] < 1e-3
    assert out.units_incomplete[60] > 0.9 * len(out.table)  # the 60-day truth needs the censored units


def test_coupon_cost_and_ratio_metrics_on_the_demo(demo_run):
    _, _, _, out = demo_run
    data = out.complete(30)
    cost = data["revenue_30d"] - data["net_revenue_30d"]
    assert (cost[data["variant"] == "control"] == 0).all()
    assert (cost[data["variant"] == "coupon_20"] > 0).any()
    table = analyze_ratios(data, {"aov_30d": ("revenue_30d", "orders_30d")},
                           covariates={"aov_30d": ("pre_revenue", "pre_orders")})
    row = table.set_index("arm").loc["coupon_20"]
    # the first order after assignment is paid at 80% of its value, so the coupon lowers the amount per order
    assert row["effect"] < 0 and row["ci_high"] < 0
    assert row["variance_removed"] > 0.05
    assert DISCOUNT["coupon_20"] == 0.20


def test_segment_effects_recover_the_simulated_heterogeneity_on_the_demo(demo_run):
    """The coupon moves e-mail-engaged customers and barely the others: the effect by segment covers the truth,
    is significant for the engaged only, and Cochran's Q finds the difference."""
    demo, _, truth, out = demo_run
    data = out.complete(30)
    data["engagement"] = np.where(data["email_engaged"] == 1, "engaged", "not engaged")
    res = segment_effects(data, "engagement", outcomes="purchased_30d")
    engaged = demo.experiment["email_engaged"].to_numpy() == 1
    unit = truth["unit_repurchase"][30]
    for row in res.table.itertuples(index=False):
        mask = engaged if row.segment == "engaged" else ~engaged
        true = float((unit[row.arm] - unit["control"])[mask].mean())
        assert row.ci_low <= true <= row.ci_high, (row.segment, row.arm, row.effect, true)
        assert row.significant == (row.segment == "engaged")
    assert (res.heterogeneity["p_value"] < 0.01).all()


def test_repurchase_plot_draws_one_curve_per_arm(demo_run):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crm_models.plotting.ab import plot_repurchase_curves

    _, _, _, out = demo_run
    res = repurchase_curves(out, days=(30, 60))
    ax = plot_repurchase_curves(res)
    labels = [line.get_label() for line in ax.get_lines() if not line.get_label().startswith("_")]
    assert len(labels) == 3 and labels[0].startswith("control")
    assert "log-rank" in ax.get_title()
    plt.close(ax.figure)
