"""Coalition games over channels and their Shapley values: exact over all ``2^n`` coalitions, or by
permutation sampling with standard errors.

Games (``v`` of a set ``S`` of channels, estimated from the journeys whose distinct channels all lie in
``S``, the "within S" rule, so that every coalition has a worth even when no journey used exactly it):

* ``"conversions"``: ``v(S) = C(S)``, the conversions of those journeys (Zhao, Mahboobi & Bagheri 2018,
  arXiv:1804.05327, eq. 3). It ignores journeys that did not convert.
* ``"conversion_rate"``: ``v(S) = C(S) / J(S)``, their conversion probability, with ``J(S)`` the number
  of those journeys (converting or not) and ``v(S) = 0`` when ``J(S) = 0``. The worth of a coalition as
  the conversion probability of users exposed to it is the game of Dalessandro, Perlich, Stitelman &
  Provost (2012), "Causally motivated attribution for online advertising", ADKDD '12, section 4 (there
  the probability conditions on exposure; here on the journey's channels lying within ``S``); Shao & Li
  (2011), "Data-driven multi-touch attribution models", KDD '11, build their probabilistic model on the
  same conditional conversion rates ``P(y | x_i)``, ``P(y | x_i, x_j)``. Raising a channel's
  non-converting journeys lowers every ``v(S)`` that includes them, hence its credit.
* a callable ``f(frozenset[str]) -> float``: any worth the user defines.

Exact values: ``phi_i = sum_{S not containing i} |S|! (n - |S| - 1)! / n! (v(S + i) - v(S))``
(Shapley 1953). Sampled values: the average marginal contribution of ``i`` over ``m`` uniformly random
orderings of the players (Castro, Gomez & Tejada 2009, "Polynomial calculation of the Shapley value
based on sampling", Computers & Operations Research 36(5), 1726-1730), with standard error
``sd / sqrt(m)``; every ordering's contributions add up to ``v(N) - v(empty)``, so the estimate keeps
efficiency exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from math import factorial

import numpy as np

from crm_models.attribution.journeys import EncodedJourneys

COALITION_VALUES = ("conversions", "conversion_rate")
CoalitionValue = str | Callable[[frozenset], float]


MAX_SAMPLED_CHANNELS = 62  # journey sets are int64 bit masks


def journey_masks(enc: EncodedJourneys, players: np.ndarray) -> np.ndarray:
    """Bit mask of each path's distinct channels (bit ``i`` = ``players[i]``); -1 for a path with a
    channel that is not a player, 0 for an empty path."""
    if len(players) > MAX_SAMPLED_CHANNELS:
        raise ValueError(
            f"Shapley values over {len(players)} channels: at most {MAX_SAMPLED_CHANNELS} are supported; "
            "group channels with build_journeys(channel_map=...)"
        )
    bit = np.full(enc.n_channels, -1, dtype=np.int64)
    bit[players] = 1 << np.arange(len(players), dtype=np.int64)
    if not len(enc.codes):
        return np.zeros(enc.n_paths, dtype=np.int64)
    touch = bit[enc.codes]
    masks = np.bitwise_or.reduceat(touch, enc.offsets[:-1]) if enc.n_paths else np.zeros(0, np.int64)
    masks[np.diff(enc.offsets) == 0] = 0
    return masks


def set_members(masks: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(set id, player) pairs of the distinct non-negative ``masks`` (set ids index ``np.unique(masks)``)."""
    bits = (masks[:, None] >> np.arange(n, dtype=np.int64)) & 1
    set_id, player = np.nonzero(bits)
    return set_id.astype(np.int64), player.astype(np.int64)


def exact_shapley(v: np.ndarray, n: int) -> np.ndarray:
    """Shapley values of the ``n`` players from the worth ``v[mask]`` of every coalition (bit ``i`` = player ``i``)."""
    size = 1 << n
    popcount = np.zeros(size, dtype=np.int64)
    for i in range(n):
        popcount.reshape(-1, 2, 1 << i)[:, 1, :] += 1
    coef = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)])
    out = np.zeros(n)
    for i in range(n):
        view = v.reshape(-1, 2, 1 << i)
        sizes = popcount.reshape(-1, 2, 1 << i)[:, 0, :]
        out[i] = float(np.sum(coef[sizes] * (view[:, 1, :] - view[:, 0, :])))
    return out


def subset_sums(r: np.ndarray, n: int) -> np.ndarray:
    """Zeta transform: ``out[S] = sum_{T subset of S} r[T]`` in ``O(n 2^n)``."""
    v = r.astype(float).copy()
    for i in range(n):
        view = v.reshape(-1, 2, 1 << i)
        view[:, 1, :] += view[:, 0, :]
    return v


def rate(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` with 0 where the denominator is 0 (a coalition nobody was exposed to)."""
    return np.divide(numerator, denominator, out=np.zeros_like(numerator, dtype=float), where=denominator > 0)


def callable_worth(fn: Callable[[frozenset], float], names: list[str]) -> np.ndarray:
    """``v[mask]`` for every coalition of ``names`` from a user's function of a frozenset of names."""
    n = len(names)
    v = np.empty(1 << n)
    for mask in range(1 << n):
        v[mask] = float(fn(frozenset(names[i] for i in range(n) if mask >> i & 1)))
    return v


def sampled_shapley(
    prefix_worth: Callable[[np.ndarray], np.ndarray], n: int, n_permutations: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Permutation-sampling estimate and standard error of every player's Shapley value.

    ``prefix_worth(order)`` returns ``v`` of the empty set and of each prefix of ``order``
    (length ``n + 1``).
    """
    if n_permutations < 2:
        raise ValueError(f"n_permutations must be at least 2, got {n_permutations}")
    rng = np.random.default_rng(seed)
    total = np.zeros(n)
    total_sq = np.zeros(n)
    for _ in range(n_permutations):
        order = rng.permutation(n)
        worth = prefix_worth(order)
        contribution = np.diff(worth)
        total[order] += contribution
        total_sq[order] += contribution**2
    mean = total / n_permutations
    var = np.maximum(total_sq / n_permutations - mean**2, 0.0) * n_permutations / (n_permutations - 1)
    return mean, np.sqrt(var / n_permutations)


def inclusion_position(order: np.ndarray, member_set: np.ndarray, member_player: np.ndarray, n_sets: int) -> np.ndarray:
    """For each journey set: the length of the shortest prefix of ``order`` that contains it."""
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(1, len(order) + 1)
    out = np.zeros(n_sets, dtype=np.int64)
    np.maximum.at(out, member_set, position[member_player])
    return out
