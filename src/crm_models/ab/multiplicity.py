"""Multiple-testing adjustments across arms and outcomes.

* Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scand. J. Statist.* 6, 65-70
  (controls the family-wise error rate, uniformly more powerful than Bonferroni).
* Benjamini, Y. & Hochberg, Y. (1995). Controlling the false discovery rate. *JRSS B* 57, 289-300.
"""

from __future__ import annotations

import numpy as np

__all__ = ["benjamini_hochberg", "holm"]


def _as_p(p_values) -> np.ndarray:
    p = np.asarray(p_values, dtype=float)
    if p.ndim != 1:
        raise ValueError("p-values must be one-dimensional")
    if np.any((p < 0) | (p > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    return p


def _adjust(p_values, adjust_sorted) -> np.ndarray:
    """Apply ``adjust_sorted`` (ascending p-values of the family -> adjusted, same order) to the non-NaN
    entries, cap at 1 and put the results back in the input order; NaN entries stay NaN."""
    p = _as_p(p_values)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    if q.size == 0:
        return out
    order = np.argsort(q, kind="stable")
    res = np.empty(q.size)
    res[order] = np.minimum(adjust_sorted(q[order]), 1.0)
    out[ok] = res
    return out


def holm(p_values) -> np.ndarray:
    """Holm step-down adjusted p-values (NaN entries are left out of the family and stay NaN)."""

    def step_down(sorted_p: np.ndarray) -> np.ndarray:
        m = sorted_p.size
        return np.maximum.accumulate((m - np.arange(m)) * sorted_p)

    return _adjust(p_values, step_down)


def benjamini_hochberg(p_values) -> np.ndarray:
    """Benjamini-Hochberg step-up adjusted p-values (q-values); NaN entries stay NaN."""

    def step_up(sorted_p: np.ndarray) -> np.ndarray:
        m = sorted_p.size
        ranked = sorted_p * m / np.arange(1, m + 1)
        return np.minimum.accumulate(ranked[::-1])[::-1]

    return _adjust(p_values, step_up)
