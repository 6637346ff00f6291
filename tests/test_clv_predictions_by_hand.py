"""CLV predictions that no test reached before issue 21's mutation run, against closed forms worked by hand.

* sBG with alpha = beta = 1 (Fader & Hardie 2007): S(t) = B(1, 1+t)/B(1, 1) = 1/(1+t), so the discounted expected
  residual lifetime (Fader & Hardie 2010) is a logarithmic series: with v = 1/(1+d),
  DERL(n=0) = sum_{k>=1} v^(k-1)/(k+1) = (-log(1-v) - v) / v^2 and
  DERL(n=1) = sum_{k>=1} 2 v^(k-1)/(k+2) = 2 (-log(1-v) - v - v^2/2) / v^3.
* The Gamma-Gamma independence check counts repeat buyers and refuses to call a correlation on fewer than three.
* A Gamma-Gamma fit on identical spends has no spread to estimate q from: q runs off to infinity and the error
  names it.

Each test names the mutation class it guards against.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crm_models.clv import BetaGeoModel, GammaGammaModel, ShiftedBetaGeoModel, spend_frequency_correlation
from crm_models.clv.value import customer_lifetime_value
from crm_models.exceptions import ConvergenceError


def _sbg_uniform():
    return ShiftedBetaGeoModel().with_params(alpha=1.0, beta=1.0)


def test_derl_is_the_logarithmic_series_for_a_uniform_churn_probability():
    """Guards DERL's hypergeometric form (arguments, the (beta+n)/(alpha+beta+n) lead, the tenure shift) and its
    output for arrays of tenures."""
    v = 1 / 1.1
    at_start = (-math.log(1 - v) - v) / v**2
    after_one = 2 * (-math.log(1 - v) - v - v**2 / 2) / v**3
    model = _sbg_uniform()
    assert float(model.discounted_expected_residual_lifetime(0.1)) == pytest.approx(at_start, rel=1e-12)
    np.testing.assert_allclose(model.discounted_expected_residual_lifetime(0.1, tenure=[0, 1]),
                               [at_start, after_one], rtol=1e-12)
    # the same sums term by term from S(t) = 1/(1+t) (truncated where v^k < 1e-17)
    k = np.arange(1, 500)
    assert at_start == pytest.approx(np.sum(v ** (k - 1) / (k + 1)), rel=1e-12)


def test_derl_refuses_a_rate_that_does_not_discount():
    """Guards the ``discount_rate <= 0`` refusal and that it names the parameter."""
    with pytest.raises(ValueError, match="discount_rate"):
        _sbg_uniform().discounted_expected_residual_lifetime(0.0)


def test_sbg_curves_for_a_uniform_churn_probability():
    """S(t) = 1/(1+t), r_t = S(t)/S(t-1) = t/(t+1), P(T=t) = S(t-1) - S(t) = 1/(t(t+1)), for integer ages too."""
    model = _sbg_uniform()
    np.testing.assert_allclose(model.survival([0, 1, 3]), [1.0, 0.5, 0.25], rtol=1e-12)
    np.testing.assert_allclose(model.retention_rate([1, 2, 9]), [0.5, 2 / 3, 0.9], rtol=1e-12)
    np.testing.assert_allclose(model.churn_probability([1, 2, 4]), [0.5, 1 / 6, 1 / 20], rtol=1e-12)
    np.testing.assert_allclose(model.expected_survivors([1, 3], cohort_size=200), [100.0, 50.0], rtol=1e-12)
    np.testing.assert_allclose(model.conditional_survival(2, tenure=1), (1 / 4) / (1 / 2), rtol=1e-12)


def test_spend_frequency_correlation_counts_repeat_buyers():
    """Rows with frequency 0 are not repeat buyers; with fewer than three repeat buyers no correlation is computed
    and independence is not questioned. Guards the key names of the result and the 0.3 threshold."""
    few = spend_frequency_correlation([0, 1, 2, 0], [0.0, 10.0, 20.0, 0.0])
    assert few["n_repeaters"] == 2 and np.isnan(few["pearson"]) and bool(few["independent"])
    # frequency 1..5 with spend rising with it: Pearson = 1 exactly
    exact = spend_frequency_correlation([1, 2, 3, 4, 5, 0], [10.0, 20.0, 30.0, 40.0, 50.0, 0.0])
    assert exact["n_repeaters"] == 5
    assert exact["pearson"] == pytest.approx(1.0) and exact["spearman"] == pytest.approx(1.0)
    assert not bool(exact["independent"])
    # a weak correlation (0.2 < 0.3) counts as independent: x = 1..5, spend = [20, 10, 40, 10, 30]
    weak = spend_frequency_correlation([1, 2, 3, 4, 5], [20.0, 10.0, 40.0, 10.0, 30.0])
    assert weak["pearson"] == pytest.approx(np.corrcoef([1, 2, 3, 4, 5], [20, 10, 40, 10, 30])[0, 1])
    assert abs(weak["pearson"]) < 0.3 and bool(weak["independent"])


def test_gamma_gamma_on_identical_spends_names_the_runaway_parameter():
    """Identical mean spends leave no spread between customers: q runs off to infinity and the fit stops with a
    ConvergenceError naming q (guards the list of parameters at the optimizer's bound)."""
    with pytest.raises(ConvergenceError, match=r"\['q'\] ran off to 0 or infinity"):
        GammaGammaModel().fit([1, 2, 3, 4], [10.0, 10.0, 10.0, 10.0])


def test_clv_refuses_a_step_that_does_not_advance():
    """Guards the ``step <= 0`` refusal and that it names the setting."""
    model = BetaGeoModel().with_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    with pytest.raises(ValueError, match="step"):
        customer_lifetime_value(model, 10.0, [1], [5.0], [10.0], horizon=10, time_unit="W", discount_rate=0.1,
                                step=0.0)


def test_clv_with_a_fixed_spend_by_hand():
    """Zero discount, margin 0.5, spend 8 per purchase: CLV = 0.5 * 8 * E[Y(horizon)] with E[Y] from the model
    (guards the fixed-spend branch and the telescoping sum over cash-flow steps)."""
    model = BetaGeoModel().with_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    frame = pd.DataFrame({"x": [2, 0], "tx": [30.43, 0.0], "T": [38.86, 38.86]})
    out = customer_lifetime_value(model, 8.0, frame["x"], frame["tx"], frame["T"], horizon=39, time_unit="W",
                                  discount_rate=0.0, margin=0.5, step=13.0)
    expected = np.asarray(model.expected_purchases(39.0, frame["x"], frame["tx"], frame["T"]))
    np.testing.assert_allclose(out["clv"], 0.5 * 8 * expected, rtol=1e-10)
    assert out["expected_spend"].tolist() == [8.0, 8.0]
    assert out.loc[0, "expected_purchases"] == pytest.approx(1.226, abs=0.001)  # FHL (2005), section 5
