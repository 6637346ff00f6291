"""Repurchase over time by arm, for experiments still running: Kaplan-Meier curves, log-rank test, N-day difference.

Units enrolled late have been followed for a shorter time, so "bought within 60 days" is unknown for them. The
time from assignment to the first purchase is right-censored at the observation end, and per arm the
Kaplan-Meier product-limit estimator (Kaplan & Meier 1958, *JASA* 53, 457-481)

    S(t) = prod_{t_i <= t} (1 - d_i / n_i)

uses every unit for as long as it was observed (``d_i`` purchases at time ``t_i``, ``n_i`` units still at risk
just before it; a unit censored at ``t_i`` is still at risk for purchases at ``t_i``). The cumulative
repurchase curve is ``F(t) = 1 - S(t)``, with Greenwood's variance
``Var S(t) = S(t)^2 sum_{t_i <= t} d_i / (n_i (n_i - d_i))`` (Greenwood 1926; Klein & Moeschberger 2003,
*Survival Analysis*, 2nd ed., eq. 4.2.2) and pointwise log(-log) intervals (eq. 4.3.2).

The arms are compared by the log-rank test (Mantel 1966; Klein & Moeschberger 2003, section 7.3, eqs. 7.3.3-7.3.5):
at each purchase time the expected purchases of arm ``g`` are ``n_gj d_j / n_j``, and with ``Z = O - E`` over
the first ``K - 1`` arms and the hypergeometric covariance
``V_gh = sum_j d_j (n_j - d_j) / (n_j - 1) * n_gj / n_j * (delta_gh - n_hj / n_j)``, ``Z' V^-1 Z ~ chi^2(K - 1)``.
The difference in ``N``-day repurchase ``F_t(N) - F_c(N)`` has a Wald interval with the two arms' Greenwood
variances added (independent arms).

The Kaplan-Meier estimator is the project's one, :class:`crm_models.lifecycle.KaplanMeier` (Greenwood variance,
log(-log) intervals); this module adds the log-rank test and the comparison of arms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crm_models.ab._readout import add_adjusted_p_values, arms_and_control, require_columns
from crm_models.exceptions import DataContractError
from crm_models.lifecycle.repurchase import KaplanMeier

__all__ = ["RepurchaseCurves", "greenwood_variance_at", "logrank_test", "repurchase_curves"]


def greenwood_variance_at(km: Any, times: Any) -> np.ndarray:
    """Greenwood's ``Var S(t) = S(t)^2 sum d/(n(n-d))`` read off a fitted
    :class:`~crm_models.lifecycle.KaplanMeier`'s ``survival_function_``: 0 once ``S`` has reached 0 (every unit
    had the event; the sum itself is infinite there), NaN beyond the longest observed time when the last unit
    was censored (the curve is not identified there).

    >>> km = KaplanMeier().fit([10, 20, 30, 40, 50], [1, 1, 0, 1, 0])
    >>> round(float(greenwood_variance_at(km, 20)[0]), 4)  # 0.6^2 (1/(5*4) + 1/(4*3))
    0.048
    """
    curve = km.survival_function_
    index = curve.index.to_numpy(dtype=float)
    query = np.atleast_1d(np.asarray(times, dtype=float))
    pos = np.clip(np.searchsorted(index, query, side="right") - 1, 0, None)
    survival = curve["survival"].to_numpy()
    with np.errstate(invalid="ignore"):
        var = np.where(survival[pos] > 0, survival[pos] ** 2 * curve["greenwood"].to_numpy()[pos], 0.0)
    # after the last time the curve is known only if it has reached 0 (every unit had the event)
    return np.where((query > index.max()) & (survival[-1] > 0), np.nan, var)


def logrank_test(durations: Any, event_observed: Any, groups: Any) -> dict[str, float]:
    """K-sample log-rank test (module docstring): ``{"chi2", "df", "p_value"}`` and observed/expected events
    per group (``observed_<g>``, ``expected_<g>``)."""
    t = np.asarray(durations, dtype=float)
    e = np.asarray(event_observed, dtype=float)
    g_codes, g_names = pd.factorize(pd.Series(np.asarray(groups)).astype(str), sort=True)
    k = len(g_names)
    if k < 2:
        raise ValueError("the log-rank test needs at least two groups")
    event_times = np.unique(t[e == 1])
    observed = np.zeros((k, event_times.size))
    at_risk = np.zeros((k, event_times.size))
    for g in range(k):
        tg, eg = t[g_codes == g], e[g_codes == g]
        sorted_t = np.sort(tg)
        at_risk[g] = tg.size - np.searchsorted(sorted_t, event_times, side="left")
        ev = np.sort(tg[eg == 1])
        observed[g] = np.searchsorted(ev, event_times, side="right") - np.searchsorted(ev, event_times, side="left")
    n = at_risk.sum(axis=0)
    d = observed.sum(axis=0)
    share = np.divide(at_risk, n, out=np.zeros_like(at_risk), where=n > 0)
    expected = share * d
    factor = np.divide(d * (n - d), n - 1, out=np.zeros_like(d), where=n > 1)
    z = (observed - expected).sum(axis=1)[: k - 1]
    s = share[: k - 1]
    cov = -(s[:, None, :] * s[None, :, :] * factor).sum(axis=2)
    cov[np.diag_indices(k - 1)] = (s * (1 - s) * factor).sum(axis=1)
    try:
        chi2 = float(z @ np.linalg.solve(cov, z))
    except np.linalg.LinAlgError:
        chi2 = float(z @ np.linalg.pinv(cov) @ z)
    out = {"chi2": chi2, "df": float(k - 1), "p_value": float(stats.chi2.sf(chi2, k - 1))}
    for i, name in enumerate(g_names):
        out[f"observed_{name}"] = float(observed[i].sum())
        out[f"expected_{name}"] = float(expected[i].sum())
    return out


@dataclass
class RepurchaseCurves:
    """Kaplan-Meier curve per arm, the log-rank tests and the ``N``-day differences as a tidy table."""

    curves: dict[str, KaplanMeier]
    logrank: dict[str, float]
    table: pd.DataFrame
    control: str
    alpha: float = 0.05
    days: tuple[float, ...] = ()
    pairwise_logrank: dict[str, dict[str, float]] = field(default_factory=dict)

    def cumulative(self, times: Any) -> pd.DataFrame:
        """Cumulative repurchase ``1 - S(t)`` with its interval, one row per (arm, time)."""
        frames = []
        for arm, km in self.curves.items():
            iv = km.interval_at(times)
            frames.append(pd.DataFrame({"arm": arm, "time": iv.index.to_numpy(),
                                        "repurchased": 1 - iv["survival"].to_numpy(),
                                        "lower": 1 - iv["upper"].to_numpy(), "upper": 1 - iv["lower"].to_numpy()}))
        return pd.concat(frames, ignore_index=True)

    def describe(self) -> str:
        """One sentence per arm and horizon, naming the methods used."""
        conf = round(100 * (1 - self.alpha))
        lines = [(f"Log-rank test across {len(self.curves)} arms: chi-square {self.logrank['chi2']:.1f} on "
                 f"{self.logrank['df']:.0f} df, p = {self.logrank['p_value']:.3g}.")]
        for r in self.table.itertuples(index=False):
            if not np.isfinite(r.effect):
                lines.append(f"- {r.arm}, {r.outcome}: not estimable yet (no unit followed that long in one arm).")
                continue
            sig = "significant after Holm" if r.significant else "not significant after Holm"
            lines.append(f"- {r.arm}: {100 * r.mean_arm:.1f}% bought again within {r.days:g} days vs "
                         f"{100 * r.mean_control:.1f}% in {self.control} (Kaplan-Meier, censored units included): "
                         f"{100 * r.effect:+.1f} pp, {conf}% CI {100 * r.ci_low:+.1f} to {100 * r.ci_high:+.1f} pp; "
                         f"{sig}.")
        return "\n".join(lines)


def repurchase_curves(
    data: Any,
    *,
    variant: str = "variant",
    control: str | None = None,
    duration: str = "purchase_days",
    event: str = "purchase_observed",
    days: Sequence[float] = (30, 60, 90),
    alpha: float = 0.05,
) -> RepurchaseCurves:
    """Kaplan-Meier repurchase curves by arm, log-rank tests and ``N``-day differences with intervals.

    Parameters
    ----------
    data
        An :class:`~crm_models.ab.outcomes.ExperimentOutcomes` or its ``table``: one row per unit with the arm,
        the days from assignment to the first purchase (or to the observation end) and whether it was seen.
    days
        Horizons ``N`` for ``F_t(N) - F_c(N)``; a horizon beyond an arm's longest follow-up gives NaN.

    Returns
    -------
    RepurchaseCurves
        ``table`` has the columns of ``analyze_experiment``'s table (``outcome`` is ``repurchase_<N>d``,
        ``kind`` ``"proportion"``, ``method`` ``"kaplan-meier"``) plus ``days``, ``logrank_chi2`` and
        ``logrank_p`` (this arm against the control); Holm and BH run over every (arm, horizon).
    """
    if isinstance(data, pd.DataFrame):
        frame = data
    else:  # ExperimentOutcomes
        frame = data.table
        if variant == "variant":
            variant = data.variant
    require_columns(frame, (variant, duration, event))
    t = pd.to_numeric(frame[duration], errors="coerce").to_numpy(float)
    bad = ~np.isfinite(t) | (t < 0)
    if bad.any():
        raise DataContractError("durations must be finite and non-negative", column=duration,
                                rule="finite, >= 0", examples=frame.loc[bad])
    e = pd.to_numeric(frame[event], errors="coerce").to_numpy(float)
    if not np.isin(e, (0.0, 1.0)).all():
        raise DataContractError("the event column must be 0/1", column=event, rule="values in {0, 1}",
                                examples=frame.loc[~np.isin(e, (0.0, 1.0))])
    labels, arms, control = arms_and_control(frame, variant, control)
    arms = [control] + [a for a in arms if a != control]
    curves = {a: KaplanMeier(alpha).fit(t[labels == a], e[labels == a]) for a in arms}
    overall = logrank_test(t, e, labels)
    z = float(stats.norm.ppf(1 - alpha / 2))
    rows, pairwise = [], {}
    kc = curves[control]
    for arm in arms[1:]:
        pair = (labels == control) | (labels == arm)
        lr = logrank_test(t[pair], e[pair], labels[pair])
        pairwise[arm] = lr
        kt = curves[arm]
        for n_days in days:
            # "within N days" is the window [0, N) of experiment_outcomes: the curve just before N, so that a
            # purchase at exactly N days counts in neither (S(N-), not S(N))
            before = float(np.nextafter(float(n_days), -np.inf))
            fc = 1 - float(kc.survival_at(before)[0])
            ft = 1 - float(kt.survival_at(before)[0])
            vc = float(greenwood_variance_at(kc, before)[0])
            vt = float(greenwood_variance_at(kt, before)[0])
            diff, se = ft - fc, float(np.sqrt(vc + vt))
            if not np.isfinite(se):  # a horizon beyond an arm's follow-up: not estimable yet
                diff = lo = hi = p = np.nan
            elif se == 0:
                lo = hi = diff
                p = 1.0 if diff == 0 else 0.0
            else:
                lo, hi, p = diff - z * se, diff + z * se, float(2 * stats.norm.sf(abs(diff) / se))
            if fc > 0 and np.isfinite(se):
                rel = ft / fc - 1
                rse = float(np.sqrt(vt / fc**2 + ft**2 * vc / fc**4))
                rel_lo, rel_hi = rel - z * rse, rel + z * rse
            else:
                rel = rel_lo = rel_hi = np.nan
            rows.append({
                "outcome": f"repurchase_{n_days:g}d", "arm": arm, "kind": "proportion", "days": float(n_days),
                "n_control": int(kc.n_), "n_arm": int(kt.n_), "mean_control": fc, "mean_arm": ft,
                "abs_effect": diff, "abs_se": se, "abs_ci_low": lo, "abs_ci_high": hi,
                "rel_effect": rel, "rel_ci_low": rel_lo, "rel_ci_high": rel_hi,
                "p_value_raw_method": p, "method": "kaplan-meier", "primary": "kaplan-meier",
                "effect": diff, "ci_low": lo, "ci_high": hi, "p_value": p,
                "logrank_chi2": lr["chi2"], "logrank_p": lr["p_value"],
            })
    table = pd.DataFrame(rows)
    table = add_adjusted_p_values(table, alpha)
    return RepurchaseCurves(curves=curves, logrank=overall, table=table, control=control, alpha=alpha,
                            days=tuple(float(d) for d in days), pairwise_logrank=pairwise)
