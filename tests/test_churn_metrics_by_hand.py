"""Churn metrics against values computed by hand on tiny tables (issue 21: mutants of churn/metrics).

Each test names the class of mutation it guards against: a comparison bound, an off-by-one in the top-k cut,
a swapped numerator, a lost bin, a dropped keyword argument.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from crm_models.churn import calibration_table, churn_scores, gain_curve, lift_and_capture
from crm_models.churn.metrics import expected_calibration_error


def test_bad_shapes_and_missing_scores_name_the_problem():
    """Guards the input check of every metric: ``or`` -> ``and`` between the shape and the ndim tests,
    ``!=`` -> ``==``, and the NaN check dropped."""
    with pytest.raises(ValueError, match="equal length"):
        lift_and_capture([1, 0, 1], [0.3, 0.2])  # same ndim, different length
    with pytest.raises(ValueError, match="1-d"):
        lift_and_capture(np.ones((2, 2)), np.ones((2, 2)))  # same shape, but 2-d
    with pytest.raises(ValueError, match="score has missing values"):
        gain_curve([1, 0], [0.5, np.nan])
    # valid input passes the check
    assert gain_curve([1.0, 0.0], [0.5, 0.2])["share_captured"].iloc[-1] == 1.0


@pytest.mark.parametrize("fraction", [0.0, -0.1, 1.0000001, 1.5])
def test_fraction_outside_zero_one_is_refused(fraction):
    """Guards both bounds of ``0 < fraction <= 1`` (``<`` -> ``<=``, the constants 0 and 1 moved)."""
    with pytest.raises(ValueError, match="fraction"):
        lift_and_capture([1, 0], [0.9, 0.1], fraction)


def test_fraction_one_and_tiny_fraction_by_hand():
    """``fraction = 1`` is allowed (the upper bound is closed) and a tiny fraction still targets one row
    (``max(1, ...)`` -> ``max(2, ...)``; ``k - 1`` -> ``k`` / ``k + 1`` in the index of the cut)."""
    y = np.array([1, 0, 0, 1, 0, 0, 0, 0, 0, 0])
    score = np.arange(10, 0, -1.0)  # row 0 highest
    assert lift_and_capture(y, score, 1.0) == (pytest.approx(1.0), pytest.approx(1.0))
    # k = ceil(10 * 0.01) = 1: the top row is a churner -> rate 1 / (2/10) = 5, capture 1/2
    assert lift_and_capture(y, score, 0.01) == (pytest.approx(5.0), pytest.approx(0.5))
    # k = ceil(10 * 0.3) = 3: rows 0..2 hold one churner -> lift (1/3) / 0.2 = 5/3, capture 1/2
    assert lift_and_capture(y, score, 0.3) == (pytest.approx(5 / 3), pytest.approx(0.5))
    # k = 4 takes row 3 too: lift (2/4) / 0.2 = 2.5, capture 1
    assert lift_and_capture(y, score, 0.4) == (pytest.approx(2.5), pytest.approx(1.0))


def test_no_churners_or_no_rows_give_nan():
    """Guards ``n == 0 or total == 0`` (-> ``and``, or ``n == 1``): without churners lift and capture are
    undefined, returned as NaN without dividing 0 by 0 (no RuntimeWarning); a single churner is lift 1."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lift, capture = lift_and_capture(np.zeros(5), np.linspace(0, 1, 5))
    assert np.isnan(lift) and np.isnan(capture)
    lift, capture = lift_and_capture(np.zeros(0), np.zeros(0))
    assert np.isnan(lift) and np.isnan(capture)
    assert lift_and_capture([1.0], [0.5]) == (1.0, 1.0)


def test_boolean_labels_and_scores_are_numbers():
    """Labels and scores are read as floats: a boolean flag can be a score (guards ``dtype=float`` dropped:
    NumPy cannot negate a boolean array), and boolean labels in a tied block are counted."""
    y = [True, True, False, False]
    assert lift_and_capture(y, [0.9, 0.9, 0.1, 0.1], 0.5) == (pytest.approx(2.0), pytest.approx(1.0))
    assert lift_and_capture([1, 1, 0, 0], [True, True, False, False], 0.5) == (pytest.approx(2.0), pytest.approx(1.0))
    np.testing.assert_allclose(gain_curve(y, [0.9, 0.9, 0.1, 0.1])["share_captured"], [0.0, 0.5, 1.0, 1.0, 1.0])


def test_default_fraction_is_the_top_decile():
    """Guards the default ``fraction=0.1``: 20 rows -> the top 2; one churner of the 4 is there."""
    y = np.zeros(20)
    y[[1, 5, 9, 13]] = 1
    score = np.arange(20, 0, -1.0)
    assert lift_and_capture(y, score) == (pytest.approx((1 / 2) / (4 / 20)), pytest.approx(1 / 4))


def test_lift_with_a_tie_at_the_cut_by_hand():
    """Guards the group bounds of the tie sharing (``starts``/``ends``, ``position - start``): the cut at
    k = 3 falls inside a block of three tied rows holding two churners."""
    y = np.array([0, 1, 0, 1, 0, 0])
    score = np.array([0.9, 0.5, 0.5, 0.5, 0.2, 0.1])
    lift, capture = lift_and_capture(y, score, 0.5)
    hits = 0 + 2 * (2 / 3)  # two of the three tied rows, at the block's churn rate 2/3
    assert capture == pytest.approx(hits / 2)
    assert lift == pytest.approx((hits / 3) / (2 / 6))


def test_gain_curve_by_hand_with_a_tied_block():
    """The whole curve, row by row: a leading (0, 0) row with lift NaN, then the captured share of each
    cut. Guards the tie sharing, the ``np.arange(1, n + 1) / n`` of the targeted share and the division by
    the number of churners."""
    y = np.array([1, 0, 1, 0])
    score = np.array([0.9, 0.5, 0.5, 0.1])
    gains = gain_curve(y, score)
    assert list(gains.columns) == ["share_targeted", "share_captured", "lift"]
    np.testing.assert_allclose(gains["share_targeted"], [0.0, 0.25, 0.5, 0.75, 1.0])
    # hits: 1, 1 + 1/2, 2, 2 of 2 churners
    np.testing.assert_allclose(gains["share_captured"], [0.0, 0.5, 0.75, 1.0, 1.0])
    np.testing.assert_allclose(gains["lift"].iloc[1:], [2.0, 1.5, 4 / 3, 1.0])
    assert np.isnan(gains["lift"].iloc[0])
    assert gains.index.tolist() == [0, 1, 2, 3, 4]


def test_gain_curve_of_one_row_and_of_no_churners():
    """A single row is a full curve (guards ``n == 0`` -> ``n == 1`` in the tie sharing); without churners
    the captured share stays 0 instead of dividing by zero."""
    one = gain_curve([1.0], [0.4])
    np.testing.assert_allclose(one["share_captured"], [0.0, 1.0])
    none = gain_curve([0.0, 0.0], [0.4, 0.2])
    np.testing.assert_allclose(none["share_captured"], [0.0, 0.0, 0.0])
    empty = gain_curve([], [])
    assert len(empty) == 1 and empty["share_targeted"].iloc[0] == 0.0


def test_calibration_table_by_hand_with_unsorted_probabilities():
    """Equal-count bins over the probabilities in sorted order, whatever the row order. Guards
    ``bins[order] = ...`` (bins given by position instead of rank), ``(i * n_bins) // n`` and
    ``minimum(..., n_bins - 1)`` -> ``n_bins - 2``, and the five aggregates."""
    p = np.array([0.6, 0.1, 0.4, 0.2, 0.5, 0.3])
    y = np.array([1, 0, 1, 0, 0, 1])  # sorted by p: y = 0, 0, 1, 1, 0, 1
    table = calibration_table(y, p, n_bins=3)
    assert list(table.columns) == ["bin", "n", "mean_predicted", "observed_rate", "p_low", "p_high"]
    assert table["bin"].tolist() == [0, 1, 2] and table["bin"].dtype.kind == "i"
    assert table["n"].tolist() == [2, 2, 2]
    np.testing.assert_allclose(table["mean_predicted"], [0.15, 0.35, 0.55])
    np.testing.assert_allclose(table["observed_rate"], [0.0, 1.0, 0.5])
    np.testing.assert_allclose(table["p_low"], [0.1, 0.3, 0.5])
    np.testing.assert_allclose(table["p_high"], [0.2, 0.4, 0.6])
    # count-weighted |gap|: (2 * 0.15 + 2 * 0.65 + 2 * 0.05) / 6
    assert expected_calibration_error(y, p, n_bins=3) == pytest.approx((0.15 + 0.65 + 0.05) / 3)


def test_calibration_bins_of_unequal_size_and_more_bins_than_rows():
    """5 rows in 2 bins: positions 0..4 give bins 0, 0, 0, 1, 1 (``(i * 2) // 5``). 3 rows in 10 bins:
    bins 0, 3, 6, each one row (the ``n_bins`` default is 10)."""
    table = calibration_table([0, 0, 1, 1, 1], [0.1, 0.2, 0.3, 0.4, 0.5], n_bins=2)
    assert table["n"].tolist() == [3, 2]
    np.testing.assert_allclose(table["observed_rate"], [1 / 3, 1.0])
    small = calibration_table([0, 1, 1], [0.2, 0.5, 0.9])
    assert small["bin"].tolist() == [0, 3, 6] and small["n"].tolist() == [1, 1, 1]
    # one row per bin: ECE = mean |p - y| = (0.2 + 0.5 + 0.1) / 3
    assert expected_calibration_error([0, 1, 1], [0.2, 0.5, 0.9]) == pytest.approx(0.8 / 3)


def test_tied_probabilities_are_binned_in_input_order():
    """Bins are cut by rank, and tied probabilities keep their input order (a stable sort: guards the
    ``kind="stable"`` argument; NumPy's default sort reorders ties in arrays of this size)."""
    p = np.array([0.5, 0.2] * 10)  # sorted: the ten 0.2 rows (1, 3, ..., 19), then the ten 0.5 rows
    y = (np.arange(20) < 10).astype(float)  # rows 0..9 churned
    table = calibration_table(y, p, n_bins=4)
    # bin 0: rows 1, 3, 5, 7, 9; bin 1: rows 11..19 (odd); bin 2: rows 0..8 (even); bin 3: rows 10..18
    np.testing.assert_allclose(table["observed_rate"], [1.0, 0.0, 1.0, 0.0])
    np.testing.assert_allclose(table["mean_predicted"], [0.2, 0.2, 0.5, 0.5])


def test_one_row_and_the_default_number_of_bins():
    """A single row is one bin (guards ``len == 0`` -> ``len == 1``); ten bins by default: 20 rows with
    p = (i + 0.5) / 20 and alternating labels give pairs whose gaps |(2j + 1) / 20 - 0.5| add up to 2.5,
    so ECE = 2.5 x 2 / 20 = 0.25 (eleven bins would give 0.2525)."""
    one = calibration_table([1], [0.3])
    assert one["n"].tolist() == [1] and one["observed_rate"].tolist() == [1.0]
    p = (np.arange(20) + 0.5) / 20
    y = np.array([0, 1] * 10)
    assert expected_calibration_error(y, p) == pytest.approx(0.25)
    assert calibration_table(y, p)["n"].tolist() == [2] * 10


def test_empty_calibration_table_has_its_columns_and_nan_error():
    table = calibration_table([], [])
    assert table.empty
    assert list(table.columns) == ["bin", "n", "mean_predicted", "observed_rate", "p_low", "p_high"]
    assert np.isnan(expected_calibration_error([], []))


def test_churn_scores_by_hand():
    """ROC AUC 3/4 (three of four churner-stayer pairs in order), average precision (1 + 2/3) / 2, Brier
    0.2, ECE 0.4 (one row per bin), lift and capture at the given fraction. Guards the keys, the
    ``fraction`` passed on, and ``proba`` reaching Brier and ECE."""
    y = np.array([1, 0, 1, 0])
    score = np.array([0.8, 0.6, 0.4, 0.2])
    out = churn_scores(y, score, proba=score, fraction=0.5)
    assert set(out) == {"roc_auc", "pr_auc", "brier", "lift_top_decile", "capture_top_decile", "ece"}
    assert out["roc_auc"] == pytest.approx(0.75)
    assert out["pr_auc"] == pytest.approx((1 + 2 / 3) / 2)
    assert out["brier"] == pytest.approx((0.04 + 0.36 + 0.36 + 0.04) / 4)
    assert out["ece"] == pytest.approx(0.4)
    assert out["lift_top_decile"] == pytest.approx(1.0) and out["capture_top_decile"] == pytest.approx(0.5)
    # default fraction 0.1: k = 1, the top row is a churner -> lift 2, capture 1/2
    default = churn_scores(y, score)
    assert default["lift_top_decile"] == pytest.approx(2.0) and default["capture_top_decile"] == pytest.approx(0.5)
    assert np.isnan(default["brier"]) and np.isnan(default["ece"])


def test_one_churner_is_enough_for_the_aucs():
    """Guards ``0 < sum`` -> ``1 < sum``."""
    out = churn_scores([1, 0, 0], [0.9, 0.5, 0.1])
    assert out["roc_auc"] == 1.0 and out["pr_auc"] == 1.0


@pytest.mark.parametrize("y", [[1, 1, 1], [0, 0, 0]])
def test_churn_scores_with_one_class_give_nan_aucs(y):
    """Guards ``0 < sum < n`` (``<`` -> ``<=`` on either side): AUCs need both classes, and with one class
    they are NaN without asking scikit-learn (which warns that the AUC is undefined)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = churn_scores(y, [0.9, 0.5, 0.1], proba=[0.9, 0.5, 0.1])
    assert np.isnan(out["roc_auc"]) and np.isnan(out["pr_auc"])
    assert np.isfinite(out["brier"])


def test_calibration_of_a_series_keeps_no_index():
    """Inputs may be pandas Series with any index; the bins follow the values, not the labels."""
    y = pd.Series([1, 0], index=["b", "a"])
    p = pd.Series([0.9, 0.1], index=["b", "a"])
    table = calibration_table(y, p, n_bins=2)
    np.testing.assert_allclose(table["observed_rate"], [0.0, 1.0])
