"""Issue 11 item 9: unidentified CLV fits are named (warning) and never give NaN predictions silently."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy import integrate, special

from crm_models.clv import BetaGeoModel, GammaGammaModel, ParetoNBDModel
from crm_models.exceptions import ConvergenceError, ConvergenceWarning


def _fit_quietly(model, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return model.fit(*args)


def test_bgnbd_on_one_customer_warns_naming_the_boundary():
    with pytest.warns(ConvergenceWarning, match=r"boundary of its domain.*'r'"):
        model = BetaGeoModel().fit([2], [5.0], [10.0])
    assert model.fit_warnings_ and "boundary" in model.fit_warnings_[0]


def test_bgnbd_on_two_customers_names_singular_hessian_or_boundary():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = BetaGeoModel().fit([1, 3], [4.0, 8.0], [10.0, 10.0])
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert any("singular" in m for m in messages)
    assert any("boundary" in m for m in messages)
    assert model.summary["se"].isna().all()  # undefined standard errors are now explained by the warning


def test_unidentified_fit_never_returns_nan_predictions():
    model = _fit_quietly(BetaGeoModel(), [1, 3], [4.0, 8.0], [10.0, 10.0])
    with pytest.raises(ConvergenceError, match="expected_purchases is NaN.*boundary"):
        model.expected_purchases(10.0, [1, 3], [4.0, 8.0], [10.0, 10.0])


def test_identified_fit_has_no_warnings():
    truth = BetaGeoModel().with_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    x, tx, T = truth.simulate(3_000, T=39.0, seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = BetaGeoModel().fit(x, tx, T)
    assert model.fit_warnings_ == []
    assert np.isfinite(model.summary["se"]).all()


def test_gamma_gamma_shares_the_template_check():
    # one repeat buyer: shape and scale are not identified
    with pytest.warns(ConvergenceWarning, match="GammaGammaModel: parameter at a boundary"):
        model = GammaGammaModel().fit([2], [30.0])
    assert len(model.fit_warnings_) >= 1


def test_pareto_nbd_likelihood_finite_for_frequent_buyers_when_beta_much_larger_than_alpha():
    """scipy's hyp2f1(1, b; c; z) is NaN for b > ~100 and z < -1; Pfaff's transformation fixes it.

    Such rows (150 repeat purchases, dropout scale beta >> alpha) occur in Online Retail; the NaN
    used to stop the optimizer early at a worse likelihood."""
    model = ParetoNBDModel().with_params(r=0.87, alpha=10.4, s=0.17, beta=117.0)
    ll = model._loglik_rows([150.0, 3.0], [50.0, 20.0], [52.0, 52.0])
    assert np.all(np.isfinite(ll))
    # the bracket's 2F1 against a quadrature of Euler's integral
    from crm_models.clv.pareto_nbd import _hyp2f1_a

    b, c, z = 150.87, 152.04, -100.0
    ref = integrate.quad(
        lambda t: np.exp((b - 1) * np.log(t) + (c - b - 1) * np.log1p(-t) - np.log1p(-z * t) - special.betaln(b, c - b)),
        0, 1, epsabs=0, epsrel=1e-12, limit=200)[0]
    assert _hyp2f1_a(1.0, np.array([b]), np.array([c]), np.array([z]))[0] == pytest.approx(ref, rel=1e-9)


def test_bgnbd_predictions_stay_finite_when_a_and_b_are_huge():
    """Fits on a truncated sample give a ~ 1e8, b ~ 1e10 (issue 11 item 1); scipy's 2F1 returns NaN there.
    The posterior of p is then a point mass at a / (a + b + x), so the expectation has a closed form."""
    x = np.array([0.0, 1.0, 5.0, 50.0])
    tx = np.array([0.0, 3.0, 20.0, 38.0])
    T = np.full(4, 39.0)
    r, alpha, a, b, t = 0.25, 4.0, 1e8, 1e10, 13.0
    model = BetaGeoModel().with_params(r=r, alpha=alpha, a=a, b=b)
    got = np.asarray(model.expected_purchases(t, x, tx, T))
    p = a / (a + b + x)
    if_alive = -np.expm1((r + x) * (np.log(alpha + T) - np.log(alpha + T + p * t))) / p
    assert got == pytest.approx(if_alive * np.asarray(model.probability_alive(x, tx, T)), rel=1e-6)


def test_concentrated_fallback_matches_the_closed_form_where_both_work():
    model = BetaGeoModel().with_params(r=0.25, alpha=4.0, a=2_000.0, b=200_000.0)
    x = np.array([0.0, 1.0, 5.0, 50.0])
    T = np.full(4, 39.0)
    closed = model._expected_if_alive(13.0, x, T)
    assert np.all(np.isfinite(closed))
    assert model._expected_if_alive_concentrated(np.full(4, 13.0), x, T) == pytest.approx(closed, rel=1e-8)


def test_identification_note_for_reports():
    model = _fit_quietly(BetaGeoModel(), [1, 3], [4.0, 8.0], [10.0, 10.0])
    assert model.at_boundary_ == {"r": "infinity", "alpha": "infinity"}
    assert "ran to the edge of their range" in model.identification_note()
    truth = BetaGeoModel().with_params(r=0.243, alpha=4.414, a=0.793, b=2.426)
    x, tx, T = truth.simulate(3_000, T=39.0, seed=11)
    assert BetaGeoModel().fit(x, tx, T).identification_note() is None
