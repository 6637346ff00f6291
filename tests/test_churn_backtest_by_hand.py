"""The pure parts of the churn backtest by hand: training snapshot dates at their edges, the purge and
cutoff arguments, and the comparisons of a result's metric table (issue 21: mutants of churn/backtest)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from crm_models.churn.backtest import BacktestResult, _as_list, _days_or_zero, training_snapshots


def _epoch(text: str) -> float:
    return pd.Timestamp(text).timestamp()


def test_training_snapshots_by_hand():
    """Held out = cutoff - horizon; training = held out - max(purge, step) - k step, newest first. Guards
    the sign of ``k * step``, ``max`` -> ``min`` and the default purge of one horizon."""
    cutoff = pd.Timestamp("2024-06-30")
    train, held_out = training_snapshots(cutoff, 90, first_epoch=_epoch("2020-01-01"))
    assert held_out == pd.Timestamp("2024-04-01")
    assert train == [pd.Timestamp("2024-01-02"), pd.Timestamp("2023-12-03"), pd.Timestamp("2023-11-03")]
    # a purge shorter than the step changes nothing; a longer one moves every snapshot
    short, _ = training_snapshots(cutoff, 90, first_epoch=_epoch("2020-01-01"), purge_days=10, n_snapshots=2)
    assert short == [pd.Timestamp("2024-03-02"), pd.Timestamp("2024-02-01")]
    none, _ = training_snapshots(cutoff, 90, first_epoch=_epoch("2020-01-01"), purge_days=0, n_snapshots=1)
    assert none == [pd.Timestamp("2024-03-02")]
    weekly, _ = training_snapshots(cutoff, 90, first_epoch=_epoch("2020-01-01"), purge_days=100, step_days=7,
                                   n_snapshots=3)
    assert weekly == [pd.Timestamp("2023-12-23"), pd.Timestamp("2023-12-16"), pd.Timestamp("2023-12-09")]
    assert training_snapshots(cutoff, 90, first_epoch=_epoch("2020-01-01"), n_snapshots=0)[0] == []


def test_training_snapshots_keep_those_more_than_a_day_after_the_first_transaction():
    """A snapshot exactly one day after the first transaction is dropped (``>`` -> ``>=``), one a second
    later is kept; the one-day margin is a day, not zero."""
    cutoff = pd.Timestamp("2024-06-30")
    at_edge, _ = training_snapshots(cutoff, 90, first_epoch=_epoch("2023-12-02"))
    assert at_edge == [pd.Timestamp("2024-01-02")]  # Dec 3 is exactly first + 1 day
    inside, _ = training_snapshots(cutoff, 90, first_epoch=_epoch("2023-12-01 23:59:59"))
    assert inside == [pd.Timestamp("2024-01-02"), pd.Timestamp("2023-12-03")]
    # Jan 2 is 12 hours after first + 1 day: kept; with no margin Dec 3 would be kept too
    half, _ = training_snapshots(cutoff, 90, first_epoch=_epoch("2023-12-31 12:00"))
    assert half == [pd.Timestamp("2024-01-02")]


@pytest.mark.parametrize("value, days", [(None, 0.0), (0, 0.0), (0.0, 0.0), (7, 7.0), ("5D", 5.0),
                                         (pd.Timedelta(hours=36), 1.5)])
def test_purge_in_days(value, days):
    assert _days_or_zero(value) == days


def test_a_negative_purge_is_refused():
    with pytest.raises(ValueError, match="positive"):
        _days_or_zero(-3)


def test_cutoffs_as_a_list():
    """One date-like (a string, a Timestamp, a date) is a list of one; iterables are listed."""
    assert _as_list("2024-01-01") == ["2024-01-01"]
    stamp = pd.Timestamp("2024-01-01")
    assert _as_list(stamp) == [stamp]
    day = dt.date(2024, 1, 1)
    assert _as_list(day) == [day]
    assert _as_list(("2024-01-01", "2024-02-01")) == ["2024-01-01", "2024-02-01"]
    assert _as_list(np.array([1, 2])) == [1, 2]


def _result(auc: dict[str, list[float]]) -> BacktestResult:
    cutoffs = [pd.Timestamp("2024-01-31"), pd.Timestamp("2024-02-29")]
    rows = []
    for scorer, values in auc.items():
        for cutoff, value, n, rate in zip(cutoffs, values, [100, 120], [0.3, 0.25], strict=True):
            rows.append({"cutoff": cutoff, "scorer": scorer, "n_customers": n, "churn_rate": rate,
                         "roc_auc": value, "lift_top_decile": 2 * value})
    return BacktestResult(metrics=pd.DataFrame(rows), calibration=pd.DataFrame(), predictions=pd.DataFrame(),
                          horizon_days=30.0)


def test_compare_and_summary_by_hand():
    """Headline scorers in their fixed order (BG/NBD 1 - P(alive) only with ``all_scorers``); the summary's
    AUC gains are model minus baseline, with the snapshot size and churn rate in front."""
    result = _result({"bgnbd": [0.3, 0.35], "recency": [0.7, 0.72], "model": [0.8, 0.7],
                      "bgnbd_p0": [0.75, 0.74]})
    assert result.compare().columns.tolist() == ["model", "recency", "bgnbd_p0"]
    assert result.compare(all_scorers=True).columns.tolist() == ["model", "recency", "bgnbd_p0", "bgnbd"]
    np.testing.assert_allclose(result.compare("lift_top_decile")["model"], [1.6, 1.4])
    summary = result.summary()
    assert summary.columns[:2].tolist() == ["n_customers", "churn_rate"]
    assert summary["n_customers"].tolist() == [100, 120] and summary["churn_rate"].tolist() == [0.3, 0.25]
    np.testing.assert_allclose(summary["auc_gain_vs_recency"], [0.1, -0.02])
    np.testing.assert_allclose(summary["auc_gain_vs_bgnbd"], [0.05, -0.04])
    np.testing.assert_allclose(summary["lift_recency"], [1.4, 1.44])
    assert not result.beats_recency() and result.beats_bgnbd() is False
    # the model loses at the second cutoff: rank by the baseline with the best mean AUC (0.745 > 0.71)
    assert result.recommended_score() == "bgnbd_p0"


def test_a_tie_is_not_a_win_and_without_bgnbd_there_is_no_bgnbd_verdict():
    tie = _result({"model": [0.8, 0.72], "recency": [0.7, 0.72]})
    assert not tie.beats_recency() and tie.beats_bgnbd() is None
    assert "auc_gain_vs_bgnbd" not in tie.summary()
    assert tie.recommended_score() == "recency"
    win = _result({"model": [0.8, 0.73], "recency": [0.7, 0.72], "bgnbd_p0": [0.6, 0.6]})
    assert win.beats_recency() and win.beats_bgnbd() is True and win.recommended_score() == "model"
    alone = _result({"model": [0.6, 0.6]})
    assert alone.recommended_score() == "model"
