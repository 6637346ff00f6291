"""Ratio metrics, their delta-method variance and CUPED by hand on a few units (issue 21, mutation testing of
``ab/ratio``).

Deng, Knoblich & Lu (2018), sec. 2: ``Var(R) ~= (1/n) (s_X^2/mu_Y^2 - 2 mu_X s_XY/mu_Y^3 + mu_X^2 s_Y^2/mu_Y^4)``.
Control: (X, Y) = (30, 2), (0, 0), (50, 1): R = 80/3, mean(Y) = 1, l = -23.33, 0, 23.33, s_l^2 = 544.44,
Var(R) = 544.44 / 3 = 181.48. Treatment: (40, 2), (10, 1), (20, 1), (30, 2): R = 100/6, mean(Y) = 1.5,
l = 4.44, -4.44, 2.22, -2.22, s_l^2 = 16.46, Var(R) = 4.115.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crm_models.ab.ratio import analyze_ratios, ratio_arm, ratio_effect
from crm_models.exceptions import DataContractError

XC, YC = [30.0, 0.0, 50.0], [2.0, 0.0, 1.0]
XT, YT = [40.0, 10.0, 20.0, 30.0], [2.0, 1.0, 1.0, 2.0]
VAR_C = (2 * (70 / 3) ** 2 / 2) / 3  # 544.44 / 3
VAR_T = (2 * (40 / 9) ** 2 + 2 * (20 / 9) ** 2) / 3 / 4
Z95 = 1.959963984540054


def _taylor(x, y) -> float:
    x, y = np.asarray(x), np.asarray(y)
    mx, my, n = x.mean(), y.mean(), x.size
    sxy = np.cov(x, y, ddof=1)[0, 1]
    return (x.var(ddof=1) / my**2 - 2 * mx * sxy / my**3 + mx**2 * y.var(ddof=1) / my**4) / n


def test_one_arm_by_hand():
    """Guards ``(X - R Y) / mean(Y)`` and ``var(ddof=1) / n``."""
    c, t = ratio_arm(XC, YC), ratio_arm(XT, YT)
    assert c.ratio == pytest.approx(80 / 3) and t.ratio == pytest.approx(100 / 6)
    assert c.linearised == pytest.approx([-70 / 3, 0.0, 70 / 3])
    assert t.linearised == pytest.approx([40 / 9, -40 / 9, 20 / 9, -20 / 9])
    assert c.variance == pytest.approx(VAR_C) and c.variance == pytest.approx(_taylor(XC, YC))
    assert t.variance == pytest.approx(VAR_T) and t.variance == pytest.approx(_taylor(XT, YT))
    assert (c.n_units, c.n_independent, t.n_units, t.n_independent) == (3, 3, 4, 4)


def test_clusters_sum_numerator_and_denominator_first():
    """Households h1 = units 1, 2 and h2 = unit 3: clusters (30, 2), (50, 1); R = 80/3 as before, l over 2
    clusters = (30 - 160/3) / 1.5, (50 - 80/3) / 1.5 = -15.56, 15.56; Var = s_l^2 / 2."""
    arm = ratio_arm(XC, YC, cluster=["h1", "h1", "h2"])
    assert arm.ratio == pytest.approx(80 / 3)
    assert arm.linearised == pytest.approx([-140 / 9, 140 / 9])
    assert arm.variance == pytest.approx((2 * (140 / 9) ** 2) / 2)
    assert (arm.n_units, arm.n_independent) == (3, 2)


def test_undefined_ratios_are_nan():
    """One unit (no variance), or no denominator at all."""
    one = ratio_arm([3.0], [1.0])
    assert math.isnan(one.ratio) and math.isnan(one.variance) and one.n_independent == 1
    zero = ratio_arm([3.0, 4.0], [0.0, 0.0])
    assert math.isnan(zero.ratio) and zero.linearised.shape == (2,) and np.isnan(zero.linearised).all()
    none = ratio_arm([], [], cluster=[])
    assert none.n_independent == 0 and math.isnan(none.ratio)
    eff = ratio_effect([3.0], [1.0], XT, YT)
    assert math.isnan(eff.ci_low) and math.isnan(eff.p_value) and math.isnan(eff.std_error)


def test_difference_of_two_arms_by_hand():
    """R_t - R_c = -10, se = sqrt(181.48 + 4.115) = 13.623, z interval, two-sided normal p."""
    eff = ratio_effect(XC, YC, XT, YT)
    se = math.sqrt(VAR_C + VAR_T)
    assert eff.method == "delta"
    assert eff.estimate == pytest.approx(-10.0)
    assert eff.std_error == pytest.approx(se)
    assert (eff.ci_low, eff.ci_high) == pytest.approx((-10 - Z95 * se, -10 + Z95 * se))
    assert eff.p_value == pytest.approx(2 * stats.norm.sf(10 / se))
    assert (eff.n_control, eff.n_treatment) == (3, 4)
    z90 = stats.norm.ppf(0.95)
    assert ratio_effect(XC, YC, XT, YT, alpha=0.1).ci_high == pytest.approx(-10 + z90 * se)
    # treatment households c = (40 + 20, 2 + 1), d = (10 + 30, 1 + 2): l = +-10/3, Var = (2 * 100/9) / 1 / 2
    clustered = ratio_effect(XC, YC, XT, YT, cluster_control=["a", "a", "b"], cluster_treatment=["c", "d", "c", "d"])
    assert clustered.method == "delta (clustered)"
    assert clustered.std_error == pytest.approx(math.sqrt((140 / 9) ** 2 + 100 / 9))
    assert (clustered.n_control, clustered.n_treatment) == (3, 4)


def test_arms_without_variance():
    """se = 0: the interval is the point; p is 1 for equal ratios and 0 otherwise."""
    same = ratio_effect([2.0, 4.0], [1.0, 2.0], [3.0, 3.0], [1.5, 1.5])
    assert same.estimate == 0.0 and same.p_value == 1.0 and same.ci_low == same.ci_high == 0.0
    apart = ratio_effect([2.0, 4.0], [1.0, 2.0], [3.0, 3.0], [1.0, 1.0])
    assert apart.estimate == pytest.approx(1.0) and apart.p_value == 0.0 and apart.std_error == 0.0


def _frame() -> pd.DataFrame:
    return pd.DataFrame({
        "variant": ["control"] * 3 + ["B"] * 4,
        "rev": XC + XT, "orders": YC + YT,
    })


def test_relative_lift_by_hand_in_the_table():
    """rel = R_t / R_c - 1 = -0.375, se^2 = Var(R_t)/R_c^2 + R_t^2 Var(R_c)/R_c^4 (Deng et al. 2018)."""
    out = analyze_ratios(_frame(), {"aov": ("rev", "orders")})
    row = out.iloc[0]
    rc, rt = 80 / 3, 100 / 6
    se = math.sqrt(VAR_T / rc**2 + rt**2 * VAR_C / rc**4)
    assert (row["outcome"], row["arm"], row["kind"], row["method"]) == ("aov", "B", "ratio", "delta")
    assert (row["n_control"], row["n_arm"], row["n_clusters_control"], row["n_clusters_arm"]) == (3, 4, 3, 4)
    assert row["rel_effect"] == pytest.approx(rt / rc - 1)
    assert (row["rel_ci_low"], row["rel_ci_high"]) == pytest.approx((rt / rc - 1 - Z95 * se, rt / rc - 1 + Z95 * se))
    assert row["abs_effect"] == pytest.approx(-10.0) and row["abs_se"] == pytest.approx(math.sqrt(VAR_C + VAR_T))
    assert (row["primary"], row["effect"], row["p_value"]) == ("delta", row["abs_effect"], row["p_value_raw_method"])
    # a control ratio of 0 has no relative lift
    zero = _frame().assign(rev=[0.0, 0.0, 0.0] + XT)
    z = analyze_ratios(zero, {"aov": ("rev", "orders")}).iloc[0]
    assert math.isnan(z["rel_effect"]) and math.isnan(z["rel_ci_low"]) and z["abs_effect"] == pytest.approx(100 / 6)


def test_a_column_alone_is_a_mean_per_unit():
    out = analyze_ratios(_frame(), {"rev": "rev"}).iloc[0]
    assert out["kind"] == "mean"
    assert out["mean_control"] == pytest.approx(80 / 3) and out["mean_arm"] == pytest.approx(25.0)
    welch_se = math.sqrt(np.var(XC, ddof=1) / 3 + np.var(XT, ddof=1) / 4)
    assert out["abs_se"] == pytest.approx(welch_se)


def test_cuped_for_means_by_hand():
    """Mean metric x with pre-period covariate: theta = (cov_c(x, pre)/n_c + cov_t(x, pre)/n_t) /
    (var_c(pre)/n_c + var_t(pre)/n_t); adjusted arm = mean - theta (pre mean - pooled pre mean)."""
    xc, pc = np.array([1.0, 2.0, 3.0, 6.0]), np.array([1.0, 2.0, 3.0, 4.0])
    xt, pt = np.array([3.0, 5.0, 4.0, 8.0]), np.array([2.0, 3.0, 1.0, 5.0])
    data = pd.DataFrame({"variant": ["control"] * 4 + ["B"] * 4, "x": np.r_[xc, xt], "pre": np.r_[pc, pt]})
    row = analyze_ratios(data, {"m": "x"}, covariates={"m": "pre"}).iloc[0]
    theta = (np.cov(xc, pc)[0, 1] / 4 + np.cov(xt, pt)[0, 1] / 4) / (pc.var(ddof=1) / 4 + pt.var(ddof=1) / 4)
    assert theta == pytest.approx(6 / 4.583333333)
    assert row["cuped_theta"] == pytest.approx(theta)
    pooled = (pc.mean() * 4 + pt.mean() * 4) / 8
    adj_c, adj_t = xc.mean() - theta * (pc.mean() - pooled), xt.mean() - theta * (pt.mean() - pooled)
    assert row["cuped_effect"] == pytest.approx(adj_t - adj_c)
    vc, vt = np.var(xc - theta * pc, ddof=1) / 4, np.var(xt - theta * pt, ddof=1) / 4
    se = math.sqrt(vc + vt)
    assert row["cuped_se"] == pytest.approx(se)
    assert (row["cuped_ci_low"], row["cuped_ci_high"]) == pytest.approx((adj_t - adj_c - Z95 * se, adj_t - adj_c + Z95 * se))
    assert row["cuped_p_value"] == pytest.approx(2 * stats.norm.sf(abs(adj_t - adj_c) / se))
    raw = xc.var(ddof=1) / 4 + xt.var(ddof=1) / 4
    assert row["variance_removed"] == pytest.approx(1 - (vc + vt) / raw)
    rel_se = math.sqrt(vt / adj_c**2 + adj_t**2 * vc / adj_c**4)
    assert row["cuped_rel_effect"] == pytest.approx(adj_t / adj_c - 1)
    assert row["cuped_rel_ci_low"] == pytest.approx(adj_t / adj_c - 1 - Z95 * rel_se)
    assert row["cuped_covariates"] == "pre"
    assert (row["primary"], row["effect"], row["p_value"]) == ("cuped", row["cuped_effect"], row["cuped_p_value"])
    # in tenths (variances below 1): theta and the share removed stay, the effect scales (guards ``den <= 0``
    # and ``raw > 0`` against thresholds of 1)
    tenth = analyze_ratios(data.assign(x=data["x"] / 10, pre=data["pre"] / 10), {"m": "x"},
                           covariates={"m": "pre"}).iloc[0]
    assert tenth["cuped_theta"] == pytest.approx(theta)
    assert tenth["variance_removed"] == pytest.approx(row["variance_removed"])
    assert tenth["cuped_effect"] == pytest.approx(row["cuped_effect"] / 10)


def test_cuped_when_the_outcome_has_no_variance():
    """Constant outcome in each arm, covariate with variance: nothing to remove, reported as 0 (not 0 / 0)."""
    data = pd.DataFrame({"variant": ["control"] * 4 + ["B"] * 4, "x": [2.0] * 4 + [3.0] * 4,
                         "pre": [1.0, 2.0, 3.0, 4.0, 2.0, 3.0, 1.0, 5.0]})
    row = analyze_ratios(data, {"m": "x"}, covariates={"m": "pre"}).iloc[0]
    assert row["primary"] == "cuped" and row["variance_removed"] == 0.0 and row["cuped_theta"] == 0.0


def test_cuped_is_skipped_when_the_covariate_is_constant():
    data = pd.DataFrame({"variant": ["control"] * 3 + ["B"] * 3, "x": [1.0, 2.0, 4.0, 2.0, 5.0, 6.0],
                         "pre": [1.0] * 6})
    row = analyze_ratios(data, {"m": "x"}, covariates={"m": "pre"}).iloc[0]
    assert row["primary"] == "delta" and "cuped_effect" not in row.index


def test_cuped_covariates_of_a_ratio_name_both_columns():
    data = _frame().assign(pre_rev=[20.0, 5.0, 40.0, 30.0, 10.0, 25.0, 20.0], pre_orders=[1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 1.0])
    row = analyze_ratios(data, {"aov": ("rev", "orders")}, covariates={"aov": ("pre_rev", "pre_orders")}).iloc[0]
    assert row["cuped_covariates"] == "pre_rev,pre_orders"


def test_readout_rows_and_ratio_rows_form_one_family():
    """Holm over 1 earlier row + 1 ratio row (p 0.463): 0.01 * 2 = 0.02 and 0.463 * 1; the old adjusted columns
    are recomputed, not kept."""
    base = pd.DataFrame({"outcome": ["converted"], "arm": ["B"], "p_value": [0.01], "p_holm": [0.5],
                         "p_bh": [0.5], "significant": [False]})
    out = analyze_ratios(_frame(), {"aov": ("rev", "orders")}, readout_table=base)
    p = out["p_value"].to_numpy()
    assert out["outcome"].tolist() == ["converted", "aov"]
    assert out["p_holm"].tolist() == pytest.approx([0.02, p[1]])
    assert out["p_bh"].tolist() == pytest.approx([0.02, p[1]])
    assert out["significant"].tolist() == [True, False]


def test_bad_input_names_the_metric_or_the_column():
    with pytest.raises(TypeError, match="DataFrame"):
        analyze_ratios({"variant": ["a"]}, {"m": "x"})
    with pytest.raises(ValueError, match="'aov'"):
        analyze_ratios(_frame(), {"aov": ("rev", "orders", "x")})
    with pytest.raises(ValueError, match="covariates given for \\['other'\\]"):
        analyze_ratios(_frame(), {"aov": ("rev", "orders")}, covariates={"other": "rev"})
    with pytest.raises(DataContractError) as info:
        analyze_ratios(_frame(), {"aov": ("rev", "missing")})
    assert info.value.column == "missing"
    split = _frame().assign(hh=["h1", "h2", "h3", "h1", "h4", "h5", "h6"])
    with pytest.raises(DataContractError, match="more than one arm") as info:
        analyze_ratios(split, {"aov": ("rev", "orders")}, cluster="hh")
    assert info.value.column == "hh" and info.value.rule == "one arm per cluster"
    assert set(info.value.examples["hh"]) == {"h1"}
    ok = analyze_ratios(split.assign(hh=["h1", "h1", "h2", "h3", "h3", "h4", "h5"]), {"aov": ("rev", "orders")},
                        cluster="hh").iloc[0]
    assert (ok["n_clusters_control"], ok["n_clusters_arm"], ok["method"]) == (2, 3, "delta (clustered)")
