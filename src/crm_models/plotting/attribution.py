"""Attribution plots: credit by method, the Markov transition graph, removal effects, intervals, order choice.

matplotlib is imported inside each function; every function returns the Axes (or Figure) it drew on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crm_models.plotting.style import axes_or_new

START, CONVERSION, NULL = "(start)", "(conversion)", "(null)"

#: Reader's names of the measures of a credit table.
MEASURE_LABELS = {"conversion_share": "Share of conversions", "conversions": "Conversions credited",
                  "value": "Value credited", "value_share": "Share of conversion value"}


def _method(method: str) -> str:
    """A method's reader's name (``"last_touch"`` -> ``"Last touch"``), as the report's tables use it."""
    from crm_models.attribution.report import method_label

    return method_label(method)


def _measure(measure: str) -> str:
    return MEASURE_LABELS.get(measure, measure.replace("_", " "))


def plot_credit_by_method(
    table: pd.DataFrame,
    measure: str = "conversion_share",
    *,
    truth: pd.Series | None = None,
    methods: list[str] | None = None,
    ax: Any = None,
) -> Any:
    """Grouped bars: each channel's credit under every method, side by side.

    Parameters
    ----------
    table:
        Long table from :func:`crm_models.attribution.compare_attribution` (``method``, ``channel`` and
        the measure).
    measure:
        ``conversion_share`` (default), ``conversions``, ``value`` or ``value_share``.
    truth:
        Optional known credit per channel (same measure), drawn as black markers.
    """
    ax = axes_or_new(ax, (10, 4.5))
    wide = table.pivot(index="channel", columns="method", values=measure)
    order = methods or [m for m in dict.fromkeys(table["method"]) if m in wide.columns]
    wide = wide[order]
    sort_by = "markov" if "markov" in wide.columns else order[-1]
    wide = wide.sort_values(sort_by, ascending=False)
    x = np.arange(len(wide))
    width = 0.8 / max(len(order), 1)
    for i, method in enumerate(order):
        ax.bar(x + (i - (len(order) - 1) / 2) * width, wide[method].to_numpy(), width, label=_method(method))
    if truth is not None:
        ax.scatter(x, truth.reindex(wide.index).to_numpy(), color="black", marker="D", zorder=5, label="true")
    ax.set_xticks(x)
    ax.set_xticklabels(wide.index, rotation=30, ha="right")
    ax.set_ylabel(_measure(measure))
    if measure.endswith("share"):
        ax.yaxis.set_major_formatter(_percent())
    ax.set_title(f"{_measure(measure)} by channel and method")
    ax.legend(ncol=min(4, len(order) + (truth is not None)), fontsize="small", frameon=False)
    return ax


def _percent() -> Any:
    from matplotlib.ticker import PercentFormatter

    return PercentFormatter(1.0, decimals=0)


def plot_removal_effects(result: Any, ax: Any = None) -> Any:
    """Horizontal bars of each channel's removal effect, annotated with the conversion probability
    with and without the channel."""
    ax = axes_or_new(ax, (7, 0.45 * len(result.removal_effects) + 1.5))
    effects = result.removal_effects.sort_values("removal_effect")
    y = np.arange(len(effects))
    ax.barh(y, effects["removal_effect"].to_numpy(), color="#4C72B0")
    for yi, (_, row) in zip(y, effects.iterrows()):
        ax.text(
            row["removal_effect"], yi,
            f"  {result.conversion_probability:.1%} -> {row['conversion_probability_without']:.1%}",
            va="center", fontsize="small",
        )
    ax.set_yticks(y)
    ax.set_yticklabels(effects.index)
    ax.xaxis.set_major_formatter(_percent())
    ax.set_xlabel("drop in conversion probability when the channel is removed (relative)")
    ax.set_xlim(0, max(1e-9, float(effects["removal_effect"].max())) * 1.45)
    ax.set_title(f"Removal effects (Markov order {result.order})")
    return ax


def plot_credit_intervals(
    intervals: pd.DataFrame, measure: str = "conversions", *, truth: pd.Series | None = None, ax: Any = None
) -> Any:
    """Point estimates with bootstrap intervals (from :func:`crm_models.attribution.bootstrap_attribution`)."""
    ax = axes_or_new(ax, (7, 0.45 * len(intervals) + 1.5))
    frame = intervals.sort_values(measure)
    y = np.arange(len(frame))
    est = frame[measure].to_numpy()
    lower = est - frame[f"{measure}_lower"].to_numpy()
    upper = frame[f"{measure}_upper"].to_numpy() - est
    ax.errorbar(est, y, xerr=np.vstack([lower, upper]), fmt="o", capsize=3, label="estimate and interval")
    if truth is not None:
        ax.scatter(truth.reindex(frame.index).to_numpy(), y, marker="D", color="black", zorder=5, label="true")
    ax.set_yticks(y)
    ax.set_yticklabels(frame.index)
    level = intervals.attrs.get("level")
    method = intervals.attrs.get("method")
    title = _measure(measure) + (f" ({_method(method)})" if method else "")
    if level:
        title += f", {level:.0%} bootstrap intervals"
    ax.set_title(title)
    ax.set_xlabel(_measure(measure))
    ax.legend(frameon=False, fontsize="small")
    return ax


def plot_transition_graph(
    result: Any, *, min_probability: float = 0.08, max_states: int = 12, show_null: bool = False, ax: Any = None
) -> Any:
    """The Markov chain as a graph: ``(start)`` on the left, channels (or states) on a circle,
    ``(conversion)`` and ``(null)`` on the right; arrows for transitions with probability at least
    ``min_probability``, their width proportional to the probability. Arrows into ``(conversion)`` are
    always drawn (green, labelled with the probability); arrows into ``(null)`` only with
    ``show_null=True``. For orders above one, the ``max_states`` busiest states are shown.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyArrowPatch

    ax = axes_or_new(ax, (9, 7))
    transitions = result.transitions
    traffic = transitions.groupby("to")["weight"].sum()
    states = [s for s in traffic.drop([CONVERSION, NULL], errors="ignore").sort_values(ascending=False).index][:max_states]
    n = len(states)
    angles = np.linspace(np.pi / 2, np.pi / 2 - 2 * np.pi, n, endpoint=False)
    pos = {s: (1.1 * np.cos(a), 1.1 * np.sin(a)) for s, a in zip(states, angles)}
    pos[START] = (-2.0, 0.0)
    pos[CONVERSION] = (2.0, 0.6)
    pos[NULL] = (2.0, -0.6)
    into_conversion = transitions["to"] == CONVERSION
    keep = (transitions["probability"] >= min_probability) | into_conversion
    if not show_null:
        keep &= transitions["to"] != NULL
    shown = transitions[
        transitions["from"].isin(pos) & transitions["to"].isin(pos) & keep & (transitions["from"] != transitions["to"])
    ]
    conversion_probs = shown.loc[shown["to"] == CONVERSION, "probability"]
    top_conversion = float(conversion_probs.max()) if len(conversion_probs) else 1.0
    cmap = plt.get_cmap("viridis")
    for _, row in shown.iterrows():
        (x0, y0), (x1, y1) = pos[row["from"]], pos[row["to"]]
        to_conversion = row["to"] == CONVERSION
        color = "#2a9d8f" if to_conversion else ("#bbbbbb" if row["to"] == NULL else cmap(0.35))
        width = 0.5 + (4 * row["probability"] / max(top_conversion, 1e-12) if to_conversion else 6 * row["probability"])
        arrow = FancyArrowPatch(
            (x0, y0), (x1, y1), arrowstyle="-|>", mutation_scale=14, lw=width,
            color=color, alpha=0.75, connectionstyle="arc3,rad=0.15", shrinkA=20, shrinkB=20,
        )
        ax.add_patch(arrow)
        if to_conversion:
            ax.annotate(f"{row['probability']:.0%}", xy=(x0, y0), xytext=(16, -24), textcoords="offset points",
                        fontsize=7, color="#1d6f65", zorder=6)
    for state, (x, y) in pos.items():
        special = state in (START, CONVERSION, NULL)
        ax.scatter([x], [y], s=2200 if special else 1800, color="#f4a261" if special else "#e9ecef",
                   edgecolor="#333333", zorder=3)
        label = state.replace(" > ", ">\n") if " > " in state else state.replace(" ", "\n")
        ax.text(x, y, label, ha="center", va="center", fontsize=8, zorder=4)
    ax.set_xlim(-2.5, 2.5)
    ax.set_ylim(-1.45, 1.45)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"Transition graph (order {result.order}; arrows with probability >= {min_probability:.0%}; "
                 "green: to conversion)")
    return ax


def plot_order_selection(selection: Any, ax: Any = None) -> Any:
    """Held-out and training log-likelihood per journey for each chain order."""
    ax = axes_or_new(ax, (6, 3.5))
    table = selection.table
    ax.errorbar(table.index, table["heldout_loglik"], yerr=table["heldout_se"].fillna(0.0), marker="o",
                capsize=3, label="held out")
    ax.plot(table.index, table["train_loglik"], marker="s", linestyle="--", label="training")
    ax.axvline(selection.best_order, color="grey", linestyle=":", label=f"chosen: order {selection.best_order}")
    ax.set_xticks(list(table.index))
    ax.set_xlabel("Markov order")
    ax.set_ylabel("log-likelihood per journey")
    ax.set_title("Order selection by held-out likelihood")
    ax.legend(frameon=False, fontsize="small")
    return ax


def plot_ordered_shapley(by_position: pd.DataFrame, ax: Any = None, max_positions: int = 6) -> Any:
    """Stacked bars of ordered Shapley credit: how much of each channel's credit comes at each position."""
    ax = axes_or_new(ax, (8, 4))
    frame = by_position.iloc[:, :max_positions].copy()
    if by_position.shape[1] > max_positions:
        frame[f"{max_positions + 1}+"] = by_position.iloc[:, max_positions:].sum(axis=1)
    frame = frame.loc[frame.sum(axis=1).sort_values(ascending=False).index]
    bottom = np.zeros(len(frame))
    for column in frame.columns:
        ax.bar(frame.index, frame[column].to_numpy(), bottom=bottom, label=f"position {column}")
        bottom += frame[column].to_numpy()
    ax.set_ylabel("Conversions credited")
    ax.set_title("Ordered Shapley credit by position of first appearance")
    ax.tick_params(axis="x", rotation=30)
    ax.legend(frameon=False, fontsize="small", ncol=2)
    return ax


def plot_channel_roas(roi: Any, method: str = "markov", *, currency: str = "", ax: Any = None) -> Any:
    """Value per unit spent (ROAS) of every channel with spend under ``method``, with its bootstrap
    interval and the break-even line at 1 (from :func:`crm_models.attribution.channel_roi`)."""
    frame = roi.table[(roi.table["method"] == method) & (roi.table["spend"] > 0)].set_index("channel")
    frame = frame.sort_values("roas")
    ax = axes_or_new(ax, (7, 0.45 * len(frame) + 1.5))
    y = np.arange(len(frame))
    est = frame["roas"].to_numpy()
    err = np.vstack([est - frame["roas_lower"].to_numpy(), frame["roas_upper"].to_numpy() - est])
    ax.errorbar(est, y, xerr=np.clip(err, 0.0, None), fmt="o", capsize=3, label="estimate and interval")
    ax.axvline(1.0, color="grey", linestyle="--", linewidth=1, label="break-even (value = spend)")
    ax.set_yticks(y)
    ax.set_yticklabels(frame.index)
    unit = f" {currency}" if currency else ""
    ax.set_xlabel(f"value per{unit} spent")
    ax.set_title(f"Return on ad spend ({_method(method)} credit, {roi.level:.0%} intervals)")
    ax.legend(frameon=False, fontsize="small")
    return ax
