"""The maximum-likelihood template of the CLV models (``clv/_base.py``) against hand-computed values (issue 21).

Numerical helpers against their definitions, the optimizer's tolerance as documented (``tol`` bounds the gradient
of the mean log-likelihood at the estimate), ``score`` against the BG/NBD likelihood of a customer without repeat
purchases (FHL 2005, eq. 6 with x = 0: ``(alpha / (alpha + T))^r``), and the identification messages naming
each parameter. Each test names the mutation class it guards against.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.clv import BetaGeoModel, ParetoNBDModel
from crm_models.clv._base import expm1_ratio, log1mexp
from crm_models.exceptions import ConvergenceError

R, ALPHA, A, B = 0.243, 4.414, 0.793, 2.426


def _bg():
    return BetaGeoModel().with_params(r=R, alpha=ALPHA, a=A, b=B)


@pytest.mark.parametrize("x", [-1e-12, -0.1, -math.log(2) + 1e-9, -math.log(2) - 1e-9, -5.0, -40.0])
def test_log1mexp_equals_its_definition_on_both_branches(x):
    """log(1 - exp(x)) on both sides of the switch at -log 2 (guards the sign and argument of ``log1p(-exp(x))``
    and the conversion of the input)."""
    expected = math.log(-math.expm1(x))
    assert float(log1mexp(np.array([x]))[0]) == pytest.approx(expected, rel=1e-12)
    assert float(log1mexp(x)) == pytest.approx(expected, rel=1e-12)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.floats(min_value=-700.0, max_value=-1e-300, allow_nan=False))
def test_log1mexp_is_accurate_for_every_negative_argument(x):
    """Invariant: exp(log1mexp(x)) + exp(x) = 1, accurate to double precision relative to 1 - exp(x)."""
    expected = -math.expm1(x)
    assert math.exp(float(log1mexp(x))) == pytest.approx(expected, rel=1e-13)


def test_log1mexp_near_zero_warns_nothing():
    """Regression: for x just below 0 the discarded branch evaluated log1p(-1) and emitted a RuntimeWarning
    (divide by zero) although the returned value is right; model code must not warn on valid input."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert float(log1mexp(-1e-20)) == pytest.approx(math.log(1e-20), rel=1e-12)


def test_expm1_ratio_and_its_limit():
    """(1 - exp(-a b)) / a with limit b at a = 0, also for integer input (guards the small-|ab| branch)."""
    assert float(expm1_ratio(2.0, 1.0)) == pytest.approx((1 - math.exp(-2.0)) / 2, rel=1e-14)
    assert float(expm1_ratio(0.0, 3.0)) == 3.0
    assert float(expm1_ratio(1e-12, 3)) == pytest.approx(3.0, rel=1e-11)
    np.testing.assert_allclose(expm1_ratio(np.array([-1, 0, 1]), np.array([2, 2, 2])),
                               [(math.exp(2) - 1), 2.0, (1 - math.exp(-2))], rtol=1e-14)


def test_score_of_non_repeaters_is_the_closed_form():
    """FHL (6) at x = 0: L = (alpha / (alpha + T))^r, so the mean log-likelihood of customers aged 10 and 30 is
    r/2 (log(alpha/(alpha+10)) + log(alpha/(alpha+30))). Guards the data handed to the likelihood by ``score``."""
    expected = R / 2 * (math.log(ALPHA / (ALPHA + 10)) + math.log(ALPHA / (ALPHA + 30)))
    assert _bg().score([0, 0], [0.0, 0.0], [10.0, 30.0]) == pytest.approx(expected, rel=1e-12)


def test_score_on_the_training_data_is_the_mean_log_likelihood():
    """``log_likelihood_`` is the total over customers, ``score`` the mean: equal up to the number of customers;
    AIC/BIC follow from it with k = 4 (guards the bookkeeping of ``_fit_in_thread_limits``)."""
    x, tx, big_t = _bg().simulate(500, T=39.0, seed=4)
    model = BetaGeoModel().fit(x, tx, big_t)
    assert model.score(x, tx, big_t) * 500 == pytest.approx(model.log_likelihood_, rel=1e-10)
    assert model.aic_ == pytest.approx(8 - 2 * model.log_likelihood_)
    assert model.bic_ == pytest.approx(4 * math.log(500) - 2 * model.log_likelihood_)
    assert model.n_obs_ == 500.0


@pytest.mark.parametrize(("cls", "truth", "bound"), [
    (BetaGeoModel, {"r": R, "alpha": ALPHA, "a": A, "b": B}, 1.0),
    # Pareto/NBD's gradient takes the 2F1 derivatives by central differences: allow 10 x tol
    (ParetoNBDModel, {"r": 0.55, "alpha": 10.0, "s": 0.6, "beta": 12.0}, 10.0),
])
def test_fit_meets_the_gradient_tolerance(cls, truth, bound):
    """``tol`` is the tolerance on the gradient of the mean log-likelihood: at the estimate the gradient (of the
    public ``score``, by finite differences) is below it. Guards the optimizer options (a dropped or renamed ``ftol`` lets L-BFGS-B stop at a relative change of
    2e-9 in the objective, with a gradient 100-1000 times larger)."""
    x, tx, big_t = cls().with_params(**truth).simulate(2000, T=39.0, seed=11)
    model = cls(tol=1e-9).fit(x, tx, big_t)
    assert np.max(np.abs(_score_gradient(model, x, tx, big_t))) <= bound * 1e-9
    # the check can fail: a fit to a looser tolerance stops with a gradient near 1e-6
    loose = cls(tol=1e-5).fit(x, tx, big_t)
    assert np.max(np.abs(_score_gradient(loose, x, tx, big_t))) > 1e-8


def _score_gradient(model, x, tx, big_t, h=1e-3):
    """Gradient of the public ``score`` (mean log-likelihood) in the log-parameters, by the five-point central
    difference (error of order h^4, about 1e-12 here: far below the tolerances checked)."""
    names = list(model.params_.index)
    theta = np.log(model.params_.to_numpy())
    gradient = np.empty(len(theta))
    for j in range(len(theta)):
        values = []
        for step in (-2, -1, 1, 2):
            moved = theta.copy()
            moved[j] += step * h
            values.append(model.with_params(**dict(zip(names, np.exp(moved), strict=True))).score(x, tx, big_t))
        gradient[j] = (values[0] - 8 * values[1] + 8 * values[2] - values[3]) / (12 * h)
    return gradient


def test_nan_prediction_of_an_unfitted_copy_raises_naming_the_method_and_parameters():
    """A model made by ``with_params`` has no ``fit_warnings_``; a NaN prediction (negative horizon beyond -beta:
    log1p of a number below -1) still raises ConvergenceError naming the method, the count and the parameters
    (guards the default of ``getattr(self, "fit_warnings_", [])`` and the message assembly)."""
    model = ParetoNBDModel().with_params(r=1.0, alpha=2.0, s=2.0, beta=1.0)
    with pytest.raises(ConvergenceError) as info, np.errstate(invalid="ignore"):
        model.expected_purchases_new_customer(np.array([1.0, -5.0]))
    text = str(info.value)
    assert "expected_purchases_new_customer is NaN for 1 of 2" in text
    assert "r=1, alpha=2, s=2, beta=1" in text


def test_identification_messages_name_each_parameter():
    """Parameters beyond 1e5 or below 1e-5 are named, each with its direction, with all values; a singular Hessian
    has its own message; an identified fit has none. Guards the ``low`` / ``high`` lists and their message parts."""
    model = BetaGeoModel()
    both = model._identification_problems(np.log([1e-7, 1e7, 1.0, 2.0]), None)
    assert len(both) == 1
    assert "['r'] went to 0" in both[0] and "['alpha'] grew without bound" in both[0]
    assert "r=1e-07, alpha=1e+07, a=1, b=2" in both[0]
    only_high = model._identification_problems(np.log([1.0, 1e7, 1.0, 2.0]), None)[0]
    assert "['alpha'] grew without bound" in only_high and "went to 0" not in only_high
    singular = model._identification_problems(np.log([1.0, 1.0, 1.0, 2.0]), "eigenvalues from 0 to 1")
    assert len(singular) == 1 and "singular (eigenvalues from 0 to 1)" in singular[0]
    assert model._identification_problems(np.log([1.0, 1.0, 1.0, 2.0]), None) == []


def test_identification_note_names_the_parameters_and_the_cause():
    """The report caution lists the parameters at a boundary separated by ", "; a dropout parameter at 0 and a
    singular Hessian have their own wording (guards the join, the attribute names read and the order of checks)."""
    model = _bg()
    model.at_boundary_ = {"r": "infinity", "alpha": "infinity"}
    assert model.identification_note().startswith("parameter(s) r, alpha ran to the edge")
    model.at_boundary_ = {"a": "0"}
    assert "dropout is close to zero" in model.identification_note()
    model.at_boundary_ = {}
    model.singular_hessian_ = True
    assert "standard errors and intervals are not available" in model.identification_note()
    model.singular_hessian_ = False
    assert model.identification_note() is None


def test_sample_params_is_seeded():
    """The same seed gives the same draws, another seed others (guards the seed handed to the generator)."""
    x, tx, big_t = _bg().simulate(2000, T=39.0, seed=2)
    model = BetaGeoModel().fit(x, tx, big_t)
    first = model.sample_params(5, seed=7)
    assert first.equals(model.sample_params(5, seed=7))
    assert not first.equals(model.sample_params(5, seed=8))
    assert list(first.columns) == ["r", "alpha", "a", "b"] and (first.to_numpy() > 0).all()


def test_with_params_names_missing_parameters_and_keeps_settings():
    """Guards the parameter list ``with_params`` checks and the class it builds."""
    with pytest.raises(ValueError, match=r"\['b'\]"):
        BetaGeoModel().with_params(r=1.0, alpha=1.0, a=1.0)
    copy = BetaGeoModel(penalizer=0.01, max_iter=50).with_params(r=R, alpha=ALPHA, a=A, b=B)
    assert type(copy) is BetaGeoModel and copy.penalizer == 0.01 and copy.max_iter == 50
    assert copy.params_.to_dict() == pytest.approx({"r": R, "alpha": ALPHA, "a": A, "b": B})
