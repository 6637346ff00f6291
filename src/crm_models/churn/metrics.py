"""Pure metric functions for churn scores: ROC/PR AUC, Brier, lift and capture, gains, calibration."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd


def _arrays(y: Any, score: Any) -> tuple[np.ndarray, np.ndarray]:
    y_arr = np.asarray(y, dtype=float)
    s_arr = np.asarray(score, dtype=float)
    if y_arr.shape != s_arr.shape or y_arr.ndim != 1:
        raise ValueError(f"y and score must be 1-d and of equal length, got {y_arr.shape} and {s_arr.shape}")
    if np.isnan(s_arr).any():
        raise ValueError("score has missing values")
    return y_arr, s_arr


def _top_k_order(score: np.ndarray) -> np.ndarray:
    """Indices from highest to lowest score; ties keep their input order (stable, deterministic)."""
    return np.argsort(-score, kind="stable")


def _tie_shared_hits(y: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Expected churners among the top ``k`` rows for ``k = 1..n`` when tied scores share credit.

    Rows with equal scores form a group; targeting part of a group takes that share of the group's
    churners (the expectation over every order of the tied rows), so the result does not depend on row
    order: the convention of ``crm_models.uplift`` metrics for tied scores.
    """
    order = _top_k_order(score)
    s_sorted = score[order]
    y_sorted = y[order]
    n = len(y_sorted)
    if n == 0:
        return np.zeros(0)
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
    ends = np.r_[starts[1:], n]
    group_hits = np.add.reduceat(y_sorted, starts)
    before = np.r_[0.0, np.cumsum(group_hits)[:-1]]
    group = np.repeat(np.arange(len(starts)), ends - starts)
    position = np.arange(1, n + 1)
    taken = (position - starts[group]) / (ends - starts)[group]
    return before[group] + taken * group_hits[group]


def lift_and_capture(y: Any, score: Any, fraction: float = 0.1) -> tuple[float, float]:
    """Lift (churn rate in the top ``fraction`` / overall rate) and capture (share of churners found).

    Tied scores share credit: when the top ``k = ceil(n * fraction)`` rows cut through a group of equal
    scores, the group contributes its churn rate times the number of its rows taken, so the result is the
    same for every order of the rows (all scores tied gives lift 1).
    """
    y_arr, s_arr = _arrays(y, score)
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    n = len(y_arr)
    total = y_arr.sum()
    if n == 0 or total == 0:
        return float("nan"), float("nan")
    k = max(1, math.ceil(n * fraction))
    hits = float(_tie_shared_hits(y_arr, s_arr)[k - 1])
    rate_top = hits / k
    rate_all = total / n
    return float(rate_top / rate_all), float(hits / total)


def gain_curve(y: Any, score: Any) -> pd.DataFrame:
    """Cumulative gains: share targeted (highest scores first) vs share of churners captured, and lift.

    Tied scores share credit (see :func:`lift_and_capture`): within a group of equal scores the curve is
    a straight line, whatever the row order.
    """
    y_arr, s_arr = _arrays(y, score)
    hits = _tie_shared_hits(y_arr, s_arr)
    n = len(y_arr)
    targeted = np.arange(1, n + 1) / n
    total = max(hits[-1], 1e-12) if n else 1.0
    captured = hits / total
    frame = pd.DataFrame({"share_targeted": targeted, "share_captured": captured})
    frame["lift"] = frame["share_captured"] / frame["share_targeted"]
    return pd.concat(
        [pd.DataFrame({"share_targeted": [0.0], "share_captured": [0.0], "lift": [np.nan]}), frame],
        ignore_index=True,
    )


def calibration_table(y: Any, proba: Any, n_bins: int = 10) -> pd.DataFrame:
    """Observed churn rate vs mean predicted probability in ``n_bins`` equal-count bins."""
    y_arr, p_arr = _arrays(y, proba)
    if len(y_arr) == 0:
        return pd.DataFrame(columns=["bin", "n", "mean_predicted", "observed_rate", "p_low", "p_high"])
    order = np.argsort(p_arr, kind="stable")
    bins = np.empty(len(p_arr), dtype=int)
    bins[order] = np.minimum((np.arange(len(p_arr)) * n_bins) // len(p_arr), n_bins - 1)
    frame = pd.DataFrame({"bin": bins, "y": y_arr, "p": p_arr})
    table = frame.groupby("bin").agg(
        n=("y", "size"),
        mean_predicted=("p", "mean"),
        observed_rate=("y", "mean"),
        p_low=("p", "min"),
        p_high=("p", "max"),
    )
    return table.reset_index()


def expected_calibration_error(y: Any, proba: Any, n_bins: int = 10) -> float:
    """Count-weighted mean absolute gap between predicted and observed rates over the calibration bins."""
    table = calibration_table(y, proba, n_bins)
    if table.empty:
        return float("nan")
    gap = (table["mean_predicted"] - table["observed_rate"]).abs()
    return float((gap * table["n"]).sum() / table["n"].sum())


def churn_scores(y: Any, score: Any, proba: Any = None, fraction: float = 0.1) -> dict[str, float]:
    """ROC AUC, PR AUC (average precision), Brier (when ``proba`` is given), lift and capture at ``fraction``."""
    from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score

    y_arr, s_arr = _arrays(y, score)
    both = 0 < y_arr.sum() < len(y_arr)
    lift, capture = lift_and_capture(y_arr, s_arr, fraction)
    out = {
        "roc_auc": float(roc_auc_score(y_arr, s_arr)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y_arr, s_arr)) if both else float("nan"),
        "brier": float("nan"),
        "lift_top_decile": lift,
        "capture_top_decile": capture,
    }
    if proba is not None:
        p = np.asarray(proba, dtype=float)
        out["brier"] = float(brier_score_loss(y_arr, p))
        out["ece"] = expected_calibration_error(y_arr, p)
    else:
        out["ece"] = float("nan")
    return out
