"""RFM charts: segment sizes against revenue, the R x F grid of spend, the value x loyalty matrix and segment
migration between two dates."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crm_models.plotting.style import SEQUENTIAL_CMAP, palette


def plot_segment_shares(summary: pd.DataFrame, ax: Any = None, title: str | None = None) -> Any:
    """Side-by-side bars: each segment's share of customers and of revenue (from ``segment_summary``)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    positions = np.arange(len(summary))
    colours = palette(2)
    ax.barh(positions - 0.2, summary["customer_share"] * 100, height=0.4, label="share of customers",
            color=colours[0])
    ax.barh(positions + 0.2, summary["revenue_share"] * 100, height=0.4, label="share of revenue", color=colours[1])
    ax.set_yticks(positions, summary.index)
    ax.invert_yaxis()
    ax.set_xlabel("% of total")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
    ax.set_title(title or "Customers and revenue by segment")
    return ax


def plot_rf_grid(scores: pd.DataFrame, ax: Any = None, title: str | None = None) -> Any:
    """Heat map of mean net spend in each recency x frequency score cell, with the customer count per cell."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 5))
    levels = sorted(set(scores["R"]).union(scores["F"]))
    grid = scores.pivot_table(index="F", columns="R", values="monetary", aggfunc="mean").reindex(
        index=levels[::-1], columns=levels)
    counts = scores.pivot_table(index="F", columns="R", values="monetary", aggfunc="size").reindex(
        index=levels[::-1], columns=levels)
    image = ax.imshow(grid.to_numpy(dtype=float), cmap=SEQUENTIAL_CMAP, aspect="auto")
    ax.set_xticks(range(len(levels)), levels)
    ax.set_yticks(range(len(levels)), levels[::-1])
    ax.set_xlabel("recency score R (5 = bought most recently)")
    ax.set_ylabel("frequency score F")
    ax.grid(False)
    values = grid.to_numpy(dtype=float)
    low, high = np.nanmin(values), np.nanmax(values)
    for (i, j), value in np.ndenumerate(counts.to_numpy(dtype=float)):
        if np.isfinite(value):
            # dark text on the light (high) end of the colour map, white on the dark end
            light = high > low and (values[i, j] - low) / (high - low) > 0.6
            ax.text(j, i, f"{int(value)}", ha="center", va="center", fontsize=8,
                    color="black" if light else "white")
    ax.figure.colorbar(image, ax=ax, label="mean net spend")
    ax.set_title(title or "Spend by recency and frequency (numbers: customers)")
    return ax


def plot_value_loyalty(quadrants: pd.Series, monetary: pd.Series, ax: Any = None, title: str | None = None) -> Any:
    """The 2 x 2 value x loyalty matrix with customers and revenue share in each quadrant."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5))
    layout = {"potential": (0, 0), "gold": (0, 1), "low value": (1, 0), "at risk": (1, 1)}
    total = float(monetary.sum()) or 1.0
    colours = dict(zip(["gold", "potential", "at risk", "low value"], palette(4), strict=True))
    for name, (row, col) in layout.items():
        members = quadrants == name
        ax.add_patch(plt.Rectangle((col, 1 - row), 1, 1, color=colours[name], alpha=0.35))
        ax.text(col + 0.5, 1.5 - row, f"{name}\n{int(members.sum()):,} customers\n"
                f"{100 * monetary[members].sum() / total:.0f}% of revenue", ha="center", va="center", fontsize=10)
    ax.set_xlim(0, 2)
    ax.set_ylim(0, 2)
    ax.set_xticks([0.5, 1.5], ["lower value", "higher value"])
    ax.set_yticks([0.5, 1.5], ["less loyal", "more loyal"])
    ax.grid(False)
    ax.set_title(title or "Value x loyalty matrix")
    return ax


def plot_migration_matrix(matrix: dict[str, pd.DataFrame], ax: Any = None, title: str | None = None) -> Any:
    """Heat map of customers moving between segments (``crm_models.rfm.migration_matrix``): rows are the segment
    before (plus customers who were not yet customers), columns the segment after; shaded by the share of the
    row, with customer counts in the cells."""
    import matplotlib.pyplot as plt

    from crm_models.plotting.loyalty import plot_transition_matrix

    counts = matrix["counts"]
    if ax is None:
        _, ax = plt.subplots(figsize=(0.75 * counts.shape[1] + 3.5, 0.5 * counts.shape[0] + 2.5))
    plot_transition_matrix(counts, ax=ax, title=title or "Where customers moved between segments")
    ax.tick_params(axis="x", labelrotation=40)
    for label in ax.get_xticklabels():
        label.set_horizontalalignment("right")
    ax.figure.axes[-1].set_ylabel("share of the row's customers")
    return ax
