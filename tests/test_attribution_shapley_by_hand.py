"""Shapley attribution results say which method made them (issue 21); each test names the mutation class (a
wrong implementation) it guards against."""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.attribution import shapley_attribution

JOURNEYS = pd.DataFrame({"path": ["a > b", "b", "a"], "conversions": [2, 1, 0], "nulls": [1, 3, 2]})


@pytest.mark.parametrize("method", ["exact", "simplified", "ordered", "sampled"])
def test_the_result_names_its_method_and_the_credit_by_hand(method):
    """Guards the method label of the result (``"exact"`` -> ``"EXACT"``; report sentences name the method from
    the fitted object): a > b converts twice (1 each to a and b), b once (1 to b): a 1, b 2."""
    result = shapley_attribution(JOURNEYS, method)
    assert result.method == method
    assert result.credit["conversions"].tolist() == pytest.approx([1.0, 2.0], abs=0.05 if method == "sampled" else 1e-12)
