"""One entry point for every attribution method, a side-by-side table, and bootstrap intervals.

Intervals resample journeys, not rows of the aggregated table: each path's converting and non-converting
journeys are drawn with Poisson(count) weights (the Poisson bootstrap, Hanley & MacGibbon 2006,
"Creating non-parametric bootstrap samples using Poisson frequencies", Computer Methods and Programs in
Biomedicine 83(1)), which approximates multinomial resampling of all journeys for large samples and
needs no expansion of the table. A path's value moves with its conversions (its mean value per
conversion is kept); on journey-level tables (``build_journeys(aggregate=False)``) every row is one
journey, so the values are resampled exactly. Percentile intervals (Efron & Tibshirani 1993, ch. 13).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from crm_models.attribution.heuristics import HEURISTIC_METHODS, heuristic_attribution
from crm_models.attribution.journeys import EncodedJourneys, encode_journeys
from crm_models.attribution.markov import markov_attribution
from crm_models.attribution.shapley import MAX_EXACT_CHANNELS, shapley_attribution

ALL_METHODS = (*HEURISTIC_METHODS, "markov", "shapley", "shapley_ordered")
DEFAULT_COMPARISON = ("first_touch", "last_touch", "linear", "time_decay", "position_based", "markov", "shapley")


def attribute(journeys: pd.DataFrame | EncodedJourneys, method: str, **options: Any) -> pd.DataFrame:
    """Credit frame (index channel; ``conversions``, ``value``) of any method by name.

    ``method`` is a heuristic name, ``"markov"`` (option ``order``), ``"shapley"`` (exact up to
    ``max_channels`` channels, the identical simplified form beyond) or ``"shapley_ordered"``.
    Other options go to the method (``half_life``, ``direct_channels``, ...).
    """
    enc = encode_journeys(journeys, **_column_options(options))
    if method in HEURISTIC_METHODS:
        return heuristic_attribution(enc, method, **options)
    if method == "markov":
        return markov_attribution(enc, order=options.get("order", 1), with_transitions=False).credit
    if method == "shapley":
        players = np.unique(enc.codes[((enc.conversions > 0) | (enc.value > 0))[enc.path_index]]).size
        limit = options.get("max_channels", MAX_EXACT_CHANNELS)
        if players <= limit:  # the caller's limit, which may exceed the exact method's default
            return shapley_attribution(enc, "exact", max_channels=limit).credit
        return shapley_attribution(enc, "simplified").credit
    if method == "shapley_ordered":
        return shapley_attribution(enc, "ordered").credit
    raise ValueError(f"unknown attribution method {method!r}; choose one of {ALL_METHODS}")


_COLUMN_KEYS = ("path", "conversions", "nulls", "value", "sep", "days_to_end")


def _column_options(options: dict[str, Any]) -> dict[str, Any]:
    """Pop the column-name options (they belong to the encoding, not to the method)."""
    return {key: options.pop(key) for key in _COLUMN_KEYS if key in options}


def compare_attribution(
    journeys: pd.DataFrame | EncodedJourneys,
    methods: Sequence[str] = DEFAULT_COMPARISON,
    **options: Any,
) -> pd.DataFrame:
    """Long table of every method's credit: ``method``, ``channel``, ``conversions``, ``value``,
    ``conversion_share`` and ``value_share``; options go to the methods that take them."""
    enc = encode_journeys(journeys, **_column_options(options))
    frames = []
    for method in methods:
        own = {k: v for k, v in options.items() if _accepts(method, k)}
        credit = attribute(enc, method, **own).reset_index()
        credit.insert(0, "method", method)
        frames.append(credit)
    table = pd.concat(frames, ignore_index=True)
    conv_total = table.groupby("method")["conversions"].transform("sum")
    value_total = table.groupby("method")["value"].transform("sum")
    table["conversion_share"] = np.where(conv_total > 0, table["conversions"] / conv_total.where(conv_total > 0, 1), 0.0)
    table["value_share"] = np.where(value_total > 0, table["value"] / value_total.where(value_total > 0, 1), 0.0)
    return table


def _accepts(method: str, option: str) -> bool:
    if method == "markov":
        return option == "order"
    if method in ("shapley", "shapley_ordered"):
        return option == "max_channels"
    return option in ("half_life", "decay_unit", "position_weights", "direct_channels")


def bootstrap_draws(
    enc: EncodedJourneys, method: str, *, n_boot: int, seed: int, **options: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Credited conversions and value of every channel in ``n_boot`` Poisson-bootstrap samples of the
    journeys, shape ``(n_boot, n_channels)`` each; the same ``seed`` draws the same samples for every
    method (common random numbers, so methods can be compared sample by sample)."""
    rng = np.random.default_rng(seed)
    # `out=` zeros is what gives paths without conversions a value of 0: without it `where=` leaves those entries
    # uninitialised, and a NaN left in memory times their zero draw would be NaN (no test can force that memory)
    value_per_conversion = np.divide(enc.value, enc.conversions, out=np.zeros(enc.n_paths), where=enc.conversions > 0)
    draws_conv = np.empty((n_boot, enc.n_channels))
    draws_value = np.empty((n_boot, enc.n_channels))
    for b in range(n_boot):
        conv = rng.poisson(enc.conversions).astype(float)
        null = rng.poisson(enc.nulls).astype(float)
        sample = enc.reweighted(conv, null, conv * value_per_conversion)
        credit = attribute(sample, method, **options)
        draws_conv[b] = credit["conversions"].to_numpy()
        draws_value[b] = credit["value"].to_numpy()
    return draws_conv, draws_value


def bootstrap_attribution(
    journeys: pd.DataFrame | EncodedJourneys,
    method: str = "markov",
    *,
    n_boot: int = 200,
    level: float = 0.9,
    seed: int = 0,
    **options: Any,
) -> pd.DataFrame:
    """Bootstrap intervals over journeys for a method's credit.

    Parameters
    ----------
    journeys:
        Journeys table or encoded journeys.
    method:
        Any name accepted by :func:`attribute`.
    n_boot:
        Number of bootstrap samples.
    level:
        Coverage of the percentile intervals.
    seed:
        Seed of the resampling (the result is deterministic for a given seed).

    Returns
    -------
    DataFrame
        Indexed by channel: ``conversions`` and ``value`` (the estimate on the data), their bootstrap
        standard errors ``conversions_se``/``value_se`` and interval bounds ``conversions_lower``,
        ``conversions_upper``, ``value_lower``, ``value_upper``.
    """
    if n_boot < 2:
        raise ValueError(f"n_boot must be at least 2, got {n_boot}")
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    enc = encode_journeys(journeys, **_column_options(options))
    estimate = attribute(enc, method, **options)
    draws_conv, draws_value = bootstrap_draws(enc, method, n_boot=n_boot, seed=seed, **options)
    alpha = (1.0 - level) / 2.0
    out = estimate.copy()
    out["conversions_se"] = draws_conv.std(axis=0, ddof=1)
    out["conversions_lower"] = np.quantile(draws_conv, alpha, axis=0)
    out["conversions_upper"] = np.quantile(draws_conv, 1 - alpha, axis=0)
    out["value_se"] = draws_value.std(axis=0, ddof=1)
    out["value_lower"] = np.quantile(draws_value, alpha, axis=0)
    out["value_upper"] = np.quantile(draws_value, 1 - alpha, axis=0)
    out.attrs.update({"method": method, "n_boot": n_boot, "level": level, "seed": seed})
    return out
