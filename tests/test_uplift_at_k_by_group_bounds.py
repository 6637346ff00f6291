"""``uplift_at_k(strategy="by_group")`` refuses a count of zero or less, as ``"overall"`` does (it returned NaN)."""

from __future__ import annotations

import numpy as np
import pytest

from crm_models.uplift import uplift_at_k

Y = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0])
U = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
T = np.array([1, 0, 1, 0, 1, 0])


@pytest.mark.parametrize("strategy", ["overall", "by_group"])
@pytest.mark.parametrize("k", [0, -1])
def test_a_count_of_zero_or_less_is_refused_by_both_strategies(strategy: str, k: int) -> None:
    with pytest.raises(ValueError, match=rf"k={k} must be positive"):
        uplift_at_k(Y, U, T, k=k, strategy=strategy)


@pytest.mark.parametrize("strategy", ["overall", "by_group"])
def test_a_k_that_is_not_a_number_is_refused(strategy: str) -> None:
    with pytest.raises(ValueError, match="k must be an int or a float, got str"):
        uplift_at_k(Y, U, T, k="3", strategy=strategy)


def test_by_group_with_a_positive_count_by_hand() -> None:
    # top 1 of each group: treated 0.9 (y 1), control 0.8 (y 0) -> 1 - 0 = 1
    assert uplift_at_k(Y, U, T, k=1, strategy="by_group") == pytest.approx(1.0)
