"""Cost-aware targeting: profit curve by hand, best cut-off, comparison with treat-everyone and response model."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.exceptions import NotFittedError
from crm_models.uplift import TargetingPolicy, best_arm, compare_policies, profit_curve, uplift_curve


def test_profit_curve_hand_computed():
    y = np.array([1, 0, 1, 0])
    t = np.array([1, 0, 0, 1])
    score = np.array([0.9, 0.8, 0.2, 0.1])
    curve = profit_curve(y, score, t, cost=0.25, value=1.0)
    # uplift curve at n = 0..4: 0, 1, 2, 1.5, 0
    assert curve["incremental_outcome"].tolist() == pytest.approx([0, 1, 2, 1.5, 0])
    assert curve["profit"].tolist() == pytest.approx([0, 0.75, 1.5, 0.75, -1.0])
    assert curve["fraction"].tolist() == pytest.approx([0, 0.25, 0.5, 0.75, 1.0])
    policy = TargetingPolicy(cost=0.25, value=1.0).fit(y, score, t)
    assert policy.fraction_ == 0.5 and policy.threshold_ == pytest.approx(0.8)
    assert policy.decide(score).tolist() == [True, True, False, False]
    doubled = profit_curve(y, score, t, cost=0.25, value=1.0, population=8)
    assert doubled["profit"].tolist() == pytest.approx((2 * curve["profit"]).tolist())
    with pytest.raises(NotFittedError):
        TargetingPolicy(1, 2).decide(score)


def test_curve_equals_uplift_curve(rng):
    n = 500
    y, t, s = rng.integers(0, 2, n), rng.integers(0, 2, n), np.round(rng.normal(size=n), 1)
    x, v = uplift_curve(y, s, t)
    curve = profit_curve(y, s, t, cost=0.0, value=1.0)
    assert np.allclose(curve["n_treated"], x) and np.allclose(curve["profit"], v)


def test_uplift_targeting_beats_treat_everyone_and_response_model():
    rng = np.random.default_rng(4)
    n = 40_000
    base = rng.uniform(0.05, 0.6, n)  # likely buyers ...
    tau = np.where(base > 0.4, -0.05, 0.25 * (1 - base))  # ... are sleeping dogs; the coupon moves the others
    t = rng.integers(0, 2, n)
    y = (rng.uniform(size=n) < base + tau * t).astype(int)
    table = compare_policies(y, t, cost=4.0, value=30.0, uplift=tau + rng.normal(0, 0.03, n),
                             response_score=base, true_effect=tau)
    profit = table.set_index("policy")["profit"]
    assert profit["uplift model, best cut-off"] > profit["treat everyone"]
    assert profit["uplift model, best cut-off"] > profit["response model, best cut-off"]
    assert profit["uplift model, best cut-off"] > profit["response model, same share as uplift"]
    assert profit["treat nobody"] == 0.0
    assert table["profit"].is_monotonic_decreasing


def test_best_arm_picks_the_arm_that_pays():
    uplift = pd.DataFrame({"coupon_10": [0.10, 0.02, 0.0], "coupon_20": [0.12, 0.08, -0.01]})
    choice = best_arm(uplift, costs={"coupon_10": 1.0, "coupon_20": 2.0}, value=30.0)
    # net: unit 0: 2.0 vs 1.6 -> coupon_10; unit 1: -0.4 vs 0.4 -> coupon_20; unit 2: nothing pays
    assert choice.tolist() == ["coupon_10", "coupon_20", None]


def test_plots_draw():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from crm_models.plotting.uplift import plot_profit_curves, plot_uplift_by_decile, plot_uplift_curves
    from crm_models.uplift import permutation_null, uplift_by_decile

    rng = np.random.default_rng(0)
    n = 2_000
    tau = rng.uniform(-0.1, 0.3, n)
    t = rng.integers(0, 2, n)
    y = (rng.uniform(size=n) < 0.2 + tau * t).astype(int)
    null = permutation_null(y, tau, t, n_perm=20, rng=0)
    ax = plot_uplift_curves(y, {"model": tau, "noise": rng.normal(size=n)}, t, null=null)
    assert len(ax.get_lines()) >= 3
    ax2 = plot_uplift_curves(y, {"model": tau}, t, kind="uplift", perfect=False)
    ax3 = plot_uplift_by_decile(uplift_by_decile(y, tau, t))
    ax4 = plot_profit_curves({"model": profit_curve(y, tau, t, cost=1, value=10)})
    for a in (ax, ax2, ax3, ax4):
        plt.close(a.figure)
