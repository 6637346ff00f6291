"""Shapley values of other coalition games: conversion rate, a user's function, permutation sampling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_models.attribution import shapley_attribution


def _journeys() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "path": ["a > b > a", "b", "c > a", "a > b > c > b", "c", "b > c", "a"],
            "conversions": [3.0, 1.0, 2.0, 1.0, 0.0, 4.0, 1.0],
            "nulls": [2.0, 5.0, 1.0, 0.0, 3.0, 1.0, 10.0],
            "value": [30.0, 8.0, 25.0, 12.0, 0.0, 41.0, 9.0],
        }
    )


def _rate_game(journeys: pd.DataFrame, column: str = "conversions"):
    """v(S) = conversions (or value) / journeys over the journeys whose channels all lie in S; 0 if none."""
    sets = [frozenset(p.split(" > ")) for p in journeys["path"]]
    top = journeys[column].to_numpy()
    size = (journeys["conversions"] + journeys["nulls"]).to_numpy()

    def v(coalition: frozenset) -> float:
        inside = [s <= coalition for s in sets]
        n = float(size[inside].sum())
        return float(top[inside].sum()) / n if n > 0 else 0.0

    return v, sorted(set().union(*sets))


def test_conversion_rate_game_equals_the_permutation_definition(shapley_by_permutations):
    journeys = _journeys()
    result = shapley_attribution(journeys, coalition_value="conversion_rate")
    assert result.coalition_value == "conversion_rate"
    for column, phi_column in (("conversions", "shapley_value"), ("value", "value_shapley_value")):
        v, players = _rate_game(journeys, column)
        expected = shapley_by_permutations(v, players)
        assert result.credit[phi_column].to_dict() == pytest.approx(expected, rel=1e-12)
        # rescaled to the total: phi * total / (v(N) - v(empty))
        scale = journeys[column].sum() / v(frozenset(players))
        assert result.credit[column].to_dict() == pytest.approx({p: e * scale for p, e in expected.items()})


def test_more_non_converting_journeys_lower_a_channels_conversion_rate_credit_only():
    base = pd.DataFrame(
        {"path": ["a", "b", "a > b", "c", "b > c"], "conversions": [5.0, 5.0, 5.0, 5.0, 5.0],
         "nulls": [10.0, 10.0, 10.0, 10.0, 10.0]}
    )
    more = base.copy()
    more.loc[0, "nulls"] = 990.0  # journeys through "a" alone almost never convert now
    rate_before = shapley_attribution(base, coalition_value="conversion_rate").credit["conversions"]
    rate_after = shapley_attribution(more, coalition_value="conversion_rate").credit["conversions"]
    assert rate_after["a"] < rate_before["a"] - 0.5
    count_before = shapley_attribution(base).credit["conversions"]
    count_after = shapley_attribution(more).credit["conversions"]
    pd.testing.assert_series_equal(count_before, count_after)  # the count game cannot see nulls


def test_a_callable_game_gets_frozensets_of_names_and_its_exact_value(shapley_by_permutations):
    journeys = _journeys()
    seen: list[frozenset] = []

    def worth(coalition: frozenset) -> float:
        seen.append(coalition)
        return {"a": 1.0, "b": 2.0, "c": 4.0}.get(min(coalition), 0.0) if coalition else 0.0

    result = shapley_attribution(journeys, coalition_value=worth)
    assert result.coalition_value == "callable"
    assert all(isinstance(s, frozenset) and s <= {"a", "b", "c"} for s in seen) and len(set(seen)) == 8
    expected = shapley_by_permutations(worth, ["a", "b", "c"])
    assert result.credit["shapley_value"].to_dict() == pytest.approx(expected)
    assert result.credit["conversions"].sum() == pytest.approx(journeys["conversions"].sum())


def test_permutation_sampling_matches_the_exact_value_at_twelve_channels(rng):
    channels = [f"ch{i:02d}" for i in range(12)]
    n = 400
    paths = [" > ".join(rng.choice(channels, rng.integers(1, 5), p=np.r_[[0.2] * 2, [0.06] * 10])) for _ in range(n)]
    journeys = pd.DataFrame({"path": paths, "conversions": rng.integers(0, 4, n).astype(float),
                             "nulls": rng.integers(0, 20, n).astype(float)})
    journeys["value"] = journeys["conversions"] * rng.uniform(10, 90, n)
    exact = shapley_attribution(journeys, "exact", coalition_value="conversion_rate")
    sampled = shapley_attribution(journeys, "sampled", coalition_value="conversion_rate", n_permutations=3000, seed=7)
    assert sampled.method == "sampled" and exact.standard_errors is None
    err = sampled.standard_errors["conversions"]
    assert (err > 0).all()
    z = (sampled.credit["conversions"] - exact.credit["conversions"]) / err
    assert z.abs().max() < 4.5
    assert sampled.credit["conversions"].sum() == pytest.approx(exact.credit["conversions"].sum())  # efficiency
    # the count game sampled agrees with its closed form too
    count = shapley_attribution(journeys, "sampled", n_permutations=1000, seed=1)
    z = (count.credit["conversions"] - shapley_attribution(journeys).credit["conversions"]) / count.standard_errors[
        "conversions"
    ].where(count.standard_errors["conversions"] > 0)
    assert z.abs().max() < 4.5
    # seeded: the same seed gives the same estimate
    again = shapley_attribution(journeys, "sampled", coalition_value="conversion_rate", n_permutations=3000, seed=7)
    pd.testing.assert_frame_equal(sampled.credit, again.credit)


def test_other_games_refuse_the_per_journey_forms_and_exact_beyond_the_limit():
    with pytest.raises(ValueError, match="per-journey form of the count game"):
        shapley_attribution(_journeys(), "simplified", coalition_value="conversion_rate")
    with pytest.raises(ValueError, match="unknown coalition_value"):
        shapley_attribution(_journeys(), coalition_value="revenue")
    with pytest.raises(ValueError, match=r"3 channels.*method='sampled'"):
        shapley_attribution(_journeys(), coalition_value="conversion_rate", max_channels=2)


CHANNELS = ["a", "b", "c", "d", "e"]
rows_strategy = st.lists(
    st.tuples(st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=6), st.integers(0, 5), st.integers(0, 30)),
    min_size=1, max_size=20,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows_strategy, method=st.sampled_from(["exact", "sampled"]))
def test_conversion_rate_credits_add_up_to_v_all_minus_v_empty(rows, method):
    journeys = pd.DataFrame({"path": [" > ".join(p) for p, _, _ in rows], "conversions": [float(c) for _, c, _ in rows],
                             "nulls": [float(x) for _, _, x in rows]})
    result = shapley_attribution(journeys, method, coalition_value="conversion_rate", n_permutations=20, seed=0)
    total = journeys["conversions"].sum()
    n_journeys = (journeys["conversions"] + journeys["nulls"]).sum()
    v_all = total / n_journeys if n_journeys > 0 else 0.0  # v(empty) = 0: no journey has no channel
    assert result.credit["shapley_value"].sum() == pytest.approx(v_all, abs=1e-12)
    if v_all > 0:
        assert result.credit["conversions"].sum() == pytest.approx(total)
