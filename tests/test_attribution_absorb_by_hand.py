"""The elimination rule of the removal solver on a chain built by hand (issue 21); each test names the mutation
class (a wrong implementation) it guards against."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from crm_models.attribution._absorb import RemovalSolver


def test_a_state_whose_elimination_would_add_entries_is_kept():
    """Guards the degree count of the elimination rule (start entries counted as in-edges, ``+`` -> ``-``).

    State 3 has three in-edges (from 0, 1, 2), its own start mass and two out-edges (to 4, 5); every other state
    has a self-loop, so it cannot be eliminated, and state 3 has no reward of its own. With ``in = 3 + 1 = 4`` and ``out = 2``, ``(in - 1)(out - 1) = 3
    > 1``: eliminating state 3 would replace 4 + 2 entries by 4 x 2 = 8 (6 edges and 2 start entries), so it is
    kept and nothing is eliminated. The expected rewards equal the dense solve ``p0' (I - Q)^-1 R`` either way."""
    n = 6
    q = np.zeros((n, n))
    for i in (0, 1, 2):
        q[i, i], q[i, 3] = 0.3, 0.5
    q[3, 4], q[3, 5] = 0.4, 0.4
    q[4, 4], q[5, 5] = 0.5, 0.5
    start = np.array([0.2, 0.2, 0.2, 0.4, 0.0, 0.0])
    exits = 1.0 - q.sum(axis=1)
    rewards = np.column_stack([np.array([0.0, 0.0, 0.0, 0.0, 0.3, 0.2]) * exits / exits.max(),
                               np.array([0.0, 0.0, 0.0, 0.0, 30.0, 10.0]) * exits])
    groups = np.zeros((n, 2), dtype=bool)
    groups[4, 0] = True
    groups[[0, 1], 1] = True
    solver = RemovalSolver(sp.csr_matrix(q), start, rewards, groups)
    try:
        assert solver.stats.eliminated == 0
        np.testing.assert_allclose(solver.full, start @ np.linalg.solve(np.eye(n) - q, rewards), rtol=1e-10)
        for g in range(2):
            keep = ~groups[:, g]
            dense = start[keep] @ np.linalg.solve(np.eye(keep.sum()) - q[np.ix_(keep, keep)], rewards[keep])
            np.testing.assert_allclose(solver.without(g), dense, rtol=1e-10)
    finally:
        solver.close()
