"""Uplift plots: Qini / uplift curves with the permutation null band, uplift by decile, profit curves.

matplotlib is imported inside each function; every function returns the ``Axes`` it drew on.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crm_models.plotting.style import NEGATIVE, NEUTRAL, OKABE_ITO, POSITIVE


def _axes(ax: Any, figsize: tuple[float, float] = (7.0, 4.5)) -> Any:
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize)
    return ax


def plot_uplift_curves(y: Any, scores: Mapping[str, Any], treatment: Any, *, kind: str = "qini",
                       null: Any = None, perfect: bool = True, ax: Any = None) -> Any:
    """Qini (``kind="qini"``) or uplift curves of several scorers, x = share of units targeted.

    ``null`` is a :class:`~crm_models.uplift.NullBand` (from ``permutation_null``) drawn as a grey band: a
    curve inside it is no better than a random ranking. Legend entries carry the normalised area.
    """
    from crm_models.uplift.metrics import (
        perfect_qini_curve,
        perfect_uplift_curve,
        qini_auc_score,
        qini_curve,
        uplift_auc_score,
        uplift_curve,
    )

    if kind not in ("qini", "uplift"):
        raise ValueError("kind must be 'qini' or 'uplift'")
    curve_fn, score_fn = (qini_curve, qini_auc_score) if kind == "qini" else (uplift_curve, uplift_auc_score)
    ax = _axes(ax)
    n = float(np.size(y))
    if null is not None:
        level = 100 * (1 - float(getattr(null, "alpha", 0.05)))
        ax.fill_between(null.grid, null.low, null.high, color="#CCCCCC", alpha=0.7, lw=0,
                        label=f"random ranking ({level:g}% permutation band)")
    for i, (name, s) in enumerate(scores.items()):
        x, v = curve_fn(y, s, treatment)
        ax.plot(x / n, v, color=OKABE_ITO[i % len(OKABE_ITO)], lw=1.8,
                label=f"{name} ({'Qini' if kind == 'qini' else 'AUUC'} {score_fn(y, s, treatment):.3f})")
    x, v = curve_fn(y, np.zeros(int(n)), treatment)
    ax.plot([0, 1], [0, v[-1]], color=NEUTRAL, ls=":", lw=1, label="random (straight line)")
    if perfect:
        xp, vp = perfect_qini_curve(y, treatment) if kind == "qini" else perfect_uplift_curve(y, treatment)
        ax.plot(xp / n, vp, color="#999999", ls="--", lw=1, label="perfect ranking")
    ax.set(xlabel="share of customers targeted (by predicted uplift)",
           ylabel="incremental responses" if kind == "qini" else "uplift x targeted",
           title="Qini curve" if kind == "qini" else "Uplift curve")
    ax.legend(loc="best", fontsize=8)
    return ax


def plot_uplift_by_decile(table: pd.DataFrame, *, ax: Any = None, title: str | None = None) -> Any:
    """Bars of observed uplift per bin of predicted uplift (bin 1 = highest) with 95% error bars."""
    ax = _axes(ax, (7.0, 4.0))
    colors = [POSITIVE if u > 0 else NEGATIVE for u in table["uplift"].fillna(0)]
    ax.bar(table["bin"], table["uplift"], color=colors, alpha=0.85)
    err = np.vstack([table["uplift"] - table["ci_low"], table["ci_high"] - table["uplift"]])
    ax.errorbar(table["bin"], table["uplift"], yerr=err, fmt="none", ecolor="#333333", lw=1, capsize=3)
    if "mean_predicted_uplift" in table:
        ax.plot(table["bin"], table["mean_predicted_uplift"], "D", color=OKABE_ITO[0], ms=5,
                label="mean predicted uplift")
        ax.legend(loc="best", fontsize=8)
    ax.axhline(0, color="#444444", lw=1)
    ax.set_xticks(table["bin"])
    ax.set(xlabel="bin of predicted uplift (1 = highest)", ylabel="observed uplift (treated - control)",
           title=title or "Observed uplift by decile of predicted uplift")
    return ax


def plot_profit_curves(curves: Mapping[str, pd.DataFrame], *, ax: Any = None, currency: str = "") -> Any:
    """Incremental profit against the share targeted for each ranking, marking each best cut-off."""
    ax = _axes(ax)
    for i, (name, c) in enumerate(curves.items()):
        color = OKABE_ITO[i % len(OKABE_ITO)]
        ax.plot(c["fraction"], c["profit"], color=color, lw=1.8, label=name)
        best = c.loc[c["profit"].idxmax()]
        ax.plot([best["fraction"]], [best["profit"]], "o", color=color, ms=7)
        ax.annotate(f"{currency}{best['profit']:,.0f} at {100 * best['fraction']:.0f}%",
                    (best["fraction"], best["profit"]), xytext=(6, -14 - 12 * i), textcoords="offset points", fontsize=8,
                    color=color)
    ax.axhline(0, color="#444444", lw=1)
    ax.set(xlabel="share of customers treated (best-ranked first)", ylabel=f"incremental profit {currency}".strip(),
           title="Expected incremental profit by cut-off")
    ax.legend(loc="best", fontsize=8)
    return ax
