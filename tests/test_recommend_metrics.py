"""Ranking metrics as pure functions: hand-computed values and invariants (hypothesis)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.exceptions import ConfigurationError
from crm_models.recommend import (
    average_precision_at_k,
    catalogue_coverage,
    hit_rate_at_k,
    map_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    temporal_split,
)

# Customer 1: hits at ranks 1 and 3 of 4, 3 relevant products. Customer 2: one hit at rank 2, 1 relevant.
RECOMMENDED = [["a", "b", "c", "d"], ["x", "y", "z", "w"]]
RELEVANT = [{"a", "c", "q"}, {"y"}]


def test_precision_recall_and_hit_rate_by_hand() -> None:
    assert precision_at_k(RECOMMENDED, RELEVANT, k=4) == pytest.approx((2 / 4 + 1 / 4) / 2)
    assert precision_at_k(RECOMMENDED, RELEVANT, k=1) == pytest.approx((1 + 0) / 2)
    assert recall_at_k(RECOMMENDED, RELEVANT, k=4) == pytest.approx((2 / 3 + 1) / 2)
    assert recall_at_k(RECOMMENDED, RELEVANT, k=2) == pytest.approx((1 / 3 + 1) / 2)
    assert hit_rate_at_k(RECOMMENDED, RELEVANT, k=1) == pytest.approx(0.5)
    assert hit_rate_at_k(RECOMMENDED, RELEVANT, k=2) == pytest.approx(1.0)


def test_average_precision_by_hand() -> None:
    ap = average_precision_at_k(RECOMMENDED, RELEVANT, k=4)
    # Customer 1: (1/1 + 2/3) / min(3, 4); customer 2: (1/2) / 1.
    np.testing.assert_allclose(ap, [(1 + 2 / 3) / 3, 0.5])
    assert map_at_k(RECOMMENDED, RELEVANT, k=4) == pytest.approx(((1 + 2 / 3) / 3 + 0.5) / 2)
    # With k=2 customer 1's denominator is min(3, 2) = 2.
    np.testing.assert_allclose(average_precision_at_k(RECOMMENDED, RELEVANT, k=2), [0.5, 0.5])


def test_ndcg_by_hand() -> None:
    first = (1 + 1 / math.log2(4)) / (1 + 1 / math.log2(3) + 1 / math.log2(4))
    second = (1 / math.log2(3)) / 1.0
    assert ndcg_at_k(RECOMMENDED, RELEVANT, k=4) == pytest.approx((first + second) / 2)


def test_short_lists_still_divide_by_k() -> None:
    assert precision_at_k([["a"]], [{"a"}], k=10) == pytest.approx(0.1)
    assert ndcg_at_k([["a"]], [{"a"}], k=10) == pytest.approx(1.0)


def test_coverage_by_hand() -> None:
    assert catalogue_coverage(RECOMMENDED, catalogue_size=16, k=2) == pytest.approx(4 / 16)
    assert catalogue_coverage(RECOMMENDED, catalogue_size=16, k=4) == pytest.approx(8 / 16)


def test_bad_inputs_raise() -> None:
    with pytest.raises(ConfigurationError, match="no relevant"):
        precision_at_k([["a"]], [set()], k=1)
    with pytest.raises(ConfigurationError, match="k must be"):
        recall_at_k([["a"]], [{"a"}], k=0)
    with pytest.raises(ConfigurationError, match="customers"):
        ndcg_at_k([["a"], ["b"]], [{"a"}], k=1)


ranked_lists = st.lists(st.lists(st.sampled_from("abcdefghij"), min_size=0, max_size=10, unique=True),
                        min_size=1, max_size=8)


@settings(max_examples=200, deadline=None)
@given(data=st.data(), k=st.integers(1, 10))
def test_metrics_are_shares_and_perfect_lists_score_one(data, k) -> None:
    recommended = data.draw(ranked_lists)
    relevant = [data.draw(st.sets(st.sampled_from("abcdefghij"), min_size=1, max_size=5)) for _ in recommended]
    for metric in (precision_at_k, recall_at_k, map_at_k, ndcg_at_k, hit_rate_at_k):
        value = metric(recommended, relevant, k)
        assert 0.0 <= value <= 1.0 + 1e-12, metric.__name__
    assert hit_rate_at_k(recommended, relevant, k) >= precision_at_k(recommended, relevant, k) - 1e-12
    perfect = [sorted(rel) for rel in relevant]
    assert ndcg_at_k(perfect, relevant, k) == pytest.approx(1.0)
    assert map_at_k(perfect, relevant, k) == pytest.approx(1.0)
    assert recall_at_k(perfect, relevant, k) == pytest.approx(
        np.mean([min(len(r), k) / len(r) for r in relevant]))


def test_temporal_split_keeps_new_products_of_known_customers_only() -> None:
    lines = pd.DataFrame({
        "customer_id": ["a", "a", "a", "a", "b", "c", "a"],
        "product_id": ["x", "y", "x", "z", "x", "x", "w"],
        "timestamp": pd.to_datetime(["2024-01-01", "2024-01-31 23:00", "2024-02-05", "2024-02-06", "2024-01-10",
                                     "2024-02-03", "2024-06-01"], format="mixed"),
        "quantity": [1, 1, 1, 1, 1, 1, 1],
    })
    split = temporal_split(lines, "2024-01-31", horizon_days=90)
    # The cutoff day is whole: y on Jan 31 23:00 is training. x again is not new; c was never seen; w is too late.
    assert split.cutoff == pd.Timestamp("2024-02-01")
    assert split.relevant.to_dict() == {"a": {"z"}}
    assert len(split.train) == 3 and split.n_test_buyers == 2
