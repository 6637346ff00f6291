"""Issue 11 item 4: normalised uplift metrics do not depend on the unit of a continuous outcome."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.exceptions import DataContractError
from crm_models.uplift import qini_auc_score, uplift_auc_score
from crm_models.uplift.metrics import perfect_qini_curve


def _spend_data(n: int, seed: int):
    rng = np.random.default_rng(seed)
    t = rng.integers(0, 2, n)
    t[:2] = [0, 1]
    x = rng.normal(size=n)
    spend = rng.gamma(2.0, 20.0, n) * (rng.uniform(size=n) < 0.3 + 0.1 * t * (x > 0))
    spend[0] = 12.34  # never a 0/1 outcome
    score = x + rng.normal(scale=0.5, size=n)
    return np.round(spend, 2), score, t


METRICS = [
    ("uplift_auc", uplift_auc_score, {}),
    ("qini_auc", qini_auc_score, {"negative_effect": True}),
    ("qini_auc_3_point", qini_auc_score, {"negative_effect": False}),
]


def _score_or_error(metric, y, score, t, kwargs):
    try:
        return metric(y, score, t, **kwargs)
    except DataContractError:
        return "refused"


@settings(max_examples=40, deadline=None)
@given(n=st.integers(20, 400), seed=st.integers(0, 10_000), factor=st.sampled_from([100.0, 0.01, 7.5]))
def test_every_normalised_score_is_unit_free_or_refused(n, seed, factor):
    y, score, t = _spend_data(n, seed)
    for name, metric, kwargs in METRICS:
        base = _score_or_error(metric, y, score, t, kwargs)
        scaled = _score_or_error(metric, y * factor, score, t, kwargs)
        if isinstance(base, str) or isinstance(scaled, str):
            assert base == scaled, name  # refused in both units, never in one only
        elif np.isnan(base):
            assert np.isnan(scaled), name
        else:
            assert scaled == pytest.approx(base, rel=1e-9, abs=1e-12), name


def test_dollars_and_cents_give_the_same_qini():
    y, score, t = _spend_data(2_000, 4)
    assert qini_auc_score(y * 100, score, t) == pytest.approx(qini_auc_score(y, score, t), rel=1e-12)


def test_three_point_optimum_refuses_a_continuous_outcome():
    # before: 0.338 in dollars, -0.004 in cents on the same data (a kink placed in money units on a unit axis)
    y, score, t = _spend_data(2_000, 4)
    with pytest.raises(DataContractError, match="only defined for a binary 0/1 outcome") as info:
        qini_auc_score(y, score, t, negative_effect=False)
    assert info.value.column == "y_true"
    with pytest.raises(DataContractError):
        perfect_qini_curve(y, t, negative_effect=False)


def test_three_point_optimum_still_works_for_binary_outcomes():
    y, score, t = _spend_data(2_000, 4)
    converted = (y > 0).astype(int)
    value = qini_auc_score(converted, score, t, negative_effect=False)
    assert np.isfinite(value) and -1 < value < 1
