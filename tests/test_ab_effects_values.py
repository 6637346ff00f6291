"""Effect estimates pinned to published and hand-computed values (issue 21, mutation testing of ``ab/effects``).

Each test names the mutation class it guards against: a changed constant, a flipped comparison, a swapped
term in a variance, a dropped clamp.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from crm_models.ab.effects import (
    Effect,
    _newcombe_bounds,
    cuped_adjust,
    mean_effect,
    newcombe_p_value,
    proportion_effect,
    relative_effect,
    wilson_interval,
)

Z95 = 1.959963984540054  # Phi^-1(0.975)


def _binary(x: int, n: int) -> np.ndarray:
    return np.r_[np.ones(x), np.zeros(n - x)]


# Newcombe, R. G. (1998). Two-sided confidence intervals for the single proportion: comparison of seven
# methods. Stat. Med. 17, 857-872, Table I, method 3 (Wilson score interval without continuity correction).
@pytest.mark.parametrize(
    ("x", "n", "low", "high"),
    [(81, 263, 0.2553, 0.3662), (15, 148, 0.0624, 0.1605), (0, 20, 0.0, 0.1611), (1, 29, 0.0061, 0.1718)],
)
def test_wilson_interval_matches_newcombe_table(x, n, low, high):
    """Guards the Wilson centre / half-width terms (``z**2 / (2 n)``, ``z**2 / (4 n**2)``) and ``1 - alpha / 2``."""
    lo, hi = wilson_interval(x, n)
    assert lo == pytest.approx(low, abs=5e-5)
    assert hi == pytest.approx(high, abs=5e-5)


def test_wilson_interval_is_clamped_to_the_unit_interval_and_nan_without_units():
    """Guards ``max(0, .)`` / ``min(1, .)`` (a mutated clamp gives 1 as a lower bound) and ``n <= 0``."""
    assert wilson_interval(0, 20)[0] == 0.0
    lo, hi = wilson_interval(29, 29)
    assert hi == 1.0 and lo == pytest.approx(29 / (29 + Z95**2), abs=1e-12)  # closed form when x = n
    assert all(np.isnan(v) for v in wilson_interval(0, 0))
    # a wider level gives a wider interval: alpha enters through 1 - alpha / 2
    lo99, hi99 = wilson_interval(81, 263, alpha=0.01)
    assert lo99 < 0.2553 and hi99 > 0.3662
    z99 = stats.norm.ppf(0.995)
    p = 81 / 263
    centre = (p + z99**2 / (2 * 263)) / (1 + z99**2 / 263)
    assert (lo99 + hi99) / 2 == pytest.approx(centre, rel=1e-12)


# Newcombe, R. G. (1998). Interval estimation for the difference between independent proportions: comparison
# of eleven methods. Stat. Med. 17, 873-890, Table II, method 10 (hybrid score interval).
@pytest.mark.parametrize(
    ("x1", "n1", "x0", "n0", "low", "high"),
    [
        (56, 70, 48, 80, 0.0524, 0.3339),
        (9, 10, 3, 10, 0.1705, 0.8090),
        (5, 56, 0, 29, -0.0381, 0.1926),
        (0, 10, 0, 20, -0.1611, 0.2775),
        (0, 10, 0, 10, -0.2775, 0.2775),
        (10, 10, 0, 20, 0.6791, 1.0000),
        (10, 10, 0, 10, 0.6075, 1.0000),
    ],
)
def test_newcombe_hybrid_interval_matches_table_ii(x1, n1, x0, n0, low, high):
    """Guards which Wilson bound enters which side (``p1 - l1`` with ``u0 - p0`` for the lower bound)."""
    eff = proportion_effect(_binary(x0, n0), _binary(x1, n1))
    assert eff.method == "newcombe"
    assert eff.ci_low == pytest.approx(low, abs=5e-5)
    assert eff.ci_high == pytest.approx(high, abs=5e-5)
    assert eff.estimate == pytest.approx(x1 / n1 - x0 / n0)
    assert (eff.n_control, eff.n_treatment) == (n0, n1)
    assert (eff.mean_control, eff.mean_treatment) == pytest.approx((x0 / n0, x1 / n1))


def test_newcombe_p_value_is_the_level_where_the_bound_reaches_zero():
    """56/70 vs 48/80: p = 0.00813; the 1 - p interval touches 0 (guards ``2 * sf(z*)`` and the root search)."""
    p = newcombe_p_value(48, 80, 56, 70)
    assert p == pytest.approx(0.0081331, abs=1e-6)
    z_star = stats.norm.isf(p / 2)
    assert _newcombe_bounds(48, 80, 56, 70, z_star)[0] == pytest.approx(0.0, abs=1e-9)
    # the sign of the difference picks the bound that can cross 0: swapping the arms gives the same p
    assert newcombe_p_value(56, 70, 48, 80) == pytest.approx(p, rel=1e-9)
    assert newcombe_p_value(3, 10, 3, 10) == 1.0
    # an overwhelming difference excludes 0 even at z = 40: p reported as 0
    assert newcombe_p_value(0, 10**6, 10**6, 10**6) == 0.0
    # the proportion_effect p-value is this one, at any level
    assert proportion_effect(_binary(48, 80), _binary(56, 70), alpha=0.01).p_value == pytest.approx(p, rel=1e-9)


def test_newcombe_interval_depends_on_alpha():
    """99 % interval of 56/70 vs 48/80 (guards the quantile passed to the bounds)."""
    eff = proportion_effect(_binary(48, 80), _binary(56, 70), alpha=0.01)
    assert eff.ci_low == pytest.approx(0.0053709, abs=1e-6)
    assert eff.ci_high == pytest.approx(0.3718084, abs=1e-6)


def test_wald_z_interval_by_hand():
    """p0 = 0.6 (n 80), p1 = 0.8 (n 70): se = sqrt(.6*.4/80 + .8*.2/70) = 0.0727029; 0.2 +- 1.96 se; p = 0.00594."""
    eff = proportion_effect(_binary(48, 80), _binary(56, 70), interval="z")
    assert eff.method == "z"
    assert eff.std_error == pytest.approx(0.0727029180, rel=1e-9)
    assert eff.ci_low == pytest.approx(0.2 - Z95 * 0.0727029180, rel=1e-8)
    assert eff.ci_high == pytest.approx(0.2 + Z95 * 0.0727029180, rel=1e-8)
    assert eff.p_value == pytest.approx(0.0059427933, rel=1e-7)


def test_wald_z_without_variance_and_an_unknown_interval():
    """Guards the ``se > 0`` branch (p 1 when equal, 0 when not) and the error naming ``interval``."""
    same = proportion_effect(np.zeros(10), np.zeros(12), interval="z")
    assert same.p_value == 1.0 and same.std_error == 0.0
    apart = proportion_effect(np.zeros(10), np.ones(12), interval="z")
    assert apart.p_value == 0.0 and apart.estimate == 1.0
    with pytest.raises(ValueError, match="interval"):
        proportion_effect(np.zeros(10), np.ones(10), interval="wald")


def test_welch_on_tiny_arms_matches_scipy():
    """Two and three units: the Welch-Satterthwaite df uses ``n - 1`` per arm (guards ``max(n - 1, 1)``)."""
    a, b = np.array([1.0, 2.0]), np.array([3.0, 5.0, 10.0])
    eff = mean_effect(a, b)
    ref = stats.ttest_ind(b, a, equal_var=False)
    ci = ref.confidence_interval()
    assert eff.method == "welch"
    assert eff.estimate == 4.5
    assert eff.std_error == pytest.approx(np.sqrt(0.5 / 2 + 13.0 / 3), rel=1e-12)
    assert eff.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert (eff.ci_low, eff.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-10)
    ci90 = stats.ttest_ind(b, a, equal_var=False).confidence_interval(0.9)
    eff90 = mean_effect(a, b, alpha=0.1)
    assert (eff90.ci_low, eff90.ci_high) == pytest.approx((ci90.low, ci90.high), rel=1e-10)


def test_welch_with_constant_arms():
    """No variance: the interval is the point, p is 1 if the means are equal and 0 otherwise."""
    eff = mean_effect(np.full(5, 2.0), np.full(4, 3.0))
    assert eff == Effect(2.0, 3.0, 5, 4, 1.0, 0.0, 1.0, 1.0, 0.0, "welch")  # every field, in order
    assert mean_effect(np.full(5, 2.0), np.full(4, 2.0)).p_value == 1.0


def _effect(m0: float, m1: float) -> Effect:
    return Effect(m0, m1, 100, 100, m1 - m0, 0.0, 0.0, 0.0, 1.0, "welch")


def test_relative_effect_delta_method_by_hand():
    """m0 0.5, m1 0.6, Var(m0) 4e-4, Var(m1) 9e-4: se^2 = 9e-4/0.25 + 0.36*4e-4/0.0625 = 0.005904 (Deng et al.
    2018). Guards each power of ``m0`` and the placement of ``m1**2``."""
    est, se, low, high = relative_effect(_effect(0.5, 0.6), var_control=4e-4, var_treatment=9e-4)
    assert est == pytest.approx(0.2)
    assert se == pytest.approx(np.sqrt(0.005904), rel=1e-12)
    assert (low, high) == pytest.approx((0.2 - Z95 * np.sqrt(0.005904), 0.2 + Z95 * np.sqrt(0.005904)))
    z90 = stats.norm.ppf(0.95)
    _, _, low90, _ = relative_effect(_effect(0.5, 0.6), alpha=0.1, var_control=4e-4, var_treatment=9e-4)
    assert low90 == pytest.approx(0.2 - z90 * np.sqrt(0.005904))


@pytest.mark.parametrize(
    ("m0", "var_c", "var_t"), [(0.0, 4e-4, 9e-4), (0.5, None, 9e-4), (0.5, 4e-4, None)]
)
def test_relative_effect_is_nan_without_a_control_mean_or_a_variance(m0, var_c, var_t):
    """Guards the ``or`` chain: each missing piece alone gives NaN."""
    out = relative_effect(_effect(m0, 0.6), var_control=var_c, var_treatment=var_t)
    assert all(np.isnan(v) for v in out)


def test_cuped_theta_and_variance_removed_by_hand():
    """x = 1..4, y = 2, 4, 6, 9: theta = sum(xc yc) / sum(xc^2) = 11.5 / 5 = 2.3; adjusted = 5.45, 5.15, 4.85,
    5.55; R^2 = 1 - 0.075 / 6.6875 (Deng et al. 2013). Guards the centring and the sign of the adjustment."""
    x = np.array([1.0, 2.0, 3.0, 4.0])
    y = np.array([2.0, 4.0, 6.0, 9.0])
    res = cuped_adjust(y, x)
    assert res.theta == pytest.approx([2.3])
    assert res.adjusted == pytest.approx([5.45, 5.15, 4.85, 5.55])
    assert res.variance_removed == pytest.approx(1 - 0.075 / 6.6875)
    # the share removed does not depend on the unit of y, also when Var(y) < 1 (guards ``vy > 0``)
    small = cuped_adjust(y / 10, x)
    assert small.theta == pytest.approx([0.23]) and small.variance_removed == pytest.approx(1 - 0.075 / 6.6875)
    # two covariates that explain y exactly: theta recovers both slopes, all variance is removed
    x2 = np.column_stack([x, np.array([0.0, 1.0, 0.0, 2.0])])
    two = cuped_adjust(x2 @ np.array([1.5, -2.0]) + 7.0, x2)
    assert two.theta == pytest.approx([1.5, -2.0])
    assert two.variance_removed == pytest.approx(1.0)
    assert two.adjusted == pytest.approx(np.full(4, (x2 @ np.array([1.5, -2.0])).mean() + 7.0))
    # a constant outcome: nothing to remove (not 0 / 0)
    assert cuped_adjust(np.full(4, 3.0), x).variance_removed == 0.0


def test_cuped_reads_decimal_values_as_numbers():
    """Database drivers return ``Decimal`` for money columns: they are read as floats (guards
    ``np.asarray(..., dtype=float)``; an object array would reach ``lstsq`` and fail)."""
    from decimal import Decimal

    res = cuped_adjust([Decimal(v) for v in ("2", "4", "6", "9")], [Decimal(v) for v in ("1", "2", "3", "4")])
    assert res.theta == pytest.approx([2.3]) and res.adjusted.dtype == np.float64
