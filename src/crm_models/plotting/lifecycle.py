"""Lifecycle plots: cohort heat map, retention and Kaplan-Meier curves with intervals, funnel step and flow charts.

matplotlib is imported inside each function; every function takes an optional ``ax`` and returns the
``Axes`` it drew on. Inputs are the frames and fitted objects of :mod:`crm_models.lifecycle`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crm_models.plotting.style import NEUTRAL, OKABE_ITO, SEQUENTIAL_CMAP, axes_or_new, palette

_PERIOD_WORDS = {"W": "weeks", "M": "months", "Q": "quarters"}


def plot_cohort_heatmap(
    cohorts: pd.DataFrame,
    value: str = "active_share",
    *,
    period: str = "M",
    annotate: bool | None = None,
    ax: Any = None,
    title: str | None = None,
) -> Any:
    """Cohorts (rows, oldest first) x periods since acquisition (columns), coloured by ``value``.

    Partly observed cells are blank. Shares are annotated as percentages when the grid is small enough to read.
    """
    from crm_models.lifecycle.cohorts import cohort_matrix

    matrix = cohort_matrix(cohorts, value)
    ax = axes_or_new(ax, (min(2.0 + 0.55 * matrix.shape[1], 14.0), min(1.5 + 0.35 * matrix.shape[0], 10.0)))
    share = value.endswith("share")
    data = np.ma.masked_invalid(matrix.to_numpy(dtype="float64"))
    image = ax.imshow(data, aspect="auto", cmap=SEQUENTIAL_CMAP, vmin=0.0,
                      vmax=1.0 if share else None, interpolation="nearest")
    labels = [_cohort_label(c, period) for c in matrix.index]
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns])
    ax.set_xlabel(f"{_PERIOD_WORDS.get(period.upper(), 'periods')} since first purchase")
    ax.set_ylabel("acquisition cohort")
    ax.grid(False)
    colorbar = ax.figure.colorbar(image, ax=ax)
    colorbar.set_label(value.replace("_", " "))
    if annotate is None:
        annotate = matrix.size <= 400
    if annotate:
        for (i, j), cell in np.ndenumerate(matrix.to_numpy(dtype="float64")):
            if np.isfinite(cell):
                text = f"{cell:.0%}" if share else f"{cell:,.0f}"
                ax.text(j, i, text, ha="center", va="center", fontsize=7,
                        color="white" if (share and cell < 0.5) else "black")
    ax.set_title(title or ("Share of each cohort buying again" if share else value.replace("_", " ").capitalize()))
    return ax


def plot_retention_curve(
    curves: pd.DataFrame | Mapping[str, pd.DataFrame],
    *,
    period: str = "M",
    ax: Any = None,
    title: str = "Retention after the first purchase",
) -> Any:
    """Retention by periods since acquisition with its interval band; one line per entry of a mapping."""
    ax = axes_or_new(ax, (7.0, 4.5))
    items = curves.items() if isinstance(curves, Mapping) else [("all customers", curves)]
    for (name, curve), color in zip(items, palette(len(list(items))), strict=False):
        ax.plot(curve["period"], curve["retention"], marker="o", ms=3, color=color, label=str(name))
        ax.fill_between(curve["period"], curve["lower"], curve["upper"], color=color, alpha=0.2, lw=0)
    ax.set_xlabel(f"{_PERIOD_WORDS.get(period.upper(), 'periods')} since first purchase")
    ax.set_ylabel("share of customers buying")
    ax.set_ylim(bottom=0.0)
    ax.yaxis.set_major_formatter(_percent())
    ax.legend(title="95% interval shaded")
    ax.set_title(title)
    return ax


def plot_survival(
    curves: Any,
    *,
    ax: Any = None,
    as_repurchase: bool = True,
    max_days: float | None = None,
    title: str = "Time to second purchase",
) -> Any:
    """Kaplan-Meier curves (a fitted :class:`~crm_models.lifecycle.KaplanMeier` or a ``{name: fitted}``
    mapping) as steps with their interval bands; ``as_repurchase`` plots ``1 - S(t)``, the share that has
    bought again by day ``t``."""
    ax = axes_or_new(ax, (7.0, 4.5))
    items = list(curves.items()) if isinstance(curves, Mapping) else [("all customers", curves)]
    for (name, km), color in zip(items, palette(len(items)), strict=False):
        frame = km.survival_function_
        if max_days is not None:
            frame = frame.loc[frame.index <= max_days]
        times = frame.index.to_numpy()
        y, low, high = (frame[c].to_numpy() for c in ("survival", "lower", "upper"))
        if as_repurchase:
            y, low, high = 1.0 - y, 1.0 - high, 1.0 - low
        ax.step(times, y, where="post", color=color, label=f"{name} ({int(km.n_):,} customers)")
        ax.fill_between(times, low, high, step="post", color=color, alpha=0.2, lw=0)
    ax.set_xlabel("days since first purchase")
    ax.set_ylabel("share who bought again" if as_repurchase else "share not yet back")
    ax.set_ylim(0.0, 1.0)
    ax.yaxis.set_major_formatter(_percent())
    ax.legend(title="Kaplan-Meier, 95% interval shaded")
    ax.set_title(title)
    return ax


def plot_funnel(result: pd.DataFrame, *, ax: Any = None, title: str = "Shopping path: customers at each stage") -> Any:
    """Step chart of a :func:`~crm_models.lifecycle.funnel` result: bars of customers per stage, labelled with
    the conversion from the previous stage; one bar group per segment when the result has segments."""
    ax = axes_or_new(ax, (8.0, 4.5))
    segments = list(result["segment"].unique()) if "segment" in result.columns else [None]
    stages = list(dict.fromkeys(result["stage"]))
    width = 0.8 / len(segments)
    for s, (segment, color) in enumerate(zip(segments, palette(len(segments)), strict=False)):
        part = result if segment is None else result.loc[result["segment"] == segment]
        x = np.arange(len(stages)) + (s - (len(segments) - 1) / 2) * width
        share = part["conversion_from_start"].to_numpy(dtype="float64")
        bars = ax.bar(x, share, width=width * 0.95, color=color, label=None if segment is None else str(segment))
        lower = np.clip(share - part["conversion_from_start_lower"].to_numpy(dtype="float64"), 0.0, None)
        upper = np.clip(part["conversion_from_start_upper"].to_numpy(dtype="float64") - share, 0.0, None)
        ax.errorbar(x, share, yerr=[lower, upper], fmt="none", ecolor=NEUTRAL, lw=1)
        steps = part["conversion_from_previous"].to_numpy(dtype="float64")
        for k, (bar, step) in enumerate(zip(bars, steps, strict=True)):
            if k > 0:
                ax.annotate(f"{step:.0%}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                            textcoords="offset points", xytext=(0, 4), ha="center", fontsize=8)
    ax.set_xticks(range(len(stages)), [str(s).replace("_", " ") for s in stages])
    ax.set_ylabel("share of customers who entered")
    ax.set_ylim(0.0, 1.1)
    ax.yaxis.set_major_formatter(_percent())
    if segments != [None]:
        ax.legend(title="segment")
    ax.set_title(title)
    ax.text(1.0, -0.18, "labels: conversion from the previous stage; bars: 95% interval",
            transform=ax.transAxes, ha="right", fontsize=7, color=OKABE_ITO[7])
    return ax


def plot_funnel_flow(result: pd.DataFrame, *, ax: Any = None, title: str = "Where customers drop off") -> Any:
    """Flow chart of a funnel (no segments): a block per stage, its height the customers who reached it, a band
    carrying them to the next stage and a grey band falling away for those who dropped off, labelled with counts."""
    from matplotlib.patches import Polygon, Rectangle

    if "segment" in result.columns:
        raise ValueError("plot_funnel_flow draws one funnel: filter the result to one segment first")
    ax = axes_or_new(ax, (9.0, 4.5))
    counts = result["customers"].to_numpy(dtype="float64")
    top = counts[0] if counts[0] > 0 else 1.0
    heights = counts / top
    block, gap = 0.35, 0.65
    color = OKABE_ITO[0]
    for k, (label, height) in enumerate(zip(result["stage"], heights, strict=True)):
        x = k * (block + gap)
        ax.add_patch(Rectangle((x, 1.0 - height), block, height, color=color))
        ax.text(x + block / 2, 1.03, str(label).replace("_", " "), ha="center", va="bottom", fontsize=8)
        ax.text(x + block / 2, 1.0 - height - 0.02, f"{int(counts[k]):,}", ha="center", va="top", fontsize=8)
        if k + 1 < len(heights):
            nxt = heights[k + 1]
            x1, x2 = x + block, x + block + gap
            ax.add_patch(Polygon([(x1, 1.0), (x2, 1.0), (x2, 1.0 - nxt), (x1, 1.0 - nxt)], color=color, alpha=0.35,
                                 lw=0))
            dropped = height - nxt
            if dropped > 0:
                ax.add_patch(Polygon([(x1, 1.0 - nxt), (x1, 1.0 - height), (x1 + gap * 0.6, -0.15),
                                      (x1 + gap * 0.6, -0.15 + dropped)], color=NEUTRAL, alpha=0.35, lw=0))
                ax.text(x1 + gap * 0.6, -0.17, f"-{int(counts[k] - counts[k + 1]):,}", ha="center", va="top",
                        fontsize=7, color=NEUTRAL)
    ax.set_xlim(-0.1, len(heights) * (block + gap) - gap + 0.1)
    ax.set_ylim(-0.3, 1.15)
    ax.axis("off")
    ax.set_title(title)
    return ax


def plot_seasonality(profile: pd.DataFrame, *, ax: Any = None, title: str | None = None) -> Any:
    """Share of purchases per slot (weekday, hour or month), one line per segment, with interval bands."""
    ax = axes_or_new(ax, (8.0, 4.0))
    segments = list(dict.fromkeys(profile["segment"]))
    for segment, color in zip(segments, palette(len(segments)), strict=False):
        part = profile.loc[profile["segment"] == segment]
        ax.plot(part["slot"], part["share"], marker="o", ms=3, color=color, label=str(segment))
        ax.fill_between(part["slot"], part["share_lower"], part["share_upper"], color=color, alpha=0.15, lw=0)
    first = profile.loc[profile["segment"] == segments[0]]
    step = 1 if len(first) <= 12 else 3
    ax.set_xticks(first["slot"].to_numpy()[::step], first["label"].to_numpy()[::step])
    ax.set_ylabel("share of purchases")
    ax.set_ylim(bottom=0.0)
    ax.yaxis.set_major_formatter(_percent())
    if len(segments) > 1:
        ax.legend(title="segment")
    ax.set_title(title or "When customers buy")
    return ax


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0, decimals=0)


def _cohort_label(value: Any, period: str) -> str:
    stamp = pd.Timestamp(value)
    key = period.upper()
    if key == "Q":
        return f"{stamp.year} Q{stamp.quarter}"
    if key == "W":
        return f"week of {stamp:%Y-%m-%d}"
    return f"{stamp:%b %Y}"
