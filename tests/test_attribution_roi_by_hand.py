"""Channel return on spend on journeys small enough to check by hand (issue 21); each test names the mutation
class (a wrong implementation) it guards against."""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.attribution import channel_roi
from crm_models.exceptions import DataContractError


def test_headline_ranks_channels_by_roas_not_by_conversions_per_unit():
    """Guards the ranking key of the headline (``roas`` replaced by ``conversions_per_unit``): a converts 10 times
    for 100 each (ROAS 1,000 / 100 = 10), b 40 times for 10 each (ROAS 4); per unit spent b converts more
    (0.4 against 0.1), but by return on spend a is best and b worst."""
    journeys = pd.DataFrame({"path": ["a", "b"], "conversions": [10.0, 40.0], "nulls": [5.0, 5.0],
                             "value": [1000.0, 400.0]})
    result = channel_roi(journeys, pd.Series({"a": 100.0, "b": 100.0}), methods=("last_touch",), n_boot=10, seed=0)
    assert result.metric == "roas"
    text = result.headline("last_touch")
    assert text.startswith("Under last touch, a returns the most per unit spent (10.00 in value per unit) "
                           "and b the least (4.00).")
    assert result.headline("last_touch", currency="EUR").startswith("Under last touch, a returns the most per EUR "
                                                                     "spent (10.00")


def test_any_positive_conversion_value_makes_the_metric_roas():
    """Guards the boundary of the metric choice (``value > 0`` -> ``value > 1``): a total value of 0.5 is a
    value, so returns are compared as ROAS (value per unit spent, 0.3 / 10 for a), not as conversions per unit."""
    journeys = pd.DataFrame({"path": ["a", "b"], "conversions": [1.0, 1.0], "nulls": [1.0, 1.0],
                             "value": [0.3, 0.2]})
    result = channel_roi(journeys, pd.Series({"a": 10.0, "b": 10.0}), methods=("last_touch",), n_boot=5, seed=0)
    assert result.metric == "roas"
    assert result.table.set_index("channel").loc["a", "roas"] == pytest.approx(0.03)


def test_bad_spend_error_shows_the_offending_channel():
    """Guards the example rows of the spend error (dropped ``examples=``): the error names the column and the
    rule and lists the channel with the negative spend, not the valid one."""
    journeys = pd.DataFrame({"path": ["a", "b"], "conversions": [1.0, 1.0], "nulls": [1.0, 1.0]})
    with pytest.raises(DataContractError) as caught:
        channel_roi(journeys, pd.Series({"a": -5.0, "b": 10.0}), methods=("linear",), n_boot=5)
    error = caught.value
    assert error.column == "spend" and ">= 0" in error.rule
    assert error.examples is not None
    assert error.examples.iloc[:, 0].tolist() == ["a"] and error.examples["spend"].tolist() == [-5.0]
    assert "example rows" in str(error)
