"""Attribution plots draw on the given Axes and return it (smoke tests on a small example)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from crm_models.attribution import (
    bootstrap_attribution,
    compare_attribution,
    markov_attribution,
    select_markov_order,
    shapley_attribution,
)
from crm_models.plotting import attribution as plots


@pytest.fixture(scope="module")
def journeys() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    paths = [" > ".join(rng.choice(["Search", "Email", "Social", "Direct"], rng.integers(1, 5))) for _ in range(300)]
    frame = pd.DataFrame({"path": paths, "conversions": rng.integers(0, 3, 300).astype(float),
                          "nulls": rng.integers(0, 4, 300).astype(float)})
    frame["value"] = frame["conversions"] * 30.0
    return frame


def test_every_plot_returns_its_axes(journeys):
    import matplotlib.pyplot as plt

    markov = markov_attribution(journeys, order=2)
    table = compare_attribution(journeys)
    truth = table[table["method"] == "linear"].set_index("channel")["conversion_share"]
    calls = [
        lambda ax: plots.plot_credit_by_method(table, truth=truth, ax=ax),
        lambda ax: plots.plot_removal_effects(markov, ax=ax),
        lambda ax: plots.plot_transition_graph(markov, ax=ax, show_null=True),
        lambda ax: plots.plot_transition_graph(markov_attribution(journeys), ax=ax),
        lambda ax: plots.plot_credit_intervals(bootstrap_attribution(journeys, "linear", n_boot=5), ax=ax),
        lambda ax: plots.plot_order_selection(select_markov_order(journeys, orders=(1, 2), n_splits=2), ax=ax),
        lambda ax: plots.plot_ordered_shapley(shapley_attribution(journeys, "ordered").by_position, ax=ax),
    ]
    for call in calls:
        fig, ax = plt.subplots()
        assert call(ax) is ax
        assert ax.get_title()
        plt.close(fig)


def test_roas_plot_shows_funded_channels_and_break_even(journeys):
    import matplotlib.pyplot as plt

    from crm_models.attribution import channel_roi

    roi = channel_roi(journeys, pd.Series({"Search": 500.0, "Email": 50.0, "Social": 300.0}), methods=("linear",),
                      n_boot=10)
    fig, ax = plt.subplots()
    assert plots.plot_channel_roas(roi, "linear", currency="EUR", ax=ax) is ax
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert sorted(labels) == ["Email", "Search", "Social"]  # Direct has no spend, no ROAS
    assert labels[-1] == "Email"  # sorted by ROAS: cheapest channel on top
    assert ax.get_xlabel() == "value per EUR spent"
    plt.close(fig)
