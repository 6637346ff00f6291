"""Heuristic attribution rules checked on small journeys whose credit is computed by hand.

Rules as in Kannan, Reinartz & Verhoef (2016), IJRM 33(3), Table 1, and the module docstring of
:mod:`crm_models.attribution.heuristics`. Each test names the mutation class (mutmut 3) it guards against.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.attribution import heuristic_attribution
from crm_models.attribution.journeys import EncodedJourneys
from crm_models.exceptions import DataContractError


def _credit(journeys: pd.DataFrame | EncodedJourneys, method: str, column: str = "conversions", **kw) -> dict:
    return heuristic_attribution(journeys, method, **kw)[column].to_dict()


@pytest.mark.parametrize("direct_name", ["direct", "(direct)", "Direct Traffic", "NONE", "(none)"])
def test_every_default_direct_name_is_skipped_by_last_non_direct(direct_name):
    """Guards the string literals of DEFAULT_DIRECT_NAMES ("x" -> "XXxXX") and the case folding (.lower())."""
    journeys = pd.DataFrame({"path": [f"Email > {direct_name}"], "conversions": [2.0]})
    credit = _credit(journeys, "last_non_direct")
    assert credit["Email"] == 2.0
    assert credit[direct_name] == 0.0


def test_last_non_direct_strips_names_of_hand_built_encoded_journeys():
    """Guards ``c.strip().lower()`` -> ``c.lower()``: encoded journeys built by hand may carry padded names."""
    enc = EncodedJourneys(
        channels=(" Direct ", "Email"), codes=np.array([1, 0], dtype=np.int32), offsets=np.array([0, 2]),
        conversions=np.array([3.0]), nulls=np.array([0.0]), value=np.array([30.0]), has_value=True,
    )
    credit = heuristic_attribution(enc, "last_non_direct")
    assert credit.loc["Email", "conversions"] == 3.0
    assert credit.loc["Email", "value"] == 30.0
    assert credit.loc[" Direct ", "conversions"] == 0.0


def test_position_based_three_touches_gives_the_middle_touch_its_full_share():
    """Path of 3 touches, weights (0.4, 0.2, 0.4): the single middle touch gets 0.2, not 0.2 / 2.
    Guards ``np.maximum(length - 2, 1)`` number mutants (``- 3``, ``, 2``) that a 4-touch path cannot see."""
    journeys = pd.DataFrame({"path": ["a > b > c"], "conversions": [5.0], "value": [50.0]})
    assert _credit(journeys, "position_based") == pytest.approx({"a": 2.0, "b": 1.0, "c": 2.0})
    assert _credit(journeys, "position_based", "value") == pytest.approx({"a": 20.0, "b": 10.0, "c": 20.0})


def test_position_based_two_touches_split_first_and_last_shares_in_proportion():
    """Two touches under (0.6, 0.2, 0.2): 0.6 / 0.8 = 0.75 and 0.25; under (0, 1, 0) (no first/last share) 0.5 each.
    Guards the pair branch (``w_first / pair_total``, ``position == 0/1``, the 0.5 fallback)."""
    journeys = pd.DataFrame({"path": ["a > b", "c"], "conversions": [4.0, 1.0]})
    assert _credit(journeys, "position_based", position_weights=(0.6, 0.2, 0.2)) == pytest.approx(
        {"a": 3.0, "b": 1.0, "c": 1.0}
    )
    assert _credit(journeys, "position_based", position_weights=(0.0, 1.0, 0.0)) == pytest.approx(
        {"a": 2.0, "b": 2.0, "c": 1.0}
    )


def test_position_based_accepts_a_zero_share_and_refuses_a_negative_one():
    """Guards the bound ``min(...) < 0`` (-> ``<= 0``) and names the parameter in the error."""
    journeys = pd.DataFrame({"path": ["a > b > c > d"], "conversions": [1.0]})
    # first 0, middle 0.5 over two touches, last 0.5
    assert _credit(journeys, "position_based", position_weights=(0.0, 0.5, 0.5)) == pytest.approx(
        {"a": 0.0, "b": 0.25, "c": 0.25, "d": 0.5}
    )
    with pytest.raises(ValueError, match="position_weights"):
        heuristic_attribution(journeys, "position_based", position_weights=(-0.2, 0.6, 0.6))


def test_time_decay_auto_unit_counts_touches_without_days_to_end():
    """No ``days_to_end`` and the default ``decay_unit='auto'``: distances 2, 1, 0 touches, half-life 1 ->
    raw weights 1/4, 1/2, 1 (sum 7/4). Guards the ``"auto"`` / ``"touches"`` literals and the default."""
    journeys = pd.DataFrame({"path": ["a > b > c"], "conversions": [7.0], "value": [70.0]})
    assert _credit(journeys, "time_decay", half_life=1.0) == pytest.approx({"a": 1.0, "b": 2.0, "c": 4.0})
    assert _credit(journeys, "time_decay", "value", half_life=1.0) == pytest.approx({"a": 10.0, "b": 20.0, "c": 40.0})
    # default half-life 7 touches: 2 ** (-2/7), 2 ** (-1/7), 1
    raw = np.exp2(-np.array([2.0, 1.0, 0.0]) / 7.0)
    expected = dict(zip("abc", 7.0 * raw / raw.sum()))
    assert _credit(journeys, "time_decay") == pytest.approx(expected)


def test_time_decay_auto_unit_uses_days_when_present():
    """With ``days_to_end`` and ``decay_unit='auto'``: days are used (3 and 0 days, half-life 3 -> 1/2 : 1)."""
    journeys = pd.DataFrame(
        {"path": ["a > b"], "conversions": [3.0], "nulls": [0.0], "days_to_end": [np.array([3.0, 0.0])]}
    )
    assert _credit(journeys, "time_decay", half_life=3.0) == pytest.approx({"a": 1.0, "b": 2.0})
    # explicit touches ignores the days: distance 1 touch, half-life 3 -> 2 ** (-1/3) : 1
    w = 2.0 ** (-1.0 / 3.0)
    assert _credit(journeys, "time_decay", half_life=3.0, decay_unit="touches") == pytest.approx(
        {"a": 3.0 * w / (1 + w), "b": 3.0 / (1 + w)}
    )


@pytest.mark.parametrize("half_life", [0.0, -1.0, float("nan")])
def test_time_decay_refuses_a_non_positive_half_life(half_life):
    """Guards ``not half_life > 0`` (-> ``>= 0`` etc.) and that the error names the parameter."""
    journeys = pd.DataFrame({"path": ["a > b"], "conversions": [1.0]})
    with pytest.raises(ValueError, match="half_life"):
        heuristic_attribution(journeys, "time_decay", half_life=half_life)


def test_time_decay_refuses_an_unknown_unit_naming_the_parameter():
    journeys = pd.DataFrame({"path": ["a > b"], "conversions": [1.0]})
    with pytest.raises(ValueError, match="decay_unit"):
        heuristic_attribution(journeys, "time_decay", decay_unit="hours")


def test_value_is_credited_with_the_same_weights_as_conversions():
    """Value per path differs from conversions: first/last touch and linear credit of value by hand.
    Guards ``weights * enc.value[pidx]`` mutants and the value column."""
    journeys = pd.DataFrame({"path": ["a > b", "b > c > a"], "conversions": [1.0, 2.0], "value": [10.0, 90.0]})
    assert _credit(journeys, "first_touch", "value") == {"a": 10.0, "b": 90.0, "c": 0.0}
    assert _credit(journeys, "last_touch", "value") == {"a": 90.0, "b": 10.0, "c": 0.0}
    assert _credit(journeys, "linear", "value") == pytest.approx({"a": 5.0 + 30.0, "b": 5.0 + 30.0, "c": 30.0})
    assert _credit(journeys, "linear") == pytest.approx({"a": 0.5 + 2 / 3, "b": 0.5 + 2 / 3, "c": 2 / 3})


def test_last_non_direct_picks_the_last_non_direct_touch_of_each_path():
    """Two paths whose last non-direct touch sits at different positions, one all-direct path.
    Guards the reduceat/``last_nd >= first`` logic per path (a mutant leaking across paths shows here)."""
    journeys = pd.DataFrame(
        {"path": ["Direct > Direct", "Search > Email > Direct > Direct", "Email > Search"],
         "conversions": [1.0, 2.0, 4.0], "value": [5.0, 20.0, 40.0]}
    )
    assert _credit(journeys, "last_non_direct") == {"Direct": 1.0, "Email": 2.0, "Search": 4.0}
    assert _credit(journeys, "last_non_direct", "value") == {"Direct": 5.0, "Email": 20.0, "Search": 40.0}
    # direct_channels given: only those are skipped (Direct is then an ordinary channel): path 2 ends on
    # Direct, path 3 skips Search for Email
    assert _credit(journeys, "last_non_direct", direct_channels=["Search"]) == {
        "Direct": 3.0, "Email": 4.0, "Search": 0.0,
    }


def test_empty_journeys_give_an_empty_credit_table():
    """Guards the ``if n_tokens`` / ``if k`` guards for every rule."""
    journeys = pd.DataFrame({"path": pd.Series([], dtype=str), "conversions": pd.Series([], dtype=float)})
    for method in ("first_touch", "last_touch", "last_non_direct", "linear", "time_decay", "position_based"):
        credit = heuristic_attribution(journeys, method)
        assert list(credit.columns) == ["conversions", "value"]
        assert len(credit) == 0


def test_default_method_is_linear():
    """Guards the default ``method="linear"`` (-> ``"XXlinearXX"`` / ``"LINEAR"``, which raise)."""
    journeys = pd.DataFrame({"path": ["a > b > b > c"], "conversions": [4.0]})
    assert heuristic_attribution(journeys)["conversions"].to_dict() == pytest.approx({"a": 1.0, "b": 2.0, "c": 1.0})


def test_custom_column_names_and_separator_are_passed_on():
    """Guards dropping ``path=`` / ``conversions=`` / ``value=`` / ``sep=`` in the call to encode_journeys."""
    journeys = pd.DataFrame({"touches": ["a|b", "b"], "conv": [2.0, 1.0], "revenue": [20.0, 5.0]})
    credit = heuristic_attribution(journeys, "last_touch", path="touches", conversions="conv", value="revenue",
                                   nulls=None, sep="|")
    assert credit["conversions"].to_dict() == {"a": 0.0, "b": 3.0}
    assert credit["value"].to_dict() == {"a": 0.0, "b": 25.0}


def test_a_bad_nulls_column_is_refused_naming_it():
    """Heuristics ignore non-converting journeys, but the ``nulls`` column is still checked (project rule: bad
    input gets a clear error naming the column). Guards ``nulls=nulls`` -> ``nulls=None`` / dropped."""
    journeys = pd.DataFrame({"path": ["a > b"], "conversions": [1.0], "nulls": [-1.0]})
    with pytest.raises(DataContractError, match="nulls"):
        heuristic_attribution(journeys, "first_touch")
    journeys = pd.DataFrame({"path": ["a > b"], "conversions": [1.0], "n0": [-1.0]})
    with pytest.raises(DataContractError, match="n0"):
        heuristic_attribution(journeys, "first_touch", nulls="n0")


def test_a_channel_without_touches_keeps_its_zero_row():
    """The result is indexed by all channels of the encoded journeys, also one no path touches (hand-built
    encoded journeys). Guards dropping ``minlength=k`` in the bincounts."""
    enc = EncodedJourneys(
        channels=("a", "b", "z"), codes=np.array([0, 1], dtype=np.int32), offsets=np.array([0, 2]),
        conversions=np.array([2.0]), nulls=np.array([0.0]), value=np.array([8.0]), has_value=True,
    )
    credit = heuristic_attribution(enc, "linear")
    assert credit["conversions"].to_dict() == {"a": 1.0, "b": 1.0, "z": 0.0}
    assert credit["value"].to_dict() == {"a": 4.0, "b": 4.0, "z": 0.0}


def test_an_all_direct_path_falls_back_to_its_own_last_touch():
    """Three different direct names, the last one gets the credit. Guards the ``-1`` sentinel of "no
    non-direct touch" (-> ``+1`` would pick touch 1 of the first path)."""
    journeys = pd.DataFrame({"path": ["(direct) > (none) > Direct"], "conversions": [1.0]})
    assert _credit(journeys, "last_non_direct") == {"(direct)": 0.0, "(none)": 0.0, "Direct": 1.0}


@pytest.mark.parametrize("weights", [(0.6, -0.2, 0.6), (0.6, 0.6, -0.2), (-0.2, 0.6, 0.6)])
def test_position_based_refuses_any_negative_share(weights):
    """Guards dropping one argument of ``min(w_first, w_middle, w_last)``."""
    journeys = pd.DataFrame({"path": ["a > b > c"], "conversions": [1.0]})
    with pytest.raises(ValueError, match="position_weights"):
        heuristic_attribution(journeys, "position_based", position_weights=weights)
