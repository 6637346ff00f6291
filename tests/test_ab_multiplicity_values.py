"""Holm and Benjamini-Hochberg adjusted p-values by hand (issue 21, mutation testing of ``ab/multiplicity``).

Holm (1979): sorted ``p_(i)``, adjusted ``max_{j <= i} (m - j + 1) p_(j)``, capped at 1.
Benjamini & Hochberg (1995): adjusted ``min_{j >= i} m p_(j) / j``, capped at 1.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.ab.multiplicity import benjamini_hochberg, holm


def test_holm_by_hand_with_capping():
    """0.2, 0.6, 0.01: sorted 0.01*3 = 0.03, 0.2*2 = 0.4, 0.6*1 = 0.6 (guards ``m - i`` and the order)."""
    assert holm([0.2, 0.6, 0.01]) == pytest.approx([0.4, 0.6, 0.03])
    # 0.6*2 = 1.2 is capped at 1 and the cap carries forward through the running maximum
    assert holm([0.6, 0.7]).tolist() == [1.0, 1.0]
    # the running maximum: 0.02*3 = 0.06, 0.021*2 = 0.042 -> 0.06, 0.5 -> 0.5
    assert holm([0.021, 0.02, 0.5]) == pytest.approx([0.06, 0.06, 0.5])


def test_bh_by_hand():
    """0.01, 0.02, 0.03, 0.5: 4 p / rank = 0.04, 0.04, 0.04, 0.5 (guards ``m / rank`` and the step-up
    minimum from the largest p downwards)."""
    assert benjamini_hochberg([0.01, 0.02, 0.03, 0.5]) == pytest.approx([0.04, 0.04, 0.04, 0.5])
    # step-up: 0.04*2/1 = 0.08 but 0.041*2/2 = 0.041 is smaller and carries down
    assert benjamini_hochberg([0.041, 0.04]) == pytest.approx([0.041, 0.041])
    # unsorted input comes back in input order
    assert benjamini_hochberg([0.5, 0.01, 0.03, 0.02]) == pytest.approx([0.5, 0.04, 0.04, 0.04])
    assert benjamini_hochberg([0.3]) == pytest.approx([0.3])


def test_nan_entries_are_left_out_of_the_family():
    """m counts only the non-NaN p-values (2 here, not 3)."""
    out = holm([0.01, np.nan, 0.04])
    assert out[0] == pytest.approx(0.02) and np.isnan(out[1]) and out[2] == pytest.approx(0.04)
    out = benjamini_hochberg([np.nan, 0.01, 0.04])
    assert np.isnan(out[0]) and out[1:] == pytest.approx([0.02, 0.04])
    assert np.isnan(holm([np.nan, np.nan])).all() and holm([np.nan]).shape == (1,)
    assert benjamini_hochberg([]).shape == (0,)


def test_end_points_are_valid_and_out_of_range_values_are_refused():
    assert holm([0.0, 1.0]).tolist() == [0.0, 1.0]
    assert benjamini_hochberg([0.0, 1.0]).tolist() == [0.0, 1.0]
    for bad in ([-0.01, 0.5], [0.5, 1.01]):
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            holm(bad)
    with pytest.raises(ValueError, match="one-dimensional"):
        benjamini_hochberg([[0.1, 0.2]])


def test_p_values_from_an_object_column_are_read_as_numbers():
    """A column built from records holds Python objects with ``None`` for a missing p-value: read as float, the
    ``None`` is NaN and out of the family (guards ``np.asarray(..., dtype=float)``)."""
    column = pd.Series([0.01, None, 0.04], dtype=object)
    out = holm(column)
    assert out[0] == pytest.approx(0.02) and np.isnan(out[1]) and out[2] == pytest.approx(0.04)
    assert benjamini_hochberg(column)[[0, 2]] == pytest.approx([0.02, 0.04])
