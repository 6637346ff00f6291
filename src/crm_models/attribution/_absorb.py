"""Absorption probabilities of an absorbing Markov chain, full and with states removed, without a
factorization per removal.

The system is ``(I - Q) x = b`` with ``Q`` substochastic (transitions among transient states). Its
inverse is the fundamental matrix ``N = (I - Q)^-1`` (Kemeny & Snell 1960, "Finite Markov Chains",
theorem 3.2.1), non-negative, and ``t = N 1`` is the expected number of steps before absorption
(theorem 3.3.5). Hence ``||N||_inf = max_i t_i`` and any approximate solution ``x~`` with residual
``res = b - (I - Q) x~`` satisfies

    ``|x~ - x|_inf <= ||N||_inf * |res|_inf = max(t) * |res|_inf``                      (1)

Removing states (sending every transition into them to the null state) gives the principal submatrix
``I - Q_KK``, whose expected steps are at most those of the full chain (``t_K >= 1 + Q_KK t_K``
element by element), so the bound (1) with the full chain's ``max(t)`` holds for every removal.

Each system is solved by BiCGSTAB (van der Vorst 1992, SIAM J. Sci. Stat. Comput. 13(2), 631-644),
started from the full chain's solution restricted to the kept states: journeys are short, so it
converges in a few dozen sparse products. The bound (1) certifies the answer; a system whose bound
exceeds the tolerance (or that does not converge) is solved by a sparse LU factorization instead
(SuperLU, ``scipy.sparse.linalg.splu``), so the result is exact to the stated tolerance either way.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import bicgstab, splu
from threadpoolctl import threadpool_limits

#: error allowed by bound (1), relative to the largest entry of the solution
ABS_TOLERANCE = 1e-11
MAX_ITERATIONS = 500
#: from this many states on, BLAS runs single-threaded during the solves: the vectors are small and a
#: multi-threaded BLAS spends more time waking threads than computing (7 ms per dot product of 27k
#: entries on a busy 2-core machine against 20 us single-threaded); below it, BLAS does not thread
#: and looking the libraries up would cost more than the solves
SINGLE_THREAD_FROM = 5_000


@dataclass
class SolveStats:
    """How the systems were solved: Krylov solves, LU fall-backs, the largest certified error bound."""

    iterative: int = 0
    direct: int = 0
    max_error_bound: float = 0.0


def _krylov(
    a: sp.csr_matrix, b: np.ndarray, x0: np.ndarray | None, steps_bound: float = 1.0
) -> tuple[np.ndarray, bool]:
    """BiCGSTAB until the 2-norm residual (>= the max-norm one) is small enough for bound (1):
    ``x >= b >= 0`` element by element (``N >= I``), so ``max|b|`` is a lower bound of the scale."""
    scale = float(np.abs(b).max()) if b.size else 0.0
    if scale == 0.0:
        return np.zeros_like(b), True
    atol = ABS_TOLERANCE * scale / (2.0 * max(steps_bound, 1.0))
    x, info = bicgstab(a, b, x0=x0, rtol=0.0, atol=atol, maxiter=MAX_ITERATIONS)
    return x, info == 0 and bool(np.all(np.isfinite(x)))


class AbsorbingSolver:
    """Solve ``(I - Q)_KK x = b_K`` for the full chain and for chains with states removed.

    Parameters
    ----------
    q:
        Transition probabilities among transient states (CSR, rows sum to at most 1).
    rhs:
        Right-hand sides, shape ``(n_states, m)`` (e.g. conversion and value absorption).
    """

    def __init__(self, q: sp.csr_matrix, rhs: np.ndarray) -> None:
        n = q.shape[0]
        self.a = (sp.identity(n, format="csr") - q).tocsr()
        rhs = np.asarray(rhs, dtype=float)
        self.rhs = rhs if rhs.ndim == 2 else rhs[:, None]
        self.stats = SolveStats()
        self._limit = threadpool_limits(limits=1, user_api="blas") if n >= SINGLE_THREAD_FROM else None
        try:
            self._steps_bound = self._expected_steps_bound()
            self.full = self._solve(self.a, self.rhs, None)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Give BLAS its threads back (call after the last solve)."""
        if self._limit is not None:
            self._limit.restore_original_limits()
            self._limit = None

    def _expected_steps_bound(self) -> float:
        """An upper bound of ``max(t)``, ``t = (I - Q)^-1 1`` (the norm of the fundamental matrix)."""
        n = self.a.shape[0]
        if n == 0:
            return 0.0
        ones = np.ones(n)
        t, ok = _krylov(self.a, ones, ones)
        if ok:
            eps = float(np.abs(ones - self.a @ t).max())
            if eps < 0.5 and t.min() >= 1.0 - 1e-9:
                return float(t.max()) / (1.0 - eps)  # t~ = N 1 - N res and N >= 0: ||N|| <= max t~ / (1 - eps)
        self.stats.direct += 1
        return float(splu(self.a.tocsc()).solve(ones).max())

    def _solve(self, a: sp.csr_matrix, rhs: np.ndarray, x0: np.ndarray | None) -> np.ndarray:
        out = np.empty_like(rhs)
        lu = None
        for j in range(rhs.shape[1]):
            b = rhs[:, j]
            x, ok = _krylov(a, b, None if x0 is None else x0[:, j], self._steps_bound)
            bound = self._steps_bound * float(np.abs(b - a @ x).max()) if ok and b.size else 0.0
            scale = max(float(np.abs(x).max()) if x.size else 0.0, 1e-300)
            if ok and bound <= ABS_TOLERANCE * scale:
                self.stats.iterative += 1
                self.stats.max_error_bound = max(self.stats.max_error_bound, bound / scale)
            else:
                if lu is None:
                    lu = splu(a.tocsc())
                x = lu.solve(b)
                self.stats.direct += 1
            out[:, j] = x
        return out

    def without(self, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Solution on the kept states (boolean mask) with every other state removed; (indices, x)."""
        idx = np.flatnonzero(keep)
        if len(idx) == 0:
            return idx, np.zeros((0, self.rhs.shape[1]))
        a = self.a[idx][:, idx]
        return idx, self._solve(a, self.rhs[idx], self.full[idx])
