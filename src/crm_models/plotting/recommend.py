"""Recommendation plots: the evaluation table against popularity, and the strongest association rules.

matplotlib is imported inside each function; every function returns the ``Axes`` it drew on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crm_models.plotting.style import NEUTRAL, OKABE_ITO, axes_or_new


def plot_evaluation(table: pd.DataFrame, *, metrics: Sequence[str] = ("precision", "recall", "ndcg", "hit_rate"),
                    k: int = 10, ax: Any = None) -> Any:
    """Grouped bars of each model's metrics (rows of ``EvaluationResult.table``), models in the table's order."""
    from crm_models.recommend.evaluation import METRIC_LABELS

    ax = axes_or_new(ax, (8.0, 4.0))
    models = list(table.index)
    width = 0.8 / max(len(models), 1)
    x = np.arange(len(metrics))
    for i, model in enumerate(models):
        values = table.loc[model, list(metrics)].to_numpy(dtype=float)
        bars = ax.bar(x + (i - (len(models) - 1) / 2) * width, values, width,
                      color=NEUTRAL if i == 0 else OKABE_ITO[(i - 1) % len(OKABE_ITO)], label=str(model))
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=7, padding=1)
    ax.set_xticks(x, [METRIC_LABELS[m].replace("@k", f"@{k}") for m in metrics])
    ax.set(ylabel="share (higher is better)", title=f"Next-product recommendations: top {k} against what customers bought")
    ax.legend(loc="best", fontsize=8)
    return ax


def plot_top_rules(rules: pd.DataFrame, labels: Any = None, *, top: int = 12, ax: Any = None) -> Any:
    """Horizontal bars of lift for the ``top`` rules, labelled "A -> B", annotated with their confidence."""
    from crm_models.recommend.affinity import rule_label

    shown = rules.head(int(top)).iloc[::-1]
    ax = axes_or_new(ax, (8.0, 0.4 * max(len(shown), 3) + 1.0))
    names = [rule_label(a, c, labels) for a, c in zip(shown["antecedents"], shown["consequents"], strict=True)]
    bars = ax.barh(np.arange(len(shown)), shown["lift"].to_numpy(dtype=float), color=OKABE_ITO[0])
    ax.bar_label(bars, labels=[f"{c:.0%} of orders" for c in shown["confidence"]], fontsize=7, padding=2)
    ax.set_yticks(np.arange(len(shown)), names, fontsize=8)
    ax.set(xlabel="lift (times as often as overall)", title="Products bought together")
    return ax
