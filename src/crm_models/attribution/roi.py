"""Channel return on spend: attributed conversions and value set against what each channel cost.

For channel ``c`` with spend ``S_c`` and, under an attribution method, credited conversions ``C_c`` and
value ``V_c``:

* cost per conversion ``CPA_c = S_c / C_c``;
* return on ad spend ``ROAS_c = V_c / S_c`` (value earned per currency unit spent);
* net value per currency unit ``(V_c - S_c) / S_c = ROAS_c - 1`` (the return on investment).

Intervals are percentile intervals over the Poisson bootstrap of the journeys
(:func:`crm_models.attribution.uncertainty.bootstrap_draws`; Efron & Tibshirani 1993, ch. 13); the spend is
taken as known. Every method sees the same bootstrap samples (one seed), so methods are comparable.

A budget move "from X to Y" is suggested only when the intervals separate: the upper end of X's ROAS
lies below the lower end of Y's (with value 0 everywhere, conversions per currency unit instead). With
intervals that overlap the data cannot tell the two channels apart, and no move is ranked. This compares
average returns: the last currency unit may earn less than the average (diminishing returns), which
attribution cannot see; the suggestion is where to test a shift, not a forecast of its effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crm_models.attribution.journeys import EncodedJourneys, encode_journeys
from crm_models.attribution.uncertainty import (
    DEFAULT_COMPARISON,
    _accepts,
    _column_options,
    attribute,
    bootstrap_draws,
)
from crm_models.exceptions import DataContractError

METHOD_LABELS = {
    "first_touch": "first touch", "last_touch": "last touch", "last_non_direct": "last non-direct touch",
    "linear": "linear", "time_decay": "time decay", "position_based": "position based",
    "markov": "Markov removal effects", "shapley": "Shapley values", "shapley_ordered": "ordered Shapley values",
}


@dataclass
class ChannelROI:
    """Result of :func:`channel_roi`.

    Attributes
    ----------
    table:
        One row per method and channel: ``spend``, credited ``conversions`` and ``value``,
        ``cost_per_conversion``, ``roas``, ``net_value_per_unit`` and, for each, ``_lower``/``_upper``
        interval bounds; NaN where a channel has no spend (ROAS) or no credited conversion (CPA).
    shifts:
        Budget moves whose intervals separate: ``method``, ``from_channel``, ``to_channel``, the metric,
        ``from_upper`` and ``to_lower``; ordered by the gap between them, widest first.
    metric:
        ``"roas"``, or ``"conversions_per_unit"`` when no conversion carries a value.
    level, n_boot, seed, period:
        Interval coverage, bootstrap samples, seed, and the spend period used (``None``: all).
    """

    table: pd.DataFrame
    shifts: pd.DataFrame
    metric: str
    level: float
    n_boot: int
    seed: int
    period: Any = None

    def headline(self, method: str = "markov", currency: str = "") -> str:
        """One sentence on the best and worst channel by ``method``, and on budget moves, in words."""
        rows = self.table[(self.table["method"] == method) & self.table["roas"].notna()]
        label = METHOD_LABELS.get(method, method)
        if rows.empty:
            return f"No channel has spend to compare under {label}."
        key = "roas" if self.metric == "roas" else "conversions_per_unit"
        best = rows.loc[rows[key].idxmax()]
        worst = rows.loc[rows[key].idxmin()]
        unit = f"{currency} " if currency else "unit "  # "per EUR spent" or "per unit spent", never "per spent"
        if self.metric == "roas":
            text = (f"Under {label}, {best['channel']} returns the most per {unit}spent ({best['roas']:.2f} in value "
                    f"per unit) and {worst['channel']} the least ({worst['roas']:.2f}).")
        else:
            text = (f"Under {label}, {best['channel']} brings the most conversions per {unit}spent and "
                    f"{worst['channel']} the fewest.")
        moves = self.shifts[self.shifts["method"] == method]
        if moves.empty:
            return text + f" No budget move is supported: the {self.level:.0%} intervals of the channels overlap."
        first = moves.iloc[0]
        return text + (f" Consider testing a shift of budget from {first['from_channel']} to {first['to_channel']}: "
                       f"their {self.level:.0%} intervals do not overlap.")


def _spend_by_channel(spend: Any, period: Any) -> pd.Series:
    """Spend per channel from a Series (index channel) or a frame with ``channel``, ``spend`` [, ``period``]."""
    if isinstance(spend, pd.Series):
        series = spend.astype("float64")
        series.index = series.index.astype(str)
    elif isinstance(spend, pd.DataFrame):
        for col in ("channel", "spend"):
            if col not in spend.columns:
                raise DataContractError(f"spend lacks the column {col!r}; columns are {list(spend.columns)}",
                                        column=col, rule="required column", examples=spend.head(3))
        frame = spend
        if period is not None:
            if "period" not in frame.columns:
                raise DataContractError("period given but spend has no 'period' column", column="period",
                                        rule="required column when period= is given", examples=spend.head(3))
            frame = frame[frame["period"].astype(str) == str(period)]
            if frame.empty:
                raise DataContractError(f"no spend rows for period {period!r}", column="period",
                                        rule="period must occur in spend", examples=spend.head(3))
        series = pd.to_numeric(frame["spend"], errors="coerce").groupby(frame["channel"].astype(str)).sum(min_count=1)
    else:
        raise TypeError(f"spend must be a Series or a DataFrame, got {type(spend).__name__}")
    bad = series.isna() | (series < 0) | ~np.isfinite(series.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        raise DataContractError(f"{int(bad.sum())} channels have a missing, negative or infinite spend",
                                column="spend", rule="spend must be a number >= 0",
                                examples=series[bad].rename("spend").reset_index().head(5))
    return series


def _interval(draws: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of each column over its defined draws (NaN where none is)."""
    lower = np.full(draws.shape[1], np.nan)
    upper = np.full(draws.shape[1], np.nan)
    ok = (~np.isnan(draws)).any(axis=0)
    if ok.any():
        with np.errstate(invalid="ignore"):  # inf - inf between two infinite draws (no conversion credited)
            lower[ok] = np.nanquantile(draws[:, ok], alpha, axis=0)
            upper[ok] = np.nanquantile(draws[:, ok], 1 - alpha, axis=0)
    return lower, upper


def channel_roi(
    journeys: pd.DataFrame | EncodedJourneys,
    spend: pd.Series | pd.DataFrame,
    methods: Sequence[str] = DEFAULT_COMPARISON,
    *,
    period: Any = None,
    n_boot: int = 200,
    level: float = 0.9,
    seed: int = 0,
    **options: Any,
) -> ChannelROI:
    """Cost per conversion, ROAS and net value per currency unit of every channel under every method,
    with bootstrap intervals, and the budget moves the intervals support (see the module docstring).

    Parameters
    ----------
    journeys:
        Journeys of the period the spend covers (see :func:`crm_models.attribution.encode_journeys`).
    spend:
        Spend per channel: a Series indexed by channel, or a frame with ``channel``, ``spend`` and an
        optional ``period`` column (summed over periods unless ``period`` picks one).
    methods:
        Attribution methods (names accepted by :func:`crm_models.attribution.attribute`).
    n_boot, level, seed:
        Bootstrap samples, interval coverage and seed (one seed for all methods).
    options:
        Column names of ``journeys`` and options of the methods (``order``, ``half_life``, ...).

    Raises
    ------
    DataContractError
        Spend without ``channel``/``spend`` columns, negative or missing spend, an unknown period, or
        spend only on channels that never occur in the journeys.
    """
    if n_boot < 2:
        raise ValueError(f"n_boot must be at least 2, got {n_boot}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    enc = encode_journeys(journeys, **_column_options(options))
    channels = list(enc.channels)
    per_channel = _spend_by_channel(spend, period)
    if per_channel.sum() > 0 and not per_channel.index.isin(channels).any():
        raise DataContractError(
            "no channel with spend occurs in the journeys", column="channel",
            rule="spend channels must be the journeys' channels", examples=per_channel.rename("spend").reset_index().head(5),
        )
    cost = per_channel.reindex(channels).fillna(0.0).to_numpy()
    has_spend = cost > 0
    metric = "roas" if enc.value.sum() > 0 else "conversions_per_unit"
    alpha = (1.0 - level) / 2.0
    frames = []
    shifts = []
    for method in methods:
        own = {k: v for k, v in options.items() if _accepts(method, k)}
        credit = attribute(enc, method, **own)
        conv_draws, value_draws = bootstrap_draws(enc, method, n_boot=n_boot, seed=seed, **own)
        conv = credit["conversions"].to_numpy()
        value = credit["value"].to_numpy()
        safe_cost = np.where(has_spend, cost, np.nan)
        with np.errstate(divide="ignore", invalid="ignore"):
            # no spend: a conversion costs 0; spend but no credited conversion: infinitely expensive
            cpa = np.where(has_spend, cost / conv, 0.0)
            cpa_draws = np.where(has_spend, cost / conv_draws, 0.0)
            roas = value / safe_cost
            roas_draws = value_draws / safe_cost
            per_unit = conv / safe_cost
            per_unit_draws = conv_draws / safe_cost
        frame = pd.DataFrame({"method": method, "channel": channels, "spend": cost, "conversions": conv,
                              "value": value, "cost_per_conversion": cpa, "roas": roas,
                              "net_value_per_unit": roas - 1.0, "conversions_per_unit": per_unit})
        for name, draws in (("cost_per_conversion", cpa_draws), ("roas", roas_draws),
                            ("conversions_per_unit", per_unit_draws)):
            lower, upper = _interval(draws, alpha)
            frame[f"{name}_lower"] = lower
            frame[f"{name}_upper"] = upper
        frame["net_value_per_unit_lower"] = frame["roas_lower"] - 1.0
        frame["net_value_per_unit_upper"] = frame["roas_upper"] - 1.0
        frames.append(frame)
        funded = frame[has_spend]
        for _, src in funded.iterrows():
            for _, dst in funded.iterrows():
                if src["channel"] != dst["channel"] and src[f"{metric}_upper"] < dst[f"{metric}_lower"]:
                    shifts.append({"method": method, "from_channel": src["channel"], "to_channel": dst["channel"],
                                   "metric": metric, "from_upper": src[f"{metric}_upper"],
                                   "to_lower": dst[f"{metric}_lower"],
                                   "gap": dst[f"{metric}_lower"] - src[f"{metric}_upper"]})
    table = pd.concat(frames, ignore_index=True)
    shift_table = pd.DataFrame(shifts, columns=["method", "from_channel", "to_channel", "metric", "from_upper",
                                                "to_lower", "gap"])
    if not shift_table.empty:
        order = {m: i for i, m in enumerate(methods)}
        shift_table = shift_table.sort_values(["method", "gap"], key=lambda s: s.map(order) if s.name == "method"
                                              else -s, kind="stable").reset_index(drop=True)
    return ChannelROI(table, shift_table, metric, level, n_boot, seed, period)
