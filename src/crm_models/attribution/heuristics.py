"""Rule-based (heuristic) attribution: each converting journey's credit split over its touches by a rule.

Every rule gives the touches of a path non-negative weights that add up to one; a channel's credit is
the sum over paths of ``weight x conversions`` (and ``weight x value``), so credits are non-negative and
add up to the total conversions and value. The rules are the standard ones of the attribution
literature (e.g. Kannan, Reinartz & Verhoef 2016, "The path to purchase and attribution modeling",
IJRM 33(3), Table 1):

* ``first_touch`` / ``last_touch``: all credit to the first / last touch;
* ``last_non_direct``: all credit to the last touch that is not a direct visit (the last touch when the
  path is direct only), as in Google Analytics' default model;
* ``linear``: equal credit to every touch (``1 / L``);
* ``time_decay``: weight ``2 ** (-d / half_life)`` for a touch ``d`` before the journey's end, normalized
  per path; ``d`` in days when the journeys carry ``days_to_end`` (``build_journeys(aggregate=False)``),
  otherwise in touches before the last one;
* ``position_based`` (U-shaped): 40% to the first touch, 40% to the last and 20% split over the middle
  ones; one touch gets 100%, two touches 50% each.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from crm_models.attribution.journeys import EncodedJourneys, encode_journeys

HEURISTIC_METHODS = ("first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based")
DEFAULT_DIRECT_NAMES = frozenset({"direct", "(direct)", "direct traffic", "none", "(none)"})


def _touch_weights(
    enc: EncodedJourneys,
    method: str,
    *,
    half_life: float,
    decay_unit: str,
    position_weights: tuple[float, float, float],
    direct_channels: Iterable[str] | None,
) -> np.ndarray:
    """Weight of every touch (aligned with ``enc.codes``); weights of a path add up to one."""
    lengths = enc.lengths
    n_tokens = len(enc.codes)
    first = enc.offsets[:-1]
    last = enc.offsets[1:] - 1
    weights = np.zeros(n_tokens)
    if method == "first_touch":
        weights[first] = 1.0
    elif method == "last_touch":
        weights[last] = 1.0
    elif method == "last_non_direct":
        if direct_channels is None:
            is_direct_channel = np.array([c.strip().lower() in DEFAULT_DIRECT_NAMES for c in enc.channels])
        else:
            chosen = {str(c) for c in direct_channels}
            is_direct_channel = np.array([c in chosen for c in enc.channels])
        if len(is_direct_channel) == 0:
            is_direct_channel = np.zeros(0, dtype=bool)
        non_direct = ~is_direct_channel[enc.codes] if n_tokens else np.zeros(0, dtype=bool)
        # position of the last non-direct touch of each path (or -1)
        idx = np.where(non_direct, np.arange(n_tokens), -1)
        last_nd = np.maximum.reduceat(idx, first) if n_tokens else np.zeros(0, np.int64)
        chosen_idx = np.where(last_nd >= first, last_nd, last)
        weights[chosen_idx] = 1.0
    elif method == "linear":
        weights = 1.0 / np.repeat(lengths, lengths).astype(float)
    elif method == "time_decay":
        if not half_life > 0:
            raise ValueError(f"half_life must be positive, got {half_life}")
        unit = decay_unit
        if unit == "auto":
            unit = "days" if enc.days_to_end is not None else "touches"
        if unit == "days":
            if enc.days_to_end is None:
                raise ValueError("decay_unit='days' needs journeys with days_to_end (build_journeys(aggregate=False))")
            distance = np.asarray(enc.days_to_end, dtype=float)
        elif unit == "touches":
            distance = (np.repeat(last, lengths) - np.arange(n_tokens)).astype(float)
        else:
            raise ValueError(f"decay_unit must be 'auto', 'days' or 'touches', got {decay_unit!r}")
        raw = np.exp2(-distance / half_life)
        totals = np.add.reduceat(raw, first) if n_tokens else np.zeros(0)
        weights = raw / np.repeat(totals, lengths)
    elif method == "position_based":
        w_first, w_middle, w_last = (float(x) for x in position_weights)
        if min(w_first, w_middle, w_last) < 0 or not np.isclose(w_first + w_middle + w_last, 1.0):
            raise ValueError(f"position_weights must be non-negative and add up to 1, got {position_weights}")
        length_tok = np.repeat(lengths, lengths)
        position = np.arange(n_tokens) - np.repeat(first, lengths)
        middle = w_middle / np.maximum(length_tok - 2, 1)
        weights = np.where(position == 0, w_first, np.where(position == length_tok - 1, w_last, middle))
        # one touch: all credit; two touches: first and last share everything in proportion
        weights = np.where(length_tok == 1, 1.0, weights)
        two = length_tok == 2
        pair_total = w_first + w_last
        weights = np.where(two & (position == 0), w_first / pair_total if pair_total else 0.5, weights)
        weights = np.where(two & (position == 1), w_last / pair_total if pair_total else 0.5, weights)
    else:
        raise ValueError(f"unknown heuristic {method!r}; choose one of {HEURISTIC_METHODS}")
    return weights


def heuristic_attribution(
    journeys: pd.DataFrame | EncodedJourneys,
    method: str = "linear",
    *,
    half_life: float = 7.0,
    decay_unit: str = "auto",
    position_weights: tuple[float, float, float] = (0.4, 0.2, 0.4),
    direct_channels: Iterable[str] | None = None,
    path: str = "path",
    conversions: str = "conversions",
    nulls: str | None = "nulls",
    value: str | None = "value",
    sep: str = ">",
) -> pd.DataFrame:
    """Credit conversions and value to channels by a rule (see the module docstring).

    Parameters
    ----------
    journeys:
        Journeys table (see :func:`crm_models.attribution.encode_journeys`) or encoded journeys.
    method:
        One of ``first_touch``, ``last_touch``, ``last_non_direct``, ``linear``, ``time_decay``,
        ``position_based``.
    half_life:
        Time decay: the weight halves every ``half_life`` days (or touches, see ``decay_unit``).
    decay_unit:
        ``"days"``, ``"touches"`` or ``"auto"`` (days when the journeys carry ``days_to_end``).
    position_weights:
        Position based: shares of the first touch, the middle touches together and the last touch.
    direct_channels:
        Channels treated as direct visits by ``last_non_direct``; default: names such as ``Direct``
        or ``(direct)`` (case ignored).

    Returns
    -------
    DataFrame
        Indexed by channel (all channels of the journeys), columns ``conversions`` and ``value``.
    """
    enc = encode_journeys(journeys, path=path, conversions=conversions, nulls=nulls, value=value, sep=sep)
    weights = _touch_weights(
        enc, method, half_life=half_life, decay_unit=decay_unit, position_weights=position_weights,
        direct_channels=direct_channels,
    )
    pidx = enc.path_index
    k = enc.n_channels
    conv = np.bincount(enc.codes, weights=weights * enc.conversions[pidx], minlength=k) if k else np.zeros(0)
    val = np.bincount(enc.codes, weights=weights * enc.value[pidx], minlength=k) if k else np.zeros(0)
    return pd.DataFrame(
        {"conversions": conv, "value": val}, index=pd.Index(list(enc.channels), name="channel")
    )
