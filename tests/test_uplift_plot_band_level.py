"""The permutation band's legend names the level the band was drawn at (it said 95% whatever ``alpha``)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from crm_models.plotting.uplift import plot_uplift_curves
from crm_models.uplift import permutation_null


@pytest.mark.parametrize(("alpha", "label"), [(0.05, "95%"), (0.1, "90%"), (0.01, "99%")])
def test_band_label_follows_alpha(alpha: float, label: str) -> None:
    rng = np.random.default_rng(11)
    n = 400
    t = rng.integers(0, 2, n)
    score = rng.normal(size=n)
    y = (rng.random(n) < 0.2 + 0.1 * t * (score > 0)).astype(float)
    band = permutation_null(y, score, t, n_perm=20, alpha=alpha, rng=3)
    fig, ax = plt.subplots()
    try:
        plot_uplift_curves(y, {"model": score}, t, null=band, ax=ax)
        labels = ax.get_legend_handles_labels()[1]
    finally:
        plt.close(fig)
    band_labels = [lab for lab in labels if "permutation band" in lab]
    assert band_labels == [f"random ranking ({label} permutation band)"]
