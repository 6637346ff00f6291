"""CLV charts: P(alive) by frequency and recency, holdout and tracking comparisons, CLV by segment.

Every function takes the numbers the models and validation helpers return (no fitting here), imports
matplotlib inside, and returns the ``Axes`` it drew on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crm_models.plotting.style import NEUTRAL, SEQUENTIAL_CMAP, palette


def plot_probability_alive_matrix(
    model: Any,
    *,
    max_frequency: int | None = None,
    T: float | None = None,
    summary: pd.DataFrame | None = None,
    n_recency: int = 40,
    ax: Any = None,
    title: str | None = None,
    time_unit_label: str = "weeks",
) -> Any:
    """Heat map of P(alive) for a customer of age ``T`` by repeat frequency (rows) and recency (columns).

    ``T`` and ``max_frequency`` default to the maximum age and the 99th percentile of frequency in
    ``summary`` (a customer summary), when it is given.
    """
    import matplotlib.pyplot as plt

    if T is None:
        T = float(summary["T"].max()) if summary is not None else 52.0
    if max_frequency is None:
        max_frequency = int(np.ceil(summary["frequency"].quantile(0.99))) if summary is not None else 20
    max_frequency = max(int(max_frequency), 1)
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5))
    freq = np.arange(0, max_frequency + 1, dtype=float)
    recency = np.linspace(0, T, n_recency)
    ff, rr = np.meshgrid(freq, recency, indexing="ij")
    rr = np.where(ff == 0, 0.0, rr)
    alive = np.asarray(model.probability_alive(ff.ravel(), rr.ravel(), np.full(ff.size, T)), dtype=float)
    grid = alive.reshape(ff.shape)
    image = ax.imshow(grid, origin="lower", aspect="auto", cmap=SEQUENTIAL_CMAP, vmin=0, vmax=1,
                      extent=(0, T, -0.5, max_frequency + 0.5))
    ax.set_xlabel(f"recency: time of last purchase ({time_unit_label} after the first)")
    ax.set_ylabel("repeat purchases (frequency)")
    ax.grid(False)
    ax.figure.colorbar(image, ax=ax, label="probability still active")
    ax.set_title(title or f"Probability a customer is still active (age {T:.0f} {time_unit_label})")
    return ax


def plot_holdout_comparison(table: pd.DataFrame, ax: Any = None, title: str | None = None) -> Any:
    """Mean actual vs expected holdout purchases by calibration frequency (``holdout_comparison`` output)."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4))
    rows = table.drop(index="all", errors="ignore")
    positions = np.arange(len(rows))
    colours = palette(2)
    ax.plot(positions, rows["actual"], marker="o", color=colours[0], label="actual")
    ax.plot(positions, rows["expected"], marker="s", linestyle="--", color=colours[1], label="model")
    ax.set_xticks(positions, rows.index.astype(str))
    ax.set_xlabel("repeat purchases in the calibration period")
    ax.set_ylabel("mean repeat purchases in the holdout")
    for x, n in zip(positions, rows["customers"], strict=True):
        ax.annotate(f"n={int(n):,}", (x, 0), textcoords="offset points", xytext=(0, 4), ha="center", fontsize=7,
                    color=NEUTRAL)
    ax.legend(loc="upper left")
    ax.set_title(title or "Holdout: actual vs expected purchases")
    return ax


def plot_tracking(table: pd.DataFrame, *, cumulative: bool = False, ax: Any = None, title: str | None = None) -> Any:
    """Actual vs expected repeat purchases over calendar time (``tracking_comparison`` output), with the
    calibration end marked."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    suffix = "_cumulative" if cumulative else ""
    colours = palette(2)
    ax.plot(table.index, table[f"actual{suffix}"], color=colours[0], label="actual")
    ax.plot(table.index, table[f"expected{suffix}"], color=colours[1], linestyle="--", label="model")
    holdout = table.index[table["holdout"].to_numpy(dtype=bool)]
    if len(holdout):
        ax.axvline(holdout[0], color=NEUTRAL, linestyle=":", linewidth=1)
        ax.annotate("holdout ->", (holdout[0], ax.get_ylim()[1]), xytext=(4, -12), textcoords="offset points",
                    fontsize=8, color=NEUTRAL)
    ax.set_ylabel(("cumulative " if cumulative else "") + "repeat purchases")
    ax.legend(loc="upper left")
    ax.set_title(title or "Tracking: repeat purchases over time")
    ax.figure.autofmt_xdate()
    return ax


def plot_clv_by_segment(clv: pd.Series, segment: pd.Series, ax: Any = None, title: str | None = None,
                        currency: str = "") -> Any:
    """Distribution of CLV within each segment (box plots on a log scale), segments ordered by mean CLV."""
    import matplotlib.pyplot as plt

    frame = pd.concat({"clv": clv, "segment": segment.astype(str)}, axis=1, join="inner").dropna()
    order = frame.groupby("segment")["clv"].mean().sort_values(ascending=False).index
    if ax is None:
        _, ax = plt.subplots(figsize=(8, max(3.0, 0.45 * len(order) + 1)))
    floor = max(float(frame.loc[frame["clv"] > 0, "clv"].quantile(0.01)) if (frame["clv"] > 0).any() else 1e-2,
                1e-2)
    data = [np.maximum(frame.loc[frame["segment"] == s, "clv"].to_numpy(), floor) for s in order]
    parts = ax.boxplot(data, vert=False, showfliers=False, patch_artist=True, widths=0.6)
    for patch in parts["boxes"]:
        patch.set_facecolor(palette(1)[0])
        patch.set_alpha(0.6)
    means = [d.mean() for d in data]
    ax.scatter(means, np.arange(1, len(order) + 1), marker="D", color=palette(2)[1], zorder=3, label="mean")
    ax.set_yticks(np.arange(1, len(order) + 1), order)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel(f"customer lifetime value {currency}".strip() + " (log scale)")
    ax.legend(loc="lower right")
    ax.set_title(title or "Customer lifetime value by segment")
    return ax
