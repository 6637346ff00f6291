"""mSPRT on eight units by hand (issue 21, mutation testing of ``ab/sequential``).

Johari, Koomen, Pekelis & Walsh (2017), eq. for the normal mixture:
``log Lambda = 0.5 log(V / (V + tau^2)) + tau^2 (d - theta0)^2 / (2 V (V + tau^2))``, always-valid p-value
``min_n min(1, 1 / Lambda_n)``, and the confidence sequence ``d +- sqrt(2 V (V + tau^2) / tau^2 *
(log(1 / alpha) + 0.5 log((V + tau^2) / V)))`` intersected over looks.

Data: units alternate control / treatment, y = 1, 3, 2, 5, 3, 7, 4, 9, so control = 1, 2, 3, 4 (mean 2.5, s^2 5/3)
and treatment = 3, 5, 7, 9 (mean 6, s^2 20/3): d = 3.5, V = 5/12 + 20/12 = 25/12.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crm_models.ab import msprt
from crm_models.ab.sequential import SequentialResult

Y = np.array([1.0, 3.0, 2.0, 5.0, 3.0, 7.0, 4.0, 9.0])
T = np.array([False, True] * 4)


def _log_lambda(d: float, v: float, tau2: float, theta0: float = 0.0) -> float:
    return 0.5 * math.log(v / (v + tau2)) + tau2 * (d - theta0) ** 2 / (2 * v * (v + tau2))


def _radius(v: float, tau2: float, alpha: float) -> float:
    return math.sqrt(2 * v * (v + tau2) / tau2 * (math.log(1 / alpha) + 0.5 * math.log((v + tau2) / v)))


def test_one_look_by_hand():
    """Guards every term of log Lambda (the 0.5, the square, 2 V (V + tau^2)) and of the radius."""
    res = msprt(Y, T, tau=1.0, n_looks=1, min_units=2)
    row = res.looks.iloc[0]
    v = 25 / 12
    assert (row["n"], row["n_control"], row["n_treatment"]) == (8, 4, 4)
    assert row["estimate"] == pytest.approx(3.5)
    assert row["std_error"] == pytest.approx(math.sqrt(v))
    assert row["p_value"] == pytest.approx(math.exp(-_log_lambda(3.5, v, 1.0)), rel=1e-12)
    assert row["p_value"] == pytest.approx(0.468841, abs=1e-6)
    r = _radius(v, 1.0, 0.05)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((3.5 - r, 3.5 + r), rel=1e-12)
    assert res.p_value == row["p_value"] and res.tau == 1.0 and res.alpha == 0.05


def test_null_value_theta0_moves_the_test_not_the_interval():
    """theta0 = 1: (d - theta0)^2 = 6.25 in the exponent; the confidence sequence is centred on d as before."""
    res = msprt(Y, T, tau=1.0, n_looks=1, min_units=2, theta0=1.0)
    v = 25 / 12
    assert res.p_value == pytest.approx(math.exp(-_log_lambda(3.5, v, 1.0, theta0=1.0)), rel=1e-12)
    assert res.p_value == pytest.approx(0.747915, abs=1e-6)
    r = _radius(v, 1.0, 0.05)
    assert res.looks["ci_low"].iloc[0] == pytest.approx(3.5 - r)


def test_three_looks_running_minimum_and_intersection_by_hand():
    """Looks at round(8/3), round(16/3), 8 = 3, 5, 8 units. At 3 units the treatment arm has one unit (< min_units
    = 2): p = 1 and the interval is unbounded. At 5: control 1, 2, 3 (s^2 1), treatment 3, 5 (s^2 2): d = 2,
    V = 1/3 + 1 = 4/3. At 8: d = 3.5, V = 25/12, and its upper bound is cut by the look at 5."""
    res = msprt(Y, T, tau=1.0, n_looks=3, min_units=2, alpha=0.2)
    looks = res.looks
    assert looks["n"].tolist() == [3, 5, 8]
    assert looks["n_control"].tolist() == [2, 3, 4] and looks["n_treatment"].tolist() == [1, 2, 4]
    assert looks["p_value"].iloc[0] == 1.0
    assert looks["ci_low"].iloc[0] == -np.inf and looks["ci_high"].iloc[0] == np.inf
    p5 = math.exp(-_log_lambda(2.0, 4 / 3, 1.0))
    p8 = math.exp(-_log_lambda(3.5, 25 / 12, 1.0))
    assert looks["p_value"].iloc[1:].tolist() == pytest.approx([p5, min(p5, p8)], rel=1e-12)
    r5, r8 = _radius(4 / 3, 1.0, 0.2), _radius(25 / 12, 1.0, 0.2)
    assert looks["ci_low"].iloc[1:].tolist() == pytest.approx([2 - r5, max(2 - r5, 3.5 - r8)])
    assert looks["ci_high"].iloc[1:].tolist() == pytest.approx([2 + r5, min(2 + r5, 3.5 + r8)])
    assert looks["ci_high"].iloc[2] == pytest.approx(2 + r5)  # the intersection, not the last look's bound


def test_a_p_value_above_one_is_capped_and_never_rises():
    """Identical arms: d = 0, Lambda < 1, so 1 / Lambda > 1 is capped at 1 (guards ``np.minimum(1.0, .)``)."""
    y = np.array([1.0, 1.0, 2.0, 2.0, 3.0, 3.0, 4.0, 4.0])
    res = msprt(y, T, tau=1.0, n_looks=1, min_units=2)
    assert res.p_value == 1.0


def test_more_looks_than_units_gives_one_look_per_unit():
    """linspace(0, 8, 21)[1:] rounds to 0, 1, 1, 2, ...: the look at 0 units is dropped, duplicates merged."""
    res = msprt(Y, T, tau=1.0, n_looks=20, min_units=2)
    assert res.looks["n"].tolist() == list(range(1, 9))


def test_default_tau_is_a_tenth_of_the_burn_in_sd():
    """Both arms reach min_units = 2 at the 4th unit: tau = 0.1 * sd(1, 3, 2, 5) (population sd)."""
    res = msprt(Y, T, n_looks=1, min_units=2)
    assert res.tau == pytest.approx(0.1 * np.std([1.0, 3.0, 2.0, 5.0]), rel=1e-12)
    # burn-in never completed: the sd of all units
    assert msprt(Y, T, n_looks=1, min_units=5).tau == pytest.approx(0.1 * np.std(Y), rel=1e-12)
    # a constant burn-in falls back to tau = 1
    y = np.r_[np.full(4, 2.0), Y[4:]]
    assert msprt(y, T, n_looks=1, min_units=2).tau == 1.0


def test_timestamps_are_reported_after_the_unit_count():
    stamps = pd.date_range("2026-01-01", periods=8, freq="D")
    res = msprt(Y, T, tau=1.0, n_looks=2, min_units=2, timestamps=stamps)
    assert list(res.looks.columns[:2]) == ["n", "timestamp"]
    assert res.looks["timestamp"].tolist() == [stamps[3], stamps[7]]
    assert "timestamp" not in msprt(Y, T, tau=1.0, n_looks=2, min_units=2).looks.columns


def test_stopping_properties_on_a_given_table():
    """Stop at the first look with p <= alpha (inclusive); units and share of the final sample at that look."""
    looks = pd.DataFrame({"n": [10, 20, 40], "p_value": [0.5, 0.05, 0.01]})
    res = SequentialResult(looks, 0.05, 1.0)
    assert res.p_value == 0.01
    assert res.stopping_look == 1
    assert res.stopped_at_units == 20
    assert res.stopped_at_fraction == 0.5
    never = SequentialResult(looks.assign(p_value=[0.5, 0.4, 0.3]), 0.05, 1.0)
    assert never.stopping_look is None and never.stopped_at_units is None and never.stopped_at_fraction is None
    assert math.isnan(SequentialResult(looks.iloc[:0], 0.05, 1.0).p_value)


def test_a_zero_one_treatment_column_is_read_as_booleans():
    """``treated`` as 0/1 integers (a typical column) gives the same looks as booleans (guards ``dtype=bool``:
    ``~`` on integers is a bitwise not, not the control mask)."""
    as_int = msprt(Y, T.astype(int), tau=1.0, n_looks=3, min_units=2).looks
    as_bool = msprt(Y, T, tau=1.0, n_looks=3, min_units=2).looks
    pd.testing.assert_frame_equal(as_int, as_bool)


def test_documented_defaults_100_looks_and_100_units_per_arm():
    """1000 alternating units: 100 looks of 10 units; the look at 200 units (100 per arm) is the first that can
    decide, the one at 190 (95 per arm) cannot."""
    rng = np.random.default_rng(2)
    t = np.array([False, True] * 500)
    y = 5.0 * t + rng.normal(0, 1, 1000)
    looks = msprt(y, t, tau=1.0).looks
    assert len(looks) == 100 and looks["n"].iloc[0] == 10
    assert looks.loc[looks["n"] == 190, "p_value"].item() == 1.0
    assert looks.loc[looks["n"] == 200, "p_value"].item() < 1e-6


def test_decimal_outcomes_are_read_as_numbers():
    """``Decimal`` outcomes (money from a database driver) give the same looks as floats (guards
    ``dtype=float``)."""
    from decimal import Decimal

    looks = msprt([Decimal(str(v)) for v in Y], T, tau=1.0, n_looks=1, min_units=2).looks
    pd.testing.assert_frame_equal(looks, msprt(Y, T, tau=1.0, n_looks=1, min_units=2).looks)


def test_burn_in_waits_for_the_slower_arm():
    """Treated units arrive first (T T T C T C C C): both arms reach min_units = 2 only at the 6th unit, so the
    default tau is 0.1 * sd of the first six outcomes (guards the control count ``cumsum(~treated)``)."""
    t = np.array([True, True, True, False, True, False, False, False])
    res = msprt(Y, t, n_looks=1, min_units=2)
    assert res.tau == pytest.approx(0.1 * np.std(Y[:6]), rel=1e-12)
