"""Effects by segment, adjusted across segments, with a test of whether the effect differs at all.

"The coupon worked for at-risk customers, not for high-value ones" needs two things: the effect in each
segment with p-values adjusted for having looked at many segments (Holm 1979 for the family-wise error, or
Benjamini & Hochberg 1995 for the false discovery rate, over the segments of one outcome and arm), and a test
that the effects differ (a significant effect in one segment and a non-significant one in another is not
evidence that they differ; Gelman & Stern 2006, "The difference between 'significant' and 'not significant' is
not itself statistically significant", *Am. Stat.* 60, 328-331).

The heterogeneity test is Cochran's Q over the segment estimates ``d_s`` with standard errors ``se_s``
(Cochran 1954, *Biometrics* 10, 101-129):

    w_s = 1 / se_s^2,   d = sum w_s d_s / sum w_s,   Q = sum w_s (d_s - d)^2  ~  chi^2(S - 1) under no difference,

the Wald test of the treatment x segment interaction (``se_s`` is each segment's Wald standard error, also for
proportions whose interval is Newcombe's), with ``I^2 = max(0, (Q - (S-1)) / Q)`` the share of the
spread beyond chance (Higgins & Thompson 2002, *Stat. Med.* 21, 1539-1558, eq. 10). Segments with fewer than
``min_units`` units in an arm are reported but left out of the adjustments and of Q.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from crm_models.ab._readout import arms_and_control, require_columns, require_finite
from crm_models.ab.effects import mean_effect, proportion_effect, relative_effect
from crm_models.ab.multiplicity import benjamini_hochberg, holm
from crm_models.ab.ratio import ratio_arm, ratio_effect

__all__ = ["SegmentEffects", "heterogeneity_test", "segment_effects"]

ADJUSTMENTS = {"holm": "Holm", "bh": "Benjamini-Hochberg"}


def heterogeneity_test(estimates: Sequence[float], std_errors: Sequence[float]) -> dict[str, float]:
    """Cochran's Q test that the segment effects are equal (module docstring); ``{"q", "df", "p_value", "i2",
    "pooled"}``. Segments with a non-finite estimate or a non-positive standard error are left out."""
    d = np.asarray(estimates, dtype=float)
    se = np.asarray(std_errors, dtype=float)
    ok = np.isfinite(d) & np.isfinite(se) & (se > 0)
    d, se = d[ok], se[ok]
    df = d.size - 1
    if df < 1:
        return {"q": np.nan, "df": float(max(df, 0)), "p_value": np.nan, "i2": np.nan, "pooled": np.nan}
    w = 1.0 / se**2
    pooled = float(np.sum(w * d) / np.sum(w))
    q = float(np.sum(w * (d - pooled) ** 2))
    i2 = max(0.0, (q - df) / q) if q > 0 else 0.0
    return {"q": q, "df": float(df), "p_value": float(stats.chi2.sf(q, df)), "i2": i2, "pooled": pooled}


@dataclass
class SegmentEffects:
    """Effects by segment (``table``), the heterogeneity test per (outcome, arm) (``heterogeneity``) and the
    sentence they support (``verdict``)."""

    table: pd.DataFrame
    heterogeneity: pd.DataFrame
    segment: str
    control: str
    alpha: float = 0.05
    adjust: str = "holm"
    verdict: str = ""

    def _repr_markdown_(self) -> str:  # pragma: no cover - notebook display
        return self.verdict


def _fmt(value: float, kind: str) -> str:
    return f"{100 * value:+.1f} pp" if kind == "proportion" else f"{value:+,.3g}"


def segment_effects(
    data: pd.DataFrame,
    segment: str,
    *,
    outcomes: str | Sequence[str] = ("converted",),
    variant: str = "variant",
    control: str | None = None,
    cluster: str | None = None,
    alpha: float = 0.05,
    adjust: str = "holm",
    min_units: int = 30,
) -> SegmentEffects:
    """Effect of every arm on every outcome within each segment, adjusted across segments, with Cochran's Q.

    Parameters
    ----------
    data
        One row per unit with ``variant``, the ``segment`` column (an RFM segment or any column; missing values
        form a segment named ``"(missing)"``) and the outcome columns.
    outcomes
        Outcome columns: 0/1 columns are proportions (Newcombe interval), others means (Welch).
    cluster
        Randomisation cluster column: effects and standard errors by the clustered delta method instead.
    adjust
        ``"holm"`` (family-wise error) or ``"bh"`` (false discovery rate): which adjusted p-value decides
        ``significant``. Both columns are always reported; the family is the segments of one (outcome, arm).
    min_units
        Segments with fewer units in the control or the arm are reported, not tested.

    Returns
    -------
    SegmentEffects
    """
    if adjust not in ADJUSTMENTS:
        raise ValueError(f"adjust must be one of {sorted(ADJUSTMENTS)}, got {adjust!r}")
    outcomes = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    require_columns(data, [variant, segment, *outcomes, *([cluster] if cluster else [])])
    require_finite(data, outcomes, what="outcome")
    labels, arms, control = arms_and_control(data, variant, control)
    seg = data[segment].astype("string").fillna("(missing)").to_numpy(dtype=object)
    seg_names = sorted(pd.unique(seg), key=str)
    groups = data[cluster].astype(str).to_numpy() if cluster else None

    rows = []
    for out in outcomes:
        y = pd.to_numeric(data[out]).to_numpy(float)
        kind = "proportion" if np.isin(y, (0.0, 1.0)).all() else "mean"
        for arm in [a for a in arms if a != control]:
            for s in seg_names:
                in_c = (labels == control) & (seg == s)
                in_t = (labels == arm) & (seg == s)
                row = {"segment": s, "outcome": out, "arm": arm, "kind": kind,
                       "n_control": int(in_c.sum()), "n_arm": int(in_t.sum())}
                if min(row["n_control"], row["n_arm"]) < max(min_units, 2):
                    row.update({"method": "too few units", "p_value": np.nan})
                    rows.append(row)
                    continue
                if groups is not None:
                    eff = ratio_effect(y[in_c], np.ones(in_c.sum()), y[in_t], np.ones(in_t.sum()), alpha=alpha,
                                       cluster_control=groups[in_c], cluster_treatment=groups[in_t])
                elif kind == "proportion":
                    eff = proportion_effect(y[in_c], y[in_t], alpha)
                else:
                    eff = mean_effect(y[in_c], y[in_t], alpha)
                if groups is not None:  # variances of the arm means over clusters
                    var_c = ratio_arm(y[in_c], np.ones(in_c.sum()), groups[in_c]).variance
                    var_t = ratio_arm(y[in_t], np.ones(in_t.sum()), groups[in_t]).variance
                else:
                    var_c = np.var(y[in_c], ddof=1) / in_c.sum()
                    var_t = np.var(y[in_t], ddof=1) / in_t.sum()
                rel, _, rel_lo, rel_hi = relative_effect(eff, alpha, var_c, var_t)
                row.update({
                    "mean_control": eff.mean_control, "mean_arm": eff.mean_treatment,
                    "abs_effect": eff.estimate, "abs_se": eff.std_error,
                    "abs_ci_low": eff.ci_low, "abs_ci_high": eff.ci_high,
                    "rel_effect": rel, "rel_ci_low": rel_lo, "rel_ci_high": rel_hi,
                    "method": eff.method, "primary": eff.method, "effect": eff.estimate,
                    "ci_low": eff.ci_low, "ci_high": eff.ci_high, "p_value": eff.p_value,
                })
                rows.append(row)
    table = pd.DataFrame(rows)
    table["p_holm"] = np.nan
    table["p_bh"] = np.nan
    het_rows = []
    for (out, arm), idx in table.groupby(["outcome", "arm"], sort=False).groups.items():
        p = table.loc[idx, "p_value"].to_numpy(float)
        table.loc[idx, "p_holm"] = holm(p)
        table.loc[idx, "p_bh"] = benjamini_hochberg(p)
        sub = table.loc[idx]
        het = heterogeneity_test(sub.get("abs_effect", pd.Series(np.nan, index=idx)).to_numpy(float),
                                 sub.get("abs_se", pd.Series(np.nan, index=idx)).to_numpy(float))
        het_rows.append({"outcome": out, "arm": arm, "segments_tested": int(sub["p_value"].notna().sum()), **het})
    adjusted = table["p_holm"] if adjust == "holm" else table["p_bh"]
    table["significant"] = (adjusted < alpha).fillna(False).astype(bool)
    result = SegmentEffects(table=table, heterogeneity=pd.DataFrame(het_rows), segment=segment, control=control,
                            alpha=alpha, adjust=adjust)
    result.verdict = _verdict(result)
    return result


def _verdict(res: SegmentEffects) -> str:
    """Per (outcome, arm): whether the effect differs by segment, and where it is significant after adjustment.

    A "worked for A, not for B" sentence is written only when Cochran's Q rejects equal effects; otherwise the
    text says the data do not support reading the segments differently.
    """
    conf = round(100 * (1 - res.alpha))
    method = ADJUSTMENTS[res.adjust]
    lines = []
    for h in res.heterogeneity.itertuples(index=False):
        sub = res.table[(res.table["outcome"] == h.outcome) & (res.table["arm"] == h.arm)]
        tested = sub[sub["p_value"].notna()]
        head = f"**{h.arm}** on {h.outcome} by {res.segment}"
        if not np.isfinite(h.p_value):
            lines.append(f"- {head}: fewer than two segments with enough units; no comparison across segments.")
            continue
        test = f"Cochran's Q = {h.q:.1f} on {h.df:.0f} df, p = {h.p_value:.3g}"
        kind = tested["kind"].iloc[0]
        sig = [r for r in tested.itertuples(index=False) if r.significant]
        not_sig = [r for r in tested.itertuples(index=False) if not r.significant]

        def describe(r, kind: str = kind) -> str:
            return (f"{r.segment} ({_fmt(r.effect, kind)}, {conf}% CI {_fmt(r.ci_low, kind)} to "
                    f"{_fmt(r.ci_high, kind)})")

        if h.p_value < res.alpha:
            text = f"- {head}: the effect differs across segments ({test})."
            if sig:
                text += f" Significant after {method}: " + "; ".join(describe(r) for r in sig) + "."
            if not_sig:
                text += " Not significant: " + "; ".join(describe(r) for r in not_sig) + "."
        else:
            text = (f"- {head}: no evidence that the effect differs across segments ({test}); a sentence such as "
                    "'it worked for one segment and not another' is not supported by these data. Read the "
                    "overall effect.")
            if sig:
                text += (f" (Significant within a segment after {method}: "
                         + "; ".join(describe(r) for r in sig) + ".)")
        lines.append(text)
    return "\n".join(lines)
