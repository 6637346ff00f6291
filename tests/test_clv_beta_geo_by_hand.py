"""BG/NBD and MBG/NBD against hand-computed and published values (mutation testing, issue 21).

Parameters are the CDNOW estimates of Fader, Hardie & Lee (2005), r=0.243, alpha=4.414, a=0.793, b=2.426.
The reference numbers come from (i) the paper itself, (ii) closed forms that collapse to one line for x=0 and
(iii) a double quadrature over (lambda, p) of the BG/NBD likelihood split into "alive at T" and "dropped out
after the last purchase" (scipy.integrate.dblquad on the Gamma x Beta prior, done once, off-line), which does
not use the Beta-function algebra of the module. Each test names the mutation class it guards against.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crm_models.clv import BetaGeoModel, ModifiedBetaGeoModel

R, ALPHA, A, B = 0.243, 4.414, 0.793, 2.426
ROWS = {"frequency": [2, 0, 5], "recency": [30.43, 0.0, 12.0], "T": [38.86, 20.0, 30.0]}


def _bg():
    return BetaGeoModel().with_params(r=R, alpha=ALPHA, a=A, b=B)


def _mbg():
    return ModifiedBetaGeoModel().with_params(r=R, alpha=ALPHA, a=A, b=B)


def test_conditional_expectation_reproduces_fhl_2005_example():
    """FHL (2005), section 5: the customer with x=2, t_x=30.43, T=38.86 is expected to make 1.226 purchases
    in the next 39 weeks. Guards FHL (10): the Euler-transformed 2F1 arguments, the lead (a+b+x-1)/(a-1),
    the P(alive) factor (any operator or +/-1 mutant moves the value by more than 0.001)."""
    assert _bg().expected_purchases(39.0, 2, 30.43, 38.86) == pytest.approx(1.226, abs=6e-4)


def test_bg_probability_alive_and_loglik_equal_double_quadrature():
    """P(alive) and the per-row log-likelihood FHL (6) against the (lambda, p) double quadrature. Guards the
    sign/offset mutants in log_odds (b+x-1, a/(b+x-1), r+x) and in the two log terms of the likelihood."""
    model = _bg()
    p_alive = model.probability_alive(ROWS["frequency"], ROWS["recency"], ROWS["T"])
    np.testing.assert_allclose(p_alive, [0.72657857, 1.0, 0.14316350], rtol=2e-7)
    loglik = model._loglik_rows(ROWS["frequency"], ROWS["recency"], ROWS["T"])
    np.testing.assert_allclose(loglik, [-9.45860631, -0.41562123, -14.92378887], rtol=2e-8)
    assert model.score(ROWS["frequency"], ROWS["recency"], ROWS["T"]) == pytest.approx(np.mean(loglik))


def test_bg_zero_frequency_closed_forms():
    """x=0 in BG/NBD: nobody can have dropped out, so P(alive)=1, L=(alpha/(alpha+T))^r and
    P(X(t)=0)=(alpha/(alpha+t))^r. Guards the `x > 0` guards (has_u, has) and the `+ d` shift terms."""
    model = _bg()
    T = 20.0
    assert float(model.probability_alive(0, 0.0, T)) == 1.0
    assert float(model._loglik_rows([0], [0.0], [T])[0]) == pytest.approx(R * math.log(ALPHA / (ALPHA + T)),
                                                                          rel=1e-12)
    assert model.probability_of_n_purchases(T, 0) == pytest.approx((ALPHA / (ALPHA + T)) ** R, rel=1e-12)


def test_mbg_zero_frequency_closed_forms():
    """MBG/NBD (Batislam et al. 2007) at x=0: L = [b (alpha/(alpha+T))^r + a]/(a+b),
    P(alive) = 1/(1 + a/b ((alpha+T)/alpha)^r) and P(X(t)=0) = [b (alpha/(alpha+t))^r + a]/(a+b).
    Guards the shift d=1 branches (np.ones_like instead of x > 0, b+x+d-1, B(a, b+x+d))."""
    model = _mbg()
    T = 20.0
    survive = (ALPHA / (ALPHA + T)) ** R
    assert float(model._loglik_rows([0], [0.0], [T])[0]) == pytest.approx(math.log((B * survive + A) / (A + B)),
                                                                          rel=1e-12)
    assert float(model.probability_alive(0, 0.0, T)) == pytest.approx(1 / (1 + A / B / survive), rel=1e-12)
    assert model.probability_of_n_purchases(T, 0) == pytest.approx((B * survive + A) / (A + B), rel=1e-12)


def test_mbg_probability_alive_by_hand():
    """MBG/NBD P(alive) = 1/(1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x)) for repeat buyers. Guards the
    shift in the denominator b+x+d-1 and the exponent r+x."""
    model = _mbg()
    got = model.probability_alive(ROWS["frequency"], ROWS["recency"], ROWS["T"])
    want = [1 / (1 + A / (B + x) * ((ALPHA + T) / (ALPHA + tx)) ** (R + x))
            for x, tx, T in zip(ROWS["frequency"], ROWS["recency"], ROWS["T"])]
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel])
def test_expected_purchases_new_customer_is_the_mean_of_the_count_distribution(cls):
    """FHL (9) E[X(t)] must equal sum_n n P(X(t)=n) from FHL (8), two formulas of the paper coded separately.
    BG/NBD value at t=39 by FHL (9) by hand: 1.19672. Guards lead (a+b-1)/(a-1) vs b/(a-1), the 2F1
    arguments and the (alpha/(alpha+t))^r factor."""
    model = cls().with_params(r=R, alpha=ALPHA, a=A, b=B)
    n = np.arange(0, 4000)
    pmf = model.probability_of_n_purchases(39.0, n)
    mean = float(model.expected_purchases_new_customer(39.0))
    assert mean == pytest.approx(float(n @ pmf), rel=1e-5)
    if cls is BetaGeoModel:
        assert mean == pytest.approx(1.1967232, rel=1e-6)


@pytest.mark.parametrize("n", [-1, 1.5])
def test_probability_of_n_purchases_rejects_bad_n(n):
    """n must be a non-negative integer; the error names `n` (guards the `n < 0` / rounding checks)."""
    with pytest.raises(ValueError, match="^n must"):
        _bg().probability_of_n_purchases(10.0, n)


def test_predictions_keep_the_customer_index_and_name_the_column():
    """Series in -> Series out with the input index and a named column (guards `_output(out, None, ...)` and the
    name-string mutants of probability_alive / expected_purchases)."""
    index = pd.Index(["c1", "c2", "c3"], name="customer")
    x = pd.Series(ROWS["frequency"], index=index)
    tx = pd.Series(ROWS["recency"], index=index)
    T = pd.Series(ROWS["T"], index=index)
    model = _bg()
    alive = model.probability_alive(x, tx, T)
    expected = model.expected_purchases(39.0, x, tx, T)
    assert alive.name == "probability_alive" and list(alive.index) == list(index)
    assert expected.name == "expected_purchases" and list(expected.index) == list(index)
    assert expected["c1"] == pytest.approx(1.226, abs=6e-4)


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel])
def test_expected_purchases_new_customer_at_a_equal_one(cls):
    """At a == 1 FHL (9) has a removable 0/0; the value must equal the mean of the count distribution FHL (8),
    which has no singularity. Guards the `abs(a - 1) < 1e-10` test and the nudge `a = 1 + 1e-8`."""
    model = cls().with_params(r=R, alpha=ALPHA, a=1.0, b=B)
    n = np.arange(0, 4000)
    mean = float(model.expected_purchases_new_customer(39.0))
    assert mean == pytest.approx(float(n @ model.probability_of_n_purchases(39.0, n)), rel=1e-5)


def test_mbg_simulation_matches_the_count_distribution_and_the_seed():
    """MBG/NBD simulate: the share of customers without a repeat purchase by T must match P(X(T)=0) =
    [b (alpha/(alpha+T))^r + a]/(a+b) (Batislam et al. 2007), which includes dropping out right after the first
    purchase; the same seed gives the same draws. Guards `alive &= rng.random(n) >= p` (|=, dtype, seed=None)."""
    model = _mbg()
    T = 39.0
    x, tx, big_t = model.simulate(40_000, T=T, seed=7)
    x2, _, _ = model.simulate(40_000, T=T, seed=7)
    np.testing.assert_array_equal(x, x2)
    want = (B * (ALPHA / (ALPHA + T)) ** R + A) / (A + B)
    share = float(np.mean(x == 0))
    assert share == pytest.approx(want, abs=4 * math.sqrt(want * (1 - want) / 40_000))
    assert np.all(big_t == T) and np.all(tx <= T)


def test_scalar_in_scalar_out_and_float_ages():
    """Scalar n -> Python float (guards `np.ndim(out) or True`); simulate(T=39) with an integer T gives float
    ages like the recencies (guards the dropped `dtype=float`)."""
    value = _bg().probability_of_n_purchases(10.0, 0)
    assert isinstance(value, float) and value == pytest.approx((ALPHA / (ALPHA + 10.0)) ** R, rel=1e-12)
    _, _, big_t = _bg().simulate(10, T=39, seed=1)
    assert big_t.dtype == np.float64
