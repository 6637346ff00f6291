"""The removal solver of Markov attribution: adjoint solves after eliminating pass-through states,
checked against dense linear algebra on random absorbing chains."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.attribution import encode_journeys
from crm_models.attribution._absorb import REL_TOLERANCE, RemovalSolver
from crm_models.attribution.markov import _solve_chain, chain_counts


def _random_chain(seed: int, n: int, n_groups: int) -> tuple:
    """A sparse substochastic chain with loops, self-loops, pass-through states (one edge in, one out),
    start mass and rewards on some states only, and random groups of states."""
    rng = np.random.default_rng(seed)
    rows, cols = [], []
    for i in range(n):
        k = rng.choice([1, 1, 1, 2, 3])  # many states with one successor
        rows += [i] * k
        cols += list(rng.choice(n, k))  # may be i itself: a self-loop
    dense = np.zeros((n, n))
    dense[rows, cols] = rng.uniform(0.2, 1.0, len(rows))
    exit_ = rng.uniform(0.02, 0.4, n)
    dense *= ((1 - exit_) / dense.sum(axis=1))[:, None]
    start = np.where(rng.random(n) < 0.3, rng.random(n), 0.0)
    start[0] = 1.0
    start /= start.sum()
    converts = np.where(rng.random(n) < 0.4, rng.uniform(0, 1, n), 0.0) * exit_
    rewards = np.column_stack([converts, converts * rng.gamma(2.0, 20.0, n)])
    groups = rng.random((n, n_groups)) < 0.15
    return sp.csr_matrix(dense), start, rewards, groups


def _direct(q: sp.csr_matrix, start: np.ndarray, rewards: np.ndarray, keep: np.ndarray) -> np.ndarray:
    a = np.eye(int(keep.sum())) - q.toarray()[np.ix_(keep, keep)]
    return start[keep] @ np.linalg.solve(a, rewards[keep])


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 60), n_groups=st.sampled_from([1, 3, 70]))
def test_expected_rewards_with_groups_removed_equal_the_dense_solve(seed, n, n_groups):
    # 70 groups: the masks take two 64-bit words
    q, start, rewards, groups = _random_chain(seed, n, n_groups)
    solver = RemovalSolver(q, start, rewards, groups)
    try:
        np.testing.assert_allclose(solver.full, _direct(q, start, rewards, np.ones(n, bool)), rtol=1e-9, atol=1e-14)
        for g in range(n_groups):
            expected = _direct(q, start, rewards, ~groups[:, g])
            np.testing.assert_allclose(solver.without(g), expected, rtol=1e-9, atol=1e-14)
    finally:
        solver.close()
    assert solver.stats.max_error_bound <= REL_TOLERANCE


def test_pass_through_states_are_eliminated_and_the_answer_is_unchanged():
    # a long ring of pass-through states with a start, a reward and groups in the middle of it
    n = 200
    q = sp.lil_matrix((n, n))
    for i in range(n):
        q[i, (i + 1) % n] = 0.97
    q = q.tocsr()
    start = np.zeros(n)
    start[[0, 50]] = [0.7, 0.3]
    rewards = np.zeros((n, 2))
    rewards[[10, 120, 199], 0] = [0.01, 0.02, 0.03]
    rewards[:, 1] = rewards[:, 0] * 40.0
    groups = np.zeros((n, 2), dtype=bool)
    groups[[30, 31], 0] = True  # cuts the ring between start 0 and reward 120
    groups[[5, 150], 1] = True
    solver = RemovalSolver(q, start, rewards, groups)
    assert solver.stats.eliminated >= n // 2
    np.testing.assert_allclose(solver.full, _direct(q, start, rewards, np.ones(n, bool)), rtol=1e-10)
    for g in range(2):
        np.testing.assert_allclose(solver.without(g), _direct(q, start, rewards, ~groups[:, g]), rtol=1e-10)
    solver.close()


def test_one_adjoint_solve_per_removal_serves_both_rewards(rng):
    # regression: every removal (and the full chain) is one certified solve for conversions and value
    # together, after elimination; it used to be two solves per removal plus one for the norm bound
    paths = [" > ".join(rng.choice(list("abcdefgh"), rng.integers(1, 10))) for _ in range(2_000)]
    journeys = pd.DataFrame({"path": paths, "conversions": rng.integers(0, 3, 2_000).astype(float),
                             "nulls": rng.integers(0, 5, 2_000).astype(float)})
    journeys["value"] = journeys["conversions"] * 25.0
    enc = encode_journeys(journeys)
    solved = _solve_chain(chain_counts(enc, 3), enc.n_channels)
    stats = solved["solve_stats"]
    assert stats.iterative == enc.n_channels + 1 and stats.direct == 0
    assert stats.eliminated > 0


def test_pair_table_of_a_small_high_order_chain_stays_small(rng):
    # regression: 5 channels at order 4 kept a dense table of (6 ** 4) ** 2 = 1.7M transition cells
    # (13 MB, plus a bincount of the same size per block); the next window adds one channel, so
    # 6 ** 5 cells suffice
    paths = [" > ".join(rng.choice(list("abcde"), rng.integers(1, 12))) for _ in range(3_000)]
    enc = encode_journeys(pd.DataFrame({"path": paths, "conversions": 1.0, "nulls": 2.0}))
    tracemalloc.start()
    try:
        counts = chain_counts(enc, 4)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * 2**20
    assert len(counts.pair_from) > 1_000
