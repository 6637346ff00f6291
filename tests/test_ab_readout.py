"""A/B read-out: effects, intervals, CUPED, multiplicity, power, Bayesian read-out and bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from crm_models.ab import (
    analyze_experiment,
    bayesian_proportions,
    benjamini_hochberg,
    cuped_adjust,
    holm,
    mean_effect,
    minimum_detectable_effect,
    proportion_effect,
    sample_size,
    srm_test,
)
from crm_models.datasets.demo_experiment import simulate_coupon_experiment
from crm_models.exceptions import DataContractError


def make_customers(n: int, rng: np.random.Generator) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": [f"C{i:06d}" for i in range(n)],
            "signup": pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.uniform(0, 400, n), unit="D"),
            "cohort": "2024",
            "acquisition_channel": rng.choice(["organic", "paid_search", "email", "referral"], n),
            "purchase_rate": rng.gamma(1.5, 0.05, n),
            "dropout_prob": rng.beta(2, 5, n),
            "mean_spend": rng.lognormal(3.5, 0.5, n),
        }
    )


def demo(n: int, seed: int):
    rng = np.random.default_rng(seed)
    return simulate_coupon_experiment(make_customers(n, rng), rng, pd.Timestamp("2025-06-01"),
                                      pd.Timestamp("2025-06-29"))


COVS = {"converted": ["pre_converted", "pre_orders"], "revenue": "pre_revenue"}


@pytest.fixture(scope="module")
def demo_readout():
    experiment, truth = demo(30_000, 11)
    readout = analyze_experiment(experiment, variant="variant", outcomes=["converted", "revenue"],
                                 control="control", covariates=COVS, timestamp="enrolled_at")
    return experiment, truth, readout


# ----------------------------------------------------------------------------------------------- demo data
def test_demo_experiment_shape_and_truth():
    experiment, truth = demo(3_000, 1)
    assert {"unit_id", "variant", "converted", "revenue", "pre_revenue", "pre_converted"} <= set(experiment)
    assert set(experiment["variant"]) == {"control", "coupon_10", "coupon_20"}
    assert experiment["unit_id"].is_unique
    for outcome in ("converted", "revenue"):
        for arm in ("coupon_10", "coupon_20"):
            effect = truth["unit_effect"][outcome][arm]
            assert effect.shape == (len(experiment),)
            assert truth["ate"][outcome][arm] == pytest.approx(effect.mean())
    # heterogeneous: some customers are hurt by the coupon, some helped a lot
    tau = truth["unit_effect"]["converted"]["coupon_20"]
    assert tau.min() < 0 < tau.max() and tau.std() > 0.01


def test_demo_experiment_is_deterministic_and_robust_to_missing_columns():
    a, _ = demo(2_000, 5)
    b, _ = demo(2_000, 5)
    pd.testing.assert_frame_equal(a, b)
    rng = np.random.default_rng(0)
    bare = pd.DataFrame({"customer_id": [f"x{i}" for i in range(500)]})
    exp, truth = simulate_coupon_experiment(bare, rng, pd.Timestamp("2025-01-01"), pd.Timestamp("2025-02-01"))
    assert len(exp) == 500 and np.isfinite(truth["ate"]["converted"]["coupon_10"])


# ------------------------------------------------------------------------------------------- read-out
def test_readout_intervals_cover_true_effects(demo_readout):
    _, truth, readout = demo_readout
    assert readout.srm.passed
    table = readout.table
    assert len(table) == 4
    for r in table.itertuples():
        true = truth["ate"][r.outcome][r.arm]
        assert r.abs_ci_low <= true <= r.abs_ci_high, (r.outcome, r.arm)
        assert r.ci_low <= true <= r.ci_high, (r.outcome, r.arm)
        rel = truth["relative_lift"][r.outcome][r.arm]
        assert r.rel_ci_low <= rel <= r.rel_ci_high


def test_readout_interval_coverage_over_many_experiments():
    hits, total = 0, 0
    for seed in range(30):
        experiment, truth = demo(3_000, 100 + seed)
        table = analyze_experiment(experiment, outcomes=["converted", "revenue"], covariates=COVS,
                                   sequential_looks=5, bayes_draws=1_000).table
        for r in table.itertuples():
            hits += r.ci_low <= truth["ate"][r.outcome][r.arm] <= r.ci_high
            total += 1
    assert hits / total >= 0.88  # nominal 95 %; 120 intervals, allow sampling noise


def test_cuped_narrows_interval_when_covariate_is_informative(demo_readout):
    _, _, readout = demo_readout
    t = readout.table
    assert (t["variance_removed"] > 0.05).all()
    assert ((t["cuped_ci_high"] - t["cuped_ci_low"]) < (t["abs_ci_high"] - t["abs_ci_low"])).all()


def test_cuped_with_uninformative_covariate_removes_nothing(rng):
    y = rng.normal(size=20_000)
    res = cuped_adjust(y, rng.normal(size=20_000))
    assert abs(res.variance_removed) < 0.002
    x = rng.normal(size=20_000)
    res = cuped_adjust(2 * x + rng.normal(size=20_000), x)
    assert res.variance_removed == pytest.approx(0.8, abs=0.01)
    assert res.theta[0] == pytest.approx(2.0, abs=0.03)


def test_readout_table_has_adjustments_and_verdict(demo_readout):
    _, _, readout = demo_readout
    t = readout.table
    assert (t["p_holm"] >= t["p_value"] - 1e-15).all()
    assert (t["p_bh"] <= t["p_holm"] + 1e-15).all()
    conv = t[t["outcome"] == "converted"]
    assert conv["prob_beat_control"].between(0, 1).all()
    assert t.loc[t["outcome"] == "revenue", "prob_beat_control"].isna().all()
    assert readout.verdict.startswith("Sample ratio OK")
    assert "coupon_20" in readout.verdict
    assert ("converted", "coupon_20") in readout.sequential
    # the detectable effect matches the power formula for the arm sizes
    row = t.iloc[0]
    assert row["mde_80"] == pytest.approx(minimum_detectable_effect(
        int(row["n_control"]), row["mean_control"], ratio=row["n_arm"] / row["n_control"]))


def test_srm_failure_is_the_headline():
    experiment, _ = demo(6_000, 3)
    drop = experiment.index[(experiment["variant"] == "coupon_10")][:600]
    broken = experiment.drop(drop)
    readout = analyze_experiment(broken, outcomes=["converted"], bayes_draws=1_000)
    assert not readout.srm.passed
    assert readout.verdict.startswith("**SAMPLE RATIO MISMATCH")
    assert "none until" in readout.verdict


def test_srm_respects_planned_allocation():
    res = srm_test({"control": 5000, "treatment": 15000}, {"control": 0.25, "treatment": 0.75})
    assert res.passed and res.p_value == pytest.approx(1.0)
    res = srm_test({"control": 5000, "treatment": 5400})
    assert not res.passed
    assert res.statistic == pytest.approx(stats.chisquare([5000, 5400]).statistic)


# ----------------------------------------------------------------------------------- building blocks
def test_newcombe_interval_matches_published_example():
    # Newcombe (1998), Table II example (56/70 vs 48/80): method 10 gives 0.0524 to 0.3339
    c = np.r_[np.ones(48), np.zeros(32)]
    t = np.r_[np.ones(56), np.zeros(14)]
    eff = proportion_effect(c, t)
    assert eff.estimate == pytest.approx(0.2)
    assert eff.ci_low == pytest.approx(0.0524, abs=1e-4)
    assert eff.ci_high == pytest.approx(0.3339, abs=1e-4)


def test_welch_matches_scipy(rng):
    a, b = rng.normal(0, 1, 300), rng.normal(0.3, 2, 200)
    eff = mean_effect(a, b)
    ref = stats.ttest_ind(b, a, equal_var=False)
    assert eff.p_value == pytest.approx(ref.pvalue)
    ci = ref.confidence_interval()
    assert (eff.ci_low, eff.ci_high) == pytest.approx((ci.low, ci.high))


def test_holm_and_bh_hand_computed():
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005*4, 0.01*3, 0.03*2, 0.04*1 -> 0.02, 0.03, 0.06, 0.06 (monotone)
    assert holm(p) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    # BH: sorted 0.005*4/1, 0.01*4/2, 0.03*4/3, 0.04*4/4 -> 0.02, 0.02, 0.04, 0.04
    assert benjamini_hochberg(p) == pytest.approx([0.02, 0.04, 0.04, 0.02])
    assert np.isnan(holm([0.1, np.nan])[1])


def test_sample_size_and_mde_are_inverse():
    n = sample_size(0.10, 0.01)
    z = stats.norm.ppf(0.975) + stats.norm.ppf(0.8)
    assert n == int(np.ceil(z**2 * (0.1 * 0.9 + 0.11 * 0.89) / 0.01**2))
    assert minimum_detectable_effect(n, 0.10) == pytest.approx(0.01, rel=1e-3)
    assert sample_size(0.10, 0.10, relative=True) == n
    m = sample_size(50.0, 2.0, kind="mean", sd=20.0)
    assert minimum_detectable_effect(m, 50.0, kind="mean", sd=20.0) == pytest.approx(2.0, rel=1e-3)
    assert sample_size(0.10, 0.01, comparisons=2) > n
    with pytest.raises(ValueError):
        sample_size(50.0, 2.0, kind="mean")


def test_bayesian_read_out():
    res = bayesian_proportions({"a": 100, "b": 130}, {"a": 1000, "b": 1000}, "a", draws=50_000)
    row = res.iloc[0]
    assert row["prob_beat_control"] > 0.95 and row["expected_loss"] < 0.001
    same = bayesian_proportions({"a": 100, "b": 100}, {"a": 1000, "b": 1000}, "a", draws=50_000).iloc[0]
    assert same["prob_beat_control"] == pytest.approx(0.5, abs=0.01)


def test_mean_outcome_can_be_forced_and_multiple_arms():
    experiment, _ = demo(3_000, 9)
    out = analyze_experiment(experiment, outcomes="converted", kinds={"converted": "mean"}, bayes_draws=500)
    assert set(out.table["arm"]) == {"coupon_10", "coupon_20"}
    assert (out.table["method"] == "welch").all()


# ------------------------------------------------------------------------------------------- bad input
def test_single_arm_is_rejected():
    experiment, _ = demo(1_000, 2)
    only = experiment[experiment["variant"] == "control"]
    with pytest.raises(DataContractError, match="only one arm") as err:
        analyze_experiment(only, outcomes=["converted"])
    assert err.value.column == "variant"


def test_variant_with_no_units_is_rejected():
    experiment, _ = demo(1_000, 2)
    with pytest.raises(DataContractError, match="have no units") as err:
        analyze_experiment(experiment, outcomes=["converted"], arms=["control", "coupon_10", "coupon_20",
                                                                        "coupon_50"])
    assert err.value.examples == ["coupon_50"]
    cat = experiment.assign(variant=pd.Categorical(experiment["variant"],
                                                   categories=["control", "coupon_10", "coupon_20", "x"]))
    with pytest.raises(DataContractError, match="have no units"):
        analyze_experiment(cat, outcomes=["converted"])


def test_non_binary_outcome_to_a_binary_method_is_rejected():
    experiment, _ = demo(1_000, 2)
    with pytest.raises(DataContractError, match="not 0/1") as err:
        analyze_experiment(experiment, outcomes=["revenue"], kinds={"revenue": "proportion"})
    assert err.value.column == "revenue"


def test_unknown_control_and_missing_columns_are_rejected():
    experiment, _ = demo(1_000, 2)
    with pytest.raises(DataContractError, match="control arm 'ctrl' not found"):
        analyze_experiment(experiment, outcomes=["converted"], control="ctrl")
    with pytest.raises(DataContractError, match="not found"):
        analyze_experiment(experiment, outcomes=["clicks"])
    bad = experiment.assign(converted=experiment["converted"].astype(float))
    bad.loc[3, "converted"] = np.nan
    with pytest.raises(DataContractError, match="missing or non-numeric") as err:
        analyze_experiment(bad, outcomes=["converted"])
    assert len(err.value.examples) == 1


def test_plots_draw(demo_readout):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crm_models.plotting.ab import plot_effect_forest, plot_sequential

    _, _, readout = demo_readout
    ax = plot_effect_forest(readout)
    assert len(ax.get_yticklabels()) == 4
    ax2 = plot_effect_forest(readout, relative=False)
    ax3 = plot_sequential(readout.sequential[("converted", "coupon_20")])
    assert ax3.get_legend() is not None
    for a in (ax, ax2, ax3):
        plt.close(a.figure)


def test_duplicated_units_are_rejected():
    experiment, _ = demo(1_000, 2)
    doubled = pd.concat([experiment, experiment.iloc[:3].assign(variant="coupon_10")], ignore_index=True)
    with pytest.raises(DataContractError, match="more than once") as err:
        analyze_experiment(doubled, outcomes=["converted"])
    assert err.value.column == "unit_id" and len(err.value.examples) == 6


# ------------------------------------------------------------------------------------ invariants
@settings(max_examples=15, deadline=None)
@given(
    n_c=st.integers(20, 200), n_t=st.integers(20, 200), p_c=st.floats(0.05, 0.95), p_t=st.floats(0.05, 0.95),
    seed=st.integers(0, 1_000),
)
def test_readout_invariants(n_c, n_t, p_c, p_t, seed):
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({
        "variant": ["a"] * n_c + ["b"] * n_t,
        "converted": np.r_[rng.uniform(size=n_c) < p_c, rng.uniform(size=n_t) < p_t].astype(int),
        "spend": rng.gamma(2, 10, n_c + n_t),
        "enrolled_at": pd.Timestamp("2025-01-01") + pd.to_timedelta(rng.permutation(n_c + n_t), unit="min"),
    })
    kw = {"outcomes": ["converted", "spend"], "timestamp": "enrolled_at", "bayes_draws": 500, "sequential_looks": 5}
    if frame["converted"].nunique() < 2:
        return
    base = analyze_experiment(frame, control="a", **kw).table
    # row order does not matter (the sequential replay follows the timestamps)
    shuffled = analyze_experiment(frame.sample(frac=1, random_state=seed), control="a", **kw).table
    pd.testing.assert_frame_equal(base, shuffled)
    # every interval contains its estimate; adjusted p-values are ordered
    assert (base["abs_ci_low"] <= base["abs_effect"] + 1e-12).all()
    assert (base["abs_effect"] <= base["abs_ci_high"] + 1e-12).all()
    assert (base["p_holm"] >= base["p_value"] - 1e-12).all() and (base["p_bh"] <= base["p_holm"] + 1e-12).all()
    # swapping the roles of the arms flips the sign of the effect and mirrors the interval
    flipped = analyze_experiment(frame, control="b", **kw).table
    assert np.allclose(flipped["abs_effect"], -base["abs_effect"])
    assert np.allclose(flipped["abs_ci_low"], -base["abs_ci_high"])
    assert np.allclose(flipped["p_value"], base["p_value"])


def test_make_demo_experiment_reads_out():
    from crm_models.datasets import make_demo

    data = make_demo(3, 1_500)
    truth = data.truth["experiment"]
    readout = analyze_experiment(data.experiment, outcomes=truth["outcomes"], control=truth["control"],
                                 covariates=truth["covariates"], timestamp="enrolled_at", bayes_draws=1_000)
    assert set(readout.table["arm"]) == set(truth["arms"]) - {truth["control"]}
    assert len(truth["unit_effect"]["converted"]["coupon_10"]) == len(data.experiment)
