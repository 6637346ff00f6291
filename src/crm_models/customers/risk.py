"""Churn risk for the customer table: the model for "today", trained once per run on closed label windows."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from crm_models.churn import ChurnModel, make_churn_dataset, make_training_set
from crm_models.customers.settings import CustomerTableSettings
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


def training_cutoffs(data_end: pd.Timestamp, settings: CustomerTableSettings) -> list[pd.Timestamp]:
    """Monthly snapshot dates whose label windows (``churn_horizon_days`` long) close by ``data_end``."""
    last = data_end - pd.Timedelta(days=settings.churn_horizon_days)
    return [last - pd.Timedelta(days=SNAPSHOT_SPACING_DAYS * k) for k in range(settings.n_training_cutoffs)][::-1]


def score_churn(transactions: pd.DataFrame, *, data_end: pd.Timestamp,
                settings: CustomerTableSettings) -> ChurnScores:
    """Train :class:`~crm_models.churn.ChurnModel` on snapshots with closed label windows and score everyone
    with a purchase in the ``lookback_days`` before ``data_end`` (the exclusive end of the observed period).

    Each customer's top reason comes from the model's exact tree SHAP contributions (``ChurnModel.explain``).
    """
    cutoffs = training_cutoffs(data_end, settings)
    empty = pd.Series(dtype=float, name="churn_probability")
    try:
        X, y, time = make_training_set(transactions, cutoffs, settings.churn_horizon_days, settings.lookback_days,
                                       data_end=data_end)
        model = ChurnModel(n_estimators=settings.n_estimators, random_state=settings.seed).fit(X, y, time=time)
    except DataContractError as error:
        return ChurnScores(empty, pd.DataFrame(), pd.DataFrame(), None, cutoffs,
                           note=f"no churn model: {str(error).splitlines()[0]}")
    now = make_churn_dataset(transactions, data_end, settings.churn_horizon_days, settings.lookback_days,
                             with_label=False, data_end=data_end)
    features = now.X[list(model.feature_names_in_)]
    probability = pd.Series(model.predict_proba(features)[:, 1], index=features.index, name="churn_probability")
    reasons = model.explain(features, top_n=3)
    return ChurnScores(probability, features, reasons, model, cutoffs)
