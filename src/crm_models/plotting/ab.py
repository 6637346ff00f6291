"""A/B read-out plots: effect forest (every arm and outcome with its interval) and the sequential test replay.

matplotlib is imported inside each function; every function returns the ``Axes`` or ``Figure`` it drew on.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from crm_models.plotting.style import NEGATIVE, NEUTRAL, OKABE_ITO, POSITIVE, axes_or_new


def plot_effect_forest(readout: Any, *, relative: bool = True, show_unadjusted: bool = True,
                       ax: Any = None) -> Any:
    """Forest plot of the read-out: one row per (outcome, arm) with the primary estimate and its interval.

    ``relative=True`` plots relative lift (comparable across outcomes); the unadjusted interval is drawn
    thin and grey behind the CUPED one when both exist. Significant rows (after Holm) are coloured by sign.
    Returns the Axes.
    """
    table = readout.table
    n = len(table)
    ax = axes_or_new(ax, (7.5, 0.6 * n + 1.5))
    ypos = np.arange(n)[::-1]
    has_cuped = "cuped_effect" in table.columns
    for y, r in zip(ypos, table.itertuples(index=False), strict=True):
        cuped = has_cuped and r.primary == "cuped"
        if relative:
            est = r.cuped_rel_effect if cuped else r.rel_effect
            lo, hi = (r.cuped_rel_ci_low, r.cuped_rel_ci_high) if cuped else (r.rel_ci_low, r.rel_ci_high)
            raw = (r.rel_ci_low, r.rel_ci_high)
        else:
            est, lo, hi = r.effect, r.ci_low, r.ci_high
            raw = (r.abs_ci_low, r.abs_ci_high)
        color = (POSITIVE if est > 0 else NEGATIVE) if r.significant else NEUTRAL
        if show_unadjusted and cuped:
            ax.plot(raw, [y - 0.18, y - 0.18], color="#BBBBBB", lw=1.5, solid_capstyle="butt")
        ax.plot([lo, hi], [y, y], color=color, lw=3, solid_capstyle="butt")
        ax.plot([est], [y], "o", color=color, ms=7)
        label = f"{100 * est:+.1f}%" if relative else f"{est:+.3g}"
        ax.annotate(label, (hi, y), xytext=(5, 0), textcoords="offset points", va="center", fontsize=8)
    ax.axvline(0, color="#444444", lw=1)
    ax.set_yticks(ypos, [f"{r.outcome}: {r.arm}" for r in table.itertuples(index=False)])
    if relative:
        from matplotlib.ticker import PercentFormatter

        ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    conf = round(100 * (1 - readout.alpha))
    what = "relative lift vs " if relative else "absolute effect vs "
    ax.set_xlabel(f"{what}{readout.control} ({conf}% CI; grey: before CUPED)" if has_cuped
                  else f"{what}{readout.control} ({conf}% CI)")
    title = "Effect of each arm"
    if not readout.srm.passed:
        title += " - SAMPLE RATIO MISMATCH, do not trust"
    ax.set_title(title)
    return ax


def plot_sequential(result: Any, *, ax: Any = None, label: str | None = None) -> Any:
    """Always-valid confidence sequence and estimate against units enrolled, with the first possible stop."""
    ax = axes_or_new(ax, (7.5, 4.0))
    looks = result.looks
    finite = np.isfinite(looks["ci_low"]) & np.isfinite(looks["ci_high"])
    ax.fill_between(looks["n"][finite], looks["ci_low"][finite], looks["ci_high"][finite], color=OKABE_ITO[4],
                    alpha=0.35, lw=0, label="always-valid confidence sequence")
    ax.plot(looks["n"], looks["estimate"], color=OKABE_ITO[0], lw=1.5, label="estimate")
    ax.axhline(0, color="#444444", lw=1)
    if result.stopped_at_units is not None:
        ax.axvline(result.stopped_at_units, color=POSITIVE, ls="--", lw=1.2,
                   label=f"could have stopped ({100 * result.stopped_at_fraction:.0f}% of sample)")
    ax.set(xlabel="units enrolled", ylabel="effect", title=label or "Sequential test (mSPRT)")
    ax.legend(loc="best", fontsize=8)
    return ax


def plot_repurchase_curves(result: Any, *, max_days: float | None = None, show_interval: bool = True,
                           ax: Any = None) -> Any:
    """Cumulative repurchase ``1 - S(t)`` by arm (Kaplan-Meier, censored units included) with pointwise bands.

    ``result`` is :func:`crm_models.ab.repurchase_curves`' output. The control is drawn in grey, the other arms
    in the Okabe-Ito colours; each curve stops at its arm's longest follow-up. The horizons of ``result.table``
    are marked, and the title carries the log-rank p-value. Returns the Axes.
    """
    from matplotlib.ticker import PercentFormatter

    ax = axes_or_new(ax, (7.5, 4.5))
    colours = iter(OKABE_ITO)
    for arm, km in result.curves.items():
        curve = km.survival_function_
        times = curve.index.to_numpy(dtype=float)
        keep = times <= (max_days if max_days is not None else np.inf)
        times = times[keep]
        colour = NEUTRAL if arm == result.control else next(colours)
        ax.step(times, 1 - curve["survival"].to_numpy()[keep], where="post", color=colour, lw=2,
                label=f"{arm} (n = {int(km.n_):,})")
        if show_interval:
            ax.fill_between(times, 1 - curve["upper"].to_numpy()[keep], 1 - curve["lower"].to_numpy()[keep],
                            step="post", color=colour, alpha=0.18, lw=0)
    for days in result.days:
        if max_days is None or days <= max_days:
            ax.axvline(days, color="#BBBBBB", lw=0.8, ls=":")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    conf = round(100 * (1 - result.alpha))
    ax.set(xlabel="days since assignment", ylabel=f"bought again (Kaplan-Meier, {conf}% band)",
           title=f"Repurchase by arm (log-rank p = {result.logrank['p_value']:.2g})")
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.legend(loc="upper left", fontsize=8)
    return ax


def readout_tables(tables: Iterable[tuple[str, Any]], *, currency: str = "") -> list[Any]:
    """Stakeholder tables (pandas ``Styler``) of ``(caption, ReadoutTable)`` pairs, e.g.
    ``[(name, crm_models.ab.report.readout_table(readout, name))]`` or ``RepurchaseReport.tables()``: reader's
    column names, money in ``currency`` and shares as percentages, one row per arm."""
    from crm_models.ab.report import READOUT_LABELS
    from crm_models.plotting.tables import stakeholder_table

    return [stakeholder_table(shown.frame, currency=currency, labels=READOUT_LABELS, money=shown.money,
                              shares=shown.shares, index_label="arm").set_caption(caption)
            for caption, shown in tables]
