"""Log-rank statistics and N-day repurchase differences by hand (issue 21, mutation testing of ``ab/repurchase``).

Log-rank (Klein & Moeschberger 2003, sec. 7.3): at each event time ``E_g = n_g d / n`` and
``V_gh = d (n - d) / (n - 1) * n_g / n * (delta_gh - n_h / n)``; ``Z' V^-1 Z ~ chi^2(K - 1)`` over K - 1 groups.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crm_models.ab.repurchase import greenwood_variance_at, logrank_test, repurchase_curves
from crm_models.exceptions import DataContractError
from crm_models.lifecycle import KaplanMeier

Z95 = 1.959963984540054


def test_logrank_with_tied_events_across_groups_by_hand():
    """A: events at 1, 2, censored at 3; B: events at 2, 4, censored at 5.
    t=1: n 6 (A 3), d 1: E_A 0.5, V 1*5/5 * 0.5 * 0.5 = 0.25.
    t=2: n 5 (A 2), d 2 (one per group): E_A 0.8, V 2*3/4 * 0.4 * 0.6 = 0.36.
    t=4: n 2 (A 0), d 1: E_A 0, V 0.  O_A - E_A = 2 - 1.3 = 0.7; chi2 = 0.49 / 0.61."""
    out = logrank_test([1, 2, 3, 2, 4, 5], [1, 1, 0, 1, 1, 0], ["A", "A", "A", "B", "B", "B"])
    assert out["chi2"] == pytest.approx(0.49 / 0.61)
    assert out["df"] == 1.0
    assert out["p_value"] == pytest.approx(stats.chi2.sf(0.49 / 0.61, 1))
    assert (out["observed_A"], out["expected_A"]) == pytest.approx((2.0, 1.3))
    assert (out["observed_B"], out["expected_B"]) == pytest.approx((2.0, 2.7))


def _logrank_by_loops(t, e, g):
    """The K-group statistic written out with loops over event times (reference for the vectorised code)."""
    t, e, g = np.asarray(t, float), np.asarray(e, float), np.asarray(g)
    names = sorted(set(g))
    k = len(names)
    z = np.zeros(k - 1)
    v = np.zeros((k - 1, k - 1))
    for tj in sorted(set(t[e == 1])):
        n = np.array([np.sum((g == a) & (t >= tj)) for a in names], float)
        d = np.array([np.sum((g == a) & (t == tj) & (e == 1)) for a in names], float)
        nt, dt = n.sum(), d.sum()
        for a in range(k - 1):
            z[a] += d[a] - n[a] * dt / nt
            for b in range(k - 1):
                if nt > 1:
                    v[a, b] += dt * (nt - dt) / (nt - 1) * n[a] / nt * ((a == b) - n[b] / nt)
    return float(z @ np.linalg.solve(v, z))


def test_logrank_three_groups_against_the_loop_formula():
    """Guards the off-diagonal covariance (``-s_g s_h``) and the diagonal ``s (1 - s)``."""
    rng = np.random.default_rng(11)
    t = rng.integers(1, 15, 60).astype(float)
    e = (rng.uniform(size=60) < 0.7).astype(float)
    g = np.array(["a", "b", "c"])[rng.integers(0, 3, 60)]
    out = logrank_test(t, e, g)
    assert out["df"] == 2.0
    assert out["chi2"] == pytest.approx(_logrank_by_loops(t, e, g), rel=1e-10)
    assert out["p_value"] == pytest.approx(math.exp(-out["chi2"] / 2), rel=1e-10)
    assert sum(out[f"observed_{x}"] for x in "abc") == pytest.approx(e.sum())
    assert sum(out[f"expected_{x}"] for x in "abc") == pytest.approx(e.sum())


def test_logrank_needs_two_groups():
    with pytest.raises(ValueError, match="two groups"):
        logrank_test([1, 2], [1, 1], ["a", "a"])


def test_greenwood_is_zero_once_everyone_has_bought():
    """All units buy: S reaches 0 and the variance is 0 there and after (not NaN: the curve is known)."""
    km = KaplanMeier().fit([1, 2, 3], [1, 1, 1])
    assert greenwood_variance_at(km, [2, 3, 10]) == pytest.approx([(1 / 3) ** 2 * (1 / 6 + 1 / 2), 0.0, 0.0])
    assert greenwood_variance_at(km, 0.5)[0] == 0.0  # before the first event: S = 1, sum empty


def _hand_case() -> pd.DataFrame:
    return pd.DataFrame({"variant": ["control"] * 5 + ["coupon"] * 5,
                         "purchase_days": [10, 20, 30, 40, 50, 1, 2, 3, 4, 5],
                         "purchase_observed": [1, 1, 0, 1, 0, 1, 1, 1, 1, 1]})


def test_n_day_difference_interval_relative_lift_and_p_by_hand():
    """Within 21 days: control 0.4 (Greenwood 0.048), coupon 1.0 (variance 0). diff 0.6, se sqrt(0.048),
    p = 2 (1 - Phi(0.6 / se)); relative lift 1 / 0.4 - 1 = 1.5 with se^2 = 1^2 * 0.048 / 0.4^4."""
    res = repurchase_curves(_hand_case(), days=(21,))
    row = res.table.iloc[0]
    se = math.sqrt(0.048)
    assert (row["outcome"], row["arm"], row["kind"], row["days"]) == ("repurchase_21d", "coupon", "proportion", 21.0)
    assert (row["n_control"], row["n_arm"]) == (5, 5)
    assert (row["method"], row["primary"]) == ("kaplan-meier", "kaplan-meier")
    assert row["effect"] == pytest.approx(0.6) and row["abs_effect"] == pytest.approx(0.6)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((0.6 - Z95 * se, 0.6 + Z95 * se))
    assert row["p_value"] == pytest.approx(2 * stats.norm.sf(0.6 / se))
    assert row["p_value_raw_method"] == row["p_value"]
    rse = math.sqrt(0.048 / 0.4**4)
    assert row["rel_effect"] == pytest.approx(1.5)
    assert (row["rel_ci_low"], row["rel_ci_high"]) == pytest.approx((1.5 - Z95 * rse, 1.5 + Z95 * rse))
    z90 = stats.norm.ppf(0.95)
    assert repurchase_curves(_hand_case(), days=(21,), alpha=0.1).table.iloc[0]["ci_low"] == pytest.approx(
        0.6 - z90 * se)
    # the pairwise log-rank of a two-arm experiment is the overall one
    assert row["logrank_chi2"] == pytest.approx(res.logrank["chi2"])
    assert row["logrank_p"] == pytest.approx(res.logrank["p_value"])
    assert res.pairwise_logrank["coupon"]["chi2"] == pytest.approx(res.logrank["chi2"])
    assert res.days == (21.0,) and res.control == "control"


def test_a_horizon_before_any_purchase():
    """Within 1 day nobody has bought in either arm: diff 0 with se 0 -> p 1, the interval is the point, and no
    relative lift (the control rate is 0)."""
    row = repurchase_curves(_hand_case(), days=(1,)).table.iloc[0]
    assert (row["effect"], row["abs_se"], row["ci_low"], row["ci_high"], row["p_value"]) == (0.0, 0.0, 0.0, 0.0, 1.0)
    assert math.isnan(row["rel_effect"]) and math.isnan(row["rel_ci_low"])
    assert not row["significant"]


def test_a_certain_difference_without_variance_has_p_zero():
    """Control never buys before 6 days, coupon everyone by day 5: within 6 days 0 vs 1 with both variances 0."""
    data = _hand_case().assign(purchase_days=[10, 20, 30, 40, 50, 1, 2, 3, 4, 5])
    row = repurchase_curves(data, days=(6,)).table.iloc[0]
    assert (row["effect"], row["abs_se"], row["p_value"]) == (1.0, 0.0, 0.0)


def test_describe_names_the_methods_and_the_numbers():
    res = repurchase_curves(_hand_case(), days=(1, 21))
    text = res.describe()
    lr = res.logrank
    assert text.startswith(f"Log-rank test across 2 arms: chi-square {lr['chi2']:.1f} on 1 df, p = {lr['p_value']:.3g}.")
    assert ("- coupon: 100.0% bought again within 21 days vs 40.0% in control (Kaplan-Meier, censored units "
            "included): +60.0 pp, 95% CI +17.1 to +102.9 pp; significant after Holm.") in text
    assert "within 1 days vs 0.0% in control" in text and "; not significant after Holm." in text


def test_cumulative_curve_and_its_interval():
    cum = repurchase_curves(_hand_case(), days=(21,)).cumulative([21])
    assert cum["arm"].tolist() == ["control", "coupon"]
    c = cum.iloc[0]
    assert c["repurchased"] == pytest.approx(0.4) and c["time"] == 21
    iv = KaplanMeier().fit([10, 20, 30, 40, 50], [1, 1, 0, 1, 0]).interval_at([21]).iloc[0]
    assert (c["lower"], c["upper"]) == pytest.approx((1 - iv["upper"], 1 - iv["lower"]))
    assert c["lower"] < 0.4 < c["upper"]


def test_the_control_comes_first_and_every_arm_is_compared_with_it():
    data = pd.concat([_hand_case(), _hand_case().query("variant == 'coupon'").assign(variant="b_arm")])
    res = repurchase_curves(data, days=(21,))
    assert list(res.curves) == ["control", "b_arm", "coupon"]
    assert res.table["arm"].tolist() == ["b_arm", "coupon"]
    assert res.logrank["df"] == 2.0 and set(res.pairwise_logrank) == {"b_arm", "coupon"}
    assert res.pairwise_logrank["coupon"]["df"] == 1.0
    # Holm across the two rows: the same p twice -> 2p each
    p = res.table["p_value"].to_numpy()
    assert res.table["p_holm"].tolist() == pytest.approx(list(np.minimum(2 * p, 1)))


@pytest.mark.parametrize(("column", "value"), [("purchase_days", -1.0), ("purchase_days", np.nan),
                                               ("purchase_days", np.inf), ("purchase_observed", 2.0)])
def test_bad_durations_and_events_are_named(column, value):
    data = _hand_case().astype({column: float})
    data.loc[2, column] = value
    with pytest.raises(DataContractError) as info:
        repurchase_curves(data)
    assert info.value.column == column
    assert info.value.rule == ("finite, >= 0" if column == "purchase_days" else "values in {0, 1}")
    assert len(info.value.examples) == 1


def test_zero_days_is_a_valid_duration():
    data = _hand_case().assign(purchase_days=[0, 20, 30, 40, 50, 1, 2, 3, 4, 5])
    assert repurchase_curves(data, days=(21,)).table.iloc[0]["mean_control"] == pytest.approx(0.4)


def test_experiment_outcomes_are_read_with_their_own_arm_column():
    """An ``ExperimentOutcomes`` is read through its ``table`` and its ``variant`` column name (here ``arm``)."""
    from crm_models.ab.outcomes import ExperimentOutcomes
    from crm_models.data.quality import QualityReport

    table = _hand_case().rename(columns={"variant": "arm"})
    outcomes = ExperimentOutcomes(table=table, windows=(21,), quality=QualityReport(),
                                  observation_end=pd.Timestamp("2026-01-01"), variant="arm")
    row = repurchase_curves(outcomes, days=(21,)).table.iloc[0]
    assert (row["arm"], row["mean_control"], row["mean_arm"]) == ("coupon", pytest.approx(0.4), pytest.approx(1.0))


def test_a_duration_that_is_not_a_number_is_named():
    data = _hand_case().astype({"purchase_days": object})
    data.loc[2, "purchase_days"] = "soon"
    with pytest.raises(DataContractError) as info:
        repurchase_curves(data)
    assert info.value.column == "purchase_days" and info.value.rule == "finite, >= 0"


def test_describe_keeps_going_after_a_horizon_that_is_not_estimable():
    """Within 120 days is beyond the control's follow-up (last unit censored at 50): that line says so and the
    next horizon is still described; one line per row, joined by newlines."""
    lines = repurchase_curves(_hand_case(), days=(120, 21)).describe().splitlines()
    assert len(lines) == 3
    assert lines[1] == "- coupon, repurchase_120d: not estimable yet (no unit followed that long in one arm)."
    assert lines[2].startswith("- coupon: 100.0% bought again within 21 days vs 40.0% in control")


def test_cumulative_is_a_tidy_frame_with_a_fresh_index():
    cum = repurchase_curves(_hand_case(), days=(21,)).cumulative([10, 21])
    assert cum.index.tolist() == [0, 1, 2, 3]
    assert cum["arm"].tolist() == ["control", "control", "coupon", "coupon"]


def test_a_missing_duration_in_a_nullable_integer_column_is_named():
    data = _hand_case().astype({"purchase_days": "Int64"})
    data.loc[2, "purchase_days"] = pd.NA
    with pytest.raises(DataContractError) as info:
        repurchase_curves(data)
    assert info.value.column == "purchase_days"
