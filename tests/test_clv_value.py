"""CLV money, validation helpers, parameter recovery and invariants (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.clv import (
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    ShiftedBetaGeoModel,
    clv_interval,
    customer_lifetime_value,
    discount_factors,
    holdout_comparison,
    ltv_cac,
    ranking_metrics,
    tracking_comparison,
)

BG = BetaGeoModel().with_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
MBG = ModifiedBetaGeoModel().with_params(r=0.525, alpha=6.18, a=0.891, b=1.614)
PNBD = ParetoNBDModel().with_params(r=0.553, alpha=10.578, s=0.606, beta=11.669)
GG = GammaGammaModel().with_params(p=6.25, q=3.74, gamma=15.44)


# ---- parameter recovery at 100k customers -------------------------------------------------------------
def _daily_ages(rng, n, max_weeks=104):
    """Ages in weeks on a daily grid, as customer_summary(time_unit="W") produces them."""
    return np.round(rng.uniform(1, max_weeks * 7, n)) / 7


def test_bg_nbd_recovers_known_truth_at_100k(rng):
    truth = {"r": 0.6, "alpha": 8.0, "a": 0.7, "b": 2.8}
    model = BetaGeoModel().with_params(**truth)
    x, tx, T = model.simulate(100_000, T=_daily_ages(rng, 100_000), seed=2026)
    fitted = BetaGeoModel().fit(x, tx, T)
    table = fitted.summary
    for name, value in truth.items():
        # within 3 standard errors, and the standard errors are small at this size
        assert abs(table.loc[name, "estimate"] - value) < 3 * table.loc[name, "se"], name
        assert table.loc[name, "se"] / value < 0.06, name


def test_pareto_nbd_recovers_known_truth_at_100k(rng):
    truth = {"r": 0.55, "alpha": 10.0, "s": 0.6, "beta": 12.0}
    x, tx, T = ParetoNBDModel().with_params(**truth).simulate(100_000, T=_daily_ages(rng, 100_000, 52), seed=99)
    tx = np.minimum(np.ceil(tx * 7) / 7, T)  # purchase days, as in a real summary
    table = ParetoNBDModel().fit(x, tx, T).summary
    for name, value in truth.items():
        assert abs(table.loc[name, "estimate"] - value) < 3 * table.loc[name, "se"], name


def test_gamma_gamma_recovers_known_truth(rng):
    truth = {"p": 6.0, "q": 4.0, "gamma": 12.0}
    x = rng.integers(1, 15, 30_000).astype(float)
    spend = GammaGammaModel().with_params(**truth).simulate(x, seed=5)
    table = GammaGammaModel().fit(x, spend).summary
    for name, value in truth.items():
        assert abs(table.loc[name, "estimate"] - value) < 3 * table.loc[name, "se"], name


def test_sbg_recovers_known_truth():
    truth = ShiftedBetaGeoModel().with_params(alpha=0.7, beta=1.2)
    tenure, churned = truth.simulate(100_000, n_periods=8, seed=3)
    table = ShiftedBetaGeoModel().fit(tenure, churned).summary
    assert abs(table.loc["alpha", "estimate"] - 0.7) < 3 * table.loc["alpha", "se"]
    assert abs(table.loc["beta", "estimate"] - 1.2) < 3 * table.loc["beta", "se"]


# ---- invariants ---------------------------------------------------------------------------------------
histories = st.tuples(
    st.integers(min_value=0, max_value=400),
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=1e-6, max_value=500.0),
).map(lambda h: (float(h[0]), h[1] * h[2] if h[0] > 0 else 0.0, h[2]))


@settings(max_examples=60, deadline=None)
@given(history=histories, t1=st.floats(0.0, 200.0), dt=st.floats(0.01, 200.0))
@pytest.mark.parametrize("model", [BG, MBG, PNBD], ids=["bg", "mbg", "pnbd"])
def test_prediction_invariants(model, history, t1, dt):
    x, tx, T = history
    alive = model.probability_alive(x, tx, T)
    assert 0.0 <= alive <= 1.0
    e1 = model.expected_purchases(t1, x, tx, T)
    e2 = model.expected_purchases(t1 + dt, x, tx, T)
    assert np.isfinite(e1) and np.isfinite(e2)
    assert e1 >= 0.0
    assert e2 >= e1 - 1e-9 * max(1.0, e1)


@settings(max_examples=40, deadline=None)
@given(x=st.integers(1, 300), m=st.floats(0.01, 1e5))
def test_expected_spend_lies_between_own_mean_and_population_mean(x, m):
    expected = GG.expected_spend(x, m)
    lo, hi = sorted([m, GG.mean_spend()])
    assert lo - 1e-9 * hi <= expected <= hi + 1e-9 * hi


@settings(max_examples=30, deadline=None)
@given(t=st.integers(1, 50))
def test_sbg_survival_is_decreasing_and_consistent(t):
    model = ShiftedBetaGeoModel().with_params(alpha=0.704, beta=1.182)
    assert model.survival(t) < model.survival(t - 1)
    assert model.survival(t - 1) - model.survival(t) == pytest.approx(model.churn_probability(t), rel=1e-9)
    assert model.survival(t) / model.survival(t - 1) == pytest.approx(model.retention_rate(t), rel=1e-9)


# ---- CLV money ----------------------------------------------------------------------------------------
@pytest.fixture
def customers():
    return pd.DataFrame(
        {"frequency": [0, 2, 7, 1], "recency": [0.0, 30.43, 35.0, 2.0], "T": [38.86] * 4,
         "monetary_value": [0.0, 22.35, 40.0, 12.0]},
        index=pd.Index(["a", "b", "c", "d"], name="customer_id"),
    )


def test_clv_without_discount_is_spend_times_purchases(customers):
    out = customer_lifetime_value(BG, 10.0, customers["frequency"], customers["recency"], customers["T"],
                                  horizon=52, time_unit="W", discount_rate=0.0, margin=1.0)
    expected = BG.expected_purchases(52, customers["frequency"], customers["recency"], customers["T"])
    np.testing.assert_allclose(out["clv"], 10.0 * expected, rtol=1e-10)
    assert out.index.equals(customers.index)


def test_clv_discount_margin_and_units(customers):
    kwargs = {"horizon": 104, "time_unit": "W"}
    args = (customers["frequency"], customers["recency"], customers["T"], customers["monetary_value"])
    plain = customer_lifetime_value(BG, GG, *args, discount_rate=0.0, margin=1.0, **kwargs)["clv"]
    discounted = customer_lifetime_value(BG, GG, *args, discount_rate=0.15, margin=1.0, **kwargs)["clv"]
    half = customer_lifetime_value(BG, GG, *args, discount_rate=0.15, margin=0.5, **kwargs)["clv"]
    assert (discounted < plain).all()
    np.testing.assert_allclose(half, discounted / 2)
    # the same customers and model in days: the money does not depend on the time unit
    in_days = BG.with_params(r=0.243, alpha=4.414 * 7, a=0.793, b=2.426)
    days = customer_lifetime_value(in_days, GG, customers["frequency"], customers["recency"] * 7,
                                   customers["T"] * 7, customers["monetary_value"], horizon=104 * 7,
                                   time_unit="D", discount_rate=0.15, step=7.0)["clv"]
    np.testing.assert_allclose(days, discounted, rtol=1e-8)
    # one year at 10%: the factor is exactly 1/1.1
    assert discount_factors(np.array([365.2425]), time_unit="D", discount_rate=0.10)[0] == pytest.approx(1 / 1.1)


def test_clv_rejects_bad_settings(customers):
    args = (customers["frequency"], customers["recency"], customers["T"], customers["monetary_value"])
    with pytest.raises(ValueError, match="margin"):
        customer_lifetime_value(BG, GG, *args, horizon=52, time_unit="W", discount_rate=0.1, margin=30)
    with pytest.raises(ValueError, match="time_unit"):
        customer_lifetime_value(BG, GG, *args, horizon=52, time_unit="M", discount_rate=0.1)
    with pytest.raises(ValueError, match="horizon"):
        customer_lifetime_value(BG, GG, *args, horizon=0, time_unit="W", discount_rate=0.1)


def test_ltv_cac_by_channel():
    clv = pd.Series([100.0, 50.0, 30.0, 10.0], index=list("abcd"))
    cac = pd.Series([20.0, 30.0, 10.0, 0.0], index=list("abcd"))
    channel = pd.Series(["search", "search", "email", "email"], index=list("abcd"), name="channel")
    out = ltv_cac(clv, cac, channel)
    assert out.loc["search", "ltv_cac"] == pytest.approx(150 / 50)
    assert out.loc["email", "ltv_cac"] == pytest.approx(40 / 10)
    assert list(out.index) == ["email", "search"]


# ---- validation helpers -------------------------------------------------------------------------------
def test_ranking_metrics_on_known_orderings():
    actual = np.array([0, 0, 1, 3, 0, 2.0])
    perfect = ranking_metrics(actual + 0.1 * np.arange(6), actual)
    assert perfect["auc"] == 1.0
    reversed_ = ranking_metrics(-actual, actual)
    assert reversed_["auc"] == 0.0
    assert ranking_metrics(actual, actual, top_share=1 / 6)["top_capture"] == pytest.approx(3 / 6)


def test_holdout_comparison_groups_and_totals(customers):
    out = holdout_comparison(BG, customers["frequency"], customers["recency"], customers["T"],
                             [0, 1, 5, 0], 39.0, max_frequency=3)
    assert list(out.index) == ["0", "1", "2", "3+", "all"]
    assert out.loc["all", "customers"] == 4
    assert out.loc["3+", "actual"] == 5.0
    assert out.loc["1", "customers"] == 1


def test_clv_interval_brackets_the_estimate_and_is_seeded(shared_data):
    cdnow = pd.read_csv(shared_data / "cdnow_summary_39wk.csv")
    bg = BetaGeoModel().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    gg = GammaGammaModel().fit(cdnow["x"], cdnow["zbar"])
    sample = cdnow.iloc[:200]
    kwargs = {"n_draws": 40, "seed": 4, "horizon": 52, "time_unit": "W", "discount_rate": 0.1, "margin": 0.3}
    args = (sample["x"], sample["t_x"], sample["T"], sample["zbar"])
    frame, total = clv_interval(bg, gg, *args, **kwargs)
    again, _ = clv_interval(bg, gg, *args, **kwargs)
    pd.testing.assert_frame_equal(frame, again)
    assert (frame["clv_lower"] <= frame["clv"] * 1.0001).all() and (frame["clv"] <= frame["clv_upper"] * 1.0001).all()
    assert total["total_lower"] < total["total_clv"] < total["total_upper"]


@pytest.mark.realdata
def test_validation_on_cdnow_holdout(shared_data):
    """CDNOW: fit on weeks 1-39, compare with weeks 40-78 (FHL 2005, Figure 3)."""
    from crm_models.datasets import load_cdnow
    from crm_models.summary import customer_summary

    transactions = load_cdnow(shared_data / "cdnow_sample.txt")
    summary = customer_summary(transactions, observation_end="1998-06-30", calibration_end="1997-09-30",
                               time_unit="W")
    bg = BetaGeoModel().fit_from_summary(summary)
    assert bg.params_["r"] == pytest.approx(0.243, rel=0.02)
    table = holdout_comparison(bg, summary["frequency"], summary["recency"], summary["T"],
                               summary["frequency_holdout"], summary["duration_holdout"])
    # FHL Figure 3: the conditional expectations track the holdout within ~0.4 purchases up to 6 repeat purchases
    assert (table.loc[["0", "1", "2", "3", "4", "5", "6"], "difference"].abs() < 0.4).all()
    # overall the model under-predicts weeks 40-78 by ~12% (1,653 expected vs 1,882 actual repeat purchase days)
    assert table.loc["all", "expected"] == pytest.approx(table.loc["all", "actual"], rel=0.15)
    expected = bg.expected_purchases(summary["duration_holdout"].iloc[0], summary["frequency"], summary["recency"],
                                     summary["T"])
    ranking = ranking_metrics(expected, summary["frequency_holdout"])
    assert ranking["auc"] > 0.75
    tracking = tracking_comparison(bg, transactions, calibration_end="1997-09-30", observation_end="1998-06-30")
    total = tracking[["actual", "expected"]].sum()
    assert total["expected"] == pytest.approx(total["actual"], rel=0.15)


def test_demo_brand_pipeline_recovers_its_truth():
    """make_demo -> customer_summary -> BG/NBD + Gamma-Gamma recovers the generating parameters."""
    from crm_models.datasets import make_demo
    from crm_models.summary import customer_summary

    demo = make_demo(seed=11, n_customers=8_000)
    purchases = demo.transactions[demo.transactions["amount"] > 0]  # the returns sit outside the model
    summary = customer_summary(purchases, observation_end=demo.observation_end, time_unit="W")
    truth = demo.truth["clv"]
    bg = BetaGeoModel().fit_from_summary(summary).summary
    gg = GammaGammaModel().fit_from_summary(summary).summary
    for table, names in ((bg, ("r", "alpha", "a", "b")), (gg, ("p", "q", "gamma"))):
        for name in names:
            assert abs(table.loc[name, "estimate"] - truth[name]) < 3.5 * table.loc[name, "se"], (name, truth[name])


def test_plots_draw_and_return_axes(customers):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crm_models.plotting.clv import (
        plot_clv_by_segment,
        plot_holdout_comparison,
        plot_probability_alive_matrix,
        plot_tracking,
    )

    ax = plot_probability_alive_matrix(BG, max_frequency=10, T=39.0)
    assert ax.images and ax.images[0].get_array().min() >= 0
    table = holdout_comparison(BG, customers["frequency"], customers["recency"], customers["T"], [0, 1, 5, 0], 39.0)
    assert len(plot_holdout_comparison(table).lines) == 2
    tracking = pd.DataFrame({"actual": [1.0, 2.0, 3.0], "expected": [1.5, 2.0, 2.5], "holdout": [False, True, True]},
                            index=pd.date_range("2024-01-07", periods=3, freq="W"))
    tracking["actual_cumulative"] = tracking["actual"].cumsum()
    tracking["expected_cumulative"] = tracking["expected"].cumsum()
    assert len(plot_tracking(tracking, cumulative=True).lines) >= 2
    clv = pd.Series([1.0, 5.0, 30.0, 0.0], index=customers.index)
    segment = pd.Series(["a", "b", "b", "a"], index=customers.index)
    ax = plot_clv_by_segment(clv, segment)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["b", "a"]  # highest mean value first
    plt.close("all")
