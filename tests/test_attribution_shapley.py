"""Shapley values and heuristics: identities, hand-computed examples, limits."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.attribution import heuristic_attribution, shapley_attribution


def _journeys() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "path": ["a > b > a", "b", "c > a", "a > b > c > b", "c", "b > c"],
            "conversions": [3.0, 1.0, 2.0, 1.0, 0.0, 4.0],
            "nulls": [2.0, 5.0, 1.0, 0.0, 3.0, 1.0],
            "value": [30.0, 8.0, 25.0, 12.0, 0.0, 41.0],
        }
    )


def _additive_game(journeys: pd.DataFrame, column: str):
    """v(S) = the ``column`` total of the journeys whose channels all lie in S; and the players (channels)."""
    sets = [frozenset(p.split(" > ")) for p in journeys["path"]]
    worth = journeys[column].to_numpy()

    def v(coalition: frozenset) -> float:
        return float(sum(w for s, w in zip(sets, worth) if s <= coalition))

    return v, sorted(set().union(*sets))


def test_exact_shapley_equals_the_permutation_definition(shapley_by_permutations):
    journeys = _journeys()
    result = shapley_attribution(journeys, method="exact").credit
    for column in ("conversions", "value"):
        expected = shapley_by_permutations(*_additive_game(journeys, column))
        assert result[column].to_dict() == pytest.approx(expected)


def test_simplified_shapley_is_linear_credit_over_distinct_channels(rng):
    # Zhao et al. (2018): the per-journey form equals the exact value, and both equal linear credit over
    # each journey's distinct channels
    channels = list("abcdefgh")
    paths = [" > ".join(rng.choice(channels, rng.integers(1, 9))) for _ in range(300)]
    journeys = pd.DataFrame({"path": paths, "conversions": rng.integers(0, 5, 300).astype(float)})
    journeys["value"] = journeys["conversions"] * rng.uniform(1, 100, 300)
    exact = shapley_attribution(journeys, method="exact").credit
    simplified = shapley_attribution(journeys, method="simplified").credit
    distinct = journeys.assign(path=[" > ".join(dict.fromkeys(p.split(" > "))) for p in journeys["path"]])
    linear_distinct = heuristic_attribution(distinct, "linear")
    pd.testing.assert_frame_equal(exact, simplified, rtol=1e-10)
    pd.testing.assert_frame_equal(simplified, linear_distinct, rtol=1e-10)


def test_ordered_shapley_books_credit_by_position_of_first_appearance():
    result = shapley_attribution(_journeys(), method="ordered")
    pd.testing.assert_series_equal(
        result.by_position.sum(axis=1), result.credit["conversions"], check_names=False
    )
    # "c > a" (2 conversions): c first, a second, one each; "a > b > c > b": a, b, c at 1, 2, 3
    assert result.by_position.loc["c", 1] == pytest.approx(1.0)
    assert result.by_position.loc["a", 2] == pytest.approx(1.0)
    assert result.by_position.loc["c", 3] == pytest.approx(1 / 3)
    pd.testing.assert_frame_equal(result.credit, shapley_attribution(_journeys(), "simplified").credit)


def test_exact_shapley_refuses_too_many_channels_with_a_clear_message():
    channels = [f"ch{i:02d}" for i in range(23)]
    journeys = pd.DataFrame({"path": [" > ".join(channels)], "conversions": [1.0]})
    with pytest.raises(ValueError, match=r"23 channels.*method='simplified'"):
        shapley_attribution(journeys, method="exact")
    credit = shapley_attribution(journeys, method="simplified").credit["conversions"]
    np.testing.assert_allclose(credit, 1 / 23)
    # channels that only appear in non-converting journeys are not players
    journeys = pd.DataFrame({"path": [" > ".join(channels), "ch00"], "conversions": [0.0, 2.0], "nulls": [5.0, 1.0]})
    assert shapley_attribution(journeys, method="exact").credit.loc["ch00", "conversions"] == 2.0
    with pytest.raises(ValueError, match="unknown Shapley method"):
        shapley_attribution(journeys, method="kernel")


# ------------------------------------------------------------------------------------------ heuristics


def test_heuristics_on_a_hand_computed_example():
    journeys = pd.DataFrame(
        {"path": ["Search > Email > Direct > Social", "Direct", "Email > Direct"], "conversions": [4.0, 1.0, 2.0],
         "nulls": [0.0, 0.0, 1.0], "value": [40.0, 10.0, 20.0]}
    )

    def credit(method: str, **kw) -> dict:
        return heuristic_attribution(journeys, method, **kw)["conversions"].to_dict()

    assert credit("first_touch") == {"Direct": 1, "Email": 2, "Search": 4, "Social": 0}
    assert credit("last_touch") == {"Direct": 3, "Email": 0, "Search": 0, "Social": 4}
    # last non-direct: Social, Direct (only direct: keeps it), Email
    assert credit("last_non_direct") == {"Direct": 1, "Email": 2, "Search": 0, "Social": 4}
    assert credit("linear") == pytest.approx({"Direct": 1 + 1 + 1, "Email": 1 + 1, "Search": 1, "Social": 1})
    assert credit("position_based") == pytest.approx(
        {"Direct": 4 * 0.1 + 1 + 1, "Email": 4 * 0.1 + 1, "Search": 4 * 0.4, "Social": 4 * 0.4}
    )
    # time decay in touches, half-life 1: weights 1/8, 1/4, 1/2, 1 on a 4-touch path
    decay = credit("time_decay", half_life=1.0, decay_unit="touches")
    assert decay["Search"] == pytest.approx(4 * 0.125 / 1.875)
    assert decay["Direct"] == pytest.approx(4 * 0.5 / 1.875 + 1 + 2 * 1 / 1.5)
    values = heuristic_attribution(journeys, "linear")["value"]
    assert values.sum() == pytest.approx(70.0)
    assert credit("last_non_direct", direct_channels=["Social"])["Direct"] == 1 + 4 + 2


def test_time_decay_in_days_uses_days_to_end():
    journeys = pd.DataFrame(
        {"path": ["a > b"], "conversions": [1.0], "nulls": [0.0], "days_to_end": [np.array([7.0, 0.0])]}
    )
    credit = heuristic_attribution(journeys, "time_decay", half_life=7.0)["conversions"]
    assert credit.to_dict() == pytest.approx({"a": 1 / 3, "b": 2 / 3})
    with pytest.raises(ValueError, match="days_to_end"):
        heuristic_attribution(journeys.drop(columns="days_to_end"), "time_decay", decay_unit="days")
    with pytest.raises(ValueError, match="unknown heuristic"):
        heuristic_attribution(journeys, "u_shaped")
    with pytest.raises(ValueError, match="position_weights"):
        heuristic_attribution(journeys, "position_based", position_weights=(0.5, 0.5, 0.5))
