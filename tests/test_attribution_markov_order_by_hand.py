"""Markov order selection by held-out likelihood, checked by hand (issue 21); each test names the mutation class
(a wrong implementation) it guards against."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crm_models.attribution import select_markov_order


def test_training_fit_of_a_three_touch_path_by_hand():
    """Guards the window of the next-touch contexts (``position >= j`` -> ``> j``, an off-by-one that pads the
    oldest touch away, so that a and b share a context) and the per-journey scale of the training fit.

    Path a > b > c, 2 conversions and 1 null, nothing held out (holdout 1e-12). Outcomes a, b, c, conversion,
    null (5): the order-0 counts 3, 3, 3, 2, 1 (12) give add-one probabilities 4/17, 4/17, 4/17, 3/17, 2/17.
    Every touch and the end have a context of their own (4 contexts at orders 1 and 2: the padded start, then
    a, b, c before; or (pad, pad), (pad, a), (a, b), (b, c)), each seen by all 3 journeys, so with prior
    strength 1 a touch scores (3 + p_lower) / 4 and the end (2 + p) / 4 and (1 + p) / 4:
    order 1: 55/68 per touch, 37/68 conversion, 19/68 null; order 2: 259/272, 173/272, 87/272.
    Per journey: (9 log p_touch + 2 log p_conversion + log p_null) / 3.
    Regression (found in review): with nothing held out the training fit was divided by 2 journeys, not 3 (the
    floor of one held-out journey was taken off the training count)."""
    journeys = pd.DataFrame({"path": ["a > b > c"], "conversions": [2.0], "nulls": [1.0]})
    table = select_markov_order(journeys, orders=(1, 2), holdout=1e-12, n_splits=2, seed=0).table
    assert table["n_contexts"].tolist() == [4, 4]
    order1 = (9 * math.log(55 / 68) + 2 * math.log(37 / 68) + math.log(19 / 68)) / 3
    order2 = (9 * math.log(259 / 272) + 2 * math.log(173 / 272) + math.log(87 / 272)) / 3
    assert table["train_loglik"].tolist() == pytest.approx([order1, order2])


def test_one_held_out_journey_scores_two_log_one_third():
    """Guards the per-journey scale of the held-out fit (the floor of the held-out count, ``max(n, 1)`` ->
    ``max(n, 2)``). One converting journey "a", held out with probability ~1: the training part is empty, so
    every outcome (a, conversion, null) has the add-one smoothed probability 1/3, and the journey (touch a, then
    conversion) scores 2 log(1/3) per journey."""
    journeys = pd.DataFrame({"path": ["a"], "conversions": [1.0], "nulls": [0.0]})
    table = select_markov_order(journeys, orders=(1,), holdout=1 - 1e-12, n_splits=2, seed=0).table
    assert table.loc[1, "heldout_loglik"] == pytest.approx(2 * math.log(1 / 3))
    assert table.loc[1, "train_loglik"] == 0.0


@pytest.mark.parametrize("holdout", [0.0, 1.0, 1.5])
def test_holdout_share_must_lie_strictly_between_zero_and_one(holdout):
    """Guards the bounds of the held-out share (``< 1`` -> ``<= 1``; all journeys held out leaves nothing to
    fit) and that the error names the parameter and its value."""
    journeys = pd.DataFrame({"path": ["a > b", "b"], "conversions": [2.0, 1.0], "nulls": [1.0, 3.0]})
    with pytest.raises(ValueError, match=r"holdout must be in \(0, 1\), got " + str(holdout).replace(".", r"\.")):
        select_markov_order(journeys, orders=(1,), holdout=holdout)


def test_order_table_keeps_the_mean_over_splits():
    """The held-out fit is the mean over splits of log-likelihood per held-out journey: on a single path every
    split scores the same per journey only when normalized per journey (a sum would grow with the split size)."""
    journeys = pd.DataFrame({"path": ["a > b"], "conversions": [50.0], "nulls": [0.0]})
    table = select_markov_order(journeys, orders=(1,), holdout=0.5, n_splits=3, seed=1).table
    # every journey is a -> b -> conversion; the fitted probabilities tend to 1, so the per-journey fit is
    # close to 0 but negative (smoothing), and far from the sum over ~25 held-out journeys
    assert -1.0 < table.loc[1, "heldout_loglik"] < 0.0
    # one path only: a held-out journey and a training journey score the same log-probability
    assert table.loc[1, "heldout_loglik"] == pytest.approx(table.loc[1, "train_loglik"])
    assert np.isfinite(table.loc[1, "heldout_se"])


def test_orders_whose_context_keys_overflow_are_refused():
    """Regression (bug found by this mutation round): the held-out counts are keyed by ``context * (K + 2) +
    outcome`` in int64 with contexts up to ``(K + 1) ** order``; with 20 channels that overflows from order 14 on
    (21 ** 14 * 22 > 2 ** 63 > 21 ** 13 * 22), and 12% of the keys of this data decoded to another context, so
    the order table was silently wrong. Such an order is now refused by name; order 13 still runs."""
    assert 21**14 * 22 > 2**63 > 21**13 * 22
    rng = np.random.default_rng(0)
    channels = [f"c{i:02d}" for i in range(20)]
    paths = [" > ".join(rng.choice(channels, rng.integers(1, 20))) for _ in range(300)]
    journeys = pd.DataFrame({"path": paths, "conversions": rng.integers(0, 3, 300).astype(float), "nulls": 2.0})
    with pytest.raises(ValueError, match="order 14 with 20 channels is too large"):
        select_markov_order(journeys, orders=(1, 14), n_splits=2, seed=0)
    table = select_markov_order(journeys, orders=(13,), n_splits=2, seed=0).table
    assert np.isfinite(table.loc[13, "heldout_loglik"])
