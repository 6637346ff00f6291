"""Regression (issue 21): ``NullBand.beats_random`` used the 97.5 % quantile whatever ``alpha`` the band was
computed at, so ``permutation_null(..., alpha=0.5)`` drew a 25-75 % band but judged the score against 97.5 %
(its docstring promised the upper ``1 - alpha/2`` quantile). The band now carries its ``alpha``."""

from __future__ import annotations

import numpy as np

from crm_models.uplift import NullBand, permutation_null


def test_beats_random_uses_the_level_of_the_band():
    """Null scores 0, 0.01, ..., 1: the 75 % quantile is 0.75 and the 97.5 % quantile 0.975. A score of 0.8
    beats the 50 % band (alpha 0.5) but not the 95 % band (the default)."""
    null = np.linspace(0, 1, 101)
    grid = np.zeros(1)
    assert NullBand(0.8, null, 0.2, grid, grid, grid, grid, "qini", alpha=0.5).beats_random
    assert not NullBand(0.8, null, 0.2, grid, grid, grid, grid, "qini").beats_random
    assert not NullBand(0.75, null, 0.2, grid, grid, grid, grid, "qini", alpha=0.5).beats_random


def test_permutation_null_passes_its_alpha_to_the_band():
    rng = np.random.default_rng(6)
    y, t, u = rng.integers(0, 2, 80), np.r_[0, 1, rng.integers(0, 2, 78)], rng.normal(size=80)
    band = permutation_null(y, u, t, n_perm=40, alpha=0.3, rng=0)
    assert band.alpha == 0.3
    assert band.beats_random == bool(band.score > np.quantile(band.null_scores, 0.85))
    assert permutation_null(y, u, t, n_perm=10, rng=0).alpha == 0.05
