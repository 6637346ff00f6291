"""``analyze_experiment``: the whole read-out of an A/B/n test as one tidy table and a verdict in words.

Order of the read-out, on purpose:

1. **Sample-ratio mismatch** (chi-square against the planned split). A failing SRM is the headline.
2. Per outcome and treatment arm: absolute effect with a 95 % interval (proportions: Newcombe hybrid score
   interval with the p-value that inverts it, so the two always agree; means: Welch), relative lift with a
   delta-method interval.
3. **CUPED** (Deng et al. 2013) when pre-period covariates are given: adjusted effect, interval, p-value and the
   share of variance removed. The adjusted estimate is the *primary* one when available.
4. Holm (family-wise) and Benjamini-Hochberg (false discovery rate) adjustments of the primary p-values over
   every (outcome, arm) comparison.
5. An always-valid **mSPRT** (Johari et al. 2017) replay in enrolment order: when could the test have stopped.
6. For conversion outcomes, a **Bayesian** read-out: probability to beat control and expected loss.
7. The minimum detectable effect at 80 % power for each comparison (``mde_80``), so that "no significant
   effect" can be told apart from "too small to tell".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crm_models.ab._readout import add_adjusted_p_values
from crm_models.ab.bayes import bayesian_proportions
from crm_models.ab.effects import _welch, cuped_adjust, mean_effect, proportion_effect, relative_effect
from crm_models.ab.power import minimum_detectable_effect
from crm_models.ab.sequential import SequentialResult, msprt
from crm_models.ab.srm import SRMResult, srm_test
from crm_models.data.contract import coerce_identifier
from crm_models.exceptions import DataContractError

__all__ = ["ExperimentReadout", "analyze_experiment"]


@dataclass
class ExperimentReadout:
    """Everything ``analyze_experiment`` found.

    Attributes
    ----------
    table
        One row per (outcome, arm): sizes, means, absolute and relative effects with intervals, p-values
        (raw, Holm, BH), CUPED columns, mSPRT columns and, for conversions, the Bayesian columns.
    srm
        The sample-ratio test (check ``srm.passed`` before anything else).
    sequential
        ``{(outcome, arm): SequentialResult}`` with the look-by-look always-valid p-values.
    verdict
        Plain-language summary, SRM first.
    """

    table: pd.DataFrame
    srm: SRMResult
    sequential: dict[tuple[str, str], SequentialResult] = field(default_factory=dict)
    verdict: str = ""
    control: str = ""
    alpha: float = 0.05

    def _repr_markdown_(self) -> str:  # pragma: no cover - notebook display
        return self.verdict


def _fail(message: str, column: str, rule: str, examples=None):
    raise DataContractError(message, column=column, rule=rule, examples=examples)


def _validate(
    data: pd.DataFrame,
    variant: str,
    outcomes: Sequence[str],
    control: str | None,
    covariates: Mapping[str, Sequence[str]],
    arms: Sequence[str] | None,
    kinds: Mapping[str, str],
    unit: str | None = None,
) -> tuple[list[str], str, dict[str, str]]:
    if not isinstance(data, pd.DataFrame):
        raise TypeError("data must be a pandas DataFrame (the experiment table)")
    if unit is not None and unit in data.columns:
        dup = coerce_identifier(data[unit]).duplicated(keep=False)  # 1, 1.0 and "1" are one unit
        if dup.any():
            _fail("units appear more than once (a unit must be assigned to exactly one arm, once)", unit,
                  "one row per unit; ids compare as text (data.contract.coerce_identifier)",
                  data.loc[dup.to_numpy()].sort_values(unit, key=coerce_identifier))
    for col in [variant, *outcomes, *{c for cs in covariates.values() for c in cs}]:
        if col not in data.columns:
            _fail(f"column {col!r} not found in the experiment table", col, "required column",
                  list(data.columns))
    if not outcomes:
        raise ValueError("give at least one outcome column")
    labels = data[variant]
    if labels.isna().any():
        _fail("every unit needs a variant", variant, "no missing values", data.loc[labels.isna()])
    present = pd.Index(pd.unique(labels.astype(str)))
    declared: list[str] = []
    if arms is not None:
        declared = [str(a) for a in arms]
    elif isinstance(labels.dtype, pd.CategoricalDtype):
        declared = [str(c) for c in labels.cat.categories]
    empty = [a for a in declared if a not in present]
    if empty:
        _fail(f"variant(s) {empty} have no units", variant, "every declared arm has at least one unit", empty)
    arm_list = declared if declared else sorted(present)
    extra = [a for a in present if a not in arm_list]
    if extra:
        _fail(f"units in variant(s) {extra} that are not among the declared arms {arm_list}", variant,
              "variant values are the declared arms", data.loc[labels.astype(str).isin(extra)])
    if len(arm_list) < 2:
        _fail(f"only one arm ({arm_list[0]!r}) in the experiment: nothing to compare", variant, ">= 2 arms",
              data.head())
    if control is None:
        control = _choose_control(arm_list, variant)
    control = str(control)
    if control not in arm_list:
        _fail(f"control arm {control!r} not found; arms are {arm_list}", variant, "control is one of the arms",
              arm_list)
    arm_list = [control] + [a for a in arm_list if a != control]

    resolved: dict[str, str] = {}
    for out in outcomes:
        values = data[out]
        if values.dtype == bool:
            values = values.astype(int)
        num = pd.to_numeric(values, errors="coerce")
        bad = num.isna() | ~np.isfinite(num.astype(float))
        if bad.any():
            _fail(f"outcome {out!r} has missing or non-numeric values", out, "numeric and finite", data.loc[bad])
        is_binary = bool(num.isin([0, 1]).all())
        if out not in kinds and not is_binary:
            _check_not_broken_binary(data, out, num)
        kind = kinds.get(out, "proportion" if is_binary else "mean")
        if kind not in ("proportion", "mean"):
            raise ValueError(f"kind for {out!r} must be 'proportion' or 'mean', got {kind!r}")
        if kind == "proportion" and not is_binary:
            _fail(f"outcome {out!r} is analysed as a conversion but is not 0/1", out, "values in {0, 1}",
                  data.loc[~num.isin([0, 1])])
        resolved[out] = kind
    for out, cols in covariates.items():
        for col in cols:
            num = pd.to_numeric(data[col], errors="coerce")
            bad = num.isna() | ~np.isfinite(num.astype(float))
            if bad.any():
                _fail(f"covariate {col!r} for {out!r} has missing, non-numeric or infinite values", col,
                      "numeric and finite, measured before assignment", data.loc[bad])
    return arm_list, control, resolved


#: largest share of rows outside {0, 1} for which a 0/1-looking outcome is taken as a broken conversion
BROKEN_BINARY_SHARE = 0.01


def _check_not_broken_binary(data: pd.DataFrame, out: str, num: pd.Series) -> None:
    """Refuse an outcome that is 0/1 except for a few other values (e.g. a 2 in a conversion column).

    Read as a mean such a column silently changes the analysis (Welch instead of proportions, no Bayesian
    read-out); almost always the stray values are a data error. ``kinds={out: "mean"}`` accepts them.
    """
    off = ~num.isin([0, 1])
    integer = bool((num == np.round(num)).all())
    if integer and num.isin([0, 1]).any() and 0 < off.mean() <= BROKEN_BINARY_SHARE and num.nunique() <= 4:
        _fail(f"outcome {out!r} looks like a 0/1 conversion but {int(off.sum())} row(s) hold other values "
              f"({sorted(num[off].unique().tolist())[:5]}); fix the data, or pass kinds={{{out!r}: 'mean'}} to "
              "analyse it as a mean", out, "values in {0, 1} for a conversion", data.loc[off])


#: arm names taken as the control group when ``control=`` is not given (compared without case)
CONTROL_NAMES = ("control", "ctrl", "baseline", "holdout")


def _choose_control(arm_list: Sequence[str], variant: str) -> str:
    """The arm whose name says it is the control (control/ctrl/baseline/holdout, any case), else an error.

    Never guessed from order: reading the control as a treatment flips the sign of every effect.
    """
    named = [a for a in arm_list if a.strip().lower() in CONTROL_NAMES]
    if len(named) == 1:
        return named[0]
    if not named:
        _fail(f"cannot tell which arm is the control: none of the arms {list(arm_list)} is named "
              f"{'/'.join(CONTROL_NAMES)}. Pass control=<label of the control arm>", variant,
              "control arm named or given with control=", list(arm_list))
    _fail(f"several arms could be the control ({named}); pass control=<label of the control arm>", variant,
          "exactly one control arm", named)
    raise AssertionError  # unreachable: _fail raises


def _normalise_covariates(covariates, outcomes: Sequence[str]) -> dict[str, list[str]]:
    if covariates is None:
        return {}
    if isinstance(covariates, str):
        return {o: [covariates] for o in outcomes}
    if isinstance(covariates, Mapping):
        out = {}
        for o, c in covariates.items():
            if o not in outcomes:
                raise ValueError(f"covariates given for {o!r}, which is not among the outcomes {list(outcomes)}")
            out[o] = [c] if isinstance(c, str) else list(c)
        return out
    return {o: list(covariates) for o in outcomes}


def analyze_experiment(
    data: pd.DataFrame,
    *,
    variant: str = "variant",
    outcomes: Sequence[str] = ("converted",),
    control: str | None = None,
    covariates: str | Sequence[str] | Mapping[str, str | Sequence[str]] | None = None,
    arms: Sequence[str] | None = None,
    allocation: Mapping[str, float] | None = None,
    kinds: Mapping[str, str] | None = None,
    timestamp: str | None = None,
    unit: str | None = "unit_id",
    alpha: float = 0.05,
    srm_threshold: float = 0.001,
    interval: str = "newcombe",
    sequential_tau: Mapping[str, float] | None = None,
    sequential_looks: int = 100,
    bayes_draws: int = 100_000,
    seed: int = 0,
) -> ExperimentReadout:
    """Read out an experiment with two or more arms.

    Parameters
    ----------
    data
        The experiment table: one row per unit with ``variant``, the outcome columns and, optionally,
        pre-period covariates and an enrolment time.
    variant, outcomes, control
        Column of the arm label, outcome columns, and the control arm's label (default: the one arm named
        control, ctrl, baseline or holdout, in any case; otherwise a ``DataContractError`` asks for it).
    covariates
        Pre-period covariates for CUPED: one column name for all outcomes, a list, or a mapping
        ``{outcome: column or [columns]}``.
    arms
        The arms that were planned (an arm listed here with no units is an error, as is a categorical
        ``variant`` with an unused category).
    allocation
        Planned share per arm for the SRM test (default: equal), keyed by the arm labels (numbers or text).
    kinds
        ``{outcome: "proportion" | "mean"}``; default: ``proportion`` for 0/1 columns, ``mean`` otherwise.
    timestamp
        Enrolment-time column for the sequential replay (default: row order).
    unit
        Unit id column; when present, a unit listed twice is an error (it was counted in two arms or twice).
    alpha
        Level of the intervals and tests (0.05 gives 95 % intervals).
    sequential_tau
        ``{outcome: tau}`` mixing scale of the mSPRT (default: a tenth of the outcome's standard deviation).

    Returns
    -------
    ExperimentReadout
    """
    outcomes = [outcomes] if isinstance(outcomes, str) else list(outcomes)
    cov = _normalise_covariates(covariates, outcomes)
    arm_list, control, kind_of = _validate(data, variant, outcomes, control, cov, arms, kinds or {}, unit)
    labels = data[variant].astype(str).to_numpy()
    counts = pd.Series({a: int((labels == a).sum()) for a in arm_list})
    # arm labels are read as text (numeric arms 0/1 become "0"/"1"): key the planned shares the same way
    planned = None if allocation is None else {str(k): v for k, v in allocation.items()}
    srm = srm_test(counts, planned, threshold=srm_threshold)

    if timestamp is not None:
        if timestamp not in data.columns:
            _fail(f"timestamp column {timestamp!r} not found", timestamp, "required column", list(data.columns))
        order = np.argsort(pd.to_datetime(data[timestamp]).to_numpy(), kind="stable")
    else:
        order = np.arange(len(data))

    rows = []
    sequential: dict[tuple[str, str], SequentialResult] = {}
    for out in outcomes:
        y_all = pd.to_numeric(data[out].astype(float) if data[out].dtype == bool else data[out]).to_numpy(float)
        in_c = labels == control
        yc = y_all[in_c]
        bayes = None
        if kind_of[out] == "proportion":
            succ = {a: float(y_all[labels == a].sum()) for a in arm_list}
            bayes = bayesian_proportions(succ, counts.to_dict(), control, draws=bayes_draws, seed=seed)
            bayes = bayes.set_index("arm")
        for arm in arm_list[1:]:
            in_t = labels == arm
            yt = y_all[in_t]
            if kind_of[out] == "proportion":
                eff = proportion_effect(yc, yt, alpha, interval)
                var_c = eff.mean_control * (1 - eff.mean_control) / eff.n_control
                var_t = eff.mean_treatment * (1 - eff.mean_treatment) / eff.n_treatment
            else:
                eff = mean_effect(yc, yt, alpha)
                var_c = yc.var(ddof=1) / yc.size
                var_t = yt.var(ddof=1) / yt.size
            rel, _rel_se, rel_lo, rel_hi = relative_effect(eff, alpha, var_c, var_t)
            row = {
                "outcome": out,
                "arm": arm,
                "kind": kind_of[out],
                "n_control": eff.n_control,
                "n_arm": eff.n_treatment,
                "mean_control": eff.mean_control,
                "mean_arm": eff.mean_treatment,
                "abs_effect": eff.estimate,
                "abs_se": eff.std_error,
                "abs_ci_low": eff.ci_low,
                "abs_ci_high": eff.ci_high,
                "rel_effect": rel,
                "rel_ci_low": rel_lo,
                "rel_ci_high": rel_hi,
                "p_value_unadjusted_method": eff.p_value,
                "method": eff.method,
                "mde_80": _mde(eff, kind_of[out], yc, alpha),
            }
            # CUPED on the pooled units of the two arms being compared
            cu_cols = cov.get(out, [])
            if cu_cols:
                pair = in_c | in_t
                x = data.loc[pair, cu_cols].apply(pd.to_numeric).to_numpy(float)
                cu = cuped_adjust(y_all[pair], x)
                adj = cu.adjusted
                t_pair = in_t[pair]
                ac, at = adj[~t_pair], adj[t_pair]
                ce = _welch(float(ac.mean()), float(ac.var(ddof=1)), ac.size, float(at.mean()),
                            float(at.var(ddof=1)), at.size, alpha, "cuped")
                crel = relative_effect(ce, alpha, ac.var(ddof=1) / ac.size, at.var(ddof=1) / at.size)
                row.update(
                    {
                        "cuped_covariates": ",".join(cu_cols),
                        "cuped_effect": ce.estimate,
                        "cuped_se": ce.std_error,
                        "cuped_ci_low": ce.ci_low,
                        "cuped_ci_high": ce.ci_high,
                        "cuped_rel_effect": crel[0],
                        "cuped_rel_ci_low": crel[2],
                        "cuped_rel_ci_high": crel[3],
                        "cuped_p_value": ce.p_value,
                        "variance_removed": 1.0 - (ce.std_error / eff.std_error) ** 2 if eff.std_error > 0
                        else 0.0,
                    }
                )
                primary = ("cuped", ce.estimate, ce.ci_low, ce.ci_high, ce.p_value)
            else:
                primary = (eff.method, eff.estimate, eff.ci_low, eff.ci_high, eff.p_value)
            row.update(
                {
                    "primary": primary[0],
                    "effect": primary[1],
                    "ci_low": primary[2],
                    "ci_high": primary[3],
                    "p_value": primary[4],
                }
            )
            # sequential replay, in enrolment order, on the two arms
            sel = order[(in_c | in_t)[order]]
            tau = (sequential_tau or {}).get(out)
            ts = data[timestamp].to_numpy()[sel] if timestamp is not None else None
            seq = msprt(y_all[sel], in_t[sel], alpha=alpha, tau=tau, n_looks=sequential_looks, timestamps=ts)
            sequential[(out, arm)] = seq
            row.update(
                {
                    "msprt_p_value": seq.p_value,
                    "msprt_stop_units": seq.stopped_at_units,
                    "msprt_stop_fraction": seq.stopped_at_fraction,
                }
            )
            if bayes is not None:
                b = bayes.loc[arm]
                row.update(
                    {
                        "prob_beat_control": b["prob_beat_control"],
                        "prob_best": b["prob_best"],
                        "expected_loss": b["expected_loss"],
                    }
                )
            rows.append(row)
    table = pd.DataFrame(rows)
    table = add_adjusted_p_values(table, alpha)
    table = table.rename(columns={"p_value_unadjusted_method": "p_value_raw_method"})
    readout = ExperimentReadout(table=table, srm=srm, sequential=sequential, control=control, alpha=alpha)
    readout.verdict = _verdict(readout)
    return readout


def _mde(eff, kind: str, yc: np.ndarray, alpha: float) -> float:
    """Smallest absolute effect this comparison detects with 80 % power (a non-significant result below it
    says little)."""
    ratio = eff.n_treatment / eff.n_control
    try:
        if kind == "proportion":
            base = eff.mean_control
            if not 0 < base < 1:
                return float("nan")
            return minimum_detectable_effect(eff.n_control, base, alpha=alpha, ratio=ratio)
        sd = float(np.std(yc, ddof=1))
        if sd <= 0:
            return float("nan")
        return minimum_detectable_effect(eff.n_control, eff.mean_control, alpha=alpha, kind="mean", sd=sd,
                                         ratio=ratio)
    except ValueError:
        return float("nan")


def _fmt(value: float, kind: str) -> str:
    if kind == "proportion":
        return f"{100 * value:+.2f} pp"
    return f"{value:+,.3g}"


def _verdict(readout: ExperimentReadout) -> str:
    """Plain-language summary: SRM first, then per comparison, then a recommendation."""
    lines = []
    srm = readout.srm
    if not srm.passed:
        lines.append("**" + srm.describe() + "**")
    conf = round(100 * (1 - readout.alpha))
    winners = []
    for r in readout.table.itertuples(index=False):
        kind = r.kind
        eff = _fmt(r.effect, kind)
        ci = f"{_fmt(r.ci_low, kind)} to {_fmt(r.ci_high, kind)}"
        rel_value = r.cuped_rel_effect if r.primary == "cuped" else r.rel_effect
        rel = f"{100 * rel_value:+.1f}% relative" if np.isfinite(rel_value) else "relative lift undefined"
        method = " (CUPED-adjusted)" if r.primary == "cuped" else ""
        if r.significant:
            direction = "raised" if r.effect > 0 else "lowered"
            sig = f"{direction} {r.outcome} by {eff}{method} ({conf}% CI {ci}; {rel}); significant after Holm"
            if r.effect > 0:
                winners.append(r)
        else:
            sig = (f"showed no clear effect on {r.outcome}: {eff}{method} ({conf}% CI {ci}; {rel}); "
                   f"not significant after Holm (p = {r.p_holm:.3g}); with these sample sizes only effects of "
                   f"about {_fmt(r.mde_80, kind).lstrip('+')} or more were likely to be detected")
        extra = []
        if r.msprt_stop_fraction is not None and np.isfinite(r.msprt_stop_fraction or np.nan):
            extra.append(f"the always-valid sequential test could have stopped at "
                         f"{100 * r.msprt_stop_fraction:.0f}% of the sample")
        if hasattr(r, "prob_beat_control") and np.isfinite(getattr(r, "prob_beat_control", np.nan)):
            extra.append(f"P(beats control) = {100 * r.prob_beat_control:.1f}%, "
                         f"expected loss {100 * r.expected_loss:.3f} pp")
        if getattr(r, "variance_removed", None) is not None and np.isfinite(getattr(r, "variance_removed", np.nan)):
            extra.append(f"CUPED removed {100 * r.variance_removed:.0f}% of the variance")
        lines.append(f"- **{r.arm}** {sig}" + ("; " + "; ".join(extra) if extra else "") + ".")
    if srm.passed:
        lines.insert(0, srm.describe())
        if winners:
            best = sorted({w.arm for w in winners})
            lines.append(f"Verdict: {', '.join(best)} beat {readout.control} on at least one outcome; check the "
                         "other outcomes (a lift in conversions can cost revenue) before rolling out.")
        else:
            lines.append(f"Verdict: no arm beat {readout.control} with confidence.")
    else:
        lines.append("Verdict: none until the sample ratio mismatch is explained.")
    return "\n".join(lines)
