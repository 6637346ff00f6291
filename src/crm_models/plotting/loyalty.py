"""Loyalty charts: tier mix over time, tier transitions, progress to the next tier, the points forecast and a
what-if of two rule sets. matplotlib is imported inside each function; each returns the Axes it drew on."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crm_models.plotting.style import NEGATIVE, POSITIVE, SEQUENTIAL_CMAP, axes_or_new, palette


def plot_tier_mix(mix: pd.DataFrame, *, share: bool = True, ax: Any = None, title: str | None = None) -> Any:
    """Stacked bars of members per tier at each evaluation date (``TierReplay.tier_mix()``), as shares of
    members (``share=True``) or counts."""
    ax = axes_or_new(ax, (8, 4))
    data = mix.div(mix.sum(axis=1).replace(0, np.nan), axis=0) * 100 if share else mix
    labels = [d.strftime("%Y-%m-%d") for d in pd.DatetimeIndex(mix.index)]
    bottom = np.zeros(len(data))
    for colour, tier in zip(palette(len(data.columns)), data.columns, strict=True):
        values = data[tier].fillna(0).to_numpy(dtype=float)
        ax.bar(labels, values, bottom=bottom, color=colour, label=str(tier))
        bottom += values
    ax.set_ylabel("% of members" if share else "members")
    ax.set_xlabel("evaluation date")
    ax.tick_params(axis="x", labelrotation=45)
    ax.legend(title="tier", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(title or "Tier mix at each evaluation")
    return ax


def plot_transition_matrix(matrix: pd.DataFrame, *, ax: Any = None, title: str | None = None) -> Any:
    """Heat map of members moving between tiers (``TierReplay.transition_matrix()``), shaded by the share of
    each row, with the member counts written in the cells."""
    ax = axes_or_new(ax, (5.5, 4.5))
    counts = matrix.to_numpy(dtype=float)
    shares = counts / np.where(counts.sum(axis=1, keepdims=True) > 0, counts.sum(axis=1, keepdims=True), 1)
    image = ax.imshow(shares, cmap=SEQUENTIAL_CMAP, vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(matrix.shape[1]), [str(c) for c in matrix.columns])
    ax.set_yticks(range(matrix.shape[0]), [str(i) for i in matrix.index])
    ax.set_xlabel(str(matrix.columns.name or "to tier"))
    ax.set_ylabel(str(matrix.index.name or "from tier"))
    ax.grid(False)
    for (i, j), value in np.ndenumerate(counts):
        ax.text(j, i, f"{int(value):,}", ha="center", va="center", fontsize=9,
                color="black" if shares[i, j] > 0.6 else "white")
    ax.figure.colorbar(image, ax=ax, label="share of the row's members")
    ax.set_title(title or "Where members moved between evaluations")
    return ax


def plot_progress(current: pd.DataFrame, *, bins: int = 10, ax: Any = None, title: str | None = None) -> Any:
    """Histogram of members' progress towards their next tier (``TierReplay.current``), one colour per
    current tier; members in the top tier are left out."""
    ax = axes_or_new(ax, (8, 4))
    below_top = current[current["next_tier"].notna()]
    edges = np.linspace(0, 1, bins + 1)
    tiers = [t for t in current["tier"].cat.categories if (below_top["tier"] == t).any()]
    values = [below_top.loc[below_top["tier"] == t, "progress"].to_numpy(dtype=float) * 100 for t in tiers]
    if values:
        ax.hist(values, bins=edges * 100, stacked=True, label=[str(t) for t in tiers], color=palette(len(tiers)))
        ax.legend(title="current tier")
    ax.set_xlabel("progress to the next tier (%)")
    ax.set_ylabel("members")
    ax.set_title(title or "How close members are to their next tier")
    return ax


def plot_points_forecast(schedule: pd.DataFrame, *, ax: Any = None, title: str | None = None) -> Any:
    """Bars per month of the points expected to be redeemed and to expire (``PointsForecast.schedule``)."""
    ax = axes_or_new(ax, (8, 4))
    labels = [d.strftime("%Y-%m") for d in pd.DatetimeIndex(schedule.index)]
    positions = np.arange(len(labels))
    ax.bar(positions - 0.2, schedule["expected_redeemed"], width=0.4, color=POSITIVE, label="expected redeemed")
    ax.bar(positions + 0.2, schedule["expected_expired"], width=0.4, color=NEGATIVE, label="expected to expire")
    ax.set_xticks(positions, labels, rotation=45)
    ax.set_ylabel("points")
    ax.yaxis.set_major_formatter(_thousands())
    ax.legend()
    ax.set_title(title or "Outstanding points: expected redemptions and expiry by month")
    return ax


def plot_whatif_tiers(whatif: Any, *, ax: Any = None, title: str | None = None) -> Any:
    """Members per tier under each of the two rule sets of a what-if (``compare_rules(...)``)."""
    ax = axes_or_new(ax, (8, 4))
    rows = [r for r in whatif.summary.index if str(r).startswith("members: ")]
    table = whatif.summary.loc[rows, list(whatif.labels)]
    positions = np.arange(len(rows))
    for offset, colour, label in zip((-0.2, 0.2), palette(2), whatif.labels, strict=True):
        ax.bar(positions + offset, table[label].to_numpy(dtype=float), width=0.4, color=colour, label=str(label))
    ax.set_xticks(positions, [r.removeprefix("members: ") for r in rows])
    ax.set_ylabel("members")
    ax.yaxis.set_major_formatter(_thousands())
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2)
    ax.set_title(title or f"Members per tier; {whatif.changed:,} customers change tier")
    return ax


def _thousands() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda value, _: f"{value:,.0f}")
