"""Churn risk for the customer table: the model for "today", trained once per run on closed label windows."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crm_models.churn import ChurnModel, make_churn_dataset, make_training_set
from crm_models.churn._input import to_epoch
from crm_models.churn.backtest import training_snapshots
from crm_models.customers.settings import CustomerTableSettings
from crm_models.data.timestamps import end_from_exclusive
from crm_models.exceptions import DataContractError

SNAPSHOT_SPACING_DAYS = 30


@dataclass
class ChurnScores:
    """Churn probabilities of the active customers, the features they came from, the model and a note.

    ``probability`` is empty (and ``model`` ``None``) when the data cannot train a model; ``note`` says why.
    """

    probability: pd.Series
    features: pd.DataFrame
    reasons: pd.DataFrame
    model: ChurnModel | None
    training_cutoffs: list[pd.Timestamp] = field(default_factory=list)
    note: str = ""


def churn_model(settings: CustomerTableSettings) -> ChurnModel:
    """The unfitted churn model of a run: the settings' trees and seed, and a purge gap of one churn horizon
    (training label windows end before the held-out snapshot's begins), exactly as in the churn report's
    backtest (:func:`crm_models.churn.backtest`), so the model for today is the one the backtest judged."""
    return ChurnModel(n_estimators=settings.n_estimators, random_state=settings.seed,
                      purge=settings.churn_horizon_days)


def last_observed_day(data_end: pd.Timestamp) -> pd.Timestamp:
    """The cutoff the churn functions take for the exclusive end ``data_end``: the last whole day before it
    (a date there means the whole day), or, for an end with a time of day, the last instant itself, so that
    purchases after that instant are not counted (the whole day would count them)."""
    return end_from_exclusive(data_end)


def training_cutoffs(last_day: pd.Timestamp, settings: CustomerTableSettings,
                     first_timestamp: pd.Timestamp | None = None) -> list[pd.Timestamp]:
    """Snapshot dates of the model for today, oldest first: the churn backtest's rule
    (:func:`crm_models.churn.backtest.training_snapshots`) at cutoff ``last_day``: ``n_training_cutoffs``
    monthly training snapshots one horizon before the held-out snapshot ``last_day - churn_horizon_days``,
    which is last. Snapshots within a day of ``first_timestamp`` (the first transaction) are left out."""
    first = to_epoch(first_timestamp) if first_timestamp is not None else -np.inf
    train, held_out = training_snapshots(last_day, float(settings.churn_horizon_days), first_epoch=first,
                                         n_snapshots=settings.n_training_cutoffs,
                                         step_days=SNAPSHOT_SPACING_DAYS)
    return [*sorted(train), held_out]


def score_churn(transactions: pd.DataFrame, *, data_end: pd.Timestamp,
                settings: CustomerTableSettings) -> ChurnScores:
    """Train :class:`~crm_models.churn.ChurnModel` on snapshots with closed label windows and score everyone
    with a purchase in the ``lookback_days`` before ``data_end`` (the exclusive end of the observed period).

    The set-up is the churn backtest's at a cutoff on the last observed day: snapshots from
    :func:`training_cutoffs`, the model from :func:`churn_model` (purge gap of one horizon), and that day as
    cutoff and ``data_end`` of the churn functions (a date there means the whole day).

    Each customer's top reason comes from the model's exact tree SHAP contributions (``ChurnModel.explain``).
    """
    last_day = last_observed_day(data_end)
    horizon, lookback = settings.churn_horizon_days, settings.lookback_days
    empty = pd.Series(dtype=float, name="churn_probability")
    cutoffs = training_cutoffs(last_day, settings, transactions["timestamp"].min() if len(transactions) else None)
    try:
        X, y, time = make_training_set(transactions, cutoffs, horizon, lookback, data_end=last_day)
        model = churn_model(settings).fit(X, y, time=time)
    except DataContractError as error:
        return ChurnScores(empty, pd.DataFrame(), pd.DataFrame(), None, cutoffs,
                           note=f"no churn model: {str(error).splitlines()[0]}")
    now = make_churn_dataset(transactions, last_day, horizon, lookback, with_label=False, data_end=last_day)
    features = now.X[list(model.feature_names_in_)]
    probability = pd.Series(model.predict_proba(features)[:, 1], index=features.index, name="churn_probability")
    reasons = model.explain(features, top_n=3)
    return ChurnScores(probability, features, reasons, model, cutoffs)
