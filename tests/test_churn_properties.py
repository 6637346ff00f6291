"""Invariants of the churn metrics and decisions (hypothesis, pure functions, fast)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.churn import calibration_table, gain_curve, lift_and_capture, risk_tiers

labels_and_scores = st.integers(min_value=2, max_value=200).flatmap(
    lambda n: st.tuples(
        # the first two labels are fixed to 1 and 0 so that both classes are present
        st.lists(st.integers(0, 1), min_size=n - 2, max_size=n - 2).map(lambda rest: [1, 0, *rest]),
        st.lists(st.floats(0, 1, allow_nan=False), min_size=n, max_size=n),
    )
)


@settings(max_examples=40, deadline=None)
@given(labels_and_scores, st.floats(0.01, 1.0))
def test_lift_and_capture_bounds(data, fraction):
    y, score = (np.asarray(v, dtype=float) for v in data)
    lift, capture = lift_and_capture(y, score, fraction)
    rate = y.mean()
    assert 0.0 <= capture <= 1.0
    assert 0.0 <= lift <= 1.0 / rate + 1e-9
    # capture = lift x share targeted
    k = int(np.ceil(len(y) * fraction))
    assert np.isclose(capture, lift * k / len(y))
    assert lift_and_capture(y, score, 1.0) == (1.0, 1.0)


@settings(max_examples=20, deadline=None)
@given(labels_and_scores)
def test_gain_curve_is_monotone_and_ends_at_one(data):
    y, score = (np.asarray(v, dtype=float) for v in data)
    gains = gain_curve(y, score)
    assert (np.diff(gains["share_captured"]) >= -1e-12).all()
    assert np.isclose(gains["share_captured"].iloc[-1], 1.0)
    table = calibration_table(y, score, n_bins=5)
    assert table["n"].sum() == len(y)
    assert np.isclose((table["observed_rate"] * table["n"]).sum(), y.sum())


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0, 1, allow_nan=False), min_size=1, max_size=300), st.integers(0, 50))
def test_capacity_tiers_take_exactly_the_capacity(proba, capacity):
    p = pd.Series(proba)
    tiers = risk_tiers(p, capacity=capacity)
    high = tiers == "high"
    assert high.sum() == min(capacity, len(p))
    assert ((tiers == "medium") == (~high & (p >= 0.3))).all()
    if high.any() and (~high).any():
        assert p[high].min() >= p[~high].max()
    by_probability = risk_tiers(p)
    assert ((p >= 0.6) == (by_probability == "high")).all()
