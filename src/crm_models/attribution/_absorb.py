"""Expected rewards of an absorbing Markov chain from its start distribution, for the full chain and
with groups of states removed, without a factorization per removal.

Notation: ``Q`` the transitions among transient states (substochastic), ``p0`` the start distribution,
``R`` the one-step rewards (columns, e.g. conversion probability and conversion value). The fundamental
matrix ``N = (I - Q)^-1`` (Kemeny & Snell 1960, "Finite Markov Chains", theorem 3.2.1) is non-negative;
``x = N R`` are the expected rewards from each state (theorem 3.3.7) and the quantity wanted is
``P = p0' N R``. Removing a group of states ``G`` sends every transition into it to an absorbing state
without reward: ``P_G = p0_K' (I - Q_KK)^-1 R_K`` on the kept states ``K``.

**One adjoint solve per removal.** ``P_G = y' R_K`` with ``(I - Q_KK)' y = p0_K`` (``y`` are the
expected visits of every state), so every reward column is served by one solve. An approximate ``y~``
with residual ``res = p0_K - (I - Q_KK)' y~`` is off by ``y~ - y = N_KK' res`` and

    ``|y~' R_K - P_G| = |res' x_K| <= ||res||_1 * max_i x_i <= ||res||_1 * max_s R_s / e_s``      (1)

where ``e_s = 1 - sum_t Q_st`` is the one-step absorption probability: ``x_K <= x`` element by element
(removal only removes non-negative terms) and ``x = N R <= N e * max(R / e) = max(R / e)`` because
``N e = 1`` (absorption is certain). Bound (1), evaluated on the true residual, certifies every answer
to ``REL_TOLERANCE`` relative to the full chain's expected reward (the scale of a removal effect
``1 - P_G / P``; for the full chain, relative to itself).

**Elimination of pass-through states first.** A state ``s`` without self-loop is eliminated by
Gaussian elimination of its equation (the Schur complement; the chain watched only on the other
states, Kemeny & Snell section 6.1): every pair of an edge into ``s`` and an edge out of it becomes one
edge with the product of the probabilities; the start mass of ``s`` moves along its out-edges and its
rewards along its in-edges. Only states with ``(in - 1)(out - 1) <= 1`` (in, out counting start and
reward entries) are eliminated, so the number of edges does not grow, and an independent set of them
per round, so a round is a few vectorized operations. Every edge, start and reward entry carries the
set of groups its path went through (a bitmask; the groups of its end points included); removing group
``G`` drops every entry whose mask holds ``G``, which is exactly the restricted system, so one
elimination serves the full chain and every removal. Order-``k`` chains have many states visited by
one journey (in and out degree 1): at order 4 about half the states go, and the Krylov method needs
fewer iterations on the shorter paths.

Each system is then solved by BiCGSTAB (van der Vorst 1992, SIAM J. Sci. Stat. Comput. 13(2),
631-644), started from the full chain's visits on the kept states. A system whose bound (1) is not met
(or that does not converge) is solved by a sparse LU factorization instead (SuperLU,
``scipy.sparse.linalg.splu``), so the result is exact to the stated tolerance either way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu
from threadpoolctl import ThreadpoolController

#: certified error of every expected reward, relative to the full chain's (bound (1))
REL_TOLERANCE = 1e-12
MAX_ITERATIONS = 500
#: elimination stops when a round removes fewer than this share of the remaining states
MIN_ROUND_SHARE = 0.01
MAX_ROUNDS = 20
#: from this many states on, BLAS runs single-threaded during the solves: the vectors are small and a
#: multi-threaded BLAS spends more time waking threads than computing (7 ms per dot product of 27k
#: entries on a busy 2-core machine against 20 us single-threaded); below it, BLAS does not thread
#: and looking the libraries up would cost more than the solves
SINGLE_THREAD_FROM = 5_000
_CONTROLLER: list[ThreadpoolController] = []  # created on first use: listing the libraries takes ms


def _single_threaded_blas():
    if not _CONTROLLER:
        _CONTROLLER.append(ThreadpoolController())
    return _CONTROLLER[0].limit(limits=1, user_api="blas")


@dataclass
class SolveStats:
    """How the systems were solved: Krylov solves, LU fall-backs, the largest certified relative error
    bound, and how many states the elimination removed before solving."""

    iterative: int = 0
    direct: int = 0
    max_error_bound: float = 0.0
    eliminated: int = 0


def _bit(masks: np.ndarray, group: int) -> np.ndarray:
    """Whether each row of the ``(rows, words)`` bitmask array holds ``group``."""
    word = masks[:, group >> 6]
    return ((word >> np.uint64(group & 63)) & np.uint64(1)).astype(bool)


def _pairs(in_key: np.ndarray, out_key: np.ndarray, chosen: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs (i, o) of entries with ``in_key[i] == out_key[o]`` and that state ``chosen``."""
    ins = np.flatnonzero(chosen[in_key])
    outs = np.flatnonzero(chosen[out_key])
    if ins.size == 0 or outs.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    outs = outs[np.argsort(out_key[outs], kind="stable")]
    count = np.bincount(out_key[outs], minlength=len(chosen))
    first = np.cumsum(count) - count
    reps = count[in_key[ins]]
    i = np.repeat(ins, reps)
    within = np.arange(len(i)) - np.repeat(np.cumsum(reps) - reps, reps)
    return i, outs[np.repeat(first[in_key[ins]], reps) + within]


@dataclass
class _Reduced:
    """The chain after elimination: edges, start entries, reward entries and constants, each with the
    bitmask of the groups its path went through; states keep their original numbers."""

    alive: np.ndarray
    src: np.ndarray
    dst: np.ndarray
    weight: np.ndarray
    edge_mask: np.ndarray
    start_state: np.ndarray
    start_amount: np.ndarray
    start_mask: np.ndarray
    reward_state: np.ndarray
    reward_amount: np.ndarray  # (entries, rewards)
    reward_mask: np.ndarray
    const_amount: np.ndarray  # (entries, rewards): start mass absorbed with reward by eliminated states
    const_mask: np.ndarray


def _eliminate(q: sp.csr_matrix, start: np.ndarray, rewards: np.ndarray, state_mask: np.ndarray) -> _Reduced:
    """Eliminate pass-through states round by round (see the module docstring)."""
    n = q.shape[0]
    coo = q.tocoo()
    index = np.int32 if n < 2**31 else np.int64
    src, dst = coo.row.astype(index), coo.col.astype(index)
    nz = coo.data != 0
    src, dst, weight = src[nz], dst[nz], coo.data[nz]
    edge_mask = state_mask[src] | state_mask[dst]
    start_state = np.flatnonzero(start)
    reward_state = np.flatnonzero((rewards != 0).any(axis=1))
    red = _Reduced(
        np.ones(n, dtype=bool), src, dst, weight, edge_mask, start_state, start[start_state],
        state_mask[start_state], reward_state, rewards[reward_state], state_mask[reward_state],
        np.zeros((0, rewards.shape[1])), np.zeros((0, state_mask.shape[1]), dtype=np.uint64),
    )
    # a fixed pseudo-random priority per state (Knuth's multiplicative hash, a bijection of 32-bit
    # numbers): of two adjacent candidates the one with the higher priority waits, so a path of
    # candidates keeps about a third of them (numbering order would keep only its first state)
    priority = (np.arange(n, dtype=np.uint64) * np.uint64(2654435761)) & np.uint64(0xFFFFFFFF)
    for _ in range(MAX_ROUNDS):
        ins = np.bincount(red.dst, minlength=n) + np.bincount(red.start_state, minlength=n)
        outs = np.bincount(red.src, minlength=n) + np.bincount(red.reward_state, minlength=n)
        chosen = red.alive & ((ins - 1) * (outs - 1) <= 1)
        chosen[red.src[red.src == red.dst]] = False  # a self-loop would need a division
        both = chosen[red.src] & chosen[red.dst]
        later = np.where(priority[red.src[both]] > priority[red.dst[both]], red.src[both], red.dst[both])
        chosen[later] = False  # an independent set
        if chosen.sum() < max(MIN_ROUND_SHARE * red.alive.sum(), 1):
            break
        e_in, e_out = _pairs(red.dst, red.src, chosen)  # edge into s x edge out of s: a new edge
        s_in, s_out = _pairs(red.start_state, red.src, chosen)  # start at s: moves to its successors
        r_in, r_out = _pairs(red.dst, red.reward_state, chosen)  # reward of s: moves to its predecessors
        c_in, c_out = _pairs(red.start_state, red.reward_state, chosen)  # start at s x reward at s
        keep_e = ~(chosen[red.src] | chosen[red.dst])
        keep_s = ~chosen[red.start_state]
        keep_r = ~chosen[red.reward_state]
        red = _Reduced(
            red.alive & ~chosen,
            np.concatenate([red.src[keep_e], red.src[e_in]]),
            np.concatenate([red.dst[keep_e], red.dst[e_out]]),
            np.concatenate([red.weight[keep_e], red.weight[e_in] * red.weight[e_out]]),
            np.concatenate([red.edge_mask[keep_e], red.edge_mask[e_in] | red.edge_mask[e_out]]),
            np.concatenate([red.start_state[keep_s], red.dst[s_out]]),
            np.concatenate([red.start_amount[keep_s], red.start_amount[s_in] * red.weight[s_out]]),
            np.concatenate([red.start_mask[keep_s], red.start_mask[s_in] | red.edge_mask[s_out]]),
            np.concatenate([red.reward_state[keep_r], red.src[r_in]]),
            np.concatenate([red.reward_amount[keep_r], red.weight[r_in][:, None] * red.reward_amount[r_out]]),
            np.concatenate([red.reward_mask[keep_r], red.edge_mask[r_in] | red.reward_mask[r_out]]),
            np.concatenate([red.const_amount, red.start_amount[c_in][:, None] * red.reward_amount[c_out]]),
            np.concatenate([red.const_mask, red.start_mask[c_in] | red.reward_mask[c_out]]),
        )
    return red


def _bicgstab(a_t: sp.csr_matrix, b: np.ndarray, y0: np.ndarray, rewards: np.ndarray, const: np.ndarray,
              cap: np.ndarray, floor: np.ndarray) -> tuple[np.ndarray, bool]:
    """BiCGSTAB for ``a_t y = b`` until bound (1), ``||res||_1 * cap``, is below ``REL_TOLERANCE`` times
    every expected reward ``y' rewards + const`` (or ``floor``, if larger). The bound is checked on the
    true residual ``b - a_t y``: the recursively updated one drifts from it in floating point, and
    replaces it when they disagree. Returns ``(y, certified)``."""
    y = y0.copy()
    r = b - a_t @ y
    r_hat = r.copy()
    p = np.zeros_like(b)
    v = np.zeros_like(b)
    rho_old = alpha = omega = 1.0
    cap_max = float(cap.max())
    for _ in range(MAX_ITERATIONS + 1):
        res2 = float(np.sqrt(r @ r))
        if not np.isfinite(res2):
            return y, False
        scale = np.maximum(np.abs(y @ rewards + const), floor)
        target = REL_TOLERANCE * float(np.min(scale / np.where(cap > 0, cap, np.inf)))
        if res2 <= target and float(np.abs(r).sum()) <= target:  # the 2-norm is the cheap necessary test
            r = b - a_t @ y
            if float(np.abs(r).sum()) <= target:
                return y, True
        if res2 == 0.0 or cap_max == 0.0:
            return y, False
        rho = float(r_hat @ r)
        if rho == 0.0 or omega == 0.0:
            return y, False  # breakdown
        beta = (rho / rho_old) * (alpha / omega)
        p -= omega * v
        p *= beta
        p += r
        v = a_t @ p
        denominator = float(r_hat @ v)
        if denominator == 0.0:
            return y, False
        alpha = rho / denominator
        s = r - alpha * v
        t = a_t @ s
        tt = float(t @ t)
        omega = float(t @ s) / tt if tt > 0 else 0.0
        y += alpha * p
        y += omega * s
        r = s - omega * t
        rho_old = rho
    return y, False


class RemovalSolver:
    """Expected rewards ``p0' N R`` of an absorbing chain, in full and with a group of states removed.

    Parameters
    ----------
    q:
        Transition probabilities among transient states (CSR, rows sum to at most 1).
    start:
        Start distribution over the transient states.
    rewards:
        One-step rewards, shape ``(n_states, m)`` (e.g. conversion probability and conversion value).
    groups:
        Boolean ``(n_states, n_groups)``: the states removed together with group ``g`` (e.g. every state
        whose window contains channel ``g``).
    """

    def __init__(self, q: sp.csr_matrix, start: np.ndarray, rewards: np.ndarray, groups: np.ndarray) -> None:
        rewards = np.asarray(rewards, dtype=float)
        rewards = rewards if rewards.ndim == 2 else rewards[:, None]
        groups = np.asarray(groups, dtype=bool)
        n, n_groups = groups.shape
        self.n_groups = n_groups
        self.stats = SolveStats()
        exits = 1.0 - np.asarray(q.sum(axis=1)).ravel()
        positive = exits > 0
        ratio = np.where(positive[:, None], rewards / np.where(positive, exits, 1.0)[:, None], 0.0)
        self._cap = ratio.max(axis=0) if n else np.zeros(rewards.shape[1])  # max_s R_s / e_s of bound (1)
        words = max((n_groups + 63) // 64, 1)
        state_mask = np.zeros((n, words), dtype=np.uint64)
        for g in range(n_groups):
            state_mask[groups[:, g], g >> 6] |= np.uint64(1) << np.uint64(g & 63)
        self._groups = groups
        self._red = _eliminate(q.tocsr(), np.asarray(start, dtype=float), rewards, state_mask)
        self.stats.eliminated = int(n - self._red.alive.sum())
        alive = np.flatnonzero(self._red.alive)
        self._alive = alive
        self._limit = _single_threaded_blas() if len(alive) >= SINGLE_THREAD_FROM else None
        try:
            self._visits_full = np.zeros(n)
            full, y = self._solve(None)
            self.full = full
            self._visits_full[alive] = y
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Give BLAS its threads back (call after the last solve)."""
        if self._limit is not None:
            self._limit.restore_original_limits()
            self._limit = None

    def without(self, group: int) -> np.ndarray:
        """Expected rewards (one per column) with the states of ``group`` removed."""
        return self._solve(group)[0]

    def _solve(self, group: int | None) -> tuple[np.ndarray, np.ndarray]:
        red = self._red
        if group is None:
            ok_e = slice(None)
            ok_s = ok_r = ok_c = slice(None)
            kept = self._alive
        else:
            ok_e = ~_bit(red.edge_mask, group)
            ok_s = ~_bit(red.start_mask, group)
            ok_r = ~_bit(red.reward_mask, group)
            ok_c = ~_bit(red.const_mask, group)
            kept = self._alive[~self._groups[self._alive, group]]
        n = len(self._red.alive)
        const = red.const_amount[ok_c].sum(axis=0)
        m = len(kept)
        position = np.full(n, -1, dtype=np.int64)
        position[kept] = np.arange(m)
        rewards = np.zeros((m, const.size))
        np.add.at(rewards, position[red.reward_state[ok_r]], red.reward_amount[ok_r])
        b = np.bincount(position[red.start_state[ok_s]], weights=red.start_amount[ok_s], minlength=m)
        if m == 0 or not rewards.any() or not b.any():
            return np.clip(const, 0.0, None), np.zeros(m)
        diagonal = np.arange(m)
        a_t = sp.csr_matrix(  # (I - Q_KK)' in one conversion (duplicate entries are summed)
            (np.concatenate([-red.weight[ok_e], np.ones(m)]),
             (np.concatenate([position[red.dst[ok_e]], diagonal]), np.concatenate([position[red.src[ok_e]], diagonal]))),
            shape=(m, m),
        )
        y0 = self._visits_full[kept] if group is not None else b
        # removals are certified relative to the full chain's rewards (the scale of the removal effects
        # 1 - P_G / P), so that a removal that leaves almost nothing is not chased to round-off
        floor = np.zeros_like(const) if group is None else np.abs(self.full)
        y, ok = _bicgstab(a_t, b, y0, rewards, const, self._cap, floor)
        if ok:
            self.stats.iterative += 1
            scale = np.maximum(np.abs(y @ rewards + const), floor)
            bound = float(np.abs(b - a_t @ y).sum()) * self._cap
            relative = np.where(bound > 0, bound / np.where(scale > 0, scale, np.inf), 0.0)
            self.stats.max_error_bound = max(self.stats.max_error_bound, float(relative.max()))
        else:
            y = splu(a_t.tocsc()).solve(b)
            self.stats.direct += 1
        return np.clip(y @ rewards + const, 0.0, None), y
