"""Real data: the public ad-touchpoint sample (../shared/data/attribution_touchpoints.csv)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.attribution import (
    bootstrap_attribution,
    build_journeys,
    compare_attribution,
    markov_attribution,
    select_markov_order,
    shapley_attribution,
)

pytestmark = pytest.mark.realdata

N_CONVERSIONS = 1_838
CHANNELS = {"Facebook", "Instagram", "Online Display", "Online Video", "Paid Search"}


@pytest.fixture(scope="module")
def journeys(shared_data):
    # read straight from the file by the engine, mapping the column names
    return build_journeys(
        str(shared_data / "attribution_touchpoints.csv"), timestamp="time", value="conversion_value"
    )


def test_journeys_from_the_file_keep_every_conversion_and_its_value(journeys, shared_data):
    raw = pd.read_csv(shared_data / "attribution_touchpoints.csv")
    assert journeys["conversions"].sum() == N_CONVERSIONS
    assert journeys["value"].sum() == pytest.approx(raw["conversion_value"].sum())
    n_customers_with_open_journey = raw.assign(t=pd.to_datetime(raw["time"])).sort_values("t").groupby(
        "customer_id"
    )["conversion"].last().eq(0).sum()
    assert journeys["nulls"].sum() == n_customers_with_open_journey
    from_frame = build_journeys(
        raw.assign(timestamp=pd.to_datetime(raw["time"])).drop(columns="time"), value="conversion_value"
    )
    pd.testing.assert_frame_equal(from_frame, journeys)


def test_all_methods_on_real_journeys(journeys):
    table = compare_attribution(journeys)
    assert set(table["channel"]) == CHANNELS
    totals = table.groupby("method")[["conversions", "value"]].sum()
    np.testing.assert_allclose(totals["conversions"], N_CONVERSIONS)
    np.testing.assert_allclose(totals["value"], journeys["value"].sum())
    assert (table["conversions"] >= 0).all()
    exact = shapley_attribution(journeys, "exact").credit
    pd.testing.assert_frame_equal(exact, shapley_attribution(journeys, "simplified").credit, rtol=1e-10)


def test_markov_orders_and_order_selection_on_real_journeys(journeys):
    for order in (1, 2, 3):
        result = markov_attribution(journeys, order=order)
        assert result.credit["conversions"].sum() == pytest.approx(N_CONVERSIONS)
        assert (result.removal_effects["removal_effect"] > 0).all()
        assert result.conversion_probability * result.n_journeys == pytest.approx(N_CONVERSIONS)
    selection = select_markov_order(journeys, orders=(1, 2, 3), n_splits=2, seed=0)
    assert selection.best_order in (1, 2, 3)
    assert np.isfinite(selection.table["heldout_loglik"]).all()


def test_lookback_window_shortens_real_journeys(journeys, shared_data):
    short = build_journeys(
        str(shared_data / "attribution_touchpoints.csv"), timestamp="time", value="conversion_value", lookback="7D"
    )
    assert short["conversions"].sum() == N_CONVERSIONS

    def mean_length(frame: pd.DataFrame) -> float:
        lengths = frame["path"].str.count(">") + 1
        return float(np.average(lengths, weights=frame["conversions"] + frame["nulls"]))

    assert mean_length(short) < mean_length(journeys)


def test_bootstrap_intervals_on_real_journeys(journeys):
    intervals = bootstrap_attribution(journeys, "markov", n_boot=30, seed=1)
    assert set(intervals.index) == CHANNELS
    width = intervals["conversions_upper"] - intervals["conversions_lower"]
    assert (width > 0).all() and (width < 0.2 * intervals["conversions"]).all()
