"""Sample size and minimum detectable effect for a two-arm comparison (normal approximation).

For a difference ``delta`` between a treatment and a control arm of sizes ``r n`` and ``n``, a two-sided level-
``alpha`` test has power ``1 - beta`` when ``delta = (z_{1-alpha/2} + z_{1-beta}) sqrt(s0^2/n + s1^2/(r n))``,
with ``s^2 = p(1-p)`` for a proportion and the outcome variance for a mean (unpooled form). With several
treatment arms, pass ``comparisons`` to spend ``alpha / comparisons`` per comparison (Bonferroni, conservative
for Holm).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, stats

__all__ = ["minimum_detectable_effect", "sample_size"]


def _check(alpha: float, power: float, ratio: float, comparisons: int) -> None:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must be in (0, 1), got {alpha}")
    if not 0 < power < 1:
        raise ValueError(f"power must be in (0, 1), got {power}")
    if ratio <= 0:
        raise ValueError(f"ratio (treatment size / control size) must be positive, got {ratio}")
    if comparisons < 1:
        raise ValueError("comparisons must be >= 1")


def _zsum(alpha: float, power: float, comparisons: int) -> float:
    return float(stats.norm.ppf(1 - alpha / (2 * comparisons)) + stats.norm.ppf(power))


def sample_size(
    baseline: float,
    mde: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    kind: str = "proportion",
    sd: float | None = None,
    relative: bool = False,
    ratio: float = 1.0,
    comparisons: int = 1,
) -> int:
    """Units needed in the **control** arm (each treatment arm needs ``ratio`` times as many).

    Parameters
    ----------
    baseline
        Control conversion rate (``kind="proportion"``) or control mean (``kind="mean"``).
    mde
        Smallest effect worth detecting: absolute (``0.01`` = one percentage point) or, with
        ``relative=True``, a share of the baseline (``0.05`` = +5 %).
    sd
        Standard deviation of the outcome, required for ``kind="mean"``.

    Examples
    --------
    >>> sample_size(0.10, 0.01)   # 10 % -> 11 %, 80 % power, 5 % two-sided
    14749
    """
    _check(alpha, power, ratio, comparisons)
    delta = mde * baseline if relative else mde
    if delta == 0:
        raise ValueError("mde must be non-zero")
    if kind == "proportion":
        p0, p1 = baseline, baseline + delta
        if not (0 < p0 < 1 and 0 < p1 < 1):
            raise ValueError(f"baseline and baseline + mde must lie in (0, 1), got {p0} and {p1}")
        var = p0 * (1 - p0) + p1 * (1 - p1) / ratio
    elif kind == "mean":
        if sd is None or sd <= 0:
            raise ValueError("kind='mean' needs the outcome's standard deviation sd > 0")
        var = sd**2 * (1 + 1 / ratio)
    else:
        raise ValueError(f"kind must be 'proportion' or 'mean', got {kind!r}")
    return math.ceil(_zsum(alpha, power, comparisons) ** 2 * var / delta**2)


def minimum_detectable_effect(
    n_control: int,
    baseline: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    kind: str = "proportion",
    sd: float | None = None,
    relative: bool = False,
    ratio: float = 1.0,
    comparisons: int = 1,
) -> float:
    """Smallest (positive) effect detectable with ``n_control`` control units and ``ratio * n_control`` treated.

    The inverse of :func:`sample_size`: absolute by default, a share of ``baseline`` with ``relative=True``.

    Examples
    --------
    >>> round(minimum_detectable_effect(14749, 0.10), 4)
    0.01
    """
    _check(alpha, power, ratio, comparisons)
    if n_control <= 0:
        raise ValueError("n_control must be positive")
    z = _zsum(alpha, power, comparisons)
    n1 = ratio * n_control
    if kind == "mean":
        if sd is None or sd <= 0:
            raise ValueError("kind='mean' needs the outcome's standard deviation sd > 0")
        delta = z * sd * np.sqrt(1 / n_control + 1 / n1)
    elif kind == "proportion":
        p0 = baseline
        if not 0 < p0 < 1:
            raise ValueError("baseline must lie in (0, 1)")

        def gap(d: float) -> float:
            p1 = p0 + d
            return d - z * np.sqrt(p0 * (1 - p0) / n_control + p1 * (1 - p1) / n1)

        upper = 1 - p0 - 1e-12
        if gap(upper) < 0:
            return float("nan")
        delta = optimize.brentq(gap, 1e-12, upper)
    else:
        raise ValueError(f"kind must be 'proportion' or 'mean', got {kind!r}")
    return float(delta / baseline) if relative else float(delta)
