"""The attribution report's facts: credit by method, intervals, return on spend and the headline, as frames and plain
sentences (pure functions: no printing, plotting, logging or file reading).

:func:`attribution_report` runs every analysis of the attribution notebook once on canonical touchpoints cut at the
report date; the functions below turn its result into what a stakeholder reads: human method names, shares as
percentages, money in the report's currency, and a budget recommendation only when the bootstrap intervals separate
(:mod:`crm_models.attribution.roi`). Numbers are formatted by callables the caller passes (the report's share and
money formatters), so this module does not depend on the presentation layer.

Methods: rules of thumb (:mod:`~crm_models.attribution.heuristics`), exact Markov removal effects (Anderl, Becker,
von Wangenheim & Schumann 2016, "Mapping the customer journey", IJRM 33(3), eq. 3-4), Shapley values (Shapley 1953;
Zhao et al. 2018 for the ordered form) and Poisson-bootstrap intervals (:mod:`~crm_models.attribution.uncertainty`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crm_models.attribution.journeys import build_journeys, encode_journeys
from crm_models.attribution.markov import (
    MarkovAttribution,
    OrderSelection,
    markov_attribution,
    select_markov_order,
)
from crm_models.attribution.roi import METHOD_LABELS, ChannelROI, channel_roi
from crm_models.attribution.shapley import ShapleyAttribution, shapley_attribution
from crm_models.attribution.uncertainty import attribute, bootstrap_draws, compare_attribution
from crm_models.data.timestamps import bound_like, end_exclusive, end_inclusive_day
from crm_models.exceptions import DataContractError

__all__ = [
    "COMPARED_METHODS", "INTERVAL_METHODS", "ROI_METHODS", "AttributionReport", "ReportTable", "TouchpointWindow",
    "attribution_report", "best_roas", "budget_move", "credit_intervals", "cut_touchpoints", "headline_sentences",
    "interval_table", "kpis", "last_touch_gap", "markov_table", "method_label", "order_sentence", "order_table", "roas_table",
    "share_table", "technical_metrics", "truth_sentence",
]

#: Methods compared side by side (shares of conversions), in the order the columns are shown.
COMPARED_METHODS = ("first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based",
                    "markov", "shapley")
#: Methods whose credit gets bootstrap intervals in the report.
INTERVAL_METHODS = ("markov", "shapley", "linear", "last_touch")
#: Methods under which return on spend is computed.
ROI_METHODS = ("last_touch", "linear", "markov", "shapley")

Formatter = Callable[[float], str]
#: Formats an amount with a number of decimals, e.g. ``functools.partial(format_money, currency="EUR")``.
MoneyFormatter = Callable[..., str]


def _percent(value: float) -> str:
    return f"{value:.0%}"


def _plain_money(value: float, decimals: int = 0) -> str:
    return f"{value:,.{decimals}f}"


def method_label(method: str) -> str:
    """A method's name for a reader, capitalized (``"last_touch"`` -> ``"Last touch"``)."""
    text = METHOD_LABELS.get(method, method.replace("_", " "))
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class ReportTable:
    """A stakeholder table: ``frame`` with reader's column names, which columns hold money and shares, and decimals
    for columns whose rounding must not follow the column's typical size (pass them to the report's table
    formatter)."""

    frame: pd.DataFrame
    money: list[str] = field(default_factory=list)
    shares: list[str] = field(default_factory=list)
    decimals: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class TouchpointWindow:
    """Touchpoints up to the report date: ``touchpoints`` kept, ``as_of`` (the last day included, ``None``: all the
    data) and ``dropped`` (touches after it)."""

    touchpoints: pd.DataFrame
    as_of: pd.Timestamp | None = None
    dropped: int = 0


def cut_touchpoints(touchpoints: pd.DataFrame, as_of: Any = None, *, timestamp: str = "timestamp") -> TouchpointWindow:
    """Keep the touches up to and including ``as_of`` (a date keeps the whole day, as every end date in the package:
    :func:`crm_models.data.timestamps.end_exclusive`); ``None`` keeps everything.

    Raises ``ConfigurationError`` when ``as_of`` is not a date and ``DataContractError`` when no touch is left.
    """
    if as_of is None:
        return TouchpointWindow(touchpoints)
    bound = end_exclusive(as_of, "report_as_of")
    day = end_inclusive_day(as_of, "report_as_of")
    stamps = touchpoints[timestamp]
    keep = (stamps < bound_like(bound, stamps)).to_numpy()
    if not keep.any():
        first = stamps.min() if len(stamps) else None
        raise DataContractError(
            f"no touchpoint on or before report_as_of {day:%Y-%m-%d}: the first touch is on {first}",
            column=timestamp, rule="report_as_of must not lie before the first touch",
            examples=pd.DataFrame({"first touch": [stamps.min()], "last touch": [stamps.max()]}))
    return TouchpointWindow(touchpoints.loc[keep], day, int((~keep).sum()))


def _spend_until(spend: Any, as_of: pd.Timestamp | None) -> Any:
    """Spend rows of periods that start on or before ``as_of`` (spend without a ``period`` column is kept whole)."""
    if as_of is None or not isinstance(spend, pd.DataFrame) or "period" not in spend.columns:
        return spend
    start = pd.to_datetime(spend["period"].astype(str), errors="coerce")
    if start.isna().any():
        return spend  # periods that are not dates (labels such as "Q1") cannot be cut
    start = start.dt.tz_convert("UTC").dt.tz_localize(None) if getattr(start.dt, "tz", None) is not None else start
    return spend.loc[(start <= as_of).to_numpy()]


@dataclass
class AttributionReport:
    """Every analysis of the attribution report, computed once (see :func:`attribution_report`).

    Attributes
    ----------
    window: the touchpoints used (cut at the report date) and how many touches were after it.
    journeys: journeys built from them (:func:`crm_models.attribution.build_journeys`).
    order, level: Markov order of the headline credit and the coverage of every interval.
    comparison: long credit table of :data:`COMPARED_METHODS` (:func:`~crm_models.attribution.compare_attribution`).
    markov: the exact Markov attribution at ``order``.
    selection: orders compared by held-out likelihood.
    intervals: bootstrap intervals of the credit, per method of :data:`INTERVAL_METHODS`.
    ordered: ordered Shapley values (credit by position of first appearance).
    roi: return on spend under :data:`ROI_METHODS`, ``None`` without spend.
    truth: the known true credit per channel (simulated data), else ``None``.
    """

    window: TouchpointWindow
    journeys: pd.DataFrame
    order: int
    level: float
    comparison: pd.DataFrame
    markov: MarkovAttribution
    selection: OrderSelection
    intervals: dict[str, pd.DataFrame]
    ordered: ShapleyAttribution
    roi: ChannelROI | None = None
    truth: pd.DataFrame | None = None

    @property
    def n_journeys(self) -> float:
        """Customer journeys (converting and not)."""
        return float((self.journeys["conversions"] + self.journeys["nulls"]).sum())

    @property
    def n_conversions(self) -> float:
        """Conversions."""
        return float(self.journeys["conversions"].sum())

    @property
    def conversion_value(self) -> float:
        """Value of the conversions (0 when the data carry none)."""
        return float(self.journeys["value"].sum()) if "value" in self.journeys else 0.0

    @property
    def conversion_rate(self) -> float:
        """Conversions per journey."""
        return self.n_conversions / self.n_journeys if self.n_journeys > 0 else float("nan")

    @property
    def shares(self) -> pd.Series:
        """Each channel's share of conversions under the headline (Markov) credit, largest first."""
        credit = self.markov.credit["conversions"]
        total = float(credit.sum())
        return (credit / total if total > 0 else credit * 0.0).sort_values(ascending=False, kind="stable")

    @property
    def top_channel(self) -> str:
        """The channel with the largest Markov credit."""
        return str(self.shares.index[0])

    @property
    def true_shares(self) -> pd.Series | None:
        """The known true share of conversions per channel (simulated data only)."""
        if self.truth is None:
            return None
        true = self.truth["conversions"]
        return true / float(true.sum())


def attribution_report(
    touchpoints: pd.DataFrame | TouchpointWindow,
    *,
    spend: pd.Series | pd.DataFrame | None = None,
    truth: Mapping[str, Any] | None = None,
    as_of: Any = None,
    order: int = 1,
    max_order: int = 3,
    lookback_days: float | None = None,
    n_boot: int = 100,
    level: float = 0.9,
    seed: int = 0,
) -> AttributionReport:
    """Run the attribution report's analyses on canonical ``touchpoints`` (or a :class:`TouchpointWindow`).

    Parameters
    ----------
    touchpoints: canonical touchpoints (``customer_id, timestamp, channel, conversion [, value]``).
    spend: spend per channel (see :func:`crm_models.attribution.channel_roi`); a ``period`` column that holds dates
        is cut at ``as_of`` like the touches (periods starting after it are dropped). ``None``: no return on spend.
    truth: the demo brand's attribution truth (a mapping with ``"attribution"``, credit per channel), or ``None``.
    as_of: the report date; touches after it are left out (:func:`cut_touchpoints`).
    order, max_order: Markov order of the headline credit; orders 1..``max_order`` are compared.
    lookback_days: keep only touches this many days before a journey's end (``None``: all).
    n_boot, level, seed: bootstrap samples, interval coverage and seed (one seed for every method).
    """
    window = touchpoints if isinstance(touchpoints, TouchpointWindow) else cut_touchpoints(touchpoints, as_of)
    journeys = build_journeys(window.touchpoints, lookback=lookback_days)
    comparison = compare_attribution(journeys, methods=COMPARED_METHODS, order=order)
    markov = markov_attribution(journeys, order=order)
    selection = select_markov_order(journeys, orders=tuple(range(1, max_order + 1)), seed=seed)
    encoded = encode_journeys(journeys)
    intervals = {method: credit_intervals(encoded, method, n_boot=n_boot, level=level, seed=seed,
                                          **({"order": order} if method == "markov" else {}))
                 for method in INTERVAL_METHODS}
    ordered = shapley_attribution(journeys, method="ordered")
    roi = None
    if spend is not None:
        roi = channel_roi(journeys, _spend_until(spend, window.as_of), methods=ROI_METHODS, order=order,
                          n_boot=n_boot, level=level, seed=seed)
    true_credit = truth.get("attribution") if truth is not None else None
    return AttributionReport(window, journeys, order, level, comparison, markov, selection, intervals, ordered, roi,
                             true_credit)


def credit_intervals(journeys: Any, method: str, *, n_boot: int = 100, level: float = 0.9, seed: int = 0,
                     **options: Any) -> pd.DataFrame:
    """A method's credit per channel with bootstrap intervals of the conversions credited and of the *share* of
    conversions (index channel: ``conversions``, ``value``, ``conversions_lower``/``_upper``, ``share``,
    ``share_lower``/``_upper``; attrs ``method``, ``level``, ``n_boot``, ``seed``).

    The share interval is taken over the share in each bootstrap sample (credit / that sample's conversions), not the
    count interval divided by the observed total: the total varies between samples, and dividing by a fixed total
    gives shares above 100% for a channel that gets every conversion. Percentile intervals over the Poisson bootstrap
    of :func:`crm_models.attribution.uncertainty.bootstrap_draws` (Efron & Tibshirani 1993, ch. 13).
    """
    if n_boot < 2:
        raise ValueError(f"n_boot must be at least 2, got {n_boot}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    enc = encode_journeys(journeys)
    out = attribute(enc, method, **options)
    draws, _ = bootstrap_draws(enc, method, n_boot=n_boot, seed=seed, **options)
    totals = draws.sum(axis=1, keepdims=True)
    share_draws = np.divide(draws, totals, out=np.zeros_like(draws), where=totals > 0)
    alpha = (1.0 - level) / 2.0
    total = float(out["conversions"].sum())
    out["conversions_lower"], out["conversions_upper"] = np.quantile(draws, [alpha, 1 - alpha], axis=0)
    out["share"] = out["conversions"] / total if total > 0 else 0.0
    out["share_lower"], out["share_upper"] = np.quantile(share_draws, [alpha, 1 - alpha], axis=0)
    out.attrs.update({"method": method, "level": level, "n_boot": n_boot, "seed": seed})
    return out


def share_table(report: AttributionReport) -> ReportTable:
    """Each channel's share of conversions under every compared method (rows: channels, largest Markov share first;
    columns: method names)."""
    wide = report.comparison.pivot(index="channel", columns="method", values="conversion_share")
    methods = [m for m in COMPARED_METHODS if m in wide.columns]
    frame = wide.loc[report.shares.index, methods].rename(columns=method_label)
    frame.index.name = "Channel"
    frame.columns.name = None
    return ReportTable(frame, shares=list(frame.columns))


def interval_table(report: AttributionReport, share: Formatter = _percent) -> pd.DataFrame:
    """Share of conversions with its bootstrap interval, ``"31% (28% to 34%)"``, per channel (rows, largest Markov
    share first) and method of :data:`INTERVAL_METHODS` (columns); ``share`` formats a share."""
    columns = {}
    for method, frame in report.intervals.items():
        columns[method_label(method)] = [f"{share(r.share)} ({share(r.share_lower)} to {share(r.share_upper)})"
                                         for r in frame.loc[report.shares.index].itertuples()]
    table = pd.DataFrame(columns, index=pd.Index(report.shares.index, name="Channel"))
    return table


def markov_table(report: AttributionReport) -> ReportTable:
    """The headline credit per channel: conversions credited with the interval, the share, the removal effect and
    the conversion probability of a journey without the channel."""
    markov, bounds = report.markov, report.intervals.get("markov")
    index = report.shares.index
    frame = pd.DataFrame({
        "Conversions credited": markov.credit.loc[index, "conversions"],
        f"{report.level:.0%} interval, lower": bounds.loc[index, "conversions_lower"] if bounds is not None else np.nan,
        f"{report.level:.0%} interval, upper": bounds.loc[index, "conversions_upper"] if bounds is not None else np.nan,
        "Share of conversions": report.shares,
        "Removal effect": markov.removal_effects.loc[index, "removal_effect"],
        "Chance a journey converts without it": markov.removal_effects.loc[index, "conversion_probability_without"],
    })
    if report.conversion_value > 0:
        frame.insert(4, "Value credited", markov.credit.loc[index, "value"])
    frame.index.name = "Channel"
    return ReportTable(frame, money=["Value credited"] if report.conversion_value > 0 else [],
                       shares=["Share of conversions", "Removal effect", "Chance a journey converts without it"])


ORDER_LABELS = {"heldout_loglik": "Held-out fit (log-likelihood per journey)", "heldout_se": "Standard error",
                "train_loglik": "Training fit (log-likelihood per journey)", "n_contexts": "States estimated"}


def order_table(selection: OrderSelection) -> ReportTable:
    """The order comparison with reader's column names (one row per Markov order); the fits keep three decimals,
    since orders differ in the second or third."""
    frame = selection.table.rename(columns=ORDER_LABELS)
    frame.index.name = "Markov order"
    fits = [ORDER_LABELS[c] for c in ("heldout_loglik", "heldout_se", "train_loglik") if c in selection.table]
    return ReportTable(frame, decimals=dict.fromkeys(fits, 3))


def last_touch_gap(report: AttributionReport) -> tuple[str, float, str, float]:
    """``(over, by, under, by)``: the channel whose share last-touch credit overstates most against the Markov credit
    and by how much (share points, positive), and the one it understates most (positive as well)."""
    wide = report.comparison.pivot(index="channel", columns="method", values="conversion_share")
    gap = (wide["last_touch"] - wide["markov"]).sort_values(kind="stable")
    return str(gap.index[-1]), float(gap.iloc[-1]), str(gap.index[0]), float(-gap.iloc[0])


def _funded(roi: ChannelROI, method: str) -> pd.DataFrame:
    rows = roi.table[(roi.table["method"] == method) & (roi.table["spend"] > 0)]
    return rows.set_index("channel")


def best_roas(roi: ChannelROI | None, method: str = "markov") -> tuple[str, float] | None:
    """The channel with spend that returns the most per currency unit under ``method`` and its return (value per
    unit, or conversions per unit when no conversion carries a value); ``None`` without spend."""
    if roi is None:
        return None
    rows = _funded(roi, method)
    key = "roas" if roi.metric == "roas" else "conversions_per_unit"
    rows = rows[rows[key].notna() & np.isfinite(rows[key])]
    if rows.empty:
        return None
    best = rows[key].idxmax()
    return str(best), float(rows.loc[best, key])


def budget_move(roi: ChannelROI | None, method: str = "markov") -> str:
    """The landing page's recommendation in words: ``"shift budget from Display to Paid Search"`` when the intervals
    of the two channels separate under ``method`` (the widest gap first), else ``"no budget shift is supported by
    the intervals"``; ``"no spend per channel given"`` without spend."""
    if roi is None:
        return "no spend per channel given"
    moves = roi.shifts[roi.shifts["method"] == method]
    if moves.empty:
        return "no budget shift is supported by the intervals"
    first = moves.iloc[0]
    return f"shift budget from {first['from_channel']} to {first['to_channel']}"


def roas_table(report: AttributionReport, currency: str = "", number: Formatter = lambda v: f"{v:.2f}") -> ReportTable:
    """Return on spend per channel with spend: spend, cost per conversion under the headline credit, and the return
    per currency unit under every method of :data:`ROI_METHODS` with its interval, ``"3.20 (2.80 to 3.70)"``
    (value per unit spent; conversions per 100 units when no conversion carries a value)."""
    if report.roi is None:
        raise ValueError("the report has no spend per channel: pass spend= to attribution_report")
    roi = report.roi
    head = _funded(roi, "markov")
    head = head.loc[[c for c in report.shares.index if c in head.index]]
    scale, key = (1.0, "roas") if roi.metric == "roas" else (100.0, "conversions_per_unit")
    unit = f"{currency} " if currency else ""
    what = (f"Value per {unit}1 spent" if key == "roas" else f"Conversions per {unit}100 spent")
    frame = pd.DataFrame({"Spend": head["spend"], "Cost per conversion (Markov)": head["cost_per_conversion"]})
    for method in ROI_METHODS:
        rows = _funded(roi, method).reindex(head.index)
        frame[f"{what} ({METHOD_LABELS.get(method, method)})"] = [
            "-" if not np.isfinite(r[key]) else
            f"{number(scale * r[key])} ({number(scale * r[f'{key}_lower'])} to {number(scale * r[f'{key}_upper'])})"
            for _, r in rows.iterrows()]
    frame.index.name = "Channel"
    return ReportTable(frame, money=["Spend", "Cost per conversion (Markov)"],
                       decimals={"Cost per conversion (Markov)": 2})


def order_sentence(report: AttributionReport) -> str:
    """Which Markov order predicts held-out journeys best, and whether the report uses it."""
    best = report.selection.best_order
    memory = "the current channel" if best == 1 else f"the last {best} channels"
    used = ("the order this report uses" if best == report.order
            else f"this report uses order {report.order}; set the `order` parameter to change it")
    return (f"Held-out journeys are predicted best by a Markov chain of order {best} (each step depends on {memory}): "
            f"{used}.")


def truth_sentence(report: AttributionReport, share: Formatter = _percent) -> str | None:
    """On simulated data, how far the Markov shares are from the known true shares (the largest gap over channels,
    in percentage points); ``None`` on real data."""
    true = report.true_shares
    if true is None:
        return None
    gap = (report.shares - true.reindex(report.shares.index)).abs()
    worst = str(gap.idxmax())
    return (f"On this simulated brand the true channel effects are known: the Markov shares are within "
            f"{100 * gap.max():.1f} percentage points of the truth for every channel (largest gap: {worst}, "
            f"{share(report.shares[worst])} estimated against {share(true[worst])} true).")


def headline_sentences(report: AttributionReport, *, description: str, share: Formatter = _percent,
                       money: MoneyFormatter = _plain_money, currency: str = "") -> list[str]:
    """The report's headline, one sentence per item: journeys, conversions and their value; the channel with the
    most credit and its interval; what last-touch credit gets wrong; the best return on spend and the budget move.

    ``share`` formats a share; ``money(amount, decimals=...)`` an amount (whole units for totals, cents for returns
    per unit spent); ``currency`` names the unit of spend in words ("per EUR 1 spent")."""
    top, shares = report.top_channel, report.shares
    bounds = report.intervals["markov"].loc[top]
    when = f" up to {report.window.as_of:%d %B %Y}" if report.window.as_of is not None else ""
    if report.window.dropped:
        when += f" ({report.window.dropped:,} later touches left out)"
    worth = f" worth **{money(report.conversion_value, decimals=0)}**" if report.conversion_value > 0 else ""
    lines = [
        (f"In {description}{when}, {report.n_journeys:,.0f} customer journeys led to **{report.n_conversions:,.0f} "
        f"conversions** ({share(report.conversion_rate)} of journeys){worth}."),
        (f"**{top}** earns the most credit: **{share(shares[top])} of conversions** ({report.level:.0%} interval "
        f"{share(bounds['share_lower'])} to {share(bounds['share_upper'])}) by the "
        f"exact {METHOD_LABELS['markov']} (order {report.markov.order}), which credit each channel with the "
        "conversions that would be lost without it."),
    ]
    over, over_by, under, under_by = last_touch_gap(report)
    if over != under and min(over_by, under_by) >= 0.005:
        lines.append(f"Crediting only the last touch would overstate **{over}** by {100 * over_by:.0f} percentage "
                     f"points and understate **{under}** by {100 * under_by:.0f}: {under} opens or assists journeys "
                     "that other channels close.")
    best = best_roas(report.roi)
    if best is not None:
        unit = f"{currency} " if currency else ""
        if report.roi is not None and report.roi.metric == "roas":
            amount = money(best[1], decimals=2)
            lines.append(f"Per {unit}1 spent, **{best[0]}** returns the most: **{amount} in conversion value**.")
        else:
            lines.append(f"Per {unit}100 spent, **{best[0]}** brings the most conversions ({100 * best[1]:.1f}).")
        move = budget_move(report.roi)
        lines.append(f"**Recommendation: {move}** (the {report.level:.0%} intervals of the return on spend"
                     + (", which do not overlap for these two channels)." if move.startswith("shift") else
                        " overlap for every pair of channels with spend)."))
    return lines


def kpis(report: AttributionReport) -> dict[str, Any]:
    """Headline numbers and words for the landing page (``kpi_*``: numbers become metrics, words tags): conversions,
    conversion rate, the top channel and its share, the best return on spend and the budget move in words."""
    out: dict[str, Any] = {
        "kpi_conversions": report.n_conversions,
        "kpi_conversion_rate": report.conversion_rate,
        "kpi_top_channel": report.top_channel,
        "kpi_top_channel_share": float(report.shares.iloc[0]),
        "kpi_budget_move": budget_move(report.roi),
    }
    best = best_roas(report.roi)
    if best is not None:
        out["kpi_best_return_on_spend_channel"] = best[0]
        out["kpi_best_return_on_spend" if report.roi is not None and report.roi.metric == "roas"
            else "kpi_best_conversions_per_unit_spent"] = best[1]
    return out


def technical_metrics(report: AttributionReport) -> dict[str, float]:
    """Checks logged as plain metrics (not headline KPIs): the chosen and best Markov order, the journeys and, on
    simulated data, the largest gap between estimated and true shares."""
    out = {"markov_order": float(report.order), "best_markov_order": float(report.selection.best_order),
           "journeys": report.n_journeys, "conversion_value": report.conversion_value,
           "touches_after_as_of": float(report.window.dropped)}
    true = report.true_shares
    if true is not None:
        out["max_share_error_vs_truth"] = float((report.shares - true.reindex(report.shares.index)).abs().max())
    return out

