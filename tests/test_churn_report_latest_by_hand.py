"""``churn.report.latest_scores`` and ``LatestScores.calibration_sentence`` by hand, on a made-up backtest result
with two cutoffs (issue 21: the mutants of ``latest_scores`` had no test at all).

Each test names the mutation class it guards against.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from crm_models.churn import BacktestResult
from crm_models.churn.report import SHORT_LABELS, latest_scores

EARLY, LATE = pd.Timestamp("2024-05-01"), pd.Timestamp("2024-06-01")


def _predictions(with_bgnbd: bool) -> pd.DataFrame:
    frame = pd.DataFrame({
        "cutoff": [EARLY, EARLY, LATE, LATE, LATE],
        "customer_id": ["a", "b", "a", "b", "c"],
        "churned": [1, 0, 0, 1, 1],
        "model": [0.9, 0.1, 0.2, 0.7, 0.6],
        "model_margin": [2.0, -2.0, -1.0, 0.5, 0.4],
        "recency": [1.0, 0.5, 1 / 3, 1.0, 2 / 3],
    })
    if with_bgnbd:
        frame["bgnbd_p0"] = [0.8, 0.3, 0.25, 0.65, 0.55]
    return frame


def _result(with_bgnbd: bool = True, models: dict | None = None, metrics: pd.DataFrame | None = None):
    return BacktestResult(metrics=pd.DataFrame() if metrics is None else metrics, calibration=pd.DataFrame(),
                          predictions=_predictions(with_bgnbd), horizon_days=90, models=models or {})


def test_latest_scores_are_the_latest_cutoffs_customers() -> None:
    """Guards ``cutoff == latest`` -> ``!=`` (the older cutoff's rows) and ``pd.Timestamp(cutoff)`` -> ``None``
    (NaT), and the scorer keys/columns: the model ranks by its margin, not by its calibrated probability."""
    latest = latest_scores(_result())
    assert latest.cutoff == LATE
    np.testing.assert_array_equal(latest.y, [0, 1, 1])
    assert set(latest.ranking) == {SHORT_LABELS["model"], SHORT_LABELS["recency"], SHORT_LABELS["bgnbd_p0"]}
    np.testing.assert_allclose(latest.ranking["model"], [-1.0, 0.5, 0.4])  # the margin
    np.testing.assert_allclose(latest.ranking["recency"], [1 / 3, 1.0, 2 / 3])
    np.testing.assert_allclose(latest.ranking["BG/NBD P(no purchase)"], [0.25, 0.65, 0.55])
    np.testing.assert_allclose(latest.probability["model"], [0.2, 0.7, 0.6])
    np.testing.assert_allclose(latest.probability["BG/NBD P(no purchase)"], [0.25, 0.65, 0.55])
    assert latest.model is None  # the backtest kept no models


def test_without_bgnbd_only_model_and_recency_are_scored() -> None:
    """Guards the ``"bgnbd_p0" in latest`` branch (negated or with another column name)."""
    latest = latest_scores(_result(with_bgnbd=False))
    assert set(latest.ranking) == {"model", "recency"} and set(latest.probability) == {"model"}


def test_the_kept_models_decide_the_latest_cutoff() -> None:
    """With kept models the latest cutoff is the latest model's (``max(result.models)``), and the model is it."""
    early_model, late_model = object(), object()
    latest = latest_scores(_result(models={EARLY: early_model, LATE: late_model}))
    assert latest.cutoff == LATE and latest.model is late_model
    only_early = latest_scores(_result(models={EARLY: early_model}))
    assert only_early.cutoff == EARLY and only_early.model is early_model
    np.testing.assert_array_equal(only_early.y, [1, 0])


def test_calibration_sentence_names_the_fitted_method_and_this_cutoffs_scores() -> None:
    """The method comes from the fitted model; Brier and ECE from the model's row at the latest cutoff (not the
    recency row, not the other cutoff)."""
    metrics = pd.DataFrame({
        "cutoff": [EARLY, LATE, LATE],
        "scorer": ["model", "recency", "model"],
        "brier": [0.5, 0.4, 0.123],
        "ece": [0.5, 0.4, 0.045],
    })
    model = SimpleNamespace(calibration_method_="sigmoid")
    latest = latest_scores(_result(models={LATE: model}, metrics=metrics))
    sentence = latest.calibration_sentence(metrics)
    assert "sigmoid scaling" in sentence
    assert "Brier score is 0.123" in sentence and "4.5% on average" in sentence


@pytest.mark.parametrize("with_bgnbd", [True, False])
def test_latest_scores_arrays_line_up(with_bgnbd: bool) -> None:
    """Every array of the latest cutoff has one entry per customer of that cutoff."""
    latest = latest_scores(_result(with_bgnbd))
    assert all(len(v) == len(latest.y) == 3 for v in [*latest.ranking.values(), *latest.probability.values()])
