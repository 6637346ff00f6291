"""Loyalty plots draw the numbers they are given and return matplotlib Axes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from crm_models.loyalty import LoyaltyRules, build_ledger, compare_rules, forecast_points, replay_tiers
from crm_models.plotting import loyalty as plots


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(17)
    n = 600
    return pd.DataFrame({
        "customer_id": pd.array([f"c{i}" for i in rng.integers(0, 80, n)], dtype="string"),
        "timestamp": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
        "amount": rng.gamma(2.0, 20.0, n).round(2) + 1,
    })


RULES = {"tiers": [{"name": "member"}, {"name": "silver", "min_spend": 150}, {"name": "gold", "min_spend": 400}]}


def test_tier_plots(data):
    import matplotlib.pyplot as plt

    replay = replay_tiers(data, LoyaltyRules.from_dict(RULES), as_of="2024-11-30")
    mix = replay.tier_mix()
    ax = plots.plot_tier_mix(mix)
    assert len(ax.patches) == mix.size
    tops = [p.get_y() + p.get_height() for p in ax.patches[-len(mix):]]
    assert tops == pytest.approx([100.0] * len(mix))  # shares stack to 100%
    ax = plots.plot_transition_matrix(replay.transition_matrix())
    assert sorted(int(t.get_text().replace(",", "")) for t in ax.texts) == \
        sorted(replay.transition_matrix().to_numpy().ravel().tolist())
    ax = plots.plot_progress(replay.current)
    assert ax.get_xlabel().startswith("progress")
    plt.close("all")


def test_points_and_whatif_plots(data):
    import matplotlib.pyplot as plt

    class Stub:
        def probability_alive(self, frequency, recency, T):
            return np.ones(np.shape(frequency))

        def expected_purchases(self, t, frequency, recency, T):
            return 0.01 * np.asarray(t, dtype=float) * np.ones(np.shape(frequency))

    ledger = build_ledger(data, as_of="2024-11-30")
    summary = pd.DataFrame({"frequency": 1.0, "recency": 1.0, "T": 2.0},
                           index=ledger.customers.index)
    forecast = forecast_points(ledger, Stub(), summary, redemption_share=0.5, point_value=0.01)
    ax = plots.plot_points_forecast(forecast.schedule)
    assert len(ax.patches) == 2 * len(forecast.schedule)
    other = LoyaltyRules.from_dict({**RULES, "name": "lower", "tiers": [
        {"name": "member"}, {"name": "silver", "min_spend": 100}, {"name": "gold", "min_spend": 400}]})
    whatif = compare_rules(data, LoyaltyRules.from_dict(RULES), other, as_of="2024-11-30")
    ax = plots.plot_whatif_tiers(whatif)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["member", "silver", "gold"]
    heights = [p.get_height() for p in ax.patches[3:]]
    assert heights == whatif.summary[whatif.labels[1]].iloc[:3].tolist()
    assert f"{whatif.changed:,} customers change tier" in ax.get_title()
    plt.close("all")
