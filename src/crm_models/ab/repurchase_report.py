"""The repurchase part of the experiment report: from an assignment table and a transaction log to the outcomes,
the repurchase curves by arm, the ratio metrics, the effects by segment and the sentences they support.

Pure: no printing, plotting, logging or file writes (:func:`load_repurchase_log` only reads). The methods are the
package's own and every sentence that names one comes from the fitted objects:

* per-unit outcomes over windows after assignment: :func:`crm_models.ab.experiment_outcomes`;
* the read-out of the ``N``-day outcomes on the units whose window is complete (CUPED with pre-period orders and
  revenue; Deng et al. 2013, eq. 3): :func:`crm_models.ab.analyze_experiment`;
* Kaplan-Meier repurchase curves by arm with the censored units, log-rank test and ``N``-day differences
  (Kaplan & Meier 1958; Klein & Moeschberger 2003, eqs. 4.2.2 and 7.3.3-7.3.5):
  :func:`crm_models.ab.repurchase_curves`;
* ratio metrics (revenue per order, items per order) by the delta method with CUPED on the linearised values
  (Deng, Knoblich & Lu 2018), in the same tidy table as the read-out, Holm over the whole family:
  :func:`crm_models.ab.analyze_ratios`;
* effects by segment with Holm across segments and Cochran's Q (Cochran 1954): :func:`crm_models.ab.segment_effects`.
  By default the segment is the customer's RFM segment on the transactions *before the experiment start*
  (:func:`crm_models.rfm.rfm_scores`, seed-003 rules), so the coupon cannot have moved it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pandas as pd

from crm_models.ab.analyze import ExperimentReadout, analyze_experiment
from crm_models.ab.outcomes import ExperimentOutcomes, experiment_outcomes
from crm_models.ab.ratio import analyze_ratios
from crm_models.ab.report import ReadoutTable, readout_table
from crm_models.ab.repurchase import RepurchaseCurves, repurchase_curves
from crm_models.ab.segments import SegmentEffects, segment_effects
from crm_models.data.contract import coerce_identifier
from crm_models.data.engine import TableSource, naive_utc
from crm_models.exceptions import DataContractError

__all__ = ["NO_HISTORY_SEGMENT", "RepurchaseReport", "load_repurchase_log", "repurchase_report",
           "repurchase_section", "segments_before"]

#: Segment of the units without any purchase before the experiment start (no RFM score exists for them).
NO_HISTORY_SEGMENT = "no purchase before the start"

#: Reader's names of the window outcomes and ratio metrics ("{n}" is the window in days).
_NAMES = {"purchased": "Bought again within {n} days", "net_revenue": "Revenue net of coupon cost, {n} days",
          "aov": "Revenue per order, {n} days", "items_per_order": "Items per order, {n} days"}


@dataclass
class RepurchaseReport:
    """Everything the repurchase section shows.

    Attributes
    ----------
    outcomes
        Per-unit outcomes from the transactions (with the ``segment`` column added).
    window
        The window (days) of the read-out, the ratio metrics and the segment effects (units with a complete window).
    readout
        ``analyze_experiment`` on ``purchased_{window}d`` and ``net_revenue_{window}d``.
    curves
        Kaplan-Meier repurchase curves by arm (every unit, censored ones included).
    ratios
        The read-out's table with the ratio metrics appended (Holm and BH recomputed over the whole family).
    ratio_metrics
        ``{metric: is_money}`` of the ratio rows.
    segments
        Effects on ``purchased_{window}d`` (named "repurchase within N days") by ``segment`` (the RFM segment is
        named "RFM segment before the start"); ``segments.verdict`` is the supported sentence.
    segment
        The segment column of ``outcomes.table`` (``"rfm_segment"`` by default).
    sentences
        The section's findings, one sentence (or bullet list) per item.
    """

    outcomes: ExperimentOutcomes
    window: int
    readout: ExperimentReadout
    curves: RepurchaseCurves
    ratios: pd.DataFrame
    ratio_metrics: dict[str, bool]
    segments: SegmentEffects
    segment: str
    sentences: list[str] = field(default_factory=list)
    headline: str = ""

    def segment_text(self) -> str:
        """The segment verdict under a heading."""
        from crm_models.ab.segments import ADJUSTMENTS

        method = ADJUSTMENTS[self.segments.adjust]
        return f"**Effects by segment** ({method} across segments, Cochran's Q):\n\n{self.segments.verdict}"

    def metrics(self) -> dict[str, float]:
        """Tracked metrics: the log-rank p-value and each arm's ``N``-day repurchase difference (Kaplan-Meier)."""
        out = {"repurchase_logrank_p": float(self.curves.logrank["p_value"])}
        for r in self.curves.table.itertuples(index=False):
            if pd.notna(r.effect):
                out[f"repurchase_effect_{r.days:g}d_{r.arm}"] = float(r.effect)
        return out

    def tables(self) -> list[tuple[str, ReadoutTable]]:
        """``(caption, ReadoutTable)`` per window outcome and ratio metric, for the report's table formatter."""
        money = {f"purchased_{self.window}d": False, f"net_revenue_{self.window}d": True, **self.ratio_metrics}
        return [(_name(m, self.window), readout_table(self.ratios, m, money=is_money)) for m, is_money in money.items()]


def _name(metric: str, window: int) -> str:
    stem = metric.removesuffix(f"_{window}d")
    return _NAMES.get(stem, metric.replace("_", " ")).format(n=window)


def segments_before(transactions: TableSource, start: pd.Timestamp, *, rules: str = "seed_003") -> pd.Series:
    """Each customer's RFM segment on the transactions strictly before ``start`` (indexed by customer id, as
    strings); empty when no transaction precedes ``start``."""
    from crm_models.data.engine import as_ibis_table
    from crm_models.rfm import rfm_scores, segment_customers

    tx = as_ibis_table(transactions)
    bound = pd.Timestamp(start).floor("us").to_pydatetime()  # Python datetimes hold microseconds
    before = tx.filter(naive_utc(tx.timestamp) < bound)
    if int(before.count().execute()) == 0:
        return pd.Series([], dtype="string", name="segment")
    # the last instant before the start (not midnight, which would read as a whole day)
    scores = rfm_scores(before, observation_end=pd.Timestamp(start) - pd.Timedelta(microseconds=1))
    labels = segment_customers(scores, rules)
    return pd.Series(labels.astype(str).to_numpy(), index=scores.index.astype(str), name="segment", dtype="string")


def load_repurchase_log(transactions_source: Any, *, experiment: pd.DataFrame, truth: Any = None,
                        seed: int = 42) -> tuple[pd.DataFrame | None, dict[str, Any] | None, str]:
    """The transaction log for the repurchase section, its simulated truth, and why it is missing when it is.

    The demo experiment (``truth`` given, ``transactions_source`` None) gets its coupon transactions
    (:func:`crm_models.datasets.demo_repurchase.coupon_transactions`, deterministic in ``seed``); a path is read
    and cleaned by :func:`crm_models.datasets.sources.load_transactions_source`; otherwise ``(None, None, why)``.
    """
    if transactions_source is not None:
        from crm_models.datasets.sources import load_transactions_source

        loaded = load_transactions_source(transactions_source, source_format="transactions")
        return loaded.transactions, None, ""
    if truth is None:
        return None, None, ("*Repurchase from transactions is skipped: no transaction log was given "
                            "(set the `transactions_source` parameter to a CSV/Parquet file of the experiment's "
                            "customers' transactions).*")
    from crm_models.datasets.demo_repurchase import coupon_transactions

    log, log_truth = coupon_transactions(SimpleNamespace(seed=seed, experiment=experiment,
                                                         truth={"experiment": truth}))
    return log, log_truth, ""


def _pp(value: float) -> str:
    return f"{100 * value:+.1f} pp"


def repurchase_report(
    experiment: pd.DataFrame,
    transactions: TableSource,
    *,
    segment: str | None = None,
    windows: tuple[int, ...] = (30, 60),
    window: int | None = None,
    unit: str = "unit_id",
    variant: str = "variant",
    assigned_at: str = "enrolled_at",
    control: str | None = None,
    observation_end: Any = None,
    alpha: float = 0.05,
    min_units: int = 30,
    money: Callable[[float], str] | None = None,
    truth: dict[str, Any] | None = None,
) -> RepurchaseReport:
    """Outcomes, repurchase curves, ratio metrics and segment effects of an experiment read from its transactions.

    Parameters
    ----------
    experiment
        The assignment table: one row per unit with ``unit``, ``variant`` and ``assigned_at`` (a timestamp, or
        text read by :func:`crm_models.data.contract.coerce_timestamp`: numbers are never guessed as times); other
        columns, e.g. a segment, are carried along.
    transactions
        Canonical transactions (``customer_id, timestamp, amount``, optional ``order_id``, ``quantity``,
        ``coupon_cost``): a DataFrame, a path or an ibis table.
    segment
        Column of ``experiment`` to split the effects by; ``None``: the RFM segment on the transactions before the
        experiment start (:func:`segments_before`; units without any are :data:`NO_HISTORY_SEGMENT`).
    windows, window
        Windows (days) of the outcomes and horizons of the curves; ``window`` (default: the shortest) is the one
        read out, used for the ratio metrics and the segments.
    money
        Formats amounts in the sentences (default: two decimals).
    truth
        The simulated truth of the demo log (``repurchase_effect``), stated next to the estimates.

    Returns
    -------
    RepurchaseReport
    """
    money = money or (lambda v: f"{v:,.2f}")
    windows = tuple(sorted({int(w) for w in windows}))
    window = int(window if window is not None else windows[0])
    if window not in windows:
        raise ValueError(f"window {window} is not among the windows {list(windows)}")
    if segment is not None and segment not in experiment.columns:
        raise DataContractError(f"segment column {segment!r} not found in the experiment table", column=segment,
                                rule="required column", examples=list(experiment.columns))
    if assigned_at not in experiment.columns:
        raise DataContractError(f"assignment time column {assigned_at!r} not found in the experiment table",
                                column=assigned_at, rule="required column", examples=list(experiment.columns))
    if not pd.api.types.is_datetime64_any_dtype(experiment[assigned_at]):  # text read from a CSV file
        from crm_models.data.contract import coerce_timestamp

        experiment = experiment.assign(**{assigned_at: coerce_timestamp(experiment, assigned_at)})
    frame, default_segment = experiment, segment is None
    if segment is None:
        segment = "rfm_segment"
        start = pd.to_datetime(experiment[assigned_at]).min()
        seg = segments_before(transactions, start)
        ids = coerce_identifier(experiment[unit]).astype(str)  # 17850.0 -> "17850", as segments_before's index
        frame = experiment.assign(**{segment: ids.map(seg).fillna(NO_HISTORY_SEGMENT).astype("string").to_numpy()})
    out = experiment_outcomes(frame, transactions, windows=windows, unit=unit, variant=variant,
                              assigned_at=assigned_at, observation_end=observation_end)
    data = out.complete(window)
    if data.empty:
        raise DataContractError(f"no unit has completed the {window}-day window by the observation end "
                                f"{out.last_day:%Y-%m-%d}", column=assigned_at,
                                rule=f"assigned at least {window} days before the observation end")
    bought, net = f"purchased_{window}d", f"net_revenue_{window}d"
    readout = analyze_experiment(data, variant=variant, outcomes=[bought, net], control=control, unit=unit,
                                 covariates={bought: "pre_orders", net: "pre_revenue"}, alpha=alpha)
    curves = repurchase_curves(out, control=readout.control, days=windows, alpha=alpha)

    metrics: dict[str, tuple[str, str]] = {f"aov_{window}d": (f"revenue_{window}d", f"orders_{window}d")}
    covariates: dict[str, tuple[str, str]] = {f"aov_{window}d": ("pre_revenue", "pre_orders")}
    ratio_metrics = {f"aov_{window}d": True}
    if f"items_{window}d" in data:
        metrics[f"items_per_order_{window}d"] = (f"items_{window}d", f"orders_{window}d")
        covariates[f"items_per_order_{window}d"] = ("pre_items", "pre_orders")
        ratio_metrics[f"items_per_order_{window}d"] = False
    ratios = analyze_ratios(data, metrics, variant=variant, control=readout.control, covariates=covariates,
                            alpha=alpha, readout_table=readout.table)
    # reader's names in the verdict ("coupon_20 on repurchase within 30 days by RFM segment before the start")
    seg_label = "RFM segment before the start" if default_segment else segment.replace("_", " ")
    seg_data = data.rename(columns={bought: f"repurchase within {window} days", segment: seg_label})
    segments = segment_effects(seg_data, seg_label, outcomes=f"repurchase within {window} days", variant=variant,
                               control=readout.control, alpha=alpha, min_units=min_units)

    report = RepurchaseReport(out, window, readout, curves, ratios, ratio_metrics, segments, segment)
    report.sentences = _sentences(report, money, truth)
    report.headline = _headline(report)
    return report


def _headline(rep: RepurchaseReport) -> str:
    """The executive summary's sentence: every arm's difference in repurchase within the read-out window."""
    conf = round(100 * (1 - rep.curves.alpha))
    rows = rep.curves.table[rep.curves.table["days"] == rep.window]
    parts = [f"{r.arm} {_pp(r.effect)} ({conf}% CI {_pp(r.ci_low)} to {_pp(r.ci_high)}, "
             f"{'significant' if r.significant else 'not significant'} after Holm)" for r in rows.itertuples()]
    text = (f"Repurchase within {rep.window} days, read from the transaction log (Kaplan-Meier) against "
            f"{rep.curves.control}: " + "; ".join(parts) + ".")
    if not rows["significant"].any():
        text += " **No arm changed repurchase detectably**: the test is too small to decide (see *Repurchase*)."
    return text


def _sentences(rep: RepurchaseReport, money: Callable[[float], str], truth: dict[str, Any] | None) -> list[str]:
    out, n = rep.outcomes, rep.window
    complete = int((out.table["followup_days"] >= n).sum())
    conf = round(100 * (1 - rep.readout.alpha))
    lines = [(f"Outcomes come from {out.quality.rows_in:,} transactions up to {out.last_day:%Y-%m-%d}: "
              f"{complete:,} of {len(out.table):,} customers had completed the {n}-day window (the read-out, ratio "
              "metrics and segments use them); the curves use every customer for as long as they were observed.")]
    lines.append(rep.curves.describe())
    table = rep.curves.table
    if not table["significant"].any():
        per_arm = int(table["n_control"].iloc[0])
        lines.append(f"**None of the repurchase differences is significant** with {per_arm:,} customers in "
                     f"{rep.curves.control}: the test is too small to tell effects of this size from noise, so "
                     "'no significant difference' is not 'no effect'; a larger test (or a longer follow-up) is "
                     "needed to decide.")
    ratio_rows = rep.ratios[rep.ratios["outcome"].isin(list(rep.ratio_metrics))]
    parts = []
    for r in ratio_rows.itertuples(index=False):
        if not pd.notna(r.effect) or not pd.notna(r.ci_low):
            parts.append(f"{_name(r.outcome, n).lower()}, {r.arm}: not estimable (too few orders in an arm)")
            continue
        fmt = (lambda v: ("+" if v >= 0 else "-") + money(abs(v))) if rep.ratio_metrics[r.outcome] else (
            lambda v: f"{v:+.2f}")
        method = "delta method with CUPED" if r.primary == "cuped" else f"{r.method} method"
        parts.append(f"{_name(r.outcome, n).lower()}, {r.arm}: {fmt(r.effect)} ({conf}% CI {fmt(r.ci_low)} to "
                     f"{fmt(r.ci_high)}, {method}; {'significant' if r.significant else 'not significant'} "
                     "after Holm)")
    if parts:
        lines.append("Per order against " + rep.curves.control + ": " + "; ".join(parts) + ".")
    if truth is not None and "repurchase_effect" in truth:
        effects = truth["repurchase_effect"]
        known = [f"{_pp(effects[int(d)][arm])} for {arm} at {d:g} days" for d in rep.curves.days
                 if int(d) in effects for arm in effects[int(d)]]
        if known:
            lines.append("(Simulated data: the true repurchase effects are " + ", ".join(known) + ".)")
    return lines


def repurchase_section(transactions_source: Any, experiment: pd.DataFrame, *, truth: Any = None, seed: int = 42,
                       assigned_at: str | None = "enrolled_at", **options: Any) -> tuple[RepurchaseReport | None, str]:
    """The notebook's way in: :func:`load_repurchase_log` then :func:`repurchase_report` (``options`` go to it);
    ``(None, why)`` when there is no transaction log (``assigned_at`` None reads ``"assigned_at"``)."""
    log, log_truth, why = load_repurchase_log(transactions_source, experiment=experiment, truth=truth, seed=seed)
    if log is None:
        return None, why
    return repurchase_report(experiment, log, assigned_at=assigned_at or "assigned_at", truth=log_truth,
                             **options), ""
