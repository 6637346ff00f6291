"""Always-valid sequential test: the mixture sequential probability ratio test (mSPRT).

Johari, R., Koomen, P., Pekelis, L. & Walsh, D. (2017). Peeking at A/B tests: why it matters, and what to do
about it. *KDD 2017*; and Johari, Pekelis & Walsh (2022), Always valid inference, *Operations Research* 70.

For an effect estimate ``d`` with variance ``V`` (difference of arm means) and a normal mixing distribution
``N(theta0, tau^2)`` over the alternative, the mixture likelihood ratio against ``H0: effect = theta0`` is::

    Lambda = sqrt(V / (V + tau^2)) * exp(tau^2 (d - theta0)^2 / (2 V (V + tau^2)))

(for ``n`` matched pairs with pair variance ``sigma^2``, ``V = sigma^2 / n`` and this is the paper's formula).
``Lambda`` is a test martingale under the null (non-negative, expectation 1), so by Ville's inequality the running
minimum ``p_n = min(p_{n-1}, 1/Lambda_n)`` is a p-value that stays valid however often one looks and whenever one
stops. Inverting the test gives a
confidence sequence: the running intersection of ``|d - theta0| < r_n`` intervals.

The variance ``V`` is plugged in from the data seen so far (as in the paper's implementation); a burn-in of
``min_units`` per arm keeps early variance estimates from producing spurious rejections.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SequentialResult", "msprt"]


@dataclass(frozen=True)
class SequentialResult:
    """Always-valid p-values and confidence sequence at each look."""

    looks: pd.DataFrame
    alpha: float
    tau: float

    @property
    def p_value(self) -> float:
        """Always-valid p-value at the last look."""
        return float(self.looks["p_value"].iloc[-1]) if len(self.looks) else float("nan")

    @property
    def stopping_look(self) -> int | None:
        """Index of the first look at which the test rejects at ``alpha`` (None if it never does)."""
        hit = np.flatnonzero(self.looks["p_value"].to_numpy() <= self.alpha)
        return int(hit[0]) if hit.size else None

    @property
    def stopped_at_units(self) -> int | None:
        """Units (both arms) enrolled when the test could first have stopped."""
        k = self.stopping_look
        return None if k is None else int(self.looks["n"].iloc[k])

    @property
    def stopped_at_fraction(self) -> float | None:
        """Share of the final sample at which the test could first have stopped."""
        k = self.stopping_look
        return None if k is None else float(self.looks["n"].iloc[k] / self.looks["n"].iloc[-1])


def _lambda(d: np.ndarray, v: np.ndarray, tau2: float, theta0: float = 0.0) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_l = 0.5 * np.log(v / (v + tau2)) + tau2 * (d - theta0) ** 2 / (2 * v * (v + tau2))
    return log_l


def msprt(
    y: np.ndarray,
    treated: np.ndarray,
    *,
    alpha: float = 0.05,
    tau: float | None = None,
    n_looks: int = 100,
    min_units: int = 100,
    theta0: float = 0.0,
    timestamps: np.ndarray | None = None,
) -> SequentialResult:
    """Replay an experiment in arrival order and compute the mSPRT at ``n_looks`` evenly spaced looks.

    Parameters
    ----------
    y
        Outcome per unit, **in arrival order** (sort by enrolment time first).
    treated
        Boolean per unit: True for the treatment arm, False for control.
    tau
        Standard deviation of the mixing distribution, in outcome units: the size of effect the test is
        tuned to. Default: one tenth of the outcome's standard deviation in the burn-in units (the first units
        until both arms have ``min_units``), so the default never looks at data after the first decision point.
    n_looks
        Evenly spaced looks (by units enrolled). Looking more often never hurts validity.
    min_units
        Burn-in: no decision before both arms have this many units.
    timestamps
        Optional enrolment times (same order as ``y``), reported in the ``looks`` table.
    """
    y = np.asarray(y, dtype=float)
    t = np.asarray(treated, dtype=bool)
    n = y.size
    if tau is None:
        burn_in = _burn_in_length(t, min_units)
        sd = float(np.std(y[:burn_in]))
        tau = 0.1 * sd if sd > 0 else 1.0
    tau2 = float(tau) ** 2
    looks = np.unique(np.linspace(0, n, n_looks + 1)[1:].round().astype(int))
    looks = looks[looks > 0]
    idx = looks - 1
    c1, c0 = np.cumsum(t), np.cumsum(~t)
    s1, s0 = np.cumsum(np.where(t, y, 0.0)), np.cumsum(np.where(t, 0.0, y))
    q1, q0 = np.cumsum(np.where(t, y * y, 0.0)), np.cumsum(np.where(t, 0.0, y * y))
    n1, n0 = c1[idx].astype(float), c0[idx].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        m1, m0 = s1[idx] / n1, s0[idx] / n0
        v1 = (q1[idx] - n1 * m1**2) / (n1 - 1)
        v0 = (q0[idx] - n0 * m0**2) / (n0 - 1)
        var = v1 / n1 + v0 / n0
    d = m1 - m0
    ready = (n1 >= min_units) & (n0 >= min_units) & (var > 0)
    log_lam = np.where(ready, _lambda(d, var, tau2, theta0), -np.inf)
    p_inst = np.minimum(1.0, np.exp(-log_lam))
    p = np.minimum.accumulate(p_inst)
    # confidence sequence: |d - theta| < r, intersected over looks
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.sqrt(2 * var * (var + tau2) / tau2 * (np.log(1 / alpha) + 0.5 * np.log((var + tau2) / var)))
    low = np.where(ready, d - r, -np.inf)
    high = np.where(ready, d + r, np.inf)
    low, high = np.maximum.accumulate(low), np.minimum.accumulate(high)
    frame = pd.DataFrame(
        {
            "n": looks,
            "n_control": n0.astype(int),
            "n_treatment": n1.astype(int),
            "estimate": d,
            "std_error": np.sqrt(var),
            "p_value": p,
            "ci_low": low,
            "ci_high": high,
        }
    )
    if timestamps is not None:
        frame.insert(1, "timestamp", np.asarray(timestamps)[idx])
    return SequentialResult(frame, alpha, float(tau))


def _burn_in_length(treated: np.ndarray, min_units: int) -> int:
    """Units enrolled until both arms have ``min_units`` (all units when that never happens)."""
    both = np.minimum(np.cumsum(treated), np.cumsum(~treated))
    reached = np.flatnonzero(both >= min_units)
    return int(reached[0]) + 1 if reached.size else treated.size
