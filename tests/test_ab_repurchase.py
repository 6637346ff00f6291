"""Repurchase curves by arm: Kaplan-Meier against hand computations, log-rank test, N-day differences."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from crm_models.ab.repurchase import greenwood_variance_at, logrank_test, repurchase_curves
from crm_models.lifecycle import KaplanMeier


def test_kaplan_meier_equals_the_hand_computation():
    """Issue 16's case: events at 10 and 20, censored at 30, event at 40, censored at 50."""
    km = KaplanMeier().fit([10, 20, 30, 40, 50], [1, 1, 0, 1, 0])
    assert km.survival_at([0, 9.9, 10, 15, 20, 39, 40, 50, 60]) == pytest.approx(
        [1.0, 1.0, 0.8, 0.8, 0.6, 0.6, 0.3, 0.3, 0.3])
    curve = km.survival_function_
    assert curve.loc[40, "at_risk"] == 2 and curve.loc[30, "censored"] == 1
    # Greenwood at 20: S^2 (1/(5*4) + 1/(4*3)) = 0.36 * 0.133333
    assert greenwood_variance_at(km, 20)[0] == pytest.approx(0.36 * (1 / 20 + 1 / 12))
    # at 40: 0.09 * (1/20 + 1/12 + 1/(2*1))
    assert greenwood_variance_at(km, 40)[0] == pytest.approx(0.09 * (1 / 20 + 1 / 12 + 1 / 2))
    assert np.isnan(greenwood_variance_at(km, 51)[0])  # beyond the last follow-up: not identified
    iv = km.interval_at([20]).iloc[0]
    assert iv["lower"] < 0.6 < iv["upper"] and 0 <= iv["lower"] and iv["upper"] <= 1


def test_censored_unit_is_at_risk_for_events_at_its_censoring_time():
    """Ties: a unit censored at t is still at risk for the event at t (the product-limit convention)."""
    km = KaplanMeier().fit([5, 5, 8], [1, 0, 1])
    assert km.survival_at(5)[0] == pytest.approx(2 / 3)
    assert km.survival_at(8)[0] == 0.0


def test_logrank_equals_the_hand_computation():
    # A: events at 1 and 3; B: event at 2, censored at 4.
    # t=1: n=4, n_A=2, d=1 -> E_A=1/2, V=1*3/3*(1/2)(1/2)=1/4
    # t=2: n=3, n_A=1, d=1 -> E_A=1/3, V=1*2/2*(1/3)(2/3)=2/9
    # t=3: n=2, n_A=1, d=1 -> E_A=1/2, V=1*1/1*(1/2)(1/2)=1/4
    # O_A - E_A = 2 - 4/3 = 2/3; chi2 = (4/9) / (13/18) = 8/13
    out = logrank_test([1, 3, 2, 4], [1, 1, 1, 0], ["A", "A", "B", "B"])
    assert out["chi2"] == pytest.approx(8 / 13)
    assert out["p_value"] == pytest.approx(stats.chi2.sf(8 / 13, 1))
    assert out["expected_A"] == pytest.approx(4 / 3) and out["observed_A"] == 2


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 20), st.integers(0, 1), st.integers(0, 2)), min_size=9, max_size=60))
def test_logrank_does_not_depend_on_which_arm_is_left_out(rows):
    """Property: the K-group statistic is the same whichever group's O - E is dropped (relabelling groups)."""
    t = np.array([r[0] for r in rows], float)
    e = np.array([r[1] for r in rows], float)
    g = np.array([r[2] for r in rows])
    if len(set(g)) < 3 or e.sum() < 2:
        return
    a = logrank_test(t, e, np.array(["a", "b", "c"])[g])
    b = logrank_test(t, e, np.array(["c", "a", "b"])[g])
    if np.isfinite(a["chi2"]) and a["chi2"] < 1e6:
        assert a["chi2"] == pytest.approx(b["chi2"], rel=1e-6, abs=1e-9)


def simulate_censored(rng: np.random.Generator, n: int, p30: dict[str, float], followup_max: float = 90.0):
    """Exponential time to purchase with P(buy within 30 days) = p30[arm]; staggered enrolment censors
    follow-up uniformly between 20 and ``followup_max`` days."""
    arm = rng.choice(list(p30), n)
    rate = np.array([-np.log(1 - p30[a]) / 30 for a in arm])
    time = rng.exponential(1 / rate)
    follow = rng.uniform(20, followup_max, n)
    return pd.DataFrame({"variant": arm, "purchase_days": np.minimum(time, follow),
                         "purchase_observed": (time <= follow).astype(int)})


def test_n_day_difference_recovers_the_truth_with_censoring():
    """Half the units are followed for less than 55 days, so 60-day purchases are unknown for them; Kaplan-Meier
    still recovers the true 60-day rates, where dropping or zero-filling the censored units would not."""
    p30 = {"control": 0.20, "coupon": 0.26}
    data = simulate_censored(np.random.default_rng(4), 20000, p30)
    res = repurchase_curves(data, days=(30, 60))
    row = res.table.set_index("outcome").loc["repurchase_60d"]
    truth = {a: 1 - (1 - p) ** 2 for a, p in p30.items()}  # exponential: S(60) = S(30)^2
    assert row["mean_control"] == pytest.approx(truth["control"], abs=0.015)
    assert row["mean_arm"] == pytest.approx(truth["coupon"], abs=0.015)
    assert row["ci_low"] <= truth["coupon"] - truth["control"] <= row["ci_high"]
    naive_zero = data.loc[data["variant"] == "control"].eval("purchase_observed * (purchase_days < 60)").mean()
    assert naive_zero < truth["control"] - 0.05  # what zero-filling would report
    assert row["significant"] and res.logrank["p_value"] < 1e-6
    assert {"abs_effect", "ci_low", "ci_high", "p_holm", "p_bh", "logrank_p"} <= set(res.table.columns)
    assert "Kaplan-Meier" in res.describe() and "Log-rank" in res.describe()


def test_difference_interval_covers_at_the_nominal_rate():
    """Over 300 seeded experiments without an effect, the 95% interval of the 30-day difference covers 0
    about 95% of the time (Greenwood variances of independent arms added)."""
    rng = np.random.default_rng(8)
    hits = 0
    for _ in range(300):
        data = simulate_censored(rng, 1500, {"control": 0.2, "coupon": 0.2}, followup_max=60)
        row = repurchase_curves(data, days=(30,)).table.iloc[0]
        hits += row["ci_low"] <= 0 <= row["ci_high"]
    assert 0.92 <= hits / 300 <= 0.98, hits / 300


def test_horizon_beyond_follow_up_is_not_estimable():
    data = simulate_censored(np.random.default_rng(5), 400, {"control": 0.2, "coupon": 0.3}, followup_max=40)
    res = repurchase_curves(data, days=(30, 120))
    row = res.table.set_index("outcome").loc["repurchase_120d"]
    assert np.isnan(row["effect"]) and not row["significant"]
    assert "not estimable" in res.describe()


def test_repurchase_curves_carry_the_hand_computed_kaplan_meier_into_the_table():
    """The control arm is the hand case: repurchase within 21 days (the window [0, 21), so the purchase on day 20
    counts) is 1 - 0.6 = 0.4 with Greenwood variance 0.048; the treatment arm (all buy by day 5) has variance 0,
    so the difference's standard error is sqrt(0.048). Within 20 days leaves day 20 out: 1 - 0.8 = 0.2."""
    data = pd.DataFrame({"variant": ["control"] * 5 + ["coupon"] * 5,
                         "purchase_days": [10, 20, 30, 40, 50, 1, 2, 3, 4, 5],
                         "purchase_observed": [1, 1, 0, 1, 0, 1, 1, 1, 1, 1]})
    res = repurchase_curves(data, days=(20, 21, 41))
    assert res.curves["control"].survival_at([10, 20, 40]) == pytest.approx([0.8, 0.6, 0.3])
    table = res.table.set_index("outcome")
    row = table.loc["repurchase_21d"]
    assert row["mean_control"] == pytest.approx(0.4) and row["mean_arm"] == pytest.approx(1.0)
    assert row["abs_se"] == pytest.approx(np.sqrt(0.048))
    assert table.loc["repurchase_20d", "mean_control"] == pytest.approx(0.2), "day 20 itself is outside [0, 20)"
    assert table.loc["repurchase_41d", "mean_control"] == pytest.approx(0.7)
