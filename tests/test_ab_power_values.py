"""Sample size and minimum detectable effect by hand (issue 21, mutation testing of ``ab/power``).

The normal-approximation formula (e.g. Chow, Shao & Wang (2008), *Sample Size Calculations in Clinical
Research*, 2nd ed., sec. 4.2, unpooled variance): ``n_c = (z_{1-alpha/(2m)} + z_{power})^2 (s0^2 + s1^2 / r) /
delta^2``, rounded up, with ``m`` comparisons (Bonferroni) and ``r`` treated units per control unit.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from crm_models.ab.power import minimum_detectable_effect, sample_size

Z_975, Z_80 = 1.959963984540054, 0.8416212335729143  # Phi^-1(0.975), Phi^-1(0.8)
Z_99375 = 2.241402727604947  # Phi^-1(1 - 0.05 / 4): two comparisons
Z_995, Z_90 = 2.5758293035489004, 1.2815515655446004
Z_99583 = 2.3939797998185104  # Phi^-1(1 - 0.05 / 6): three comparisons


def test_sample_size_for_proportions_by_hand():
    """10 % -> 11 %: (1.95996 + 0.84162)^2 (0.09 + 0.0979) / 0.01^2 = 14748.1 -> 14749. Guards ``alpha / 2``,
    ``power`` (not ``1 - power``), the two variance terms and the rounding up."""
    assert sample_size(0.10, 0.01) == 14749
    assert sample_size(0.10, 0.01) == math.ceil((Z_975 + Z_80) ** 2 * (0.09 + 0.11 * 0.89) / 0.01**2)
    # a larger effect needs fewer units; a negative effect is as hard as its mirror under this variance
    assert sample_size(0.10, -0.01) == math.ceil((Z_975 + Z_80) ** 2 * (0.09 + 0.09 * 0.91) / 0.01**2)


def test_sample_size_levels_comparisons_and_ratio_by_hand():
    """Each knob on its own: alpha 1 % / power 90 %, two comparisons (alpha / 4 per side), ratio 2."""
    assert sample_size(0.10, 0.01, alpha=0.01, power=0.9) == math.ceil(
        (Z_995 + Z_90) ** 2 * (0.09 + 0.0979) / 1e-4) == 27959
    assert sample_size(0.10, 0.01, comparisons=2) == math.ceil((Z_99375 + Z_80) ** 2 * (0.09 + 0.0979) / 1e-4) == 17860
    assert sample_size(0.10, 0.01, ratio=2) == math.ceil((Z_975 + Z_80) ** 2 * (0.09 + 0.0979 / 2) / 1e-4) == 10907


def test_sample_size_relative_and_for_means_by_hand():
    """relative: delta = 0.1 * 0.2 = 0.02; means: sd^2 (1 + 1 / r) / delta^2."""
    assert sample_size(0.2, 0.1, relative=True) == math.ceil((Z_975 + Z_80) ** 2 * (0.16 + 0.22 * 0.78) / 0.02**2)
    assert sample_size(0.2, 0.1, relative=True) == sample_size(0.2, 0.02)
    assert sample_size(50.0, 2.0, kind="mean", sd=20.0) == math.ceil((Z_975 + Z_80) ** 2 * 400 * 2 / 4) == 1570
    assert sample_size(50.0, 2.0, kind="mean", sd=20.0, ratio=3) == math.ceil(
        (Z_975 + Z_80) ** 2 * 400 * (1 + 1 / 3) / 4) == 1047
    # the baseline of a mean plays no part in the absolute form, only in the relative one
    assert sample_size(5.0, 2.0, kind="mean", sd=20.0) == 1570
    assert sample_size(50.0, 0.04, kind="mean", sd=20.0, relative=True) == 1570


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"alpha": 0.0}, "alpha"), ({"alpha": 1.0}, "alpha"),
        ({"power": 0.0}, "power"), ({"power": 1.0}, "power"),
        ({"ratio": 0.0}, "ratio"), ({"comparisons": 0}, "comparisons"),
        ({"kind": "count"}, "kind"),
    ],
)
def test_bad_settings_name_the_parameter(kwargs, word):
    """Guards the open bounds ``0 < alpha < 1`` etc. (a mutated ``<=`` accepts the end point)."""
    with pytest.raises(ValueError, match=word):
        sample_size(0.10, 0.01, **kwargs)
    with pytest.raises(ValueError, match=word):
        minimum_detectable_effect(1000, 0.10, **kwargs)


def test_edges_of_the_accepted_settings_are_accepted():
    """The smallest valid comparisons (1) and any positive ratio work; guards ``< 1`` -> ``<= 1``."""
    assert sample_size(0.10, 0.01, comparisons=1) == 14749
    assert sample_size(0.10, 0.01, ratio=1e-3) > 0


@pytest.mark.parametrize(("baseline", "mde"), [(0.0, 0.01), (1.0, -0.01), (0.95, 0.05), (0.05, -0.05)])
def test_proportions_outside_the_open_unit_interval_are_refused(baseline, mde):
    with pytest.raises(ValueError, match="baseline"):
        sample_size(baseline, mde)


def test_zero_effect_and_missing_sd_are_refused():
    with pytest.raises(ValueError, match="mde"):
        sample_size(0.1, 0.0)
    for sd in (None, 0.0):
        with pytest.raises(ValueError, match="sd"):
            sample_size(50.0, 2.0, kind="mean", sd=sd)
        with pytest.raises(ValueError, match="sd"):
            minimum_detectable_effect(1000, 50.0, kind="mean", sd=sd)
    for n in (0, -5):
        with pytest.raises(ValueError, match="n_control"):
            minimum_detectable_effect(n, 0.1)
    for p0 in (0.0, 1.0):
        with pytest.raises(ValueError, match="baseline"):
            minimum_detectable_effect(1000, p0)


def _mde_quadratic(n0: float, p0: float, r: float, z: float) -> float:
    """Positive root of ``d^2 = z^2 (p0 (1 - p0) / n0 + (p0 + d)(1 - p0 - d) / (r n0))`` in closed form."""
    k = z**2 / (r * n0)
    a = 1 + k
    b = 2 * k * p0 - k
    c = k * p0**2 - k * p0 - z**2 * p0 * (1 - p0) / n0
    return (-b + np.sqrt(b**2 - 4 * a * c)) / (2 * a)


@pytest.mark.parametrize(("ratio", "comparisons", "z"), [(1.0, 1, Z_975 + Z_80), (3.0, 1, Z_975 + Z_80),
                                                         (1.0, 3, Z_99583 + Z_80)])
def test_mde_for_proportions_is_the_root_of_the_quadratic(ratio, comparisons, z):
    """Guards the treated-arm size ``ratio * n``, the variance at ``p0 + d`` and the root search."""
    got = minimum_detectable_effect(1000, 0.10, ratio=ratio, comparisons=comparisons)
    assert got == pytest.approx(_mde_quadratic(1000, 0.10, ratio, z), rel=1e-8)
    assert minimum_detectable_effect(1000, 0.10, ratio=ratio, comparisons=comparisons, relative=True) == \
        pytest.approx(got / 0.10, rel=1e-12)


def test_mde_for_means_by_hand():
    """z sd sqrt(1/n + 1/(r n)): 2.80159 * 20 * sqrt(1/1000 + 1/3000) = 2.04599."""
    assert minimum_detectable_effect(1000, 50.0, kind="mean", sd=20.0, ratio=3) == pytest.approx(
        (Z_975 + Z_80) * 20 * np.sqrt(1 / 1000 + 1 / 3000), rel=1e-12)
    assert minimum_detectable_effect(1000, 50.0, kind="mean", sd=20.0, relative=True) == pytest.approx(
        (Z_975 + Z_80) * 20 * np.sqrt(2 / 1000) / 50.0, rel=1e-12)


def test_mde_is_nan_when_no_effect_below_one_is_detectable():
    """One unit per arm at 90 %: even p1 -> 1 is not detectable (guards the ``gap(upper) < 0`` early exit)."""
    assert np.isnan(minimum_detectable_effect(1, 0.9))
    assert not np.isnan(minimum_detectable_effect(100, 0.9))


def test_a_small_standard_deviation_is_valid():
    """sd = 0.5 (an outcome measured in small units) is accepted: guards ``sd <= 0`` against ``sd <= 1``."""
    assert sample_size(1.0, 0.1, kind="mean", sd=0.5) == math.ceil((Z_975 + Z_80) ** 2 * 0.25 * 2 / 0.01)
    assert minimum_detectable_effect(1000, 1.0, kind="mean", sd=0.5) == pytest.approx(
        (Z_975 + Z_80) * 0.5 * np.sqrt(2 / 1000), rel=1e-12)
