"""Markov-chain attribution at its limits, checked by hand (issue 21); each test names the mutation class (a
wrong implementation) it guards against.

Journeys of the package docstring: a > b converts twice and fails once, b converts once and fails three times,
a fails twice (9 journeys, 3 conversions). At an order at least as long as every path, each path is one state,
so removing a channel removes exactly the journeys that touch it:

* without a only "b" is left: P = 1 / 9, removal effect 1 - (1/9) / (3/9) = 2/3;
* without b only "a" is left: P = 0, removal effect 1;
* credit a = (2/3) / (5/3) * 3 = 1.2, b = 1 / (5/3) * 3 = 1.8.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from crm_models.attribution import markov_attribution

JOURNEYS = pd.DataFrame({"path": ["a > b", "b", "a"], "conversions": [2, 1, 0], "nulls": [1, 3, 2]})


def test_path_level_chain_by_hand():
    """Order 2 already holds every path in one state: credit a 1.2, b 1.8 (see the module docstring)."""
    result = markov_attribution(JOURNEYS, order=2)
    assert result.credit["conversions"].tolist() == pytest.approx([1.2, 1.8])
    assert result.removal_effects["removal_effect"].tolist() == pytest.approx([2 / 3, 1.0])
    assert result.conversion_probability == pytest.approx(1 / 3)


def test_the_largest_order_the_window_codes_allow_is_solved():
    """Regression (bug found by this mutation round): the sparse state path, meant for state spaces too large to
    tabulate, still allocated four dense arrays of ``base ** order`` entries, so an order the guard accepts
    failed with numpy's "array is too big" (2 channels, order 38: 3 ** 38 codes) instead of giving the answer.
    Also guards the bound of the guard itself (pair keys need ``base ** (order + 1) < 2 ** 62``; ``order + 1``
    -> ``order + 2`` would refuse order 38): 3 ** 39 < 2 ** 62 <= 3 ** 40."""
    assert 39 * math.log(3) < 62 * math.log(2) <= 40 * math.log(3)
    result = markov_attribution(JOURNEYS, order=38)
    assert result.credit["conversions"].tolist() == pytest.approx([1.2, 1.8])
    assert result.states == ["a", "a > b", "b"]
    with pytest.raises(ValueError, match="order 39 with 2 channels is too large"):
        markov_attribution(JOURNEYS, order=39)
