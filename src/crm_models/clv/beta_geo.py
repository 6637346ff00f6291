"""BG/NBD (Fader, Hardie & Lee 2005) and MBG/NBD (Batislam, Denizel & Filiztekin 2007).

References
----------
* Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005). "Counting your customers" the easy way: an
  alternative to the Pareto/NBD model. *Marketing Science* 24(2), 275-284. Equations cited as
  FHL (n).
* Batislam, E. P., Denizel, M., & Filiztekin, A. (2007). Empirical validation and comparison of
  models for customer base analysis. *International Journal of Research in Marketing* 24(3), 201-209.

Both models share one implementation: with ``shift = 0`` (BG/NBD) a customer can only drop out right
after a repeat purchase; with ``shift = 1`` (MBG/NBD) also right after the first purchase, so
customers without repeat purchases may be inactive. Every expression below is the BG/NBD one with
``b + x`` replaced by ``b + x + shift`` in the Beta-function terms.

Numerics: the likelihood is evaluated as log-sum-exp of two log terms built from ``betaln`` and
``gammaln`` (no overflow at frequency 200+); the conditional expectation uses the Euler transform of
the Gauss hypergeometric function, which keeps its parameters from growing with the frequency.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special, stats

from crm_models.clv._base import FitData, PurchaseModel


class BetaGeoModel(PurchaseModel):
    """BG/NBD model of repeat purchasing in a non-contractual setting (Fader, Hardie & Lee 2005).

    While active, a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``; after each repeat
    purchase they drop out with probability ``p ~ Beta(a, b)``.

    Fit with ``fit(frequency, recency, T)`` where ``frequency`` is the number of repeat purchases,
    ``recency`` the time of the last repeat purchase and ``T`` the time since the first purchase,
    all in one time unit (the unit of the fitted ``alpha``).

    Parameters
    ----------
    penalizer, tol, max_iter, initial_params
        See :class:`crm_models.clv._base.MLEModel`.

    Examples
    --------
    >>> import numpy as np
    >>> from crm_models.clv import BetaGeoModel
    >>> truth = BetaGeoModel().with_params(r=0.25, alpha=4.0, a=0.8, b=2.5)
    >>> x, tx, T = truth.simulate(20_000, T=39.0, seed=1)
    >>> fitted = BetaGeoModel().fit(x, tx, T)
    >>> bool(abs(fitted.params_["r"] - 0.25) < 0.03)
    True
    """

    _param_names = ("r", "alpha", "a", "b")
    _shift = 0
    method_name = "BG/NBD"
    _dropout_param = "a"
    method_reference = "Fader, Hardie & Lee 2005"
    _description = ("Purchases follow the {name} model ({reference}): while active, a customer buys at their own "
                    "steady rate, and after each repeat purchase may drop out.")

    # ---- likelihood: FHL (6), on the log scale ---------------------------------------------------
    def _loglik(self, log_params: np.ndarray, data: FitData, need_grad: bool):
        r, alpha, a, b = np.exp(log_params)
        d = self._shift
        ux, inv = data.distinct("x")
        xt, yt, kt, it = data.pairs("T")  # distinct (x, T): x, T, x-index, row -> pair
        xs, ys, ks, is_ = data.pairs("tx")  # distinct (x, t_x)
        # terms in x only, on the distinct frequencies
        has_u = (ux > 0) if d == 0 else np.ones_like(ux, dtype=bool)
        base = special.betaln(a, b)
        bx_u = np.where(has_u, b + ux + d - 1, 1.0)
        c1_u = special.betaln(a, b + ux + d) - base
        c2_u = np.where(has_u, special.betaln(a + 1, bx_u) - base, -np.inf)
        g_u = special.gammaln(r + ux) - special.gammaln(r) + r * np.log(alpha)
        # FHL (6): L = Gamma(r+x) alpha^r / Gamma(r) * [ B(a, b+x)/B(a, b) (alpha+T)^-(r+x)
        #                                              + [x > 0] B(a+1, b+x-1)/B(a, b) (alpha+t_x)^-(r+x) ]
        # the first term depends on (x, T) only, the second on (x, t_x) only: evaluate them on those pairs
        log_at = np.log(alpha + yt)
        log_as = np.log(alpha + ys)
        term_t = c1_u[kt] - (r + xt) * log_at
        term_s = c2_u[ks] - (r + xs) * log_as
        l1 = term_t[it]
        lse = np.logaddexp(l1, term_s[is_])
        ll = g_u[inv] + lse
        if not need_grad:
            return ll, None
        w = data.weights
        share_t = np.exp(l1 - lse) * w
        u_t = np.bincount(it, weights=share_t, minlength=len(yt))
        u_s = np.bincount(is_, weights=w - share_t, minlength=len(ys))
        u_x = data.x_weights()
        psi_ab = special.digamma(a + b)
        psi_abx = special.digamma(a + b + ux + d)
        psi_b = special.digamma(b)
        da1_u = psi_ab - psi_abx
        da2_u = special.digamma(a + 1) - special.digamma(a) + psi_ab - psi_abx
        db1_u = special.digamma(b + ux + d) - psi_abx - psi_b + psi_ab
        db2_u = np.where(has_u, special.digamma(bx_u) - psi_abx - psi_b + psi_ab, 0.0)
        d_r = u_x @ (special.digamma(r + ux) - special.digamma(r) + np.log(alpha)) - u_t @ log_at - u_s @ log_as
        d_alpha = r / alpha * u_x.sum() - u_t @ ((r + xt) / (alpha + yt)) - u_s @ ((r + xs) / (alpha + ys))
        d_a = u_t @ da1_u[kt] + u_s @ da2_u[ks]
        d_b = u_t @ db1_u[kt] + u_s @ db2_u[ks]
        return ll, np.array([d_r * r, d_alpha * alpha, d_a * a, d_b * b])

    def _starting_points(self, data: FitData) -> list[np.ndarray]:
        x, big_t, w = data["x"], data["T"], data.weights
        rate = max(float(w @ x) / max(float(w @ big_t), 1e-12), 1e-8)
        # method-of-moments-ish start: r = 1 with mean rate -> alpha = 1/rate
        return [
            np.log([1.0, 1.0 / rate, 1.0, 1.0]),
            np.log([0.5, 0.5 / rate, 0.5, 2.0]),
            np.log([2.0, 2.0 / rate, 2.0, 5.0]),
        ]

    # ---- predictions -----------------------------------------------------------------------------
    def probability_alive(self, frequency: Any, recency: Any, T: Any):
        """P(active at T | x, t_x, T) = 1 / (1 + [x > 0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x)).

        Fader, Hardie & Lee (2008), "Computing P(alive) using the BG/NBD model" (brucehardie.com/notes/021);
        evaluated as a logistic of the log-odds, so it neither overflows at frequency 200+ nor divides 0 by 0.
        """
        x, tx, big_t = self._prepare(frequency, recency, T)
        r, alpha, a, b = self._p()
        d = self._shift
        has = (x > 0) if d == 0 else np.ones_like(x, dtype=bool)
        denom_b = np.where(has, b + x + d - 1, 1.0)
        log_odds = np.log(a) - np.log(denom_b) + (r + x) * (np.log(alpha + big_t) - np.log(alpha + tx))
        p = np.where(has, special.expit(-log_odds), 1.0)
        return self._output(p, frequency, "probability_alive")

    def expected_purchases_new_customer(self, t: Any):
        """E[X(t)] for a randomly chosen customer over ``t`` time units since the first purchase, FHL (9)."""
        r, alpha, a, b = self._p()
        t = np.asarray(t, dtype=float)
        d = self._shift
        z = t / (alpha + t)
        if abs(a - 1) < 1e-10:  # removable singularity of the closed form at a == 1
            a = 1 + 1e-8
        # E[(1-p)^d / p] = B(a-1, b+d) / B(a, b), continued analytically to a < 1 as in FHL (9)
        lead = (a + b - 1) / (a - 1) if d == 0 else b / (a - 1)
        hyp = special.hyp2f1(r, b + d, a + b + d - 1, z)
        out = lead * (1 - np.exp(r * np.log(alpha / (alpha + t))) * hyp)
        return self._output(out, out, "expected_purchases_new_customer")

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any):
        """E[Y(t) | x, t_x, T]: expected repeat purchases in the next ``t`` time units, FHL (10).

        Uses the Euler transform ``2F1(r+x, b+x; a+b+x-1; z) (1-z)^(r+x) = (1-z)^(a-1)
        2F1(a+b-1-r, a-1; a+b+x-1; z)`` so that nothing overflows at large frequency.
        """
        x, tx, big_t = self._prepare(frequency, recency, T)
        p_alive = np.asarray(self.probability_alive(x, tx, big_t), dtype=float)
        out = np.maximum(self._expected_if_alive(t, x, big_t) * p_alive, 0.0)
        return self._output(out, frequency, "expected_purchases")

    def _expected_if_alive(self, t: Any, x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        """E[Y(t) | alive at T, x, T] (FHL (10) without the P(alive) factor)."""
        t = np.asarray(t, dtype=float)
        r, alpha, a, b = self._p()
        if abs(a - 1) < 1e-10:  # the a -> 1 limit: lead -> inf, bracket -> 0; nudge a before both
            a = 1 + 1e-8
        d = self._shift
        z = t / (alpha + big_t + t)
        one_minus_z = (alpha + big_t) / (alpha + big_t + t)
        hyp = special.hyp2f1(a + b + d - 1 - r, a - 1, a + b + x + d - 1, z)
        bracket = 1 - np.exp((a - 1) * np.log(one_minus_z)) * hyp
        lead = (a + b + x + d - 1) / (a - 1)
        out = np.asarray(lead * bracket, dtype=float)
        bad = ~np.isfinite(out)
        if bad.any():  # scipy's 2F1 fails for huge a, b; the posterior of p is then nearly a point mass
            t_b, x_b, big_t_b, _ = np.broadcast_arrays(t, x, big_t, out)
            out = out.copy()
            out[bad] = self._expected_if_alive_concentrated(t_b[bad], x_b[bad], big_t_b[bad])
        return out

    def _expected_if_alive_concentrated(self, t: np.ndarray, x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        """The same expectation written as FHL's derivation of (10) before integrating over ``p``:
        ``E_p[(1 - ((alpha+T)/(alpha+T+p t))^(r+x)) / p]`` with ``p ~ Beta(a, b+x+shift)`` (the posterior of
        an alive customer; ``lambda ~ Gamma(r+x, alpha+T)`` integrated in closed form), by 24-point
        Gauss-Hermite quadrature on the normal approximation of that Beta. Used only where the closed form
        overflows, i.e. when ``a`` and ``b`` are so large that the Beta is concentrated; elsewhere NaN."""
        r, alpha, a, b = self._p()
        b_post = b + x + self._shift
        mean = a / (a + b_post)
        sd = np.sqrt(mean * (1 - mean) / (a + b_post + 1))
        nodes, weights = np.polynomial.hermite.hermgauss(24)
        p = mean[..., None] + np.sqrt(2.0) * sd[..., None] * nodes
        ok = (mean - 8 * sd > 0) & (mean + 8 * sd < 1)
        p = np.clip(p, 1e-300, 1.0)
        base = (alpha + big_t)[..., None]
        g = -np.expm1((r + x)[..., None] * (np.log(base) - np.log(base + p * t[..., None]))) / p
        return np.where(ok, g @ weights / np.sqrt(np.pi), np.nan)

    def probability_of_n_purchases(self, t: Any, n: Any):
        """P(X(t) = n) for a randomly chosen customer, FHL (8); vectorized over ``t`` and ``n``."""
        r, alpha, a, b = self._p()
        t = np.asarray(t, dtype=float)
        n = np.asarray(n)
        if np.any(n < 0) or np.any(n != np.round(n)):
            raise ValueError("n must be a non-negative integer")
        n = n.astype(float)
        d = self._shift
        p_nb = alpha / (alpha + t)
        base = special.betaln(a, b)
        term1 = np.exp(special.betaln(a, b + n + d) - base) * stats.nbinom.pmf(n, r, p_nb)
        has = (n > 0) if d == 0 else np.ones_like(n, dtype=bool)
        bx = np.where(has, b + n + d - 1, 1.0)
        term2 = np.where(
            has, np.exp(special.betaln(a + 1, bx) - base) * stats.nbinom.sf(n - 1, r, p_nb), 0.0
        )
        out = term1 + term2
        return out if np.ndim(out) else float(out)

    # ---- simulation (tests, demos, parametric bootstrap) -----------------------------------------
    def simulate(
        self, n_customers: int, T: Any, seed: int | np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Simulate ``(frequency, recency, T)`` for ``n_customers`` observed for ``T`` time units each."""
        r, alpha, a, b = self._p()
        rng = np.random.default_rng(seed)
        big_t = np.broadcast_to(np.asarray(T, dtype=float), (n_customers,)).copy()
        lam = rng.gamma(r, 1 / alpha, n_customers)
        p = rng.beta(a, b, n_customers)
        x = np.zeros(n_customers)
        tx = np.zeros(n_customers)
        clock = np.zeros(n_customers)
        alive = np.ones(n_customers, dtype=bool)
        if self._shift:
            alive &= rng.random(n_customers) >= p
        idx = np.flatnonzero(alive)
        while idx.size:
            clock[idx] += rng.exponential(1.0, idx.size) / lam[idx]
            ok = clock[idx] <= big_t[idx]
            idx = idx[ok]
            x[idx] += 1
            tx[idx] = clock[idx]
            idx = idx[rng.random(idx.size) >= p[idx]]
        return x, tx, big_t


class ModifiedBetaGeoModel(BetaGeoModel):
    """MBG/NBD (Batislam, Denizel & Filiztekin 2007): BG/NBD where a customer may also drop out right
    after the first purchase, so customers with no repeat purchase can be inactive.

    Likelihood (Batislam et al. 2007, Appendix A): ``L = B(a, b+x+1)/B(a,b) Gamma(r+x) alpha^r /
    (Gamma(r) (alpha+T)^(r+x)) + B(a+1, b+x)/B(a,b) Gamma(r+x) alpha^r / (Gamma(r) (alpha+t_x)^(r+x))``.
    P(alive) = ``1 / (1 + a/(b+x) ((alpha+T)/(alpha+t_x))^(r+x))``; the expectations follow from
    FHL (9)-(10) with a posterior ``Beta(a, b+x+1)`` for the dropout probability.
    """

    _shift = 1
    method_name = "MBG/NBD"
    method_reference = "Batislam, Denizel & Filiztekin 2007"
    _description = ("Purchases follow the {name} model ({reference}): while active, a customer buys at their own "
                    "steady rate, and after the first or any later purchase may drop out.")


#: short alias
MBGModel = ModifiedBetaGeoModel
