"""CLV models: published CDNOW / sBG estimates, gradients, numerical stability and the data contract."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, optimize, special

from crm_models.clv import (
    BetaGeoModel,
    GammaGammaModel,
    ModifiedBetaGeoModel,
    ParetoNBDModel,
    ShiftedBetaGeoModel,
    spend_frequency_correlation,
    survivors_to_tenure,
)
from crm_models.clv._base import FitData
from crm_models.exceptions import ConvergenceError, DataContractError, NotFittedError

REL = 0.005  # 0.5% of each published parameter


@pytest.fixture(scope="module")
def cdnow(shared_data) -> pd.DataFrame:
    return pd.read_csv(shared_data / "cdnow_summary_39wk.csv")


@pytest.fixture(scope="module")
def survivors(shared_data) -> pd.DataFrame:
    return pd.read_csv(shared_data / "sbg_survivors.csv")


def _close(params: pd.Series, published: dict[str, float]) -> None:
    for name, value in published.items():
        assert params[name] == pytest.approx(value, rel=REL), (name, params[name], value)


# ---- published estimates --------------------------------------------------------------------------
@pytest.mark.realdata
def test_bg_nbd_reproduces_fader_hardie_lee_2005(cdnow):
    model = BetaGeoModel().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    _close(model.params_, {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426})
    assert model.log_likelihood_ == pytest.approx(-9582.4, abs=0.05)
    # FHL (2005) p. 279: E[Y(39) | x=2, t_x=30.43, T=38.86] = 1.226
    assert model.expected_purchases(39, 2, 30.43, 38.86) == pytest.approx(1.226, abs=5e-4)


@pytest.mark.realdata
def test_pareto_nbd_reproduces_published_estimates(cdnow):
    model = ParetoNBDModel().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    _close(model.params_, {"r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669})
    assert model.log_likelihood_ == pytest.approx(-9595.0, abs=0.05)


@pytest.mark.realdata
def test_gamma_gamma_reproduces_fader_hardie_2013(cdnow):
    model = GammaGammaModel().fit(cdnow["x"], cdnow["zbar"])
    assert model.n_obs_ == 946
    _close(model.params_, {"p": 6.25, "q": 3.74, "gamma": 15.44})
    check = model.spend_frequency_correlation_
    assert check["pearson"] == pytest.approx(0.11, abs=0.01)  # FH13: "correlation of 0.11"
    assert bool(check["independent"])


@pytest.mark.realdata
@pytest.mark.parametrize(
    ("column", "alpha", "beta", "year12", "actual12"),
    [("regular", 0.704, 1.182, 170, 173), ("high_end", 0.668, 3.806, 378, 394)],
)
def test_sbg_reproduces_fader_hardie_2007(survivors, column, alpha, beta, year12, actual12):
    calibration = survivors.loc[survivors["year"] <= 7, column]
    model = ShiftedBetaGeoModel().fit_survivors(calibration)
    _close(model.params_, {"alpha": alpha, "beta": beta})
    projected = model.expected_survivors(12, cohort_size=1000)
    assert projected == pytest.approx(year12, abs=1.0)
    assert abs(projected - actual12) < 20
    # the projections for years 8-12 track the held-out survivors within 5%
    held_out = survivors.loc[survivors["year"] > 7]
    np.testing.assert_allclose(model.expected_survivors(held_out["year"].to_numpy()), held_out[column], rtol=0.05)
    # retention rises with tenure (heterogeneity sorts customers), FH07 section 4
    assert np.all(np.diff(model.retention_rate(np.arange(1, 13))) > 0)


@pytest.mark.realdata
def test_sbg_per_customer_rows_equal_survivor_table(survivors):
    rows = survivors_to_tenure(survivors["regular"][:8])
    expanded = rows.loc[rows.index.repeat(rows["weight"].astype(int))]
    per_customer = ShiftedBetaGeoModel().fit(expanded["tenure"], expanded["churned"])
    table = ShiftedBetaGeoModel().fit_survivors(survivors["regular"][:8])
    np.testing.assert_allclose(per_customer.params_, table.params_, rtol=1e-6)
    assert per_customer.log_likelihood_ == pytest.approx(table.log_likelihood_, rel=1e-9)


# ---- the MLE template -------------------------------------------------------------------------------
@pytest.mark.realdata
def test_summary_aic_bic_and_intervals(cdnow):
    model = BetaGeoModel().fit(cdnow["x"], cdnow["t_x"], cdnow["T"])
    table = model.summary
    assert list(table.columns) == ["estimate", "se", "lower_95", "upper_95"]
    assert list(table.index) == ["r", "alpha", "a", "b"]
    assert (table["se"] > 0).all()
    assert (table["lower_95"] < table["estimate"]).all() and (table["estimate"] < table["upper_95"]).all()
    assert model.aic_ == pytest.approx(2 * 4 + 2 * 9582.43, abs=0.1)
    assert model.bic_ == pytest.approx(4 * np.log(2357) + 2 * 9582.43, abs=0.1)
    # lifetimes/FHL standard error of r on CDNOW is about 0.0125
    assert table.loc["r", "se"] == pytest.approx(0.0126, rel=0.05)


def test_grouped_weights_equal_expanded_rows(rng):
    truth = BetaGeoModel().with_params(r=0.4, alpha=5.0, a=0.8, b=2.5)
    x, tx, T = truth.simulate(3000, T=np.round(rng.uniform(5, 40, 3000)), seed=5)
    tx = np.round(tx)
    frame = pd.DataFrame({"x": x, "tx": np.minimum(tx, T), "T": T})
    grouped = frame.value_counts().rename("n").reset_index()
    a = BetaGeoModel().fit(frame["x"], frame["tx"], frame["T"])
    b = BetaGeoModel().fit(grouped["x"], grouped["tx"], grouped["T"], weights=grouped["n"])
    np.testing.assert_allclose(a.params_, b.params_, rtol=1e-5)
    assert a.log_likelihood_ == pytest.approx(b.log_likelihood_, rel=1e-9)
    assert a.n_distinct_rows_ == len(grouped)


@pytest.mark.parametrize(
    ("model", "start"),
    [
        (BetaGeoModel(), [0.3, 5.0, 0.9, 2.0]),
        (ModifiedBetaGeoModel(), [0.7, 3.0, 1.3, 0.6]),
        (ParetoNBDModel(), [0.5, 12.0, 0.8, 3.0]),
        (ParetoNBDModel(), [1.5, 3.0, 0.4, 40.0]),
    ],
)
def test_analytic_gradient_matches_finite_differences(model, start, rng):
    x = rng.poisson(2.0, 400).astype(float)
    T = rng.uniform(1, 50, 400)
    tx = np.where(x > 0, T * rng.uniform(0, 1, 400), 0.0)
    data = FitData({"x": x, "tx": tx, "T": T}, rng.integers(1, 4, 400).astype(float), 800.0)
    p0 = np.log(start)
    _, grad = model._objective(p0, data)
    numeric = optimize.approx_fprime(p0, lambda p: model._objective(p, data)[0], 1e-7)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-6)


def test_gamma_gamma_and_sbg_gradients(rng):
    gg = GammaGammaModel()
    data = FitData({"x": rng.integers(1, 10, 300).astype(float), "m": rng.gamma(3, 10, 300)}, np.ones(300), 300.0)
    p0 = np.log([4.0, 3.0, 12.0])
    np.testing.assert_allclose(gg._objective(p0, data)[1],
                               optimize.approx_fprime(p0, lambda p: gg._objective(p, data)[0], 1e-7), rtol=1e-4)
    sbg = ShiftedBetaGeoModel()
    data = FitData({"tenure": np.arange(1, 9.0), "churned": np.array([1, 1, 1, 0, 1, 1, 1, 0.0])},
                   np.arange(1, 9.0), 36.0)
    p0 = np.log([0.8, 2.0])
    np.testing.assert_allclose(sbg._objective(p0, data)[1],
                               optimize.approx_fprime(p0, lambda p: sbg._objective(p, data)[0], 1e-7), rtol=1e-4)


@pytest.mark.parametrize(
    "params",
    [(0.55, 10.6, 0.6, 11.7), (0.55, 1.0, 0.6, 50.0), (2.0, 50.0, 0.3, 1.0), (0.3, 0.05, 2.5, 0.01)],
)
def test_pareto_likelihood_equals_direct_integral(params):
    """FH05 (22) against the defining integral over the unobserved dropout time, by adaptive quadrature."""
    r, alpha, s, beta = params
    model = ParetoNBDModel().with_params(r=r, alpha=alpha, s=s, beta=beta)
    for x, tx, T in [(0, 0.0, 39.0), (2, 30.0, 39.0), (10, 5.0, 39.0), (1, 0.5, 0.6), (40, 38.0, 39.0)]:
        prefactor = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        alive = (alpha + T) ** -(r + x) * (beta + T) ** -s
        dead, _ = integrate.quad(lambda u, x=x: (alpha + u) ** -(r + x) * (beta + u) ** -(s + 1), tx, T,
                                 epsabs=0, epsrel=1e-12)
        expected = prefactor + np.log(alive + s * dead)
        assert model._loglik_rows([x], [tx], [T])[0] == pytest.approx(expected, rel=1e-8, abs=1e-9)


def test_convergence_error_gives_advice():
    truth = BetaGeoModel().with_params(r=0.4, alpha=5.0, a=0.8, b=2.5)
    x, tx, T = truth.simulate(2000, T=30.0, seed=1)
    with pytest.raises(ConvergenceError, match="max_iter"):
        BetaGeoModel(max_iter=1).fit(x, tx, T)


def test_not_fitted_and_sklearn_contract():
    from sklearn.base import clone

    model = BetaGeoModel(penalizer=0.01)
    with pytest.raises(NotFittedError):
        model.probability_alive(1, 1, 2)
    with pytest.raises(NotFittedError):
        _ = model.summary
    twin = clone(model)
    assert twin.get_params() == model.get_params()
    assert not hasattr(twin, "params_")


# ---- numerical stability ---------------------------------------------------------------------------
def _posterior_expectation(model, t, x, tx, T):
    """E[Y(t) | alive, x, t_x, T] by quadrature over the posterior of the dropout parameter.

    Given alive, lambda ~ Gamma(r+x, alpha+T), so E[exp(-lambda u)] = ((alpha+T)/(alpha+T+u))^(r+x).
    BG/NBD: Y = (1 - exp(-lambda p t))/p with p ~ Beta(a, b+x) (Beta(a, b+x+1) for MBG/NBD).
    Pareto/NBD: Y = lambda (1 - exp(-mu t))/mu with mu ~ Gamma(s, beta+T).
    """
    p = model.params_
    if isinstance(model, ParetoNBDModel):
        shape, rate = p["s"], p["beta"] + T
        value, _ = integrate.quad(lambda mu: -np.expm1(-mu * t) / mu * np.exp(
            shape * np.log(rate) + (shape - 1) * np.log(mu) - rate * mu - special.gammaln(shape)), 0, np.inf,
            epsrel=1e-12, limit=500)
        return (p["r"] + x) / (p["alpha"] + T) * value
    shift = 1 if isinstance(model, ModifiedBetaGeoModel) else 0
    a, b = p["a"], p["b"] + x + shift
    scale = p["alpha"] + T

    def integrand(q):
        return (-np.expm1((p["r"] + x) * (np.log(scale) - np.log(scale + q * t))) / q
                * np.exp((a - 1) * np.log(q) + (b - 1) * np.log1p(-q) - special.betaln(a, b)))

    value = sum(integrate.quad(integrand, lo, hi, epsrel=1e-12, limit=500)[0]
                for lo, hi in [(0, 1e-4), (1e-4, 0.05), (0.05, 1)])
    return value


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel])
def test_stable_at_high_frequency_and_tiny_age(cls):
    params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426} if cls is not ParetoNBDModel else {
        "r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    model = cls().with_params(**params)
    x = np.array([0, 0, 1, 200, 250, 400, 1000, 300])
    tx = np.array([0, 0, 1e-7, 38.0, 38.9, 1.0, 39.0, 0.01])
    T = np.array([1e-9, 0.0, 1e-6, 39.0, 39.0, 39.0, 39.0, 39.0])
    ll = model._loglik_rows(x, tx, T)
    assert np.all(np.isfinite(ll))
    alive = model.probability_alive(x, tx, T)
    assert np.all((alive >= 0) & (alive <= 1))
    expected = model.expected_purchases(10.0, x, tx, T)
    assert np.all(np.isfinite(expected)) and np.all(expected >= 0)
    # the heavy buyer against the defining posterior integral (1-D quadrature)
    assert expected[3] == pytest.approx(_posterior_expectation(model, 10.0, 200, 38.0, 39.0) * alive[3], rel=1e-6)
    # a customer of age ~0 is a new customer
    assert expected[0] == pytest.approx(model.expected_purchases_new_customer(10.0), rel=1e-5)
    # an old customer who bought long ago is very likely gone
    assert alive[5] < 1e-6


def test_fit_with_heavy_buyers_and_new_customers(rng):
    truth = BetaGeoModel().with_params(r=0.5, alpha=3.0, a=0.8, b=3.0)
    x, tx, T = truth.simulate(5000, T=rng.uniform(0.001, 52, 5000), seed=7)
    x[:20], tx[:20], T[:20] = 300, 51.5, 52.0
    for cls in (BetaGeoModel, ParetoNBDModel):
        model = cls().fit(x, tx, T)
        assert np.isfinite(model.log_likelihood_)
        assert np.all(np.isfinite(model.summary["se"]))


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel])
def test_probability_of_n_purchases_is_a_distribution(cls):
    params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426} if cls is not ParetoNBDModel else {
        "r": 0.553, "alpha": 10.578, "s": 0.606, "beta": 11.669}
    model = cls().with_params(**params)
    n = np.arange(0, 400)
    pmf = model.probability_of_n_purchases(39.0, n)
    assert np.all(pmf >= 0)
    assert pmf.sum() == pytest.approx(1.0, abs=1e-6)
    assert (n * pmf).sum() == pytest.approx(model.expected_purchases_new_customer(39.0), rel=1e-4)


def _simulate_with_holdout(model, n, T, holdout, seed):
    """Simulate calibration summaries and holdout counts from the model's own process (event times)."""
    rng = np.random.default_rng(seed)
    params = model.params_
    lam = rng.gamma(params["r"], 1 / params["alpha"], n)
    if isinstance(model, ParetoNBDModel):
        death = rng.exponential(1.0, n) / rng.gamma(params["s"], 1 / params["beta"], n)
        p = None
    else:
        p = rng.beta(params["a"], params["b"], n)
        death = None
    cal_x = np.zeros(n)
    cal_tx = np.zeros(n)
    hold = np.zeros(n)
    clock = np.zeros(n)
    idx = np.arange(n)
    if isinstance(model, ModifiedBetaGeoModel):  # MBG: a dropout chance right after the first purchase
        idx = idx[rng.random(n) >= p]
    while idx.size:
        clock[idx] += rng.exponential(1.0, idx.size) / lam[idx]
        ok = clock[idx] <= T + holdout
        if death is not None:
            ok &= clock[idx] <= death[idx]
        idx = idx[ok]
        in_cal = clock[idx] <= T
        cal_x[idx[in_cal]] += 1
        cal_tx[idx[in_cal]] = clock[idx[in_cal]]
        hold[idx[~in_cal]] += 1
        if p is not None:
            idx = idx[rng.random(idx.size) >= p[idx]]
    return cal_x, cal_tx, np.full(n, T), hold


@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel])
def test_conditional_expectation_matches_simulated_holdout(cls):
    params = {"r": 0.5, "alpha": 6.0, "a": 0.8, "b": 2.5} if cls is not ParetoNBDModel else {
        "r": 0.5, "alpha": 6.0, "s": 0.6, "beta": 10.0}
    model = cls().with_params(**params)
    x, tx, T, hold = _simulate_with_holdout(model, 60_000, 30.0, 20.0, seed=11)
    expected = np.asarray(model.expected_purchases(20.0, x, tx, T))
    assert expected.mean() == pytest.approx(hold.mean(), rel=0.03)
    for lo, hi in [(0, 0), (1, 2), (3, 6)]:
        sel = (x >= lo) & (x <= hi)
        assert expected[sel].mean() == pytest.approx(hold[sel].mean(), rel=0.06), (lo, hi)


# ---- data contract --------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", [BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel])
@pytest.mark.parametrize(
    ("frequency", "recency", "T", "rule"),
    [
        ([1, 2, 0], [-1.0, 3.0, 0.0], [5.0, 5.0, 5.0], "recency >= 0"),
        ([1, 2, 0], [6.0, 3.0, 0.0], [5.0, 5.0, 5.0], "recency <= T"),
        ([1.5, 2, 0], [1.0, 3.0, 0.0], [5.0, 5.0, 5.0], "frequency is an integer"),
        ([0, 0, 0], [0.0, 0.0, 0.0], [5.0, 5.0, 5.0], "at least one customer with frequency > 0"),
        ([-1, 2, 0], [0.0, 3.0, 0.0], [5.0, 5.0, 5.0], "frequency >= 0"),
        ([1, 2, 0], [1.0, np.nan, 0.0], [5.0, 5.0, 5.0], "finite values"),
        ([1, 0, 0], [1.0, 2.0, 0.0], [5.0, 5.0, 5.0], "recency == 0 when frequency == 0"),
    ],
)
def test_bad_input_names_the_rule(cls, frequency, recency, T, rule):
    with pytest.raises(DataContractError, match=rule.replace("(", r"\(").replace(")", r"\)")) as info:
        cls().fit(frequency, recency, T)
    assert info.value.rule == rule


def test_bad_spend_and_tenure_input():
    with pytest.raises(DataContractError, match="monetary_value > 0"):
        GammaGammaModel().fit([1, 2], [10.0, -5.0])
    with pytest.raises(DataContractError, match="at least one customer with frequency > 0"):
        GammaGammaModel().fit([0, 0], [0.0, 0.0])
    with pytest.raises(DataContractError, match="tenure is an integer"):
        ShiftedBetaGeoModel().fit([1.5, 2], [1, 0])
    with pytest.raises(DataContractError, match="churned in"):
        ShiftedBetaGeoModel().fit([1, 2], [1, 2])
    with pytest.raises(DataContractError, match="non-increasing"):
        ShiftedBetaGeoModel().fit_survivors([1000, 600, 700])
    with pytest.raises(DataContractError, match="required column present"):
        BetaGeoModel().fit_from_summary(pd.DataFrame({"frequency": [1], "recency": [1.0]}))


def test_fit_from_summary_keeps_index_in_predictions(rng):
    truth = BetaGeoModel().with_params(r=0.4, alpha=5.0, a=0.8, b=2.5)
    x, tx, T = truth.simulate(2000, T=30.0, seed=3)
    frame = pd.DataFrame({"frequency": x, "recency": tx, "T": T}, index=pd.Index([f"c{i}" for i in range(2000)]))
    model = BetaGeoModel().fit_from_summary(frame)
    alive = model.probability_alive(frame["frequency"], frame["recency"], frame["T"])
    assert isinstance(alive, pd.Series) and alive.index.equals(frame.index)


def test_spend_frequency_correlation_flags_dependence(rng):
    x = rng.integers(1, 20, 2000).astype(float)
    spend = 5 * x + rng.normal(0, 1, 2000)
    check = spend_frequency_correlation(x, spend)
    assert check["pearson"] > 0.9 and not bool(check["independent"])


@pytest.mark.parametrize("model_class", [BetaGeoModel, ModifiedBetaGeoModel])
def test_expected_purchases_continuous_at_a_equal_one(model_class) -> None:
    """a = 1 is a removable singularity of FHL (10): the prediction there equals its neighbours'."""
    x, t_x, big_t = np.array([0.0, 2.0, 7.0]), np.array([0.0, 30.4, 35.0]), np.array([38.9, 38.9, 38.9])
    values = [
        model_class().with_params(r=0.243, alpha=4.414, a=a, b=2.426).expected_purchases(39.0, x, t_x, big_t)
        for a in (1.0 - 1e-6, 1.0, 1.0 + 1e-6)
    ]
    assert np.all(values[1] > 0.1)
    np.testing.assert_allclose(values[1], values[0], rtol=1e-4)
    np.testing.assert_allclose(values[1], values[2], rtol=1e-4)
