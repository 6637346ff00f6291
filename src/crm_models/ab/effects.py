"""Effect estimates with intervals: proportions (Newcombe, z), means (Welch), relative lift (delta method), CUPED.

All functions take plain arrays of one arm each and return a small dataclass; they never look at a DataFrame.

References
----------
* Newcombe, R. G. (1998). Interval estimation for the difference between independent proportions: comparison
  of eleven methods. *Statistics in Medicine* 17, 873-890 (method 10, the hybrid Wilson score interval).
  Its p-value here is the interval inverted: the smallest level ``alpha`` whose ``1 - alpha`` interval excludes
  zero (the test-interval duality; e.g. Agresti, A. (2013), *Categorical Data Analysis*, 3rd ed., sec. 1.4.3), so
  ``p < alpha`` exactly when the interval excludes 0.
* Welch, B. L. (1947). The generalization of "Student's" problem when several different population variances
  are involved. *Biometrika* 34, 28-35.
* Deng, A., Knoblich, U. & Lu, J. (2018). Applying the delta method in metric analytics. *KDD 2018*.
* Deng, A., Xu, Y., Kohavi, R. & Walker, T. (2013). Improving the sensitivity of online controlled experiments
  by utilizing pre-experiment data (CUPED). *WSDM 2013*.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

__all__ = [
    "Effect",
    "cuped_adjust",
    "mean_effect",
    "newcombe_p_value",
    "proportion_effect",
    "relative_effect",
    "wilson_interval",
]


@dataclass(frozen=True)
class Effect:
    """An absolute difference (treatment minus control) with its interval and test."""

    mean_control: float
    mean_treatment: float
    n_control: int
    n_treatment: int
    estimate: float
    std_error: float
    ci_low: float
    ci_high: float
    p_value: float
    method: str


def _z(alpha: float) -> float:
    return float(stats.norm.ppf(1.0 - alpha / 2.0))


def wilson_interval(successes: float, n: float, alpha: float = 0.05) -> tuple[float, float]:
    """Wilson score interval for one proportion (Wilson 1927)."""
    return _wilson_z(successes, n, _z(alpha))


def _wilson_z(successes: float, n: float, z: float) -> tuple[float, float]:
    """Wilson score interval with normal quantile ``z``."""
    if n <= 0:
        return (np.nan, np.nan)
    p = successes / n
    denom = 1.0 + z**2 / n
    centre = (p + z**2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def _newcombe_bounds(x0: float, n0: float, x1: float, n1: float, z: float) -> tuple[float, float]:
    """Newcombe's hybrid score interval for ``p1 - p0`` with normal quantile ``z`` (Newcombe 1998, method 10)."""
    p0, p1 = x0 / n0, x1 / n1
    l0, u0 = _wilson_z(x0, n0, z)
    l1, u1 = _wilson_z(x1, n1, z)
    diff = p1 - p0
    return diff - np.sqrt((p1 - l1) ** 2 + (u0 - p0) ** 2), diff + np.sqrt((u1 - p1) ** 2 + (p0 - l0) ** 2)


def newcombe_p_value(x0: float, n0: float, x1: float, n1: float) -> float:
    """Two-sided p-value of ``p1 = p0`` that agrees with Newcombe's interval: the smallest ``alpha`` at which
    the ``1 - alpha`` interval excludes 0 (test-interval duality).

    Wilson intervals are nested in the level, so the interval's bound nearest 0 moves monotonically towards
    0 as the quantile ``z`` grows; the p-value is ``2 (1 - Phi(z*))`` where that bound reaches 0.
    """
    diff = x1 / n1 - x0 / n0
    if diff == 0:
        return 1.0
    side = 0 if diff > 0 else 1  # the bound that can cross 0

    def bound(z: float) -> float:
        return float(_newcombe_bounds(x0, n0, x1, n1, z)[side])

    hi = 40.0
    if np.sign(bound(hi)) == np.sign(diff):  # excludes 0 even at z = 40: p below 1e-300
        return 0.0
    z_star = optimize.brentq(bound, 0.0, hi, xtol=1e-13, rtol=1e-15)
    return float(2 * stats.norm.sf(z_star))


def proportion_effect(
    control: np.ndarray, treatment: np.ndarray, alpha: float = 0.05, interval: str = "newcombe"
) -> Effect:
    """Difference of two proportions ``p_t - p_c``.

    The interval is Newcombe's hybrid score interval (``interval="newcombe"``, default; good coverage
    near 0 and 1 and for small samples) or the Wald z interval (``interval="z"``). The p-value is the one
    that matches the interval: for Newcombe, the interval inverted (:func:`newcombe_p_value`); for
    ``"z"``, the unpooled Wald z test. So ``p_value < alpha`` exactly when the interval excludes 0.
    """
    x0, n0 = float(np.sum(control)), int(np.size(control))
    x1, n1 = float(np.sum(treatment)), int(np.size(treatment))
    p0, p1 = x0 / n0, x1 / n1
    diff = p1 - p0
    se = float(np.sqrt(p0 * (1 - p0) / n0 + p1 * (1 - p1) / n1))
    z = _z(alpha)
    if interval == "newcombe":
        low, high = _newcombe_bounds(x0, n0, x1, n1, z)
    elif interval == "z":
        low, high = diff - z * se, diff + z * se
    else:
        raise ValueError(f"interval must be 'newcombe' or 'z', got {interval!r}")
    if interval == "newcombe":
        p_value = newcombe_p_value(x0, n0, x1, n1)
    else:
        p_value = float(2 * stats.norm.sf(abs(diff) / se)) if se > 0 else (1.0 if diff == 0 else 0.0)
    return Effect(p0, p1, n0, n1, diff, se, float(low), float(high), p_value, interval)


def _welch(m0: float, v0: float, n0: int, m1: float, v1: float, n1: int, alpha: float, method: str) -> Effect:
    """Welch's unequal-variance t interval and test from summary statistics (variances with ddof=1)."""
    a, b = v0 / n0, v1 / n1
    se = float(np.sqrt(a + b))
    diff = m1 - m0
    if se == 0:
        p = 1.0 if diff == 0 else 0.0
        return Effect(m0, m1, n0, n1, diff, 0.0, diff, diff, p, method)
    df = (a + b) ** 2 / (a**2 / max(n0 - 1, 1) + b**2 / max(n1 - 1, 1))
    t = float(stats.t.ppf(1 - alpha / 2, df))
    p = float(2 * stats.t.sf(abs(diff) / se, df))
    return Effect(m0, m1, n0, n1, diff, se, diff - t * se, diff + t * se, p, method)


def mean_effect(control: np.ndarray, treatment: np.ndarray, alpha: float = 0.05) -> Effect:
    """Difference of two means ``mean_t - mean_c`` with Welch's t interval and test."""
    c = np.asarray(control, dtype=float)
    t = np.asarray(treatment, dtype=float)
    return _welch(
        float(c.mean()), float(c.var(ddof=1)), c.size, float(t.mean()), float(t.var(ddof=1)), t.size, alpha, "welch"
    )


def relative_effect(effect: Effect, alpha: float = 0.05, var_control: float | None = None,
                    var_treatment: float | None = None) -> tuple[float, float, float, float]:
    """Relative lift ``mean_t / mean_c - 1`` with a delta-method interval (Deng et al. 2018).

    ``Var(m_t/m_c) ~= Var(m_t)/m_c^2 + m_t^2 Var(m_c)/m_c^4`` for independent arms, where
    ``var_control``/``var_treatment`` are the variances *of the arm means* (``s^2 / n``).

    Returns ``(estimate, std_error, ci_low, ci_high)``; NaN when the control mean is zero or a variance is
    missing.
    """
    m0, m1 = effect.mean_control, effect.mean_treatment
    if m0 == 0 or var_control is None or var_treatment is None:
        return (np.nan, np.nan, np.nan, np.nan)
    ratio = m1 / m0
    se = float(np.sqrt(var_treatment / m0**2 + m1**2 * var_control / m0**4))
    z = _z(alpha)
    return (ratio - 1.0, se, ratio - 1.0 - z * se, ratio - 1.0 + z * se)


@dataclass(frozen=True)
class CupedResult:
    """Outcome adjusted by pre-period covariates: ``y - (x - mean(x)) @ theta``."""

    adjusted: np.ndarray
    theta: np.ndarray
    variance_removed: float


def cuped_adjust(y: np.ndarray, x: np.ndarray) -> CupedResult:
    """CUPED adjustment of ``y`` by covariates ``x`` (Deng, Xu, Kohavi & Walker 2013).

    ``theta`` is the least-squares slope of ``y`` on the centred covariates, estimated on the pooled units
    of all arms being compared (valid because the covariates are measured before assignment, so they are
    independent of the treatment). The adjusted outcome keeps the mean of ``y`` in each arm in
    expectation and has variance ``(1 - R^2) Var(y)``; ``variance_removed`` is that ``R^2``.
    """
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    if x.ndim == 1:
        x = x[:, None]
    xc = x - x.mean(axis=0)
    theta, *_ = np.linalg.lstsq(xc, y - y.mean(), rcond=None)
    adjusted = y - xc @ theta
    vy = y.var()
    removed = float(1.0 - adjusted.var() / vy) if vy > 0 else 0.0
    return CupedResult(adjusted, theta, removed)
