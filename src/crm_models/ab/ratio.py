"""Ratio metrics (a sum over a sum: revenue per order, items per order) and cluster-randomised means.

**Delta method.** A ratio metric in an arm is ``R = sum_i X_i / sum_i Y_i = mean(X) / mean(Y)`` over the
*randomisation units* ``i`` (customers, or households when households were randomised). Orders of one customer
are not independent, so the variance is computed over units, by the first-order Taylor expansion of
``f(mu_X, mu_Y) = mu_X / mu_Y`` (Deng, Knoblich & Lu 2018, "Applying the Delta method in metric analytics",
KDD 2018, section 2 and the ratio-metric example of section 3):

    Var(R) ~= (1/n) (s_X^2 / mu_Y^2 - 2 mu_X s_XY / mu_Y^3 + mu_X^2 s_Y^2 / mu_Y^4)

which equals ``Var(l) / n`` for the *linearised* unit values ``l_i = (X_i - R Y_i) / mean(Y)``; the code uses
that form. The difference of two arms' ratios has variance ``Var(R_t) + Var(R_c)`` (independent arms) and the
relative lift ``R_t / R_c - 1`` the delta-method variance ``Var(R_t)/R_c^2 + R_t^2 Var(R_c)/R_c^4``. Intervals
are normal (z), as the method is asymptotic.

**Clusters.** When randomisation was by cluster (household, store) the independent units are the clusters: the
numerator and denominator are summed per cluster and the same formula runs over clusters (the cluster-robust,
"CR" sandwich variance of a ratio estimator; a plain mean is the ratio with ``Y_i = 1`` per unit, so clustered
means use the same code). With positively correlated units inside a cluster this standard error is wider than
the unit-level one, as it should be.

**CUPED for ratios.** With a pre-period numerator and denominator per unit, the pre-period ratio ``R'`` is
linearised the same way (``l'_i``); since the pre-period is measured before assignment, ``E[R'_t - R'_c] = 0``
and ``(R_t - R_c) - theta (R'_t - R'_c)`` is unbiased for any ``theta``. ``theta`` minimises its delta-method
variance, ``theta = [cov_t(l, l')/n_t + cov_c(l, l')/n_c] / [var_t(l')/n_t + var_c(l')/n_c]``
(CUPED: Deng, Xu, Kohavi & Walker 2013, eq. 4, applied to the linearised values as Deng et al. 2018 apply the
delta method to CUPED-adjusted metrics). Its variance is ``var_t(l - theta l')/n_t + var_c(l - theta l')/n_c``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from crm_models.ab._readout import add_adjusted_p_values, arms_and_control, require_columns, require_finite
from crm_models.ab.effects import Effect
from crm_models.exceptions import DataContractError

__all__ = ["RatioArm", "analyze_ratios", "ratio_arm", "ratio_effect"]


@dataclass(frozen=True)
class RatioArm:
    """One arm's ratio ``sum(numerator) / sum(denominator)`` with its delta-method variance.

    ``linearised`` holds ``l_i = (X_i - R Y_i) / mean(Y)`` per independent unit (cluster when clustered), the
    values whose variance over ``n_independent`` gives ``variance``.
    """

    ratio: float
    variance: float
    n_units: int
    n_independent: int
    linearised: np.ndarray


def ratio_arm(numerator: np.ndarray, denominator: np.ndarray, cluster: np.ndarray | None = None) -> RatioArm:
    """The ratio of sums in one arm and its delta-method variance (Deng et al. 2018), by cluster if given.

    >>> arm = ratio_arm([30.0, 0.0, 50.0], [2.0, 0.0, 1.0])  # revenue and orders of three customers
    >>> round(arm.ratio, 4), arm.n_independent
    (26.6667, 3)
    >>> ratio_arm([30.0, 0.0, 50.0], [2.0, 0.0, 1.0], cluster=["h1", "h1", "h2"]).n_independent
    2
    """
    x = np.asarray(numerator, dtype=float)
    y = np.asarray(denominator, dtype=float)
    n_units = x.size
    if cluster is not None:
        codes, _ = pd.factorize(pd.Series(np.asarray(cluster)), use_na_sentinel=False)
        k = int(codes.max()) + 1 if codes.size else 0
        x = np.bincount(codes, weights=x, minlength=k)
        y = np.bincount(codes, weights=y, minlength=k)
    n = x.size
    mean_y = float(y.mean()) if n else 0.0
    if n < 2 or mean_y == 0:
        return RatioArm(np.nan, np.nan, n_units, n, np.full(n, np.nan))
    ratio = float(x.mean() / mean_y)
    lin = (x - ratio * y) / mean_y
    return RatioArm(ratio, float(lin.var(ddof=1) / n), n_units, n, lin)


def _z(alpha: float) -> float:
    return float(stats.norm.ppf(1 - alpha / 2))


def _normal_effect(rc: float, rt: float, nc: int, nt: int, var: float, alpha: float, method: str) -> Effect:
    diff = rt - rc
    se = float(np.sqrt(var)) if np.isfinite(var) and var >= 0 else np.nan
    if not np.isfinite(diff) or not np.isfinite(se):
        return Effect(rc, rt, nc, nt, diff, se, np.nan, np.nan, np.nan, method)
    if se == 0:
        return Effect(rc, rt, nc, nt, diff, 0.0, diff, diff, 1.0 if diff == 0 else 0.0, method)
    z = _z(alpha)
    p = float(2 * stats.norm.sf(abs(diff) / se))
    return Effect(rc, rt, nc, nt, diff, se, diff - z * se, diff + z * se, p, method)


def ratio_effect(
    numerator_control: np.ndarray,
    denominator_control: np.ndarray,
    numerator_treatment: np.ndarray,
    denominator_treatment: np.ndarray,
    *,
    alpha: float = 0.05,
    cluster_control: np.ndarray | None = None,
    cluster_treatment: np.ndarray | None = None,
) -> Effect:
    """Difference of two arms' ratio metrics ``R_t - R_c`` with a delta-method z interval (Deng et al. 2018).

    ``n_control``/``n_treatment`` of the result count units; with clusters the variance runs over clusters.
    """
    c = ratio_arm(numerator_control, denominator_control, cluster_control)
    t = ratio_arm(numerator_treatment, denominator_treatment, cluster_treatment)
    method = "delta (clustered)" if cluster_control is not None else "delta"
    return _normal_effect(c.ratio, t.ratio, c.n_units, t.n_units, c.variance + t.variance, alpha, method)


def _relative(rc: float, rt: float, vc: float, vt: float, alpha: float) -> tuple[float, float, float]:
    """``R_t / R_c - 1`` with its delta-method interval; NaN when ``R_c`` is 0."""
    if not np.isfinite(rc) or rc == 0:
        return (np.nan, np.nan, np.nan)
    se = float(np.sqrt(vt / rc**2 + rt**2 * vc / rc**4))
    z = _z(alpha)
    rel = rt / rc - 1.0
    return (rel, rel - z * se, rel + z * se)


@dataclass(frozen=True)
class _Cuped:
    control: float  # adjusted control ratio R_c - theta (R'_c - R'_pooled)
    arm: float
    var_control: float
    var_arm: float
    theta: float
    variance_removed: float


def _cuped(c: RatioArm, t: RatioArm, cp: RatioArm, tp: RatioArm) -> _Cuped | None:
    """CUPED on the linearised values of two arms (module docstring); ``None`` when the pre-period ratio has
    no variance."""
    def cov(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.cov(a, b, ddof=1)[0, 1])

    nc, nt = c.n_independent, t.n_independent
    den = cp.linearised.var(ddof=1) / nc + tp.linearised.var(ddof=1) / nt
    if not np.isfinite(den) or den <= 0:
        return None
    theta = (cov(c.linearised, cp.linearised) / nc + cov(t.linearised, tp.linearised) / nt) / den
    pooled = (cp.ratio * nc + tp.ratio * nt) / (nc + nt)
    vc = float(np.var(c.linearised - theta * cp.linearised, ddof=1) / nc)
    vt = float(np.var(t.linearised - theta * tp.linearised, ddof=1) / nt)
    raw = c.variance + t.variance
    return _Cuped(c.ratio - theta * (cp.ratio - pooled), t.ratio - theta * (tp.ratio - pooled), vc, vt,
                  float(theta), float(1 - (vc + vt) / raw) if raw > 0 else 0.0)


def _resolve(metrics: Mapping[str, str | Sequence[str]]) -> dict[str, tuple[str, str | None]]:
    out: dict[str, tuple[str, str | None]] = {}
    for name, spec in metrics.items():
        if isinstance(spec, str):
            out[name] = (spec, None)
        else:
            parts = list(spec)
            if len(parts) != 2:
                raise ValueError(f"metric {name!r}: give a column (a mean) or (numerator, denominator), got {spec!r}")
            out[name] = (parts[0], parts[1])
    return out


def analyze_ratios(
    data: pd.DataFrame,
    metrics: Mapping[str, str | Sequence[str]],
    *,
    variant: str = "variant",
    control: str | None = None,
    cluster: str | None = None,
    covariates: Mapping[str, str | Sequence[str]] | None = None,
    alpha: float = 0.05,
    readout_table: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Effects of every arm on ratio metrics (and clustered means), in ``analyze_experiment``'s tidy table.

    Parameters
    ----------
    data
        One row per randomisation unit (e.g. :meth:`ExperimentOutcomes.complete` for one window).
    metrics
        ``{name: (numerator, denominator)}`` for a ratio of sums, e.g. ``{"aov_30d": ("revenue_30d",
        "orders_30d")}``, or ``{name: column}`` for a mean per unit (useful with ``cluster``).
    variant, control
        Arm column and the control arm's label (default: the arm named control/ctrl/baseline/holdout).
    cluster
        Column of the randomisation cluster (household, store): standard errors are computed over clusters.
        Every cluster must sit in one arm (a cluster split across arms was not randomised as a cluster).
    covariates
        ``{name: (pre_numerator, pre_denominator)}`` (or a column for a mean) for CUPED on the ratio.
    alpha
        Level of the intervals.
    readout_table
        ``analyze_experiment(...).table``: when given, the ratio rows are appended to it and the Holm and
        Benjamini-Hochberg adjustments are recomputed over the whole family.

    Returns
    -------
    DataFrame with one row per (metric, arm) and the columns of ``analyze_experiment``'s table (``kind`` is
    ``"ratio"`` or ``"mean"``, ``method`` ``"delta"`` or ``"delta (clustered)"``; ``n_clusters_control`` and
    ``n_clusters_arm`` count the independent units).
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError("data must be a pandas DataFrame (one row per unit)")
    spec = _resolve(metrics)
    cov_spec = _resolve(covariates or {})
    unknown = sorted(set(cov_spec) - set(spec))
    if unknown:
        raise ValueError(f"covariates given for {unknown}, which are not among the metrics {list(spec)}")
    needed = [variant] + [c for pair in (*spec.values(), *cov_spec.values()) for c in pair if c is not None]
    if cluster is not None:
        needed.append(cluster)
    require_columns(data, needed)
    require_finite(data, set(needed) - {variant, cluster})
    labels, arms, control = arms_and_control(data, variant, control)
    groups = None
    if cluster is not None:
        groups = data[cluster].astype(str).to_numpy()
        per = pd.DataFrame({"c": groups, "a": labels}).groupby("c")["a"].nunique()
        split = per.index[per > 1]
        if len(split):
            raise DataContractError("clusters appear in more than one arm, so they were not randomised as clusters",
                                    column=cluster, rule="one arm per cluster",
                                    examples=data.loc[data[cluster].astype(str).isin(split[:5])])

    def col(name: str | None, mask: np.ndarray) -> np.ndarray:
        if name is None:
            return np.ones(int(mask.sum()))
        return pd.to_numeric(data[name]).to_numpy(float)[mask]

    rows = []
    for name, (num, den) in spec.items():
        in_c = labels == control
        gc = groups[in_c] if groups is not None else None
        c = ratio_arm(col(num, in_c), col(den, in_c), gc)
        for arm in [a for a in arms if a != control]:
            in_t = labels == arm
            gt = groups[in_t] if groups is not None else None
            t = ratio_arm(col(num, in_t), col(den, in_t), gt)
            method = "delta (clustered)" if groups is not None else "delta"
            eff = _normal_effect(c.ratio, t.ratio, c.n_units, t.n_units, c.variance + t.variance, alpha, method)
            rel, rel_lo, rel_hi = _relative(c.ratio, t.ratio, c.variance, t.variance, alpha)
            row = {
                "outcome": name, "arm": arm, "kind": "ratio" if den is not None else "mean",
                "n_control": c.n_units, "n_arm": t.n_units,
                "n_clusters_control": c.n_independent, "n_clusters_arm": t.n_independent,
                "mean_control": c.ratio, "mean_arm": t.ratio,
                "abs_effect": eff.estimate, "abs_se": eff.std_error,
                "abs_ci_low": eff.ci_low, "abs_ci_high": eff.ci_high,
                "rel_effect": rel, "rel_ci_low": rel_lo, "rel_ci_high": rel_hi,
                "p_value_raw_method": eff.p_value, "method": method,
            }
            primary = (method, eff.estimate, eff.ci_low, eff.ci_high, eff.p_value)
            if name in cov_spec:
                pnum, pden = cov_spec[name]
                cp = ratio_arm(col(pnum, in_c), col(pden, in_c), gc)
                tp = ratio_arm(col(pnum, in_t), col(pden, in_t), gt)
                cu = _cuped(c, t, cp, tp)
                if cu is not None:
                    ce = _normal_effect(cu.control, cu.arm, c.n_units, t.n_units, cu.var_control + cu.var_arm,
                                        alpha, "cuped")
                    crel = _relative(cu.control, cu.arm, cu.var_control, cu.var_arm, alpha)
                    row.update({
                        "cuped_covariates": ",".join(x for x in (pnum, pden) if x is not None),
                        "cuped_effect": ce.estimate, "cuped_se": ce.std_error,
                        "cuped_ci_low": ce.ci_low, "cuped_ci_high": ce.ci_high,
                        "cuped_rel_effect": crel[0], "cuped_rel_ci_low": crel[1], "cuped_rel_ci_high": crel[2],
                        "cuped_p_value": ce.p_value, "variance_removed": cu.variance_removed,
                        "cuped_theta": cu.theta,
                    })
                    primary = ("cuped", ce.estimate, ce.ci_low, ce.ci_high, ce.p_value)
            row.update(dict(zip(("primary", "effect", "ci_low", "ci_high", "p_value"), primary, strict=True)))
            rows.append(row)
    table = pd.DataFrame(rows)
    if readout_table is not None:
        base = readout_table.drop(columns=["p_holm", "p_bh", "significant"], errors="ignore")
        table = pd.concat([base, table], ignore_index=True)
    return add_adjusted_p_values(table, alpha)
