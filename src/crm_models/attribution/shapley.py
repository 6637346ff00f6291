"""Shapley-value attribution: exact over channel coalitions, the per-journey form and the ordered form.

The game (Shapley 1953, "A value for n-person games", Contributions to the Theory of Games II, 307-317):
players are the channels, and the worth of a coalition ``S`` is the conversions (or value) of the
journeys whose channels all lie in ``S``,

    v(S) = sum_{T subset of S} R(T),

with ``R(T)`` the conversions of journeys whose set of distinct channels is exactly ``T``. The Shapley
value of channel ``i`` is

    phi_i = sum_{S subset of N \\ {i}} |S|! (n - |S| - 1)! / n! * (v(S + i) - v(S)).

``method="exact"`` evaluates this sum over all ``2^n`` coalitions: ``R`` is counted per bitmask, ``v``
follows by the subset-sum (zeta) transform in ``O(n 2^n)``; this is feasible up to about 20 channels
(``MAX_EXACT_CHANNELS``); beyond that it raises.

``method="simplified"`` is the per-journey form of Zhao, Mahboobi & Bagheri (2018), "Shapley value
methods for attribution modeling in online advertising", arXiv:1804.05327 (their "simplified Shapley value"):

    phi_i = sum_{T containing i} R(T) / |T|,

i.e. linear credit over the *distinct* channels of each journey. It equals the exact value because
``v`` is a sum of unanimity games ``u_T`` weighted by ``R(T)``, and the Shapley value of ``u_T`` splits
one unit equally among the members of ``T`` (Shapley 1953, from additivity and symmetry). It needs no limit on channels.

``method="ordered"`` is Zhao et al.'s ordered Shapley value: each journey's share
``R(T) / |T|`` for channel ``i`` is booked at the position ``j`` at which ``i`` first appears among the
journey's distinct channels, giving a channel x position table whose row sums are the Shapley values.

Credits are never negative (``v`` is monotone, so every marginal contribution is >= 0) and add up to
``v(N) - v(empty) =`` the total conversions (efficiency).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial

import numpy as np
import pandas as pd

from crm_models.attribution.journeys import EncodedJourneys, encode_journeys

MAX_EXACT_CHANNELS = 20
SHAPLEY_METHODS = ("exact", "simplified", "ordered")


@dataclass
class ShapleyAttribution:
    """Result of :func:`shapley_attribution`.

    Attributes
    ----------
    method:
        ``exact``, ``simplified`` or ``ordered``.
    credit:
        Frame indexed by channel: ``conversions`` and ``value``.
    by_position:
        Ordered method only: conversions credited to each channel (rows) at each position of first
        appearance among the journey's distinct channels (columns 1, 2, ...).
    by_position_value:
        Ordered method only: the same for value.
    """

    method: str
    credit: pd.DataFrame
    by_position: pd.DataFrame | None = None
    by_position_value: pd.DataFrame | None = None


def _distinct_touches(enc: EncodedJourneys) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(path index, channel code, rank of first appearance) of every distinct channel of every path."""
    pidx = enc.path_index
    k = max(enc.n_channels, 1)
    key = pidx * k + enc.codes
    # first occurrence of each (path, channel): touches are in path order, so a stable unique suffices
    _, first_idx = np.unique(key, return_index=True)
    first_idx = np.sort(first_idx)
    path_of = pidx[first_idx]
    code_of = enc.codes[first_idx].astype(np.int64)
    starts = np.flatnonzero(np.r_[True, path_of[1:] != path_of[:-1]]) if len(path_of) else np.zeros(0, np.int64)
    counts = np.diff(np.r_[starts, len(path_of)])
    rank = np.arange(len(path_of)) - np.repeat(starts, counts)
    return path_of, code_of, rank


def _per_journey(enc: EncodedJourneys) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    path_of, code_of, rank = _distinct_touches(enc)
    n_distinct = np.bincount(path_of, minlength=enc.n_paths).astype(float)
    share = 1.0 / n_distinct[path_of]
    return code_of, rank, enc.conversions[path_of] * share, enc.value[path_of] * share


def _exact(enc: EncodedJourneys, max_channels: int) -> tuple[np.ndarray, np.ndarray]:
    """Shapley values by the subset-sum transform over the channels that occur in worthy journeys."""
    k = enc.n_channels
    worthy = (enc.conversions > 0) | (enc.value > 0)
    pidx = enc.path_index
    in_worthy = np.zeros(k, dtype=bool)
    if len(enc.codes):
        in_worthy[np.unique(enc.codes[worthy[pidx]])] = True
    players = np.flatnonzero(in_worthy)
    n = len(players)
    if n > max_channels:
        raise ValueError(
            f"exact Shapley values over {n} channels need 2**{n} coalitions (limit: {max_channels} channels); "
            "use method='simplified', which gives the same values in linear time, or group channels "
            "with build_journeys(channel_map=...)"
        )
    conv_out = np.zeros(k)
    value_out = np.zeros(k)
    if n == 0:
        return conv_out, value_out
    player_bit = np.zeros(k, dtype=np.int64)
    player_bit[players] = 1 << np.arange(n, dtype=np.int64)
    touch_bits = player_bit[enc.codes]
    masks = np.bitwise_or.reduceat(touch_bits, enc.offsets[:-1]) if len(touch_bits) else np.zeros(0, np.int64)
    size = 1 << n
    popcount = np.zeros(size, dtype=np.int64)
    for i in range(n):
        popcount.reshape(-1, 2, 1 << i)[:, 1, :] += 1
    # weight of a coalition of size s not containing i: s! (n - s - 1)! / n!
    coef = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)])
    for out, worth in ((conv_out, enc.conversions), (value_out, enc.value)):
        v = np.bincount(masks[worthy], weights=worth[worthy], minlength=size).astype(float)
        for i in range(n):  # zeta transform: v(S) = sum over T subset of S of R(T)
            view = v.reshape(-1, 2, 1 << i)
            view[:, 1, :] += view[:, 0, :]
        for i in range(n):
            view = v.reshape(-1, 2, 1 << i)
            sizes = popcount.reshape(-1, 2, 1 << i)[:, 0, :]
            out[players[i]] = float(np.sum(coef[sizes] * (view[:, 1, :] - view[:, 0, :])))
    return conv_out, value_out


def shapley_attribution(
    journeys: pd.DataFrame | EncodedJourneys,
    method: str = "exact",
    *,
    max_channels: int = MAX_EXACT_CHANNELS,
    path: str = "path",
    conversions: str = "conversions",
    nulls: str | None = "nulls",
    value: str | None = "value",
    sep: str = ">",
) -> ShapleyAttribution:
    """Shapley-value credit of conversions and value (see the module docstring for the equations).

    Parameters
    ----------
    journeys:
        Journeys table (see :func:`crm_models.attribution.encode_journeys`) or encoded journeys.
    method:
        ``"exact"`` (subset sums over all coalitions, up to ``max_channels`` channels that occur in
        converting journeys), ``"simplified"`` (Zhao et al. 2018 per-journey form; same values, any
        number of channels) or ``"ordered"`` (Zhao et al.'s ordered Shapley value, credit by position).

    Raises
    ------
    ValueError
        Unknown method, or ``method="exact"`` with more than ``max_channels`` channels.
    """
    if method not in SHAPLEY_METHODS:
        raise ValueError(f"unknown Shapley method {method!r}; choose one of {SHAPLEY_METHODS}")
    enc = encode_journeys(journeys, path=path, conversions=conversions, nulls=nulls, value=value, sep=sep)
    index = pd.Index(list(enc.channels), name="channel")
    k = enc.n_channels
    if method == "exact":
        conv, val = _exact(enc, max_channels)
        return ShapleyAttribution("exact", pd.DataFrame({"conversions": conv, "value": val}, index=index))
    code_of, rank, conv_share, value_share = _per_journey(enc)
    conv = np.bincount(code_of, weights=conv_share, minlength=k) if k else np.zeros(0)
    val = np.bincount(code_of, weights=value_share, minlength=k) if k else np.zeros(0)
    credit = pd.DataFrame({"conversions": conv, "value": val}, index=index)
    if method == "simplified":
        return ShapleyAttribution("simplified", credit)
    n_pos = int(rank.max()) + 1 if len(rank) else 0
    cells = code_of * max(n_pos, 1) + rank
    positions = pd.Index(np.arange(1, n_pos + 1), name="position")
    by_pos = np.bincount(cells, weights=conv_share, minlength=k * n_pos).reshape(k, n_pos) if n_pos else (
        np.zeros((k, 0))
    )
    by_pos_val = np.bincount(cells, weights=value_share, minlength=k * n_pos).reshape(k, n_pos) if n_pos else (
        np.zeros((k, 0))
    )
    return ShapleyAttribution(
        "ordered", credit, pd.DataFrame(by_pos, index=index, columns=positions),
        pd.DataFrame(by_pos_val, index=index, columns=positions),
    )
