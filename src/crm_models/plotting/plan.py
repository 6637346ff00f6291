"""Campaign-plan plots: true incremental profit per targeting policy, and the plan's actions by segment.

matplotlib is imported inside each function; every function returns the ``Axes`` it drew on.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crm_models.plotting.style import NEGATIVE, NEUTRAL, OKABE_ITO, POSITIVE, axes_or_new
from crm_models.plotting.tables import format_money, format_share


def plot_policy_profit(comparison: pd.DataFrame, *, currency: str = "", ax: Any = None,
                       title: str | None = None) -> Any:
    """Horizontal bars of each policy's true incremental profit (``comparison`` from
    :func:`crm_models.plan.compare_policies`: index = policy, ``true_incremental_profit`` and optionally
    ``share_of_oracle``), best at the top; the oracle bar grey (the ceiling, not a policy one can run), losses red.
    Each bar is labelled with its amount and, for a policy that does not lose money, its share of the oracle."""
    ax = axes_or_new(ax, (8.0, 0.55 * len(comparison) + 1.6))
    table = comparison.sort_values("true_incremental_profit")
    profit = table["true_incremental_profit"].to_numpy(dtype=float)
    colors = [NEUTRAL if "oracle" in str(name) else (NEGATIVE if p < 0 else POSITIVE if i == len(table) - 1
                                                     else OKABE_ITO[0])
              for i, (name, p) in enumerate(zip(table.index, profit, strict=True))]
    positions = np.arange(len(table))
    ax.barh(positions, profit, color=colors, alpha=0.9)
    ax.set_yticks(positions, [str(name) for name in table.index])
    ax.axvline(0, color="#444444", lw=1)
    span = float(np.nanmax(np.abs(profit))) if len(profit) else 1.0
    for y, (p, share) in enumerate(zip(profit, table.get("share_of_oracle", pd.Series(np.nan, index=table.index)),
                                       strict=True)):
        label = format_money(p, currency) + ("" if pd.isna(share) or p < 0 else f" ({format_share(share)} of oracle)")
        ax.text(p + (0.01 if p >= 0 else -0.01) * span, y, label, va="center", ha="left" if p >= 0 else "right",
                fontsize=8)
    ax.set_xlim(min(0.0, float(np.nanmin(profit))) - 0.05 * span, max(0.0, float(np.nanmax(profit))) + 0.45 * span)
    ax.set(xlabel=f"true incremental profit{f' ({currency})' if currency else ''}",
           title=title or "True incremental profit of each targeting policy")
    ax.grid(axis="y", visible=False)
    return ax


def plot_actions_by_segment(counts: pd.DataFrame, *, ax: Any = None, title: str | None = None) -> Any:
    """Stacked horizontal bars: customers per segment (rows of ``counts``) by planned action (columns)."""
    ax = axes_or_new(ax, (8.0, 0.4 * len(counts) + 1.6))
    left = np.zeros(len(counts))
    positions = np.arange(len(counts))
    for i, action in enumerate(counts.columns):
        widths = counts[action].to_numpy(dtype=float)
        ax.barh(positions, widths, left=left, label=str(action), color=OKABE_ITO[i % len(OKABE_ITO)])
        left += widths
    ax.set_yticks(positions, [str(s) for s in counts.index])
    ax.invert_yaxis()
    ax.set(xlabel="customers", title=title or "Planned action by segment")
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(axis="y", visible=False)
    return ax
