"""Which rows each step of ChurnModel.fit sees: train / early stopping / calibration are disjoint, the
held-out snapshot is purged from overlapping training label windows, and the backtest follows the same rule
(issue 11, item 5)."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

import crm_models.churn.model as churn_model
from crm_models.churn import ChurnModel, backtest, make_training_set
from crm_models.churn._synthetic import rhythm_transactions as synthetic_transactions
from crm_models.exceptions import DataContractError

FAST = {"n_estimators": 40, "learning_rate": 0.2, "early_stopping_rounds": 10}


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return synthetic_transactions(seed=11, n_customers=1_500)


@pytest.fixture(scope="module")
def snapshots(frame):
    cutoffs = ["2023-01-01", "2023-01-31", "2023-03-02", "2023-04-01"]  # 30 days apart
    return make_training_set(frame, cutoffs, 60, use_bgnbd=False)


@pytest.fixture
def recorder(monkeypatch):
    """Record the rows xgboost trains and stops on, and the rows every calibrator is fitted on."""
    import xgboost as xgb

    seen: dict[str, list[int]] = {"train": [], "stop": [], "calibrator": []}
    real_train, real_fit = xgb.train, churn_model._fit_calibrator

    def train(params, dtrain, *args, evals=(), **kwargs):
        seen["train"].append(dtrain.num_row())
        seen["stop"].extend(d.num_row() for d, _ in evals)
        return real_train(params, dtrain, *args, evals=evals, **kwargs)

    def fit_calibrator(name, margin, y):
        seen["calibrator"].append(len(margin))
        return real_fit(name, margin, y)

    monkeypatch.setattr(xgb, "train", train)
    monkeypatch.setattr(churn_model, "_fit_calibrator", fit_calibrator)
    return seen


def _positions(model: ChurnModel) -> tuple[set[int], set[int], set[int]]:
    return set(model.train_rows_), set(model.early_stopping_rows_), set(model.calibration_rows_)


def test_random_split_uses_every_row_for_one_step_only(snapshots, recorder):
    X, y, _ = snapshots
    model = ChurnModel(**FAST, validation_fraction=0.3, calibration_fraction=0.5).fit(X, y)
    train, stop, calib = _positions(model)
    assert not (train & stop) and not (train & calib) and not (stop & calib)
    assert train | stop | calib == set(range(len(X)))
    assert len(stop) + len(calib) == pytest.approx(0.3 * len(X), abs=2)
    assert len(calib) == pytest.approx(len(stop), abs=2)
    # xgboost trained on the training slice and stopped on the early-stopping slice only ...
    assert recorder["train"] == [len(train)] and recorder["stop"] == [len(stop)]
    # ... and every calibrator (the cross-fitted ones that choose the method, and the final one) saw only
    # calibration rows; the last one all of them
    assert recorder["calibrator"][-1] == len(calib)
    assert max(recorder["calibrator"]) == len(calib)
    assert 0.0 <= model.calibration_error_ < 0.2


def test_time_split_holds_out_the_latest_snapshot_and_purges_overlapping_ones(snapshots, recorder):
    X, y, time = snapshots
    model = ChurnModel(**FAST, purge=60).fit(X, y, time=time)
    train, stop, calib = _positions(model)
    times = pd.to_datetime(time.to_numpy())
    latest = times.max()
    assert model.validation_strategy_ == "time"
    assert set(times[sorted(stop | calib)]) == {latest}
    assert stop | calib == set(np.flatnonzero(times == latest)) and not (stop & calib)
    # training rows' label windows [t, t + 60 days) end by the held-out snapshot's cutoff
    assert (times[sorted(train)] <= latest - pd.Timedelta(days=60)).all()
    assert set(times[sorted(train)]) == {pd.Timestamp("2023-01-01"), pd.Timestamp("2023-01-31")}
    assert model.n_purged_ == int((times == pd.Timestamp("2023-03-02")).sum())
    assert recorder["train"] == [len(train)] and recorder["stop"] == [len(stop)]
    assert recorder["calibrator"][-1] == len(calib) == max(recorder["calibrator"])


def test_purge_with_no_older_snapshot_raises(snapshots):
    X, y, time = snapshots
    with pytest.raises(DataContractError, match="purge"):
        ChurnModel(**FAST, purge=365).fit(X, y, time=time)


class _Recording(ChurnModel):
    """A ChurnModel that remembers the snapshot times of the rows each fit used."""

    calls: ClassVar[list[dict[str, set[pd.Timestamp]]]] = []

    def fit(self, X, y, time=None):
        super().fit(X, y, time=time)
        times = pd.to_datetime(np.asarray(time))
        _Recording.calls.append({
            "train": set(times[self.train_rows_]),
            "held_out": set(times[np.r_[self.early_stopping_rows_, self.calibration_rows_]]),
        })
        return self


def test_backtest_purges_one_horizon_between_training_and_held_out_snapshots(frame):
    _Recording.calls = []
    cutoffs = ["2023-07-01", "2023-08-01"]
    result = backtest(frame, cutoffs, 60, model=_Recording(**FAST), use_bgnbd=False, n_train_snapshots=2,
                      train_step=30)
    assert len(_Recording.calls) == 2
    for cutoff, call in zip(cutoffs, _Recording.calls, strict=True):
        held_out = pd.Timestamp(cutoff) - pd.Timedelta(days=60)
        assert call["held_out"] == {held_out}  # its label window ends with the evaluation cutoff's day
        assert call["train"] == {held_out - pd.Timedelta(days=60), held_out - pd.Timedelta(days=90)}
    rows = result.metrics[result.metrics["scorer"] == "model"]
    assert (rows["n_train_snapshots"] == 2).all()
    assert rows["calibration_error"].notna().all() and rows["ece"].notna().all()
