"""Gamma-Gamma model of spend per transaction (Fader & Hardie 2013; Colombo & Jiang 1999).

References
----------
* Fader, P. S., & Hardie, B. G. S. (2013). The Gamma-Gamma model of monetary value.
  http://brucehardie.com/notes/025/ -- equations cited as FH13 (n).
* Colombo, R., & Jiang, W. (1999). A stochastic RFM model. *Journal of Interactive Marketing* 13(3).

The spend of customer ``j`` on each transaction is ``Gamma(p, nu_j)`` with ``nu_j ~ Gamma(q, gamma)``
across customers. The model is fitted on repeat buyers only (``x >= 1``), with ``m`` the mean value of
their repeat transactions. It assumes that spend per transaction is independent of the purchase
process: :func:`spend_frequency_correlation` checks the assumption (FH13, section 2 uses the
correlation between ``x`` and ``m``; CDNOW: 0.11).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from crm_models.clv._base import (
    FitData,
    MLEModel,
    _as_float_array,
    _offending,
    _require_columns,
    group_rows,
)
from crm_models.exceptions import DataContractError


def _check_spend(frequency: Any, monetary_value: Any, weights: Any = None, *, fitting: bool):
    x = _as_float_array(frequency, "frequency")
    m = _as_float_array(monetary_value, "monetary_value")
    if len(x) != len(m):
        raise DataContractError("frequency and monetary_value must have the same length", rule="equal lengths")
    cols = {"frequency": x, "monetary_value": m}
    for name, arr in cols.items():
        bad = ~np.isfinite(arr)
        if bad.any():
            raise DataContractError(f"{name} has missing or infinite values", column=name, rule="finite values",
                                    examples=_offending(bad, **cols))
    bad = (x < 0) | (x != np.round(x))
    if bad.any():
        raise DataContractError("frequency must be a non-negative whole number", column="frequency",
                                rule="frequency is an integer >= 0", examples=_offending(bad, **cols))
    w = np.ones_like(x) if weights is None else _as_float_array(weights, "weights")
    if len(w) != len(x):
        raise DataContractError("weights must have one value per customer", column="weights", rule="equal lengths")
    bad = ~np.isfinite(w) | (w < 0)
    if bad.any():
        raise DataContractError("weights must be finite and >= 0", column="weights", rule="weights >= 0",
                                examples=_offending(bad, weights=w, **cols))
    if fitting:
        keep = x > 0
        if not keep.any():
            raise DataContractError("no repeat buyers: the Gamma-Gamma model is fitted on customers with frequency > 0",
                                    column="frequency", rule="at least one customer with frequency > 0")
        bad = keep & (m <= 0)
        if bad.any():
            raise DataContractError("repeat buyers must have a positive mean spend (drop returns-only customers)",
                                    column="monetary_value", rule="monetary_value > 0 when frequency > 0",
                                    examples=_offending(bad, **cols))
        if w[keep].sum() <= 0:
            raise DataContractError("the repeat buyers' weights sum to zero", column="weights",
                                    rule="sum of weights > 0")
        return x[keep], m[keep], w[keep]
    bad = (x > 0) & (m <= 0)
    if bad.any():
        raise DataContractError("repeat buyers must have a positive mean spend", column="monetary_value",
                                rule="monetary_value > 0 when frequency > 0", examples=_offending(bad, **cols))
    return x, m, w


def spend_frequency_correlation(frequency: Any, monetary_value: Any) -> pd.Series:
    """Pearson and Spearman correlation of frequency and mean spend among repeat buyers.

    The Gamma-Gamma model assumes the two are independent (FH13, section 2). Correlations near zero
    (|rho| < ~0.3) support the assumption; a strong one means expected spend should be modelled
    jointly with frequency. Returns a Series with ``pearson``, ``pearson_pvalue``, ``spearman``,
    ``n_repeaters`` and ``independent`` (|pearson| < 0.3).
    """
    x, m, _ = _check_spend(frequency, monetary_value, fitting=True)
    if len(x) < 3 or np.all(x == x[0]) or np.all(m == m[0]):
        return pd.Series({"pearson": np.nan, "pearson_pvalue": np.nan, "spearman": np.nan,
                          "n_repeaters": len(x), "independent": True})
    pr = stats.pearsonr(x, m)
    sr = stats.spearmanr(x, m)
    return pd.Series({"pearson": float(pr.statistic), "pearson_pvalue": float(pr.pvalue),
                      "spearman": float(sr.statistic), "n_repeaters": len(x),
                      "independent": bool(abs(pr.statistic) < 0.3)})


class GammaGammaModel(MLEModel):
    """Gamma-Gamma model of average spend per transaction (Fader & Hardie 2013).

    ``fit(frequency, monetary_value)`` uses repeat buyers only; ``monetary_value`` is the mean value of
    their repeat transactions. After fitting, ``spend_frequency_correlation_`` holds the independence
    check (see :func:`spend_frequency_correlation`).

    Examples
    --------
    >>> from crm_models.clv import GammaGammaModel
    >>> gg = GammaGammaModel().with_params(p=6.25, q=3.74, gamma=15.44)
    >>> round(gg.expected_spend(1, 20.0), 2)  # FH13 (5): pulls 20 towards the population mean 35.22
    24.64
    """

    _param_names = ("p", "q", "gamma")
    method_name = "Gamma-Gamma"
    method_reference = "Fader & Hardie 2013"
    _description = ("Spend per purchase follows the {name} model ({reference}), which assumes spend and purchase "
                    "frequency are unrelated.")

    def _loglik(self, log_params, data: FitData, need_grad: bool):
        p, q, g = np.exp(log_params)
        m = data["m"]
        ux, inv = data.distinct("x")
        x = ux[inv]
        pu = p * ux
        log_gmx = np.log(g + m * x)
        log_m = np.log(m)
        # FH13 section 3, marginal density of the mean spend: f(m | p, q, gamma, x) = Gamma(px+q)/(Gamma(px)Gamma(q)) gamma^q m^(px-1) x^px / (gamma+mx)^(px+q)
        c_u = special.gammaln(pu + q) - special.gammaln(pu) - special.gammaln(q) + q * np.log(g) + pu * np.log(ux)
        ll = c_u[inv] + (p * x - 1) * log_m - (p * x + q) * log_gmx
        if not need_grad:
            return ll, None
        psi_u = special.digamma(pu + q)
        dp_u = ux * (psi_u - special.digamma(pu) + np.log(ux))
        d_p = dp_u[inv] + x * (log_m - log_gmx)
        d_q = (psi_u - special.digamma(q) + np.log(g))[inv] - log_gmx
        d_g = q / g - (p * x + q) / (g + m * x)
        return ll, np.stack([d_p * p, d_q * q, d_g * g]) @ data.weights

    def _starting_points(self, data: FitData):
        m, w = data["m"], data.weights
        mean = float(w @ m) / float(w.sum())
        var = float(w @ (m - mean) ** 2) / float(w.sum())
        q0 = max(2.0 + mean**2 / max(var, 1e-12), 2.5)
        return [np.log([1.0, q0, mean * (q0 - 1)]), np.log([5.0, 3.0, mean * 2 / 5]), np.log([1.0, 1.0, 1.0])]

    def fit(self, frequency: Any, monetary_value: Any, weights: Any = None) -> GammaGammaModel:
        """Fit on repeat buyers (rows with ``frequency == 0`` are ignored)."""
        x, m, w = _check_spend(frequency, monetary_value, weights, fitting=True)
        (gx, gm), gw = group_rows(x, m, weights=w)
        self.spend_frequency_correlation_ = spend_frequency_correlation(x, m)
        self.n_distinct_rows_ = len(gw)
        self._finish_fit(FitData({"x": gx, "m": gm}, gw, float(gw.sum())))
        return self

    def fit_from_summary(self, summary: pd.DataFrame, *, frequency: str = "frequency",
                         monetary_value: str = "monetary_value") -> GammaGammaModel:
        """Fit from a customer-summary DataFrame."""
        _require_columns(summary, [frequency, monetary_value])
        return self.fit(summary[frequency], summary[monetary_value])

    def mean_spend(self) -> float:
        """Population mean spend per transaction, ``p gamma / (q - 1)`` (infinite when q <= 1)."""
        p, q, g = self._p()
        return p * g / (q - 1) if q > 1 else float("inf")

    def expected_spend(self, frequency: Any, monetary_value: Any):
        """E[M | x, m], FH13 (5): ``(p (gamma + x m)) / (p x + q - 1)``, a weighted average of the
        population mean and the customer's observed mean. Customers with ``x == 0`` get the population mean."""
        self._check_fitted()
        x, m, _ = _check_spend(frequency, monetary_value, fitting=False)
        p, q, g = self._p()
        if q <= 1:
            raise ValueError("expected spend is infinite when q <= 1; the spend distribution is too heavy-tailed")
        out = np.where(x > 0, p * (g + x * np.where(x > 0, m, 0.0)) / (p * x + q - 1), p * g / (q - 1))
        return self._output(out, frequency if isinstance(frequency, pd.Series) else monetary_value, "expected_spend")

    def simulate(self, frequency: Any, seed: int | np.random.Generator | None = None) -> np.ndarray:
        """Simulate the mean spend of customers with the given repeat ``frequency`` (x >= 1)."""
        p, q, g = self._p()
        rng = np.random.default_rng(seed)
        x = np.asarray(frequency, dtype=float)
        nu = rng.gamma(q, 1 / g, x.shape)
        # the sum of x Gamma(p, nu) spends is Gamma(p x, nu)
        return rng.gamma(p * np.maximum(x, 1), 1.0, x.shape) / nu / np.maximum(x, 1)
