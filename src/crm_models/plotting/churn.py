"""Churn plots: ROC / PR, lift and gains, calibration, backtest over cutoffs, SHAP summary and waterfall.

matplotlib is imported inside each function; every function returns the ``Figure`` or ``Axes`` it drew on.
``scores`` arguments are ``{name: score_array}`` mappings (higher = more likely to churn), e.g.
``{"model": p, "recency": recency_rank, "BG/NBD": 1 - p_alive}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from crm_models.churn.decisions import TIERS
from crm_models.churn.metrics import calibration_table, gain_curve
from crm_models.churn.reasons import describe_feature
from crm_models.plotting.style import DIVERGING_CMAP, NEGATIVE, NEUTRAL, OKABE_ITO, POSITIVE

_COLORS = {
    "model": OKABE_ITO[0],
    "recency": OKABE_ITO[1],
    "bgnbd": OKABE_ITO[2],
    "BG/NBD": OKABE_ITO[2],
    "bgnbd_p0": OKABE_ITO[3],
    "BG/NBD P(no purchase)": OKABE_ITO[3],
}
_TIER_ORDER = {tier: rank for rank, tier in enumerate(TIERS)}
_METRIC_LABELS = {
    "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC (average precision)",
    "brier": "Brier score",
    "lift_top_decile": "lift in the top decile",
    "capture_top_decile": "share of churners in the top decile",
}


def _axes(ax: Any, ncols: int = 1, figsize: tuple[float, float] = (6.0, 4.5)) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    fig, axes = plt.subplots(1, ncols, figsize=figsize)
    return fig, axes


def plot_roc_pr(y: Any, scores: Mapping[str, Any], *, figsize: tuple[float, float] = (11.0, 4.5)) -> Any:
    """ROC and precision-recall curves of every scorer side by side; returns the Figure."""
    from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve

    fig, (ax_roc, ax_pr) = _axes(None, 2, figsize)
    y_arr = np.asarray(y)
    for name, score in scores.items():
        fpr, tpr, _ = roc_curve(y_arr, score)
        ax_roc.plot(fpr, tpr, label=f"{name} (AUC {auc(fpr, tpr):.3f})", color=_COLORS.get(name))
        precision, recall, _ = precision_recall_curve(y_arr, score)
        ap = average_precision_score(y_arr, score)
        ax_pr.plot(recall, precision, label=f"{name} (AP {ap:.3f})", color=_COLORS.get(name))
    ax_roc.plot([0, 1], [0, 1], ls=":", color="grey", lw=1)
    ax_roc.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC")
    ax_pr.axhline(y_arr.mean(), ls=":", color="grey", lw=1, label=f"base rate {y_arr.mean():.2f}")
    ax_pr.set(xlabel="recall (share of churners found)", ylabel="precision", title="Precision-recall")
    for ax in (ax_roc, ax_pr):
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def plot_lift_gain(y: Any, scores: Mapping[str, Any], *, figsize: tuple[float, float] = (11.0, 4.5)) -> Any:
    """Cumulative gains and lift by share of customers targeted; returns the Figure."""
    fig, (ax_gain, ax_lift) = _axes(None, 2, figsize)
    for name, score in scores.items():
        gains = gain_curve(y, score)
        ax_gain.plot(gains["share_targeted"], gains["share_captured"], label=name, color=_COLORS.get(name))
        keep = gains["share_targeted"] >= 0.02
        ax_lift.plot(
            gains.loc[keep, "share_targeted"], gains.loc[keep, "lift"], label=name, color=_COLORS.get(name)
        )
    ax_gain.plot([0, 1], [0, 1], ls=":", color="grey", lw=1, label="random")
    ax_gain.set(
        xlabel="share of customers targeted (highest risk first)",
        ylabel="share of churners captured",
        title="Cumulative gains",
    )
    ax_lift.axhline(1.0, ls=":", color="grey", lw=1)
    ax_lift.axvline(0.1, ls="--", color="grey", lw=0.8)
    ax_lift.set(xlabel="share of customers targeted", ylabel="lift over random", title="Lift")
    for ax in (ax_gain, ax_lift):
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def plot_calibration(y: Any, probas: Mapping[str, Any], *, n_bins: int = 10, ax: Any = None) -> Any:
    """Observed churn rate against mean predicted probability (equal-count bins); returns the Axes."""
    _, ax = _axes(ax)
    for name, proba in probas.items():
        table = calibration_table(y, proba, n_bins)
        ax.plot(
            table["mean_predicted"], table["observed_rate"], marker="o", label=name, color=_COLORS.get(name)
        )
    ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=1, label="perfectly calibrated")
    ax.set(
        xlabel="predicted churn probability",
        ylabel="observed churn rate",
        title="Calibration",
        xlim=(0, 1),
        ylim=(0, 1),
    )
    ax.legend(loc="best", fontsize=8)
    return ax


def plot_backtest(result: Any, metric: str = "roc_auc", *, ax: Any = None) -> Any:
    """A metric per cutoff for the model and the baselines of a ``BacktestResult``; returns the Axes."""
    _, ax = _axes(ax)
    table = result.compare(metric)
    for name in table.columns:
        ax.plot(table.index, table[name], marker="o", label=name, color=_COLORS.get(name))
    label = _METRIC_LABELS.get(metric, metric.replace("_", " "))
    ax.set(xlabel="cutoff", ylabel=label, title=f"Backtest: {label} by cutoff")
    ax.legend(loc="best", fontsize=8)
    ax.figure.autofmt_xdate()
    return ax


def plot_shap_summary(
    explanation: pd.DataFrame, X: pd.DataFrame, *, max_features: int = 12, ax: Any = None, seed: int = 0
) -> Any:
    """Beeswarm-style summary: each dot a customer, x = contribution to churn log-odds, colour = feature value.

    ``explanation`` is the output of ``ChurnModel.explain`` (feature columns are used), ``X`` the features.
    """
    import matplotlib.pyplot as plt

    features = [c for c in X.columns if c in explanation.columns]
    contrib = explanation[features]
    order = contrib.abs().mean().sort_values(ascending=False).index[:max_features][::-1]
    _, ax = _axes(ax, figsize=(7.5, 0.45 * len(order) + 1.5))
    rng = np.random.default_rng(seed)
    cmap = plt.get_cmap(DIVERGING_CMAP)
    for row, feature in enumerate(order):
        values = contrib[feature].to_numpy()
        colour = X[feature].rank(pct=True).fillna(0.5).to_numpy()
        jitter = rng.uniform(-0.3, 0.3, len(values))
        ax.scatter(values, row + jitter, c=cmap(colour), s=6, alpha=0.6, linewidths=0)
    ax.set_yticks(range(len(order)), labels=list(order))
    ax.axvline(0, color="grey", lw=0.8)
    ax.set(xlabel="contribution to churn log-odds (SHAP)", title="What drives churn risk")
    sm = plt.cm.ScalarMappable(cmap=cmap)
    bar = ax.figure.colorbar(sm, ax=ax, pad=0.01)
    bar.set_label("feature value (low -> high rank)")
    return ax


def plot_waterfall(
    explanation_row: pd.Series,
    x_row: pd.Series,
    *,
    max_features: int = 10,
    title: str | None = None,
    ax: Any = None,
) -> Any:
    """One customer's path from the average margin to their own: the largest contributions as bars.

    ``explanation_row`` is one row of ``ChurnModel.explain`` (contributions, ``base_value``, ``margin``);
    ``x_row`` the same customer's features (used for the labels, in words).
    """
    features = [c for c in x_row.index if c in explanation_row.index]
    contrib = explanation_row[features].astype(float)
    top = contrib.abs().sort_values(ascending=False).index[:max_features]
    rest = float(contrib.drop(top).sum())
    items = [(describe_feature(f, x_row[f]), float(contrib[f])) for f in top]
    if len(features) > len(top):
        items.append((f"{len(features) - len(top)} other features", rest))
    _, ax = _axes(ax, figsize=(8.0, 0.45 * len(items) + 1.8))
    start = float(explanation_row["base_value"])
    position = start
    reached = [start]
    for row, (label, value) in enumerate(items):
        ax.barh(row, value, left=position, color=NEGATIVE if value > 0 else POSITIVE)
        ax.text(
            position + value,
            row,
            f" {value:+.2f}",
            va="center",
            fontsize=8,
            ha="left" if value >= 0 else "right",
        )
        position += value
        reached.append(position)
    low, high = min(reached), max(reached)
    pad = 0.15 * max(high - low, 1e-6)  # room for the value labels at both ends
    ax.set_xlim(low - pad, high + pad)
    ax.set_yticks(range(len(items)), labels=[label for label, _ in items])
    ax.invert_yaxis()
    ax.axvline(start, color="grey", ls=":", lw=1)
    ax.axvline(position, color="black", ls="--", lw=1)
    ax.set_xlabel(f"churn log-odds: average {start:.2f} -> this customer {position:.2f}")
    ax.set_title(title or "Why this customer is at risk")
    return ax


def plot_risk_tiers(decisions: pd.DataFrame, *, currency: str = "", ax: Any = None) -> Any:
    """Customers and value at risk by risk tier (bars, low to high whether the tiers are categories or text);
    ``currency`` labels the value axis. Returns the Axes."""
    _, ax = _axes(ax)
    grouped = decisions.groupby("risk_tier", observed=False).agg(
        customers=("churn_probability", "size"), value_at_risk=("value_at_risk", "sum")
    )
    grouped = grouped.iloc[sorted(range(len(grouped)), key=lambda i: _tier_rank(grouped.index[i]))]
    positions = np.arange(len(grouped))
    ax.bar(positions - 0.2, grouped["customers"], width=0.4, label="customers", color=NEUTRAL)
    twin = ax.twinx()
    twin.bar(positions + 0.2, grouped["value_at_risk"], width=0.4, label="value at risk", color=NEGATIVE)
    ax.set_xticks(positions, labels=[str(t) for t in grouped.index])
    ax.set(ylabel="customers", title="Risk tiers")
    twin.set_ylabel(f"value at risk ({currency})" if currency else "value at risk")
    handles = ax.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    ax.legend(handles, ["customers", "value at risk"], loc="upper right", fontsize=8, framealpha=0.9)
    return ax


def _tier_rank(tier: Any) -> int:
    """Position of a risk tier from low to high; unknown tiers last."""
    return _TIER_ORDER.get(str(tier), len(_TIER_ORDER))
