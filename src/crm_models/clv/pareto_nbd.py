"""Pareto/NBD model (Schmittlein, Morrison & Colombo 1987).

References
----------
* Schmittlein, D. C., Morrison, D. G., & Colombo, R. (1987). Counting your customers: who are they
  and what will they do next? *Management Science* 33(1), 1-24.
* Fader, P. S., & Hardie, B. G. S. (2005). A note on deriving the Pareto/NBD model and related
  expressions. http://brucehardie.com/notes/009/ -- equations cited as FH05 (n).
* Fader, P. S., Hardie, B. G. S., & Lee, K. L. (2005), *Marketing Science* 24(2) (Pareto/NBD
  estimates on CDNOW used in the tests).

Likelihood, hypergeometric route in log space
---------------------------------------------
FH05 (18)-(20) write the likelihood as ``Gamma(r+x) alpha^r beta^s / Gamma(r) * [ (alpha+T)^-(r+x)
(beta+T)^-s + s/(r+s+x) * (H(t_x) - H(T)) ]`` with ``H(y) = 2F1(r+s+x, s+1; r+s+x+1; z_y) /
(alpha+y)^(r+s+x)`` and ``z_y = (alpha-beta)/(alpha+y)`` (FH05 uses the mirrored form when alpha <
beta; the integral representation shows that the one above holds for any ``z_y < 1``). The Euler
transform ``2F1(a, b; c; z) = (1-z)^(c-a-b) 2F1(c-a, c-b; c; z)`` gives

    H(y) = (alpha+y)^-(r+x) (beta+y)^-s F(y),   F(y) = 2F1(1, r+x; r+s+x+1; z_y),

where ``F`` lies in ``[0, (r+s+x)/s]``: it never overflows, whatever the frequency. The bracket is
then ``exp(L_T) (1 - q F(T)) + q exp(L_tx) F(t_x)`` with ``L_y = -(r+x) log(alpha+y) - s
log(beta+y)`` and ``q = s/(r+s+x)``: two non-negative terms combined by log-sum-exp. ``F`` is
evaluated only on the distinct ``(x, y)`` pairs. The gradient is analytic except for the partial
derivatives of ``log F`` in its three arguments, taken by central differences on those pairs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import special

from crm_models.clv._base import FitData, PurchaseModel, expm1_ratio


def _hyp2f1_a(a: float, b: np.ndarray, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``2F1(a, b; c; z)`` for ``z < 1``; for ``z < 0`` through Pfaff's transformation
    ``2F1(a, b; c; z) = (1 - z)^-a 2F1(a, c - b; c; z / (z - 1))`` (Abramowitz & Stegun 15.3.4), whose argument
    lies in [0, 1): scipy's series for very negative ``z`` (``beta >> alpha``) can return NaN or inf."""
    b, c, z = np.broadcast_arrays(np.asarray(b, float), np.asarray(c, float), np.asarray(z, float))
    neg = z < 0
    out = np.empty_like(z)
    with np.errstate(all="ignore"):
        out[~neg] = special.hyp2f1(a, b[~neg], c[~neg], z[~neg])
        zn = z[neg]
        out[neg] = (1 - zn) ** -a * special.hyp2f1(a, c[neg] - b[neg], c[neg], zn / (zn - 1))
    return out


def _log_f(b: np.ndarray, c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``log 2F1(1, b; c; z)`` for ``z < 1`` and ``c - b > 0`` (the Pareto/NBD case)."""
    with np.errstate(all="ignore"):
        return np.log(_hyp2f1_a(1.0, b, c, z))


def _log_f_with_grad(b: np.ndarray, c: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, ...]:
    """``log F`` and its partial derivatives: along ``(b, c)`` together (the ``r`` direction), in
    ``c`` (the ``s`` direction), both by central differences, and in ``z`` analytically,
    ``d/dz 2F1(1, b; c; z) = (b/c) 2F1(2, b+1; c+1; z)``."""
    f0 = _log_f(b, c, z)
    h = 1e-6 * np.maximum(1.0, c)
    f_r = (_log_f(b + h, c + h, z) - _log_f(b - h, c - h, z)) / (2 * h)
    f_c = (_log_f(b, c + h, z) - _log_f(b, c - h, z)) / (2 * h)
    with np.errstate(all="ignore"):
        f_z = b / c * _hyp2f1_a(2.0, b + 1, c + 1, z) / np.exp(f0)
    return f0, f_r - f_c, f_c, f_z


class ParetoNBDModel(PurchaseModel):
    """Pareto/NBD model of repeat purchasing (Schmittlein, Morrison & Colombo 1987).

    While active a customer buys at Poisson rate ``lambda ~ Gamma(r, alpha)``; their unobserved
    lifetime is exponential with rate ``mu ~ Gamma(s, beta)``.

    Examples
    --------
    >>> from crm_models.clv import ParetoNBDModel
    >>> truth = ParetoNBDModel().with_params(r=0.55, alpha=10.0, s=0.6, beta=12.0)
    >>> x, tx, T = truth.simulate(20_000, T=39.0, seed=3)
    >>> fitted = ParetoNBDModel().fit(x, tx, T)
    >>> bool(abs(fitted.params_["r"] - 0.55) < 0.1)
    True
    """

    _param_names = ("r", "alpha", "s", "beta")
    method_name = "Pareto/NBD"
    _dropout_param = "s"
    method_reference = "Schmittlein, Morrison & Colombo 1987"
    _description = ("Purchases follow the {name} model ({reference}): while active, a customer buys at their own "
                    "steady rate, and may drop out at any moment, at their own rate.")

    def _loglik(self, log_params: np.ndarray, data: FitData, need_grad: bool):
        r, alpha, s, beta = np.exp(log_params)
        ux, inv = data.distinct("x")
        terms = {}
        for name in ("T", "tx"):
            px, py, _, _ = data.pairs(name)
            b = r + px
            c = r + s + px + 1
            z = (alpha - beta) / (alpha + py)
            log_q = np.log(s) - np.log(r + s + px)
            la, lb = np.log(alpha + py), np.log(beta + py)
            l_y = -(r + px) * la - s * lb  # log[(alpha+y)^-(r+x) (beta+y)^-s]
            if need_grad:
                log_f, f_b, f_c, f_z = _log_f_with_grad(b, c, z)
            else:
                log_f = _log_f(b, c, z)
            if name == "T":
                # alive at T: exp(L_T) (1 - q F(T)); 1 - q F >= 0 analytically, clip round-off
                one_minus = np.maximum(-np.expm1(log_q + log_f), 0.0)
                with np.errstate(divide="ignore"):
                    value = l_y + np.log(one_minus)
            else:
                # dropped out in (t_x, T]: the t_x end of the integral, q exp(L_tx) F(t_x)
                value = log_q + l_y + log_f
            terms[name] = value
            if need_grad:
                rsx = r + s + px
                dq_r, dq_s = -1.0 / rsx, 1.0 / s - 1.0 / rsx
                dz_a, dz_b = (beta + py) / (alpha + py) ** 2, -1.0 / (alpha + py)
                # derivatives of log q + log F in r, alpha, s, beta
                h = np.stack([dq_r + f_b + f_c, f_z * dz_a, dq_s + f_c, f_z * dz_b])
                dl = np.stack([-la, -(r + px) / (alpha + py), -lb, -s / (beta + py)])
                if name == "T":
                    with np.errstate(divide="ignore", invalid="ignore"):
                        ratio = np.where(one_minus > 0, np.exp(log_q + log_f) / one_minus, 0.0)
                    terms["dT"] = dl - ratio * h
                else:
                    terms["dtx"] = dl + h
        _, _, _, it = data.pairs("T")
        _, _, _, is_ = data.pairs("tx")
        e1 = terms["T"][it]
        lse = np.logaddexp(e1, terms["tx"][is_])
        # FH05 (18): log L = log Gamma(r+x) - log Gamma(r) + r log alpha + s log beta + log[bracket]
        ll = (special.gammaln(r + ux) - special.gammaln(r))[inv] + r * np.log(alpha) + s * np.log(beta) + lse
        if not need_grad:
            return ll, None
        w = data.weights
        share_t = np.exp(e1 - lse) * w
        u_t = np.bincount(it, weights=share_t, minlength=terms["T"].size)
        u_s = np.bincount(is_, weights=w - share_t, minlength=terms["tx"].size)
        u_x = data.x_weights()
        total_w = u_x.sum()
        grad = terms["dT"] @ u_t + terms["dtx"] @ u_s
        grad[0] += u_x @ (special.digamma(r + ux) - special.digamma(r)) + np.log(alpha) * total_w
        grad[1] += r / alpha * total_w
        grad[2] += np.log(beta) * total_w
        grad[3] += s / beta * total_w
        return ll, grad * np.array([r, alpha, s, beta])

    def _starting_points(self, data: FitData) -> list[np.ndarray]:
        x, big_t, w = data["x"], data["T"], data.weights
        rate = max(float(w @ x) / max(float(w @ big_t), 1e-12), 1e-8)
        mean_t = float(w @ big_t) / float(w.sum())
        return [
            np.log([1.0, 1.0 / rate, 1.0, mean_t]),
            np.log([0.5, 0.5 / rate, 0.5, mean_t]),
            np.log([2.0, 2.0 / rate, 2.0, 3 * mean_t]),
        ]

    # ---- predictions -----------------------------------------------------------------------------
    def _log_bracket(self, x, tx, big_t):
        r, alpha, s, beta = self._p()
        data = FitData({"x": x, "tx": tx, "T": big_t}, np.ones_like(x), float(len(x)))
        ll, _ = self._loglik(np.log([r, alpha, s, beta]), data, False)
        prefactor = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha) + s * np.log(beta)
        return ll - prefactor

    def probability_alive(self, frequency: Any, recency: Any, T: Any):
        """P(active at T | x, t_x, T) (FH05, section on P(alive)): the "alive at T" share of the likelihood bracket."""
        x, tx, big_t = self._prepare(frequency, recency, T)
        r, alpha, s, beta = self._p()
        l_t = -(r + x) * np.log(alpha + big_t) - s * np.log(beta + big_t)
        p = np.clip(np.exp(l_t - self._log_bracket(x, tx, big_t)), 0.0, 1.0)
        return self._output(p, frequency, "probability_alive")

    def expected_purchases_new_customer(self, t: Any):
        """E[X(t)] for a randomly chosen customer, FH05 (27): ``r beta/(alpha (s-1)) [1 - (beta/(beta+t))^(s-1)]``."""
        r, alpha, s, beta = self._p()
        t = np.asarray(t, dtype=float)
        out = r * beta / alpha * expm1_ratio(s - 1, np.log1p(t / beta))
        return self._output(out, out, "expected_purchases_new_customer")

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any):
        """E[Y(t) | x, t_x, T], FH05 (41): ``(r+x)(beta+T)/((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)] P(alive)``."""
        x, tx, big_t = self._prepare(frequency, recency, T)
        p_alive = np.asarray(self.probability_alive(x, tx, big_t), dtype=float)
        return self._output(np.maximum(self._expected_if_alive(t, x, big_t) * p_alive, 0.0), frequency,
                         "expected_purchases")

    def _expected_if_alive(self, t: Any, x: np.ndarray, big_t: np.ndarray) -> np.ndarray:
        """E[Y(t) | alive at T, x, T] (FH05 (41) without the P(alive) factor)."""
        t = np.asarray(t, dtype=float)
        r, alpha, s, beta = self._p()
        return (r + x) * (beta + big_t) / (alpha + big_t) * expm1_ratio(s - 1, np.log1p(t / (beta + big_t)))

    def probability_of_n_purchases(self, t: Any, n: Any, n_nodes: int = 64):
        """P(X(t) = n) for a randomly chosen customer.

        Computed from its definition (Fader & Hardie 2006, note 012, eq. 5 before integration):
        ``P(X(t)=n | lambda, mu) = e^{-mu t} Pois(n; lambda t) + mu lambda^n / (lambda+mu)^(n+1)
        P(Gamma(n+1, 1) <= (lambda+mu) t)``, integrated over the two gamma mixing distributions by
        generalized Gauss-Laguerre quadrature (``n_nodes`` per dimension; smooth integrand).
        """
        r, alpha, s, beta = self._p()
        t_arr, n_arr = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(n))
        if np.any(n_arr < 0) or np.any(n_arr != np.round(n_arr)):
            raise ValueError("n must be a non-negative integer")
        u, wu = special.roots_genlaguerre(n_nodes, r - 1)
        v, wv = special.roots_genlaguerre(n_nodes, s - 1)
        wu = wu * np.exp(-special.gammaln(r))  # 1/Gamma(r) without overflow for large shapes
        wv = wv * np.exp(-special.gammaln(s))
        lam = (u / alpha)[:, None]
        mu = (v / beta)[None, :]
        weights = wu[:, None] * wv[None, :]
        out = np.empty(t_arr.shape, dtype=float)
        for i, (ti, ni) in enumerate(zip(t_arr.ravel(), n_arr.ravel().astype(float), strict=True)):
            alive = np.exp(-mu * ti + ni * np.log(np.maximum(lam * ti, 1e-300)) - lam * ti - special.gammaln(ni + 1))
            if ti == 0:
                alive = np.where(ni == 0, np.ones_like(lam * mu), 0.0)
            dead = np.exp(np.log(mu) + ni * np.log(lam) - (ni + 1) * np.log(lam + mu)) * special.gammainc(
                ni + 1, (lam + mu) * ti
            )
            out.ravel()[i] = float(np.sum(weights * (alive + dead)))
        return self._output(out, out, "probability_of_n_purchases")

    def simulate(
        self, n_customers: int, T: Any, seed: int | np.random.Generator | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Simulate ``(frequency, recency, T)`` for ``n_customers`` observed for ``T`` time units each."""
        r, alpha, s, beta = self._p()
        rng = np.random.default_rng(seed)
        big_t = np.broadcast_to(np.asarray(T, dtype=float), (n_customers,)).copy()
        lam = rng.gamma(r, 1 / alpha, n_customers)
        mu = rng.gamma(s, 1 / beta, n_customers)
        life = np.minimum(rng.exponential(1.0, n_customers) / mu, big_t)
        # purchases in (0, life]: Poisson count, times uniform; recency is the largest time
        x = rng.poisson(lam * life).astype(float)
        tx = np.where(x > 0, life * rng.beta(np.maximum(x, 1), 1.0), 0.0)
        return x, tx, big_t
