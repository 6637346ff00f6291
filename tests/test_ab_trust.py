"""Issue 11 items 8 and 10, issue 12 item 10 (A/B cases): control arm, p-values that agree with the
interval, named errors for bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.ab import analyze_experiment, srm_test
from crm_models.ab.bayes import bayesian_proportions
from crm_models.ab.effects import proportion_effect
from crm_models.exceptions import DataContractError


def _experiment(arms: dict[str, tuple[int, int]], seed: int = 0) -> pd.DataFrame:
    """``{arm: (units, conversions)}`` -> one row per unit, shuffled with a fixed seed."""
    rows = []
    for arm, (n, x) in arms.items():
        rows += [{"variant": arm, "converted": int(i < x)} for i in range(n)]
    frame = pd.DataFrame(rows).sample(frac=1, random_state=seed).reset_index(drop=True)
    return frame.assign(unit_id=np.arange(len(frame)))


def _binary(x: int, n: int) -> np.ndarray:
    return np.r_[np.ones(x), np.zeros(n - x)]


# ---- item 8: the control arm is never guessed from order ----------------------------------------------
@pytest.mark.parametrize("name", ["Control", "CTRL", "baseline", "Holdout"])
def test_arm_named_like_control_is_the_control(name):
    data = _experiment({"A": (1000, 120), name: (1000, 100)})
    readout = analyze_experiment(data)
    assert readout.control == name
    row = readout.table.iloc[0]
    assert row["arm"] == "A" and row["abs_effect"] == pytest.approx(0.02)
    assert "**A**" in readout.verdict and f"**{name}**" not in readout.verdict


def test_no_arm_named_control_asks_for_control():
    data = _experiment({"A": (500, 50), "B": (500, 60)})
    with pytest.raises(DataContractError, match=r"cannot tell which arm is the control.*control=") as info:
        analyze_experiment(data)
    assert info.value.column == "variant"
    assert analyze_experiment(data, control="B").control == "B"


def test_two_control_like_arms_ask_for_control():
    data = _experiment({"control": (500, 50), "holdout": (500, 50), "A": (500, 60)})
    with pytest.raises(DataContractError, match="several arms could be the control"):
        analyze_experiment(data)


# ---- item 10: p < alpha exactly when the Newcombe interval excludes 0 -----------------------------------
@pytest.mark.parametrize(("n0", "n1"), [(40, 40), (30, 55), (200, 180)])
def test_newcombe_p_value_agrees_with_interval_on_a_grid(n0, n1):
    step0, step1 = max(1, n0 // 40), max(1, n1 // 40)
    for x0 in range(0, n0 + 1, step0):
        for x1 in range(0, n1 + 1, step1):
            eff = proportion_effect(_binary(x0, n0), _binary(x1, n1), alpha=0.05)
            excludes = eff.ci_low > 0 or eff.ci_high < 0
            assert (eff.p_value < 0.05) == excludes, (x0, n0, x1, n1, eff)


def test_known_disagreement_of_the_pooled_z_test_is_gone():
    # 1/40 vs 6/40: the pooled z test gave p = 0.0479 (< 0.05) while the 95% Newcombe interval
    # (-0.0057, 0.2672) covers 0
    eff = proportion_effect(_binary(1, 40), _binary(6, 40))
    assert eff.ci_low < 0 < eff.ci_high
    assert eff.p_value >= 0.05


@settings(max_examples=60, deadline=None)
@given(n0=st.integers(1, 300), n1=st.integers(1, 300), f0=st.floats(0, 1), f1=st.floats(0, 1),
       alpha=st.sampled_from([0.01, 0.05, 0.1, 0.2]))
def test_p_value_interval_duality_any_level(n0, n1, f0, f1, alpha):
    x0, x1 = round(f0 * n0), round(f1 * n1)
    eff = proportion_effect(_binary(x0, n0), _binary(x1, n1), alpha=alpha)
    low, high = eff.ci_low, eff.ci_high
    if min(abs(low), abs(high)) > 1e-9:  # not exactly on the boundary
        assert (eff.p_value < alpha) == (low > 0 or high < 0)


# ---- issue 12 item 10: named errors --------------------------------------------------------------------
def test_a_two_in_a_conversion_column_is_named_not_read_as_a_mean():
    data = _experiment({"control": (600, 60), "coupon": (600, 80)})
    data.loc[5, "converted"] = 2
    with pytest.raises(DataContractError, match=r"'converted' looks like a 0/1 conversion.*\[2\]") as info:
        analyze_experiment(data)
    assert info.value.column == "converted"
    readout = analyze_experiment(data, kinds={"converted": "mean"})  # the explicit way out
    assert readout.table["kind"].iloc[0] == "mean"


def test_count_outcomes_are_still_read_as_means():
    rng = np.random.default_rng(5)
    data = _experiment({"control": (400, 0), "coupon": (400, 0)})
    data["orders"] = rng.poisson(1.2, len(data))
    assert analyze_experiment(data, outcomes=["orders"]).table["kind"].iloc[0] == "mean"


def test_bayesian_proportions_refuses_an_arm_without_units():
    with pytest.raises(DataContractError, match=r"\['coupon'\] have no units") as info:
        bayesian_proportions({"control": 10, "coupon": 0}, {"control": 100, "coupon": 0}, "control")
    assert info.value.column == "variant"


def test_srm_test_refuses_negative_counts():
    with pytest.raises(DataContractError, match=r"arm\(s\) \['B'\] have \[-5.0\]") as info:
        srm_test({"A": 100, "B": -5})
    assert info.value.rule == "counts are non-negative integers"
