"""Channel ROI: cost per conversion, ROAS and net value per currency unit, intervals, budget moves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.attribution import channel_roi
from crm_models.exceptions import DataContractError


def _journeys(scale: float = 1.0) -> pd.DataFrame:
    # last touch: a gets 5 conversions (500), b 50 (5,000), c 40 (4,000) ... times scale
    return pd.DataFrame(
        {
            "path": ["b > a", "a > b", "c", "b > c"],
            "conversions": [5.0, 50.0, 30.0, 10.0],
            "nulls": [200.0, 300.0, 100.0, 50.0],
            "value": [500.0, 5000.0, 3000.0, 1000.0],
        }
    ).assign(conversions=lambda f: f.conversions * scale, nulls=lambda f: f.nulls * scale,
             value=lambda f: f.value * scale)


SPEND = pd.Series({"a": 2000.0, "b": 1000.0, "c": 2000.0, "d": 0.0})


def test_cost_per_conversion_roas_and_net_value_by_hand():
    result = channel_roi(_journeys(), SPEND, methods=("last_touch",), n_boot=20, seed=1)
    table = result.table.set_index("channel")
    assert table.loc["a", "conversions"] == 5.0 and table.loc["b", "conversions"] == 50.0
    assert table.loc["a", "cost_per_conversion"] == pytest.approx(2000 / 5)
    assert table.loc["b", "roas"] == pytest.approx(5000 / 1000)
    assert table.loc["c", "roas"] == pytest.approx(4000 / 2000)
    assert table.loc["c", "net_value_per_unit"] == pytest.approx(4000 / 2000 - 1)
    assert result.metric == "roas"
    # interval bounds bracket the estimate, and the same seed gives the same table
    for name in ("cost_per_conversion", "roas"):
        assert (table[f"{name}_lower"] <= table[name] + 1e-12).all()
        assert (table[f"{name}_upper"] >= table[name] - 1e-12).all()
    again = channel_roi(_journeys(), SPEND, methods=("last_touch",), n_boot=20, seed=1)
    pd.testing.assert_frame_equal(result.table, again.table)


def test_budget_moves_only_when_intervals_separate():
    big = channel_roi(_journeys(scale=20.0), SPEND, methods=("last_touch", "markov"), n_boot=100, seed=3)
    moves = big.shifts[big.shifts["method"] == "last_touch"]
    assert ("a", "b") in set(zip(moves["from_channel"], moves["to_channel"]))  # 0.25 vs 5 per unit spent
    assert (moves["from_upper"] < moves["to_lower"]).all()
    assert "d" not in set(big.shifts["from_channel"]) | set(big.shifts["to_channel"])  # no spend, no ROAS
    assert "shift of budget from a to b" in big.headline("last_touch")
    # b and c both return about 2-5 per unit on a handful of journeys: intervals overlap, no move between them
    tiny = pd.DataFrame({"path": ["b", "c"], "conversions": [2.0, 1.0], "nulls": [3.0, 4.0], "value": [200.0, 150.0]})
    small = channel_roi(tiny, pd.Series({"b": 100.0, "c": 100.0}), methods=("last_touch",), n_boot=200, seed=0)
    assert small.shifts.empty
    assert "No budget move is supported" in small.headline("last_touch")


def test_spend_by_period_and_channels_without_spend():
    spend = pd.DataFrame({"channel": ["a", "b", "c", "a", "b", "c"], "period": ["2024-01"] * 3 + ["2024-02"] * 3,
                          "spend": [1000.0, 500.0, 1000.0, 1000.0, 500.0, 1000.0]})
    both = channel_roi(_journeys(), spend, methods=("linear",), n_boot=10).table.set_index("channel")
    january = channel_roi(_journeys(), spend, methods=("linear",), period="2024-01", n_boot=10).table.set_index("channel")
    assert both.loc["a", "spend"] == 2000.0 and january.loc["a", "spend"] == 1000.0
    no_spend = channel_roi(_journeys(), pd.Series({"a": 100.0}), methods=("linear",), n_boot=10).table.set_index("channel")
    assert np.isnan(no_spend.loc["b", "roas"]) and no_spend.loc["b", "cost_per_conversion"] == 0.0


@pytest.mark.parametrize(
    ("spend", "period", "match"),
    [
        (pd.Series({"a": -5.0, "b": 10.0}), None, "negative"),
        (pd.DataFrame({"channel": ["a"], "cost": [1.0]}), None, "lacks the column 'spend'"),
        (pd.DataFrame({"channel": ["a"], "spend": [1.0], "period": ["2024-01"]}), "2023-12", "no spend rows"),
        (pd.Series({"zzz": 10.0}), None, "no channel with spend occurs"),
    ],
)
def test_bad_spend_gets_a_named_error(spend, period, match):
    with pytest.raises(DataContractError, match=match):
        channel_roi(_journeys(), spend, methods=("linear",), period=period, n_boot=5)


def test_demo_brand_spend_is_touches_times_cost_per_touch():
    from crm_models.datasets.demo_touchpoints import COST_PER_TOUCH, channel_spend

    touchpoints = pd.DataFrame({
        "timestamp": pd.to_datetime(["2024-01-03", "2024-01-20", "2024-02-01", "2024-02-02", "2024-02-05"]),
        "channel": ["Display", "Display", "Email", "Direct", "Display"],
    })
    spend = channel_spend(touchpoints)
    assert spend.columns.tolist() == ["period", "channel", "spend"]
    jan = spend[spend["period"] == pd.Timestamp("2024-01-01")].set_index("channel")["spend"]
    feb = spend[spend["period"] == pd.Timestamp("2024-02-01")].set_index("channel")["spend"]
    assert jan["Display"] == pytest.approx(2 * COST_PER_TOUCH["Display"])
    assert feb.to_dict() == pytest.approx({"Direct": 0.0, "Display": COST_PER_TOUCH["Display"],
                                           "Email": COST_PER_TOUCH["Email"]})
    with pytest.raises(DataContractError, match="no demo cost per touch"):
        channel_spend(touchpoints.assign(channel="Carrier pigeon"))
