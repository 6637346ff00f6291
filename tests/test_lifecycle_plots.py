"""Lifecycle plots draw from the package's own outputs and return matplotlib Axes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from crm_models.datasets.demo_events import STAGES, simulate_web_events
from crm_models.lifecycle import (
    KaplanMeier,
    cohort_table,
    funnel,
    retention_curve,
    seasonality_profile,
)
from crm_models.plotting import lifecycle as plots


@pytest.fixture(scope="module")
def transactions() -> pd.DataFrame:
    rng = np.random.default_rng(9)
    n = 300
    first = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 120, n), unit="D")
    again = first + pd.to_timedelta(rng.integers(5, 200, n), unit="D")
    ids = [f"c{i}" for i in range(n)]
    return pd.DataFrame({"customer_id": ids + ids, "timestamp": np.concatenate([first, again]),
                         "amount": 10.0})


def test_cohort_heatmap_blanks_incomplete_cells(transactions) -> None:
    import matplotlib.pyplot as plt

    table = cohort_table(transactions, observation_end="2024-07-15")
    ax = plots.plot_cohort_heatmap(table)
    image = ax.get_images()[0].get_array()
    assert image.mask.any()  # partly observed months are blank, not zero
    assert ax.get_yticklabels()[0].get_text() == "Jan 2024"
    assert any(t.get_text() == "100%" for t in ax.texts)
    plt.close("all")


def test_retention_survival_funnel_and_seasonality_plots(transactions) -> None:
    import matplotlib.pyplot as plt

    curve = retention_curve(cohort_table(transactions, observation_end="2024-07-15"))
    ax = plots.plot_retention_curve({"all": curve, "again": curve})
    assert len(ax.get_lines()) == 2 and len(ax.collections) == 2
    km = KaplanMeier().fit([10, 20, 30, 40, 50], [1, 1, 0, 1, 0])
    ax = plots.plot_survival(km)
    assert ax.get_lines()[0].get_ydata()[-1] == pytest.approx(0.7)  # 1 - S(50)
    result = funnel(simulate_web_events(500, seed=1).events, list(STAGES), by="device")
    ax = plots.plot_funnel(result)
    assert len(ax.patches) == 2 * len(STAGES)
    assert [t.get_text() for t in ax.get_xticklabels()][2] == "add to cart"
    single = funnel(simulate_web_events(500, seed=1).events, list(STAGES))
    ax = plots.plot_funnel_flow(single)
    assert f"{single['customers'].iloc[0]:,}" in [t.get_text() for t in ax.texts]
    assert f"-{single['drop_off'].iloc[1]:,}" in [t.get_text() for t in ax.texts]
    with pytest.raises(ValueError, match="one segment"):
        plots.plot_funnel_flow(result)
    ax = plots.plot_seasonality(seasonality_profile(transactions, unit="weekday"))
    assert ax.get_xticklabels()[0].get_text() == "Monday"
    plt.close("all")
