"""Shifted-beta-geometric (sBG) model of contractual retention (Fader & Hardie 2007).

References
----------
* Fader, P. S., & Hardie, B. G. S. (2007). How to project customer retention. *Journal of
  Interactive Marketing* 21(1), 76-90 (FH07), section 3.
* Fader, P. S., & Hardie, B. G. S. (2010). Customer-base valuation in a contractual setting: the
  perils of ignoring heterogeneity. *Marketing Science* 29(1), 85-93 (discounted expected residual
  lifetime, DERL).

Each customer renews at the end of every period with probability ``1 - theta``, ``theta ~ Beta(alpha,
beta)`` across customers. Periods are discrete (months, years): ``T`` is the period in which the
customer churns (``T >= 1``).

* ``P(T = t) = B(alpha+1, beta+t-1) / B(alpha, beta)``,
* ``S(t) = B(alpha, beta+t) / B(alpha, beta)``,
* retention rate ``r_t = S(t)/S(t-1) = (beta+t-1)/(alpha+beta+t-1)``,
* log-likelihood ``sum_t n_t log P(T=t) + n_alive log S(t_end)`` (FH07 section 4), with per-customer
  data: churned customers contribute ``log P(T = tenure)``, active ones ``log S(tenure)``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from crm_models.clv._base import FitData, MLEModel, _as_float_array, _offending, group_rows
from crm_models.exceptions import DataContractError


def _check_tenure(tenure: Any, churned: Any, weights: Any = None):
    n = _as_float_array(tenure, "tenure")
    c = _as_float_array(churned, "churned")
    if len(n) != len(c):
        raise DataContractError("tenure and churned must have the same length", rule="equal lengths")
    cols = {"tenure": n, "churned": c}
    bad = ~np.isfinite(n) | (n != np.round(n)) | (n < 0)
    if bad.any():
        raise DataContractError("tenure counts whole periods and must be an integer >= 0", column="tenure",
                                rule="tenure is an integer >= 0", examples=_offending(bad, **cols))
    bad = ~np.isin(c, (0.0, 1.0))
    if bad.any():
        raise DataContractError("churned must be 0/1 (or boolean)", column="churned", rule="churned in {0, 1}",
                                examples=_offending(bad, **cols))
    bad = (c == 1) & (n < 1)
    if bad.any():
        raise DataContractError("a churned customer has tenure >= 1 (the period in which they left)",
                                column="tenure", rule="tenure >= 1 when churned", examples=_offending(bad, **cols))
    w = np.ones_like(n) if weights is None else _as_float_array(weights, "weights")
    if len(w) != len(n) or np.any(~np.isfinite(w) | (w < 0)) or w.sum() <= 0:
        raise DataContractError("weights must be finite, >= 0, one per row, with a positive sum", column="weights",
                                rule="weights >= 0")
    if not (c[w > 0] == 1).any():
        raise DataContractError("no customer has churned: the churn probability cannot be estimated",
                                column="churned", rule="at least one churned customer")
    return n, c, w


def survivors_to_tenure(survivors: Any) -> pd.DataFrame:
    """Turn a survivor table (customers alive at periods 0, 1, ..., n) into weighted (tenure, churned) rows.

    ``survivors[0]`` is the cohort size; the lost between ``t-1`` and ``t`` churned in period ``t``; the
    ones alive at the last period are censored there.
    """
    s = _as_float_array(survivors, "survivors")
    if len(s) < 2:
        raise DataContractError("a survivor table needs at least periods 0 and 1", column="survivors",
                                rule="at least two periods")
    if np.any(np.diff(s) > 0) or np.any(s < 0) or not np.all(np.isfinite(s)):
        raise DataContractError("survivors must be finite, >= 0 and non-increasing", column="survivors",
                                rule="non-increasing counts", examples=list(s))
    lost = -np.diff(s)
    periods = np.arange(1, len(s))
    rows = pd.DataFrame({"tenure": periods, "churned": 1, "weight": lost})
    rows = pd.concat([rows, pd.DataFrame({"tenure": [len(s) - 1], "churned": [0], "weight": [s[-1]]})],
                     ignore_index=True)
    return rows[rows["weight"] > 0].reset_index(drop=True)


class ShiftedBetaGeoModel(MLEModel):
    """sBG model of retention in a contractual (subscription) setting (Fader & Hardie 2007).

    Fit with ``fit(tenure, churned)`` on per-customer data or ``fit_survivors(survivors)`` on a
    survivor table. Predict ``survival(t)``, ``retention_rate(t)``, ``churn_probability(t)``,
    ``expected_survivors(t, cohort_size)`` and ``discounted_expected_residual_lifetime``.

    Examples
    --------
    >>> from crm_models.clv import ShiftedBetaGeoModel
    >>> regular = [1000, 631, 468, 382, 326, 289, 262, 241]
    >>> m = ShiftedBetaGeoModel().fit_survivors(regular)
    >>> round(float(m.params_["alpha"]), 3), round(float(m.params_["beta"]), 3)
    (0.704, 1.182)
    """

    _param_names = ("alpha", "beta")
    method_name = "shifted-beta-geometric (sBG)"
    method_reference = "Fader & Hardie 2007"
    _description = ("Retention follows the {name} model ({reference}): each customer renews every period with "
                    "their own fixed probability, and those probabilities vary across customers.")

    def _loglik(self, log_params, data: FitData, need_grad: bool):
        a, b = np.exp(log_params)
        n, c = data["tenure"], data["churned"]
        base = special.betaln(a, b)
        n_safe = np.maximum(n, 1.0)
        ll = np.where(c == 1, special.betaln(a + 1, b + n_safe - 1), special.betaln(a, b + n)) - base
        if not need_grad:
            return ll, None
        psi_ab = special.digamma(a + b)
        psi_abn = special.digamma(a + b + n)
        d_a = np.where(c == 1, special.digamma(a + 1) - special.digamma(a), 0.0) + psi_ab - psi_abn
        d_b = np.where(c == 1, special.digamma(b + n_safe - 1), special.digamma(b + n)) - psi_abn - special.digamma(b) + psi_ab
        return ll, np.stack([d_a * a, d_b * b]) @ data.weights

    def _starting_points(self, data: FitData):
        return [np.log([1.0, 1.0]), np.log([0.5, 3.0]), np.log([3.0, 10.0])]

    def fit(self, tenure: Any, churned: Any, weights: Any = None) -> ShiftedBetaGeoModel:
        """Fit on per-customer ``tenure`` (periods observed; for churners the period they left) and ``churned`` (0/1)."""
        n, c, w = _check_tenure(tenure, churned, weights)
        (gn, gc), gw = group_rows(n, c, weights=w)
        self._finish_fit(FitData({"tenure": gn, "churned": gc}, gw, float(gw.sum())))
        return self

    def fit_survivors(self, survivors: Any) -> ShiftedBetaGeoModel:
        """Fit on a survivor table: customers alive at periods 0, 1, ..., n of one cohort."""
        rows = survivors_to_tenure(survivors)
        return self.fit(rows["tenure"], rows["churned"], rows["weight"])

    # ---- predictions -----------------------------------------------------------------------------
    def survival(self, t: Any):
        """S(t) = B(alpha, beta+t)/B(alpha, beta) (FH07 section 3): share of a cohort still active after t periods."""
        a, b = self._p()
        t = np.asarray(t, dtype=float)
        out = np.exp(special.betaln(a, b + t) - special.betaln(a, b))
        return self._output(out, out, "survival")

    def churn_probability(self, t: Any):
        """P(T = t) = B(alpha+1, beta+t-1)/B(alpha, beta) for t >= 1 (FH07 section 3)."""
        a, b = self._p()
        t = np.asarray(t, dtype=float)
        if np.any(t < 1):
            raise ValueError("t >= 1: churn happens in period 1 or later")
        out = np.exp(special.betaln(a + 1, b + t - 1) - special.betaln(a, b))
        return self._output(out, out, "churn_probability")

    def retention_rate(self, t: Any):
        """r_t = (beta+t-1)/(alpha+beta+t-1) (FH07 section 3): share of period t-1 survivors who renew at t (rises with t)."""
        a, b = self._p()
        t = np.asarray(t, dtype=float)
        out = (b + t - 1) / (a + b + t - 1)
        return self._output(out, out, "retention_rate")

    def expected_survivors(self, t: Any, cohort_size: float = 1000.0):
        """Projected survivors of a cohort of ``cohort_size`` after ``t`` periods."""
        return cohort_size * self.survival(t)

    def conditional_survival(self, t: Any, tenure: Any):
        """P(still active at tenure + t | active at tenure) = S(tenure + t) / S(tenure)."""
        a, b = self._p()
        t = np.asarray(t, dtype=float)
        n = np.asarray(tenure, dtype=float)
        out = np.exp(special.betaln(a, b + n + t) - special.betaln(a, b + n))
        return self._output(out, out, "conditional_survival")

    def expected_lifetime(self) -> float:
        """Mean number of periods a new customer stays, ``E[T] = (alpha+beta-1)/(alpha-1)`` (infinite if alpha <= 1)."""
        a, b = self._p()
        return (a + b - 1) / (a - 1) if a > 1 else float("inf")

    def discounted_expected_residual_lifetime(self, discount_rate: float, tenure: Any = 0):
        """DERL (Fader & Hardie 2010): expected discounted number of future renewals of a customer active
        after ``tenure`` periods, paying at each renewal, discounted at ``discount_rate`` per period:
        ``sum_{k>=1} S(n+k)/S(n) / (1+d)^(k-1)`` = ``(beta+n)/(alpha+beta+n) 2F1(1, beta+n+1; alpha+beta+n+1; 1/(1+d))``.
        Multiply by the margin per period to get the residual value.
        """
        if discount_rate <= 0:
            raise ValueError("discount_rate must be > 0 for a finite DERL")
        a, b = self._p()
        n = np.asarray(tenure, dtype=float)
        out = (b + n) / (a + b + n) * special.hyp2f1(1.0, b + n + 1, a + b + n + 1, 1 / (1 + discount_rate))
        return self._output(out, out, "discounted_expected_residual_lifetime")

    def simulate(self, n_customers: int, n_periods: int, seed: int | np.random.Generator | None = None):
        """Simulate per-customer ``(tenure, churned)`` observed for ``n_periods`` periods."""
        a, b = self._p()
        rng = np.random.default_rng(seed)
        theta = rng.beta(a, b, n_customers)
        life = rng.geometric(theta)  # period of churn, >= 1
        churned = (life <= n_periods).astype(float)
        return np.minimum(life, n_periods).astype(float), churned
