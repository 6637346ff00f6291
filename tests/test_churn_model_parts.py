"""The pure steps of ChurnModel by hand, without fitting a booster: settings checks, labels, class weights,
the time-ordered split and its purge, the held-out cut, calibration, and the reasons (issue 21: mutants of
churn/model). Each test names the mutation class it guards against."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.churn import ChurnModel
from crm_models.churn.model import (
    _apply_calibration,
    _as_labels,
    _choose_calibration,
    _fit_calibrator,
    _is_numeric,
    _safe_name,
    top_reasons,
)
from crm_models.exceptions import DataContractError, NotFittedError


@pytest.mark.parametrize(
    "settings, parameter",
    [
        ({"calibration": "beta"}, "calibration"),
        ({"class_weight": "inverse"}, "class_weight"),
        ({"validation_fraction": 0.0}, "validation_fraction"),
        ({"validation_fraction": 1.0}, "validation_fraction"),
        ({"calibration_fraction": 0.0}, "calibration_fraction"),
        ({"calibration_fraction": 1.0}, "calibration_fraction"),
        ({"n_estimators": 0}, "n_estimators"),
    ],
)
def test_bad_settings_name_the_parameter(settings, parameter):
    """Guards both open bounds of the fractions (``<`` -> ``<=``) and ``n_estimators >= 1``."""
    with pytest.raises(ValueError, match=parameter):
        ChurnModel(**settings)._check_settings()


def test_settings_at_their_limits_are_accepted():
    ChurnModel(validation_fraction=0.01, calibration_fraction=0.99, n_estimators=1, class_weight=None,
               calibration=None)._check_settings()
    ChurnModel(calibration="isotonic")._check_settings()
    ChurnModel(calibration="sigmoid")._check_settings()


def test_labels():
    """One label per row, 0/1 or booleans; anything else names the ``churned`` column."""
    assert _as_labels([True, False, 1], 3).tolist() == [1, 0, 1]
    assert _as_labels(np.array([0.0, 1.0]), 2).dtype.kind == "i"
    with pytest.raises(ValueError, match="one label per row"):
        _as_labels([0, 1], 3)
    for bad in ([0, 2], [0.0, np.nan]):
        with pytest.raises(DataContractError) as err:
            _as_labels(bad, 2)
        assert err.value.column == "churned" and err.value.rule == "values in {0, 1}"


def test_balanced_class_weights_by_hand():
    """n / (2 n_pos) for churners, n / (2 n_neg) for the others (guards the swapped counts and the 2)."""
    y = np.array([1, 0, 0, 0])
    np.testing.assert_allclose(ChurnModel()._weights(y), [2.0, 2 / 3, 2 / 3, 2 / 3])
    np.testing.assert_allclose(ChurnModel(class_weight=None)._weights(y), [1.0, 1.0, 1.0, 1.0])


def test_purge_gap_in_the_units_of_time():
    dates = pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01"]))
    numbers = pd.Series([1.0, 2.0])
    assert ChurnModel()._purge_gap(dates) == pd.Timedelta(0) and ChurnModel()._purge_gap(numbers) == 0
    assert ChurnModel(purge=30)._purge_gap(dates) == pd.Timedelta(days=30)
    assert ChurnModel(purge=np.float64(1.5))._purge_gap(dates) == pd.Timedelta(hours=36)
    assert ChurnModel(purge="7D")._purge_gap(dates) == pd.Timedelta(days=7)
    assert ChurnModel(purge=2)._purge_gap(numbers) == 2.0


def _snapshots():
    # three snapshots, each with two churners and two stayers
    time = np.repeat(pd.to_datetime(["2024-01-01", "2024-03-01", "2024-04-01"]).to_numpy(), 4)
    y = np.tile([1, 0, 1, 0], 3)
    return y, time


def test_time_split_holds_out_the_latest_snapshot_and_purges_the_close_ones():
    """Train = snapshots at most ``latest - purge`` (``<=``: a snapshot exactly one purge older stays)."""
    y, time = _snapshots()
    train, valid, how = ChurnModel()._split(y, time)
    assert how == "time" and valid.tolist() == [8, 9, 10, 11] and train.tolist() == list(range(8))
    # purge 31 days: March 1 is exactly 31 days before April 1 and stays
    train, _, _ = ChurnModel(purge=31)._split(y, time)
    assert train.tolist() == list(range(8))
    train, _, _ = ChurnModel(purge=32)._split(y, time)
    assert train.tolist() == [0, 1, 2, 3]
    with pytest.raises(DataContractError) as err:
        ChurnModel(purge=200)._split(y, time)
    assert err.value.column == "time"
    with pytest.raises(ValueError, match="time has 2 values for 12 rows"):
        ChurnModel()._split(y, time[:2])


def test_numeric_time_and_one_class_snapshots_fall_back_to_a_random_split():
    """Numeric times work like dates; a held-out snapshot without churners (and no purge) falls back to
    the stratified random split: ``max(1, round(n * fraction))`` rows of each class."""
    y, _ = _snapshots()
    numeric = np.repeat([1.0, 2.0, 3.0], 4)
    train, valid, how = ChurnModel()._split(y, numeric)
    assert how == "time" and valid.tolist() == [8, 9, 10, 11]
    no_churners = y.copy()
    no_churners[8:] = 0
    train, valid, how = ChurnModel(validation_fraction=0.25)._split(no_churners, numeric)
    assert how == "random"
    # 4 churners -> 1 held out, 8 stayers -> 2 held out
    assert no_churners[valid].sum() == 1 and len(valid) == 3 and len(train) == 9
    assert sorted([*train, *valid]) == list(range(12))
    _, _, how = ChurnModel()._split(y, None)
    assert how == "random"


def test_held_out_rows_are_cut_into_stopping_and_calibration_slices():
    """``min(n - 1, max(1, round(n * fraction)))`` rows of each class calibrate, the rest stop the
    boosting; a class with one row keeps it for early stopping."""
    y = np.array([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    held_out = np.arange(11)
    stop, calib = ChurnModel(calibration_fraction=0.5)._split_held_out(y, held_out)
    assert sorted([*stop, *calib]) == list(range(11)) and not set(stop) & set(calib)
    assert (y[calib] == 0).sum() == 2 and (y[calib] == 1).sum() == 3  # round(2.5) = 2, round(3.0) = 3
    stop, calib = ChurnModel(calibration_fraction=0.99)._split_held_out(y, held_out)
    assert (y[calib] == 0).sum() == 4 and (y[calib] == 1).sum() == 5  # n - 1 of each
    stop, calib = ChurnModel(calibration_fraction=0.01)._split_held_out(y, held_out)
    assert (y[calib] == 0).sum() == 1 and (y[calib] == 1).sum() == 1  # at least one
    lone = np.array([0, 0, 0, 1])
    stop, calib = ChurnModel()._split_held_out(lone, np.arange(4))
    assert 3 in stop and (lone[calib] == 1).sum() == 0


def test_apply_calibration_without_a_calibrator_is_the_logistic_function():
    np.testing.assert_allclose(_apply_calibration(None, "none", np.array([0.0, np.log(3.0), -np.log(3.0)])),
                               [0.5, 0.75, 0.25])


def test_calibrators_by_hand():
    """Isotonic on a monotone step gives the step; Platt scaling gives a monotone probability. Both are
    clipped to [0, 1]."""
    margin = np.array([-2.0, -1.0, 1.0, 2.0])
    y = np.array([0, 0, 1, 1])
    iso = _fit_calibrator("isotonic", margin, y)
    np.testing.assert_allclose(_apply_calibration(iso, "isotonic", np.array([-5.0, -1.5, 1.5, 5.0])),
                               [0.0, 0.0, 1.0, 1.0])
    platt = _fit_calibrator("sigmoid", np.array([-2.0, -1.0, 1.0, 2.0, 0.5, -0.5]), np.array([0, 0, 1, 1, 0, 1]))
    p = _apply_calibration(platt, "sigmoid", np.array([-3.0, 0.0, 3.0]))
    assert p[0] < p[1] < p[2] and (0 <= p).all() and (p <= 1).all()


def test_choose_calibration_without_a_method_reports_the_logistic_error():
    """``calibration=None``: name "none", no calibrator, no scores, and the ECE of the logistic
    probabilities (here one row per bin: mean |0.5 - y| = 0.5)."""
    name, calibrator, scores, error = _choose_calibration(np.zeros(2), np.array([0, 1]), None, 0)
    assert (name, calibrator, scores) == ("none", None, {})
    assert error == pytest.approx(0.5)


def test_choose_calibration_auto_compares_both_and_a_fixed_method_reports_no_scores():
    rng = np.random.default_rng(3)
    margin = rng.normal(size=300)
    y = (rng.uniform(size=300) < 1 / (1 + np.exp(-2 * margin))).astype(int)
    name, calibrator, scores, error = _choose_calibration(margin, y, "auto", 0)
    assert set(scores) == {"isotonic", "sigmoid"} and name == min(scores, key=scores.get)
    assert calibrator is not None and 0.0 <= error < 0.2
    fixed = _choose_calibration(margin, y, "sigmoid", 0)
    assert fixed[0] == "sigmoid" and fixed[2] == {}


def test_top_reasons_by_hand():
    """The two features that raise the risk most, largest first, phrased in words with "(raises risk)";
    a negative contribution is never a reason, a customer without a positive one gets the fallback."""
    contributions = pd.DataFrame(
        {"recency_days": [0.5, -0.1, -0.2], "n_orders": [0.2, 0.3, -0.1], "spend_total": [0.9, -0.4, -0.3]},
        index=pd.Index(["a", "b", "c"], name="customer_id"),
    )
    X = pd.DataFrame({"spend_total": [100.0, 5.0, 1.0], "recency_days": [120.0, 3.0, 9.0],
                      "n_orders": [4.0, 7.0, 1.0]}, index=contributions.index)
    reasons = top_reasons(contributions, X, top_n=2)
    assert reasons.columns.tolist() == ["reason_1", "reason_2"]
    assert reasons.loc["a"].tolist() == ["total spend 100 (raises risk)", "last purchase 120 days ago (raises risk)"]
    assert reasons.loc["b"].tolist() == ["7 orders in total (raises risk)", "-"]
    assert reasons.loc["c", "reason_1"] == "no feature raises the risk above the average customer's"
    assert reasons.loc["c", "reason_2"] == "-"
    # more slots than features: the extra slots read "-"
    wide = top_reasons(contributions, X, top_n=4)
    assert wide.loc["a"].tolist() == ["total spend 100 (raises risk)", "last purchase 120 days ago (raises risk)",
                                      "4 orders in total (raises risk)", "-"]


def test_feature_names_and_numeric_checks():
    assert _safe_name("a[b]<c,d") == "a_b__c_d" and _safe_name(3) == "3"
    assert _is_numeric([1, 2.5]) and not _is_numeric(["x"])


def test_an_unfitted_model_says_so():
    with pytest.raises(NotFittedError, match="fit"):
        ChurnModel().decision_function(np.zeros((1, 2)))
