"""Always-valid sequential test (mSPRT): false-positive rate under repeated looks, power, confidence sequence."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from crm_models.ab import msprt


def _aa_experiment(rng: np.random.Generator, n: int, p: float = 0.1, effect: float = 0.0):
    treated = rng.uniform(size=n) < 0.5
    y = (rng.uniform(size=n) < p + effect * treated).astype(float)
    return y, treated


def test_false_positive_rate_stays_below_alpha_with_continuous_peeking():
    """500 seeded A/A experiments, 100 looks each: mSPRT rejects at most alpha of them; naive peeking does not."""
    rng = np.random.default_rng(20261123)
    alpha, n_sims, n = 0.05, 500, 4_000
    msprt_rejections, naive_rejections = 0, 0
    z = stats.norm.ppf(1 - alpha / 2)
    for _ in range(n_sims):
        y, treated = _aa_experiment(rng, n)
        res = msprt(y, treated, alpha=alpha, tau=0.02, n_looks=100)
        msprt_rejections += res.stopping_look is not None
        looks = res.looks
        naive_rejections += bool((np.abs(looks["estimate"] / looks["std_error"]) > z).any())
    assert msprt_rejections / n_sims <= alpha
    assert naive_rejections / n_sims > 2 * alpha  # peeking at a fixed-horizon test inflates errors


def test_false_positive_rate_for_continuous_outcome():
    rng = np.random.default_rng(7)
    rejections = 0
    for _ in range(300):
        treated = rng.uniform(size=3_000) < 0.5
        y = rng.lognormal(3, 1, 3_000)  # skewed revenue, no effect
        rejections += msprt(y, treated, alpha=0.05, n_looks=50).stopping_look is not None
    assert rejections / 300 <= 0.05


def test_detects_a_real_effect_and_says_when():
    rng = np.random.default_rng(3)
    y, treated = _aa_experiment(rng, 20_000, effect=0.03)
    res = msprt(y, treated, alpha=0.05, tau=0.02)
    assert res.p_value < 0.05
    assert res.stopped_at_units is not None and 0 < res.stopped_at_fraction < 1
    # p-values never increase and the confidence sequence only shrinks
    p = res.looks["p_value"].to_numpy()
    assert (np.diff(p) <= 1e-15).all()
    assert (np.diff(res.looks["ci_low"]) >= -1e-15).all() and (np.diff(res.looks["ci_high"]) <= 1e-15).all()
    assert res.looks["ci_low"].iloc[-1] <= 0.03 <= res.looks["ci_high"].iloc[-1]


def test_never_stops_before_burn_in():
    rng = np.random.default_rng(1)
    y, treated = _aa_experiment(rng, 1_000, effect=0.5)
    res = msprt(y, treated, min_units=400, n_looks=20)
    first = res.stopping_look
    assert first is not None
    assert res.looks["n_control"].iloc[first] >= 400 and res.looks["n_treatment"].iloc[first] >= 400
    assert res.looks["p_value"].iloc[: first][res.looks["n_control"].iloc[:first] < 400].eq(1.0).all()


def test_matches_johari_formula_for_pairs():
    # with equal arms, V = sigma^2 (1/n1 + 1/n0) and Lambda = sqrt(V/(V+tau^2)) exp(tau^2 d^2 / (2V(V+tau^2)))
    y = np.array([0, 1, 1, 0, 1, 1, 0, 1] * 50, dtype=float)
    treated = np.array([False, True] * 200)
    res = msprt(y, treated, tau=0.1, n_looks=1, min_units=2)
    yt, yc = y[treated], y[~treated]
    v = yt.var(ddof=1) / yt.size + yc.var(ddof=1) / yc.size
    d = yt.mean() - yc.mean()
    lam = np.sqrt(v / (v + 0.01)) * np.exp(0.01 * d**2 / (2 * v * (v + 0.01)))
    assert res.p_value == pytest.approx(min(1.0, 1 / lam))
