"""Uplift evaluation metrics as pure functions of ``(y, uplift, treatment)``.

Conventions (identical to scikit-uplift 0.5's ``sklift.metrics`` for binary outcomes and untied scores):

* ``treatment`` is coded 0 (control) / 1 (treated); anything else raises :class:`DataContractError`. For several
  arms, evaluate each arm against control on the rows of that arm and the control group.
* Units are ranked by decreasing predicted uplift. **Ties are handled as blocks**: curves are evaluated only at
  the ends of blocks of equal scores (straight lines in between), so no result depends on the order of the
  rows. (scikit-uplift does the same for its curves but not for ``uplift_at_k``/``uplift_by_percentile``,
  which cut through tied blocks in row order; here a cut through a block takes the block's rows with a
  fractional weight, which equals scikit-uplift's result whenever the cut does not split a tie.)
* **Uplift curve** (Rzepakowski & Jaroszewicz 2012; Devriendt et al. 2020) at the top ``n`` units:
  ``(Y_t(n)/N_t(n) - Y_c(n)/N_c(n)) * n`` where ``Y_g(n)``/``N_g(n)`` are the summed outcomes/counts of group
  ``g`` among the top ``n`` (a term is 0 while its group is empty).
* **Qini curve** (Radcliffe 2007): ``Y_t(n) - Y_c(n) * N_t(n) / N_c(n)`` (``Y_t(n)`` while ``N_c(n) = 0``).
  Both curves start at ``(0, 0)`` and the x axis counts units (not a fraction).
* **Normalised areas**: ``(AUC(model) - AUC(random)) / (AUC(perfect) - AUC(random))`` with trapezoidal areas, the
  random curve the straight line from ``(0, 0)`` to the curve's end point, and the perfect curve the curve of
  the best possible ranking of the observed data. For the Qini (``negative_effect=True``) that ranking puts
  treated responders first and control responders last; ``negative_effect=False`` uses Radcliffe's
  3-point optimum (no "sleeping dogs"). For the uplift curve the perfect ranking is scikit-uplift's
  ``2 * (y == t) + (y if control responders > treated non-responders else t)``. So 0 is random, 1 is perfect
  and a negative score is worse than random. (causalml's AUUC, by contrast, is 0.5 for random.)
* Continuous outcomes (spend) work in the same formulas; the perfect ranking is then ``y * (2t - 1)`` for both
  curves (an extension; scikit-uplift only accepts binary outcomes). Every normalised score is then a ratio of
  areas that all scale with the outcome, so it does not depend on its unit (dollars or cents). Radcliffe's
  3-point optimum (``negative_effect=False``) places its kink at a *count* of persuadable units, which has no
  meaning for a continuous outcome: it raises there instead of mixing money with units.

References
----------
Radcliffe, N. J. (2007). Using control groups to target on predicted lift: building and assessing uplift
models. *Direct Marketing Analytics Journal* 1, 14-21.
Gutierrez, P. & Gérardy, J.-Y. (2017). Causal inference and uplift modelling: a review of the literature.
*PMLR* 67, 1-13.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crm_models.exceptions import DataContractError
from crm_models.uplift._base import check_binary_treatment, check_outcome

__all__ = [
    "NullBand",
    "bootstrap_metric",
    "perfect_qini_curve",
    "perfect_uplift_curve",
    "permutation_null",
    "qini_auc_score",
    "qini_curve",
    "scores_by_arm",
    "uplift_at_k",
    "uplift_auc_score",
    "uplift_by_decile",
    "uplift_curve",
]


def _check(y: Any, uplift: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, bool]:
    ya, binary = check_outcome(y, name="y_true")
    t = check_binary_treatment(treatment)
    u = np.asarray(uplift, dtype=float)
    if u.ndim != 1:
        raise DataContractError("uplift must be one score per unit (1-D); for several arms pass one column at "
                                "a time", column="uplift", rule="1-D array")
    if not (ya.size == u.size == t.size):
        raise DataContractError(f"inconsistent lengths: y {ya.size}, uplift {u.size}, treatment {t.size}",
                                column="uplift", rule="same length")
    if ya.size == 0:
        raise DataContractError("no units to evaluate", column="y_true", rule="n > 0")
    if not np.isfinite(u).all():
        raise DataContractError("uplift scores must be finite", column="uplift", rule="finite",
                                examples=list(np.flatnonzero(~np.isfinite(u))[:5]))
    if t.min() == t.max():
        raise DataContractError("both a treated and a control unit are needed", column="treatment",
                                rule="both groups present", examples=[int(t[0])])
    return ya, u, t, binary


@dataclass(frozen=True)
class _Blocks:
    """Cumulative group sums at the end of each block of tied scores (ranked by decreasing score)."""

    n: np.ndarray  # units among the top blocks
    n_t: np.ndarray
    n_c: np.ndarray
    y_t: np.ndarray
    y_c: np.ndarray
    score: np.ndarray  # score of each block


def _blocks(y: np.ndarray, u: np.ndarray, t: np.ndarray) -> _Blocks:
    # only sums at block ends are used, so the order inside a block of ties never matters and the faster
    # unstable sort is safe (for a continuous outcome the sums may differ in the last bit, nothing more)
    order = np.argsort(-u)
    us, ys, ts = u[order], y[order], t[order]
    ends = np.r_[np.flatnonzero(np.diff(us) != 0), us.size - 1]
    cum_t = np.cumsum(ts)
    cum_yt = np.cumsum(ys * ts)
    cum_yc = np.cumsum(ys * (1 - ts))
    n = ends + 1
    n_t = cum_t[ends].astype(float)
    return _Blocks(n.astype(float), n_t, n - n_t, cum_yt[ends], cum_yc[ends], us[ends])


def _blocks_discrete(y: np.ndarray, t: np.ndarray, level: np.ndarray, n_levels: int) -> _Blocks:
    """Same as :func:`_blocks` for a score with few integer levels (0 = best), by counting instead of sorting."""
    cnt = np.bincount(level, minlength=n_levels).astype(float)
    cnt_t = np.bincount(level, weights=t.astype(float), minlength=n_levels)
    sum_t = np.bincount(level, weights=y * t, minlength=n_levels)
    sum_c = np.bincount(level, weights=y * (1 - t), minlength=n_levels)
    keep = cnt > 0
    n, n_t = np.cumsum(cnt)[keep], np.cumsum(cnt_t)[keep]
    return _Blocks(n, n_t, n - n_t, np.cumsum(sum_t)[keep], np.cumsum(sum_c)[keep],
                   -np.arange(n_levels, dtype=float)[keep])


def _safe_div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.divide(a, b, out=np.zeros_like(a, dtype=float), where=b != 0)


def _uplift_values(b: _Blocks) -> np.ndarray:
    return (_safe_div(b.y_t, b.n_t) - _safe_div(b.y_c, b.n_c)) * b.n


def _qini_values(b: _Blocks) -> np.ndarray:
    return b.y_t - b.y_c * _safe_div(b.n_t, b.n_c)


def _uplift_points(y: np.ndarray, u: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    b = _blocks(y, u, t)
    return np.r_[0.0, b.n], np.r_[0.0, _uplift_values(b)]


def _qini_points(y: np.ndarray, u: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    b = _blocks(y, u, t)
    return np.r_[0.0, b.n], np.r_[0.0, _qini_values(b)]


def uplift_curve(y_true: Any, uplift: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    """Points ``(n, uplift curve)`` at the end of each block of tied scores, starting at ``(0, 0)``.

    Examples
    --------
    >>> x, v = uplift_curve([1, 0, 1, 0], [0.9, 0.8, 0.2, 0.1], [1, 0, 0, 1])
    >>> x.tolist(), v.tolist()
    ([0.0, 1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 2.0, 1.5, 0.0])
    """
    y, u, t, _ = _check(y_true, uplift, treatment)
    return _uplift_points(y, u, t)


def qini_curve(y_true: Any, uplift: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    """Points ``(n, Qini curve)`` at the end of each block of tied scores, starting at ``(0, 0)`` (Radcliffe 2007).

    Examples
    --------
    >>> x, v = qini_curve([1, 0, 1, 0], [0.9, 0.8, 0.2, 0.1], [1, 0, 0, 1])
    >>> v.tolist()
    [0.0, 1.0, 1.0, 0.5, 0.0]
    """
    y, u, t, _ = _check(y_true, uplift, treatment)
    return _qini_points(y, u, t)


def _perfect_uplift_score(y: np.ndarray, t: np.ndarray, binary: bool) -> np.ndarray:
    if not binary:
        return y * (2 * t - 1)
    control_responders = np.sum((y == 1) & (t == 0))
    treated_non_responders = np.sum((y == 0) & (t == 1))
    summand = y if control_responders > treated_non_responders else t
    return 2.0 * (y == t) + summand


def _perfect_qini_points(y: np.ndarray, t: np.ndarray, negative_effect: bool,
                         binary: bool = False) -> tuple[np.ndarray, np.ndarray]:
    if not isinstance(negative_effect, bool):
        raise TypeError(f"negative_effect must be bool, got {type(negative_effect).__name__}")
    if not negative_effect and not binary:
        raise DataContractError(
            "negative_effect=False (Radcliffe's 3-point optimum, whose kink sits at the number of persuadable "
            "units) is only defined for a binary 0/1 outcome; for a continuous outcome use "
            "negative_effect=True, whose perfect ranking scales with the outcome's unit",
            column="y_true", rule="values in {0, 1} when negative_effect=False",
            examples=list(np.unique(y[~np.isin(y, (0.0, 1.0))])[:5]))
    if negative_effect:
        if binary:  # score y*t - y*(1-t) has three levels: 1 (treated responders), 0, -1 (control responders)
            level = (1 - y * t + y * (1 - t)).astype(np.intp)
            b = _blocks_discrete(y, t, level, 3)
            return np.r_[0.0, b.n], np.r_[0.0, _qini_values(b)]
        return _qini_points(y, y * t - y * (1 - t), t)
    n = float(y.size)
    overall = y[t == 1].sum() - (t == 1).sum() * y[t == 0].sum() / (t == 0).sum()
    # the kink sits at x = number of persuadables (scikit-uplift's definition); a negative overall effect has
    # none, where scikit-uplift fails on a non-monotone x axis we start the plateau at 0
    return np.array([0.0, max(overall, 0.0), n]), np.array([0.0, overall, overall])


def _perfect_uplift_points(y: np.ndarray, t: np.ndarray, binary: bool) -> tuple[np.ndarray, np.ndarray]:
    score = _perfect_uplift_score(y, t, binary)
    if binary:  # integer score in {0, 1, 2, 3}: count instead of sorting
        b = _blocks_discrete(y, t, (3 - score).astype(np.intp), 4)
        return np.r_[0.0, b.n], np.r_[0.0, _uplift_values(b)]
    return _uplift_points(y, score, t)


def perfect_uplift_curve(y_true: Any, treatment: Any) -> tuple[np.ndarray, np.ndarray]:
    """Uplift curve of the best possible ranking of the observed data (see the module docstring)."""
    y, _, t, binary = _check(y_true, np.zeros(np.size(y_true)), treatment)
    return _perfect_uplift_points(y, t, binary)


def perfect_qini_curve(y_true: Any, treatment: Any, negative_effect: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Qini curve of the best possible ranking; ``negative_effect=False`` gives Radcliffe's 3-point optimum."""
    y, _, t, binary = _check(y_true, np.zeros(np.size(y_true)), treatment)
    return _perfect_qini_points(y, t, negative_effect, binary)


def _area(x: np.ndarray, v: np.ndarray) -> float:
    return float(np.trapezoid(v, x))


def _normalised(x: np.ndarray, v: np.ndarray, xp: np.ndarray, vp: np.ndarray) -> float:
    base = _area(np.array([0.0, xp[-1]]), np.array([0.0, vp[-1]]))
    denom = _area(xp, vp) - base
    if denom == 0:
        return float("nan")
    return (_area(x, v) - base) / denom


def uplift_auc_score(y_true: Any, uplift: Any, treatment: Any) -> float:
    """Normalised area under the uplift curve: 0 for random, 1 for the perfect ranking."""
    y, u, t, binary = _check(y_true, uplift, treatment)
    x, v = _uplift_points(y, u, t)
    xp, vp = _perfect_uplift_points(y, t, binary)
    return _normalised(x, v, xp, vp)


def qini_auc_score(y_true: Any, uplift: Any, treatment: Any, negative_effect: bool = True) -> float:
    """Normalised area under the Qini curve (the Qini coefficient of Radcliffe 2007): 0 random, 1 perfect."""
    y, u, t, binary = _check(y_true, uplift, treatment)
    x, v = _qini_points(y, u, t)
    xp, vp = _perfect_qini_points(y, t, negative_effect, binary)
    return _normalised(x, v, xp, vp)


def _top_weights(u: np.ndarray, k: int) -> np.ndarray:
    """Weight 1 for the top-``k`` units by score, fractional for a tied block that the cut splits."""
    w = np.zeros(u.size)
    if k <= 0:
        return w
    order = np.argsort(-u, kind="stable")
    us = u[order]
    if k >= u.size:
        return np.ones(u.size)
    cut = us[k - 1]
    above = u > cut
    tied = u == cut
    w[above] = 1.0
    w[tied] = (k - above.sum()) / tied.sum()
    return w


def _k_size(k: float, n: int) -> int:
    kind = np.asarray(k).dtype.kind
    if kind == "i":
        if k <= 0 or k >= n:
            raise ValueError(f"k={k} must be positive and smaller than the number of units {n}")
        return int(k)
    if kind == "f":
        if not 0 < k < 1:
            raise ValueError(f"k={k} must be a share in (0, 1)")
        return int(n * k)
    raise ValueError(f"k must be an int or a float, got {type(k).__name__}")


def uplift_at_k(y_true: Any, uplift: Any, treatment: Any, k: float = 0.3,
                strategy: str = "overall") -> float:
    """Uplift (treated mean minus control mean) among the top ``k`` units by predicted uplift.

    ``strategy="overall"`` takes the top ``k`` (a share or a count) of all units and compares the groups
    inside it; ``strategy="by_group"`` takes the top ``k`` of each group separately. Ties at the cut enter
    with a fractional weight (row-order invariant).
    """
    y, u, t, _ = _check(y_true, uplift, treatment)
    if strategy == "overall":
        w = _top_weights(u, _k_size(k, y.size))
        wt, wc = w * (t == 1), w * (t == 0)
    elif strategy == "by_group":
        wt, wc = np.zeros(y.size), np.zeros(y.size)
        for g, target in ((1, wt), (0, wc)):
            m = t == g
            kind = np.asarray(k).dtype.kind
            if kind not in ("i", "f"):
                raise ValueError(f"k must be an int or a float, got {type(k).__name__}")
            if kind == "i" and k <= 0:
                raise ValueError(f"k={k} must be positive")
            if kind == "f" and not 0 < k < 1:
                raise ValueError(f"k={k} must be a share in (0, 1)")
            size = int(m.sum() * k) if kind == "f" else int(k)
            if size > m.sum():
                raise ValueError(f"k={k} exceeds the {int(m.sum())} units of group {g}")
            target[m] = _top_weights(u[m], size)
    else:
        raise ValueError(f"strategy must be 'overall' or 'by_group', got {strategy!r}")
    if wt.sum() == 0 or wc.sum() == 0:
        return float("nan")
    return float((wt * y).sum() / wt.sum() - (wc * y).sum() / wc.sum())


def _decile_of(u: np.ndarray, bins: int) -> np.ndarray:
    """Bin 0..bins-1 (0 = highest scores) from the midpoint rank of each tied block (row-order invariant)."""
    order = np.argsort(-u, kind="stable")
    us = u[order]
    ends = np.r_[np.flatnonzero(np.diff(us) != 0), us.size - 1]
    starts = np.r_[0, ends[:-1] + 1]
    mid = 0.5 * (starts + ends + 1)
    block_bin = np.minimum((mid / us.size * bins).astype(int), bins - 1)
    sorted_bin = np.repeat(block_bin, ends - starts + 1)
    out = np.empty(u.size, dtype=int)
    out[order] = sorted_bin
    return out


def uplift_by_decile(y_true: Any, uplift: Any, treatment: Any, bins: int = 10, alpha: float = 0.05) -> pd.DataFrame:
    """Observed uplift per bin of predicted uplift (bin 1 = highest predictions), with standard errors.

    ``std_err = sqrt(var_t / n_t + var_c / n_c)`` with population variances (``p (1 - p) / n`` for a binary
    outcome, as in scikit-uplift's ``uplift_by_percentile``); normal ``1 - alpha`` intervals. Tied scores
    always fall into the same bin, so bins can be unequal when there are many ties.
    """
    from scipy import stats

    y, u, t, _ = _check(y_true, uplift, treatment)
    if bins < 1 or bins > y.size:
        raise ValueError(f"bins must be between 1 and the number of units, got {bins}")
    b = _decile_of(u, bins)
    z = float(stats.norm.ppf(1 - alpha / 2))
    rows = []
    for j in range(bins):
        m = b == j
        mt, mc = m & (t == 1), m & (t == 0)
        nt, nc = int(mt.sum()), int(mc.sum())
        rt = float(y[mt].mean()) if nt else np.nan
        rc = float(y[mc].mean()) if nc else np.nan
        vt = float(y[mt].var()) if nt else np.nan
        vc = float(y[mc].var()) if nc else np.nan
        se = float(np.sqrt(vt / nt + vc / nc)) if nt and nc else np.nan
        upl = rt - rc
        rows.append({"bin": j + 1, "n": int(m.sum()), "n_treatment": nt, "n_control": nc,
                     "mean_predicted_uplift": float(u[m].mean()) if m.any() else np.nan,
                     "response_treatment": rt, "response_control": rc, "uplift": upl, "std_err": se,
                     "ci_low": upl - z * se, "ci_high": upl + z * se})
    return pd.DataFrame(rows)


def bootstrap_metric(metric: Callable[..., float], y_true: Any, uplift: Any, treatment: Any, *,
                     n_boot: int = 200, alpha: float = 0.05, rng: np.random.Generator | int | None = 0,
                     **kwargs: Any) -> dict[str, Any]:
    """Percentile bootstrap interval of ``metric(y, uplift, treatment, **kwargs)``.

    Units are resampled with replacement within the treated and the control group (stratified, so every
    replicate keeps the group sizes). Returns ``estimate``, ``ci_low``, ``ci_high``, ``std_err`` and
    the replicate values ``samples``.
    """
    y, u, t, _ = _check(y_true, uplift, treatment)
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    idx_t, idx_c = np.flatnonzero(t == 1), np.flatnonzero(t == 0)
    est = float(metric(y, u, t, **kwargs))
    samples = np.empty(n_boot)
    for i in range(n_boot):
        idx = np.r_[gen.choice(idx_t, idx_t.size), gen.choice(idx_c, idx_c.size)]
        samples[i] = metric(y[idx], u[idx], t[idx], **kwargs)
    lo, hi = np.nanquantile(samples, [alpha / 2, 1 - alpha / 2])
    return {"estimate": est, "ci_low": float(lo), "ci_high": float(hi), "std_err": float(np.nanstd(samples)),
            "samples": samples}


@dataclass(frozen=True)
class NullBand:
    """Permutation null of a metric and of its curve: what a model with no information would score.

    ``grid`` is the share of units targeted; ``curve`` the observed curve on that grid; ``low``/``high``
    the pointwise ``alpha/2`` and ``1 - alpha/2`` quantiles of the curves of permuted scores; ``alpha`` the
    level they were computed at (also the level of :attr:`beats_random`).
    """

    score: float
    null_scores: np.ndarray
    p_value: float
    grid: np.ndarray
    curve: np.ndarray
    low: np.ndarray
    high: np.ndarray
    kind: str
    alpha: float = 0.05

    @property
    def beats_random(self) -> bool:
        """True when the observed score exceeds the upper ``1 - alpha/2`` quantile of the null scores."""
        return bool(self.score > np.quantile(self.null_scores, 1 - self.alpha / 2))


def permutation_null(y_true: Any, uplift: Any, treatment: Any, *, kind: str = "qini", n_perm: int = 200,
                     alpha: float = 0.05, grid_size: int = 101, rng: np.random.Generator | int | None = 0,
                     ) -> NullBand:
    """Permutation null band: shuffle the scores against the units ``n_perm`` times.

    A model whose ranking carries no information about the effect scores like the shuffled ones; the
    p-value is ``(1 + #{null >= observed}) / (1 + n_perm)``. ``kind`` is ``"qini"`` or ``"uplift"``.
    """
    y, u, t, _ = _check(y_true, uplift, treatment)
    if kind == "qini":
        curve_fn, score_fn = qini_curve, qini_auc_score
    elif kind == "uplift":
        curve_fn, score_fn = uplift_curve, uplift_auc_score
    else:
        raise ValueError(f"kind must be 'qini' or 'uplift', got {kind!r}")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    grid = np.linspace(0.0, 1.0, grid_size)
    n = float(y.size)
    x, v = curve_fn(y, u, t)
    observed_curve = np.interp(grid, x / n, v)
    score = score_fn(y, u, t)
    curves = np.empty((n_perm, grid_size))
    scores = np.empty(n_perm)
    for i in range(n_perm):
        up = gen.permutation(u)
        xp, vp = curve_fn(y, up, t)
        curves[i] = np.interp(grid, xp / n, vp)
        scores[i] = score_fn(y, up, t)
    low, high = np.quantile(curves, [alpha / 2, 1 - alpha / 2], axis=0)
    p = float((1 + np.sum(scores >= score)) / (1 + n_perm))
    return NullBand(float(score), scores, p, grid, observed_curve, low, high, kind, float(alpha))


def scores_by_arm(y_true: Any, uplift: pd.DataFrame | np.ndarray, treatment: Any, *, control: Any = 0,
                  arms: list | None = None, k: float = 0.3) -> pd.DataFrame:
    """Qini, AUUC and uplift@k for each treatment arm of a multi-arm model, each arm against control.

    ``uplift`` has one column per arm (``predict_frame`` output, or an array with ``arms`` naming columns).
    """
    frame = uplift if isinstance(uplift, pd.DataFrame) else pd.DataFrame(np.asarray(uplift),
                                                                        columns=arms)
    t = np.asarray(treatment)
    y = np.asarray(y_true, dtype=float)
    rows = []
    for col in frame.columns:
        arm = next((a for a in pd.unique(t) if str(a) == str(col)), None)
        if arm is None:
            raise DataContractError(f"no unit has treatment label {col!r}", column="treatment",
                                    rule="one uplift column per treatment arm", examples=list(pd.unique(t))[:5])
        m = (t == arm) | (t == control)
        tt = (t[m] == arm).astype(int)
        u = frame[col].to_numpy(dtype=float)[m]
        rows.append({"arm": str(col), "qini_auc": qini_auc_score(y[m], u, tt),
                     "uplift_auc": uplift_auc_score(y[m], u, tt), f"uplift_at_{k:g}": uplift_at_k(y[m], u, tt, k)})
    return pd.DataFrame(rows)
