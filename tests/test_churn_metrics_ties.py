"""Lift, capture and gains share credit among tied scores (issue 11, item 6)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.churn import gain_curve, lift_and_capture


@pytest.mark.parametrize("churner_at", [0, 4, 9])
def test_all_tied_scores_give_lift_one_whatever_the_order(churner_at):
    y = np.zeros(10)
    y[churner_at] = 1
    lift, capture = lift_and_capture(y, np.full(10, 0.3), fraction=0.1)
    assert lift == pytest.approx(1.0)
    assert capture == pytest.approx(0.1)


def test_partial_tie_group_shares_its_churn_rate():
    # top row (0.9) is a churner; the next four rows tie at 0.5 with one churner; top 3 takes two of the four
    y = np.array([1, 0, 0, 1, 0, 0])
    score = np.array([0.9, 0.5, 0.5, 0.5, 0.5, 0.1])
    lift, capture = lift_and_capture(y, score, fraction=0.5)
    hits = 1 + 2 * (1 / 4)
    assert capture == pytest.approx(hits / 2)
    assert lift == pytest.approx((hits / 3) / (2 / 6))


few_scores = st.integers(min_value=2, max_value=80).flatmap(
    lambda n: st.tuples(
        st.lists(st.integers(0, 1), min_size=n - 1, max_size=n - 1).map(lambda rest: [1, *rest]),
        st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=n, max_size=n),  # many ties
        st.randoms(use_true_random=False),
    )
)


@settings(max_examples=60, deadline=None)
@given(few_scores, st.floats(0.01, 1.0))
def test_lift_capture_and_gains_do_not_depend_on_row_order(data, fraction):
    y, score, random = data
    y, score = np.asarray(y, dtype=float), np.asarray(score)
    perm = np.arange(len(y))
    random.shuffle(perm)
    assert lift_and_capture(y, score, fraction) == pytest.approx(lift_and_capture(y[perm], score[perm], fraction))
    np.testing.assert_allclose(
        gain_curve(y, score)["share_captured"], gain_curve(y[perm], score[perm])["share_captured"]
    )
