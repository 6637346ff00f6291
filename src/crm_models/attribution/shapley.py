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

``coalition_value=`` chooses the game (see :mod:`crm_models.attribution._coalitions`): ``"conversions"``
(the count game above), ``"conversion_rate"`` (the conversion probability of the journeys within ``S``,
Dalessandro et al. 2012; it counts non-converting journeys) or a callable of a frozenset of channel
names. For the last two, ``method="exact"`` sums over all coalitions (up to ``max_channels``) and
``method="sampled"`` averages over random orderings with standard errors; the Shapley values
(``shapley_value``, in the game's units, adding up to ``v(N) - v(empty)``) are rescaled to the total
conversions and value for the ``conversions`` and ``value`` columns. These games need not be monotone,
so a channel's credit can be negative (its journeys convert less than those without it).
"""

from __future__ import annotations

from dataclasses import dataclass
from math import factorial

import numpy as np
import pandas as pd

from crm_models.attribution._coalitions import (
    COALITION_VALUES,
    CoalitionValue,
    callable_worth,
    exact_shapley,
    inclusion_position,
    journey_masks,
    rate,
    sampled_shapley,
    set_members,
    subset_sums,
)
from crm_models.attribution.journeys import EncodedJourneys, encode_journeys

MAX_EXACT_CHANNELS = 20
SHAPLEY_METHODS = ("exact", "simplified", "ordered", "sampled")
DEFAULT_PERMUTATIONS = 2_000


@dataclass
class ShapleyAttribution:
    """Result of :func:`shapley_attribution`.

    Attributes
    ----------
    method:
        ``exact``, ``simplified``, ``ordered`` or ``sampled``.
    credit:
        Frame indexed by channel: ``conversions`` and ``value``; for a game other than the count game
        also ``shapley_value`` (in the game's units) and ``value_shapley_value``.
    coalition_value:
        The game: ``"conversions"``, ``"conversion_rate"`` or ``"callable"``.
    standard_errors:
        Sampled method only: standard errors of the ``credit`` columns over the random orderings.
    n_permutations:
        Sampled method only: the number of random orderings.
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
    coalition_value: str = "conversions"
    standard_errors: pd.DataFrame | None = None
    n_permutations: int | None = None


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
            "use method='simplified', which gives the same values in linear time, method='sampled', or group channels "
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
    coalition_value: CoalitionValue = "conversions",
    n_permutations: int = DEFAULT_PERMUTATIONS,
    seed: int = 0,
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
        number of channels), ``"ordered"`` (Zhao et al.'s ordered Shapley value, credit by position) or
        ``"sampled"`` (permutation sampling with standard errors, Castro et al. 2009; any number of
        channels up to 62).
    coalition_value:
        The worth of a coalition: ``"conversions"``, ``"conversion_rate"`` or a callable taking a
        frozenset of channel names and returning a float (see the module docstring). ``"simplified"``
        and ``"ordered"`` exist for the count game only.
    n_permutations, seed:
        Random orderings of the sampled method and the seed of their generator.

    Raises
    ------
    ValueError
        Unknown method or game, a per-journey method with another game than ``"conversions"``, or
        ``method="exact"`` with more than ``max_channels`` channels.
    """
    if method not in SHAPLEY_METHODS:
        raise ValueError(f"unknown Shapley method {method!r}; choose one of {SHAPLEY_METHODS}")
    if not callable(coalition_value) and coalition_value not in COALITION_VALUES:
        raise ValueError(
            f"unknown coalition_value {coalition_value!r}; choose one of {COALITION_VALUES} or pass a function "
            "of a frozenset of channel names"
        )
    if method in ("simplified", "ordered") and coalition_value != "conversions":
        raise ValueError(
            f"method={method!r} is the per-journey form of the count game (coalition_value='conversions'); "
            "use method='exact' or 'sampled' for other coalition values"
        )
    enc = encode_journeys(journeys, path=path, conversions=conversions, nulls=nulls, value=value, sep=sep)
    index = pd.Index(list(enc.channels), name="channel")
    k = enc.n_channels
    if method == "sampled" or coalition_value != "conversions":
        return _general(enc, method, coalition_value, max_channels, n_permutations, seed, index)
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


def _general(
    enc: EncodedJourneys, method: str, coalition_value: CoalitionValue, max_channels: int, n_permutations: int,
    seed: int, index: pd.Index,
) -> ShapleyAttribution:
    """Exact or sampled Shapley values of the rate game, a user's game, or the sampled count game."""
    k = enc.n_channels
    journeys_w = enc.conversions + enc.nulls
    name = "callable" if callable(coalition_value) else str(coalition_value)
    if callable(coalition_value):
        players = np.arange(k)
    else:
        used = np.zeros(k, dtype=bool)
        weighted = (journeys_w > 0) | (enc.value > 0)
        if len(enc.codes):
            used[np.unique(enc.codes[weighted[enc.path_index]])] = True
        players = np.flatnonzero(used)
    n = len(players)
    names = [str(enc.channels[p]) for p in players]
    if method == "exact" and n > max_channels:
        raise ValueError(
            f"exact Shapley values over {n} channels need 2**{n} coalitions (limit: {max_channels} channels); "
            "use method='sampled' (permutation sampling with standard errors) or group channels "
            "with build_journeys(channel_map=...)"
        )
    games: list[tuple[np.ndarray, np.ndarray | None]] = []  # (numerator weights, denominator weights)
    if not callable(coalition_value):
        denominator = journeys_w if coalition_value == "conversion_rate" else None
        games = [(enc.conversions, denominator), (enc.value, denominator)]
    phis: list[np.ndarray] = []
    ses: list[np.ndarray | None] = []
    spans: list[float] = []
    if n == 0:
        phis, ses, spans = [np.zeros(0), np.zeros(0)], [None, None], [0.0, 0.0]
    elif callable(coalition_value):
        if method == "exact":
            worth = callable_worth(coalition_value, names)
            phi, se = exact_shapley(worth, n), None
            span = float(worth[-1] - worth[0])
        else:
            def prefix_worth(order: np.ndarray) -> np.ndarray:
                return np.array([float(coalition_value(frozenset(names[i] for i in order[:j]))) for j in range(n + 1)])

            phi, se = sampled_shapley(prefix_worth, n, n_permutations, seed)
            span = float(coalition_value(frozenset(names))) - float(coalition_value(frozenset()))
        phis, ses, spans = [phi, phi], [se, se], [span, span]
    else:
        masks = journey_masks(enc, players)
        ok = masks >= 0
        for numer, denom in games:
            if method == "exact":
                size = 1 << n
                top = subset_sums(np.bincount(masks[ok], weights=numer[ok], minlength=size), n)
                worth = top if denom is None else rate(
                    top, subset_sums(np.bincount(masks[ok], weights=denom[ok], minlength=size), n)
                )
                phis.append(exact_shapley(worth, n))
                ses.append(None)
                spans.append(float(worth[-1] - worth[0]))
                continue
            uniq, inverse = np.unique(masks[ok], return_inverse=True)
            set_numer = np.bincount(inverse, weights=numer[ok], minlength=len(uniq))
            set_denom = None if denom is None else np.bincount(inverse, weights=denom[ok], minlength=len(uniq))
            member_set, member_player = set_members(uniq, n)
            n_sets = len(uniq)

            def prefix_worth(order: np.ndarray, set_numer=set_numer, set_denom=set_denom,
                             member_set=member_set, member_player=member_player, n_sets=n_sets) -> np.ndarray:
                position = inclusion_position(order, member_set, member_player, n_sets)
                top = np.cumsum(np.bincount(position, weights=set_numer, minlength=n + 1))
                if set_denom is None:
                    return top
                return rate(top, np.cumsum(np.bincount(position, weights=set_denom, minlength=n + 1)))

            phi, se = sampled_shapley(prefix_worth, n, n_permutations, seed)
            phis.append(phi)
            ses.append(se)
            full = prefix_worth(np.arange(n))
            spans.append(float(full[-1] - full[0]))
    totals = [float(enc.conversions.sum()), float(enc.value.sum())]
    scale = [t / sp if sp != 0 else 0.0 for t, sp in zip(totals, spans)]
    columns = {}
    errors = {}
    for col, phi, se, sc in zip(("conversions", "value"), phis, ses, scale):
        full = np.zeros(k)
        full[players] = phi * sc
        columns[col] = full
        if se is not None:
            err = np.zeros(k)
            err[players] = se * abs(sc)
            errors[col] = err
    if name != "conversions":
        for col, phi in zip(("shapley_value", "value_shapley_value"), phis):
            full = np.zeros(k)
            full[players] = phi
            columns[col] = full
    credit = pd.DataFrame(columns, index=index)
    standard_errors = pd.DataFrame(errors, index=index) if errors else None
    return ShapleyAttribution(
        method, credit, coalition_value=name, standard_errors=standard_errors,
        n_permutations=n_permutations if method == "sampled" else None,
    )
