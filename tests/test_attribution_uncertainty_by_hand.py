"""Bootstrap intervals and the side-by-side table of attribution methods, checked by hand (issue 21); each test
names the mutation class (a wrong implementation) it guards against."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.attribution import bootstrap_attribution, compare_attribution, encode_journeys
from crm_models.attribution.uncertainty import bootstrap_draws


def test_paths_with_one_conversion_keep_their_value_in_the_bootstrap():
    """Guards the value per conversion of the Poisson bootstrap (``conversions > 0`` -> ``> 1``): every path
    here has exactly one conversion worth 10, so in every bootstrap sample the value credited is 10 times the
    conversions credited, channel by channel."""
    journeys = pd.DataFrame({"path": ["a", "b", "a > b"], "conversions": [1.0, 1.0, 1.0], "nulls": [2.0, 0.0, 1.0],
                             "value": [10.0, 10.0, 10.0]})
    conv, value = bootstrap_draws(encode_journeys(journeys), "linear", n_boot=30, seed=4)
    assert conv.sum() > 0
    np.testing.assert_allclose(value, 10.0 * conv)


def test_two_bootstrap_samples_are_enough_and_one_is_refused():
    """Guards the smallest accepted number of samples (``n_boot < 2`` -> ``< 3``): two samples give a standard
    error (ddof 1), one does not and is refused with a message naming ``n_boot``."""
    journeys = pd.DataFrame({"path": ["a", "b"], "conversions": [3.0, 1.0], "nulls": [1.0, 1.0]})
    out = bootstrap_attribution(journeys, "last_touch", n_boot=2, seed=0)
    assert np.isfinite(out["conversions_se"]).all()
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_attribution(journeys, "last_touch", n_boot=1)


def test_value_interval_is_per_channel():
    """Guards the axis of the value quantiles (an interval over all channels together): b's conversions carry
    no value, so its value interval is [0, 0] while a's lies around its value of 50 per conversion."""
    journeys = pd.DataFrame({"path": ["a", "b"], "conversions": [20.0, 20.0], "nulls": [5.0, 5.0],
                             "value": [1000.0, 0.0]})
    out = bootstrap_attribution(journeys, "last_touch", n_boot=50, level=0.9, seed=2)
    assert out.loc["b", "value_lower"] == 0.0 and out.loc["b", "value_upper"] == 0.0
    assert 0 < out.loc["a", "value_lower"] <= 1000.0 <= out.loc["a", "value_upper"]
    conv, value = bootstrap_draws(encode_journeys(journeys), "last_touch", n_boot=50, seed=2)
    np.testing.assert_allclose(out["value_lower"], np.quantile(value, 0.05, axis=0))
    np.testing.assert_allclose(out["conversions_upper"], np.quantile(conv, 0.95, axis=0))


def test_comparison_table_has_one_label_per_row():
    """Guards the row labels of the long comparison table (``ignore_index`` dropped: every method's rows would
    repeat the labels 0, 1, ..., so ``table.loc[0]`` would return one row per method)."""
    journeys = pd.DataFrame({"path": ["a > b", "b"], "conversions": [2.0, 1.0], "nulls": [1.0, 3.0]})
    table = compare_attribution(journeys, methods=("first_touch", "last_touch"))
    assert table.index.tolist() == list(range(4))
    assert table.loc[1, "method"] == "first_touch" and table.loc[1, "channel"] == "b"
    assert table.loc[1, "conversions"] == 1.0  # first touch: b only on the path "b"


def test_max_channels_reaches_the_shapley_method(monkeypatch):
    """Guards the ``max_channels`` option of the side-by-side table and of :func:`attribute` (its name changed in
    the option filter, or the default used instead): with two channels that convert and ``max_channels=1`` the
    exact sum over coalitions is not attempted; the simplified form (the same values, Zhao et al. 2018) is used.
    The values alone cannot tell the two apart, so the method asked for is recorded."""
    from crm_models.attribution import uncertainty

    asked: list[str] = []
    real = uncertainty.shapley_attribution

    def spy(enc, method="exact", **kwargs):
        asked.append(method)
        return real(enc, method, **kwargs)

    monkeypatch.setattr(uncertainty, "shapley_attribution", spy)
    journeys = pd.DataFrame({"path": ["a > b", "b"], "conversions": [2.0, 1.0], "nulls": [1.0, 3.0]})
    table = compare_attribution(journeys, methods=("shapley",), max_channels=1)
    assert asked == ["simplified"]
    assert table["conversions"].tolist() == pytest.approx([1.0, 2.0])
    uncertainty.attribute(journeys, "shapley")
    assert asked == ["simplified", "exact"]  # two channels are within the default limit of 20


def test_a_max_channels_above_the_default_reaches_the_exact_method():
    """Regression (found in review): ``attribute(..., "shapley", max_channels=21)`` chose the exact method for 21
    converting channels but called it with its own default limit of 20, which refused them. Each channel here
    converts once on its own, so every Shapley value is 1 (v(S) = |S|)."""
    from crm_models.attribution import attribute

    journeys = pd.DataFrame({"path": [f"c{i:02d}" for i in range(21)], "conversions": 1.0, "nulls": 1.0})
    credit = attribute(journeys, "shapley", max_channels=21)
    assert credit["conversions"].tolist() == pytest.approx([1.0] * 21)
