"""Rolling-origin backtest of the churn model against the recency and BG/NBD baselines.

For each evaluation cutoff ``c`` the model is trained on snapshots whose label windows have closed by
``c`` (cutoffs ``c - horizon``, ``c - horizon - step``, ...; the latest one is the time-ordered validation
split), then scores the customers active at ``c``; their labels come from ``[c, c + horizon)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from crm_models.churn._input import from_epoch, prepare, to_days, to_epoch, to_ibis
from crm_models.churn.features import ChurnDataset, make_churn_dataset
from crm_models.churn.metrics import calibration_table, churn_scores
from crm_models.churn.model import ChurnModel
from crm_models.exceptions import DataContractError
from crm_models.units import SECONDS_PER_DAY

SCORERS = ("model", "recency", "bgnbd", "bgnbd_p0")


@dataclass
class BacktestResult:
    """Per-cutoff metrics (long format), calibration tables and the scored customers.

    Scorers: ``model`` (ranked by its margin), ``recency`` (days since the last purchase, as a rank),
    ``bgnbd`` (BG/NBD 1 - P(alive)) and ``bgnbd_p0`` (BG/NBD probability of no purchase in the horizon).
    """

    metrics: pd.DataFrame
    calibration: pd.DataFrame
    predictions: pd.DataFrame
    horizon_days: float
    models: dict[pd.Timestamp, ChurnModel] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def compare(self, metric: str = "roc_auc") -> pd.DataFrame:
        """One row per cutoff, one column per scorer, for ``metric``."""
        table = self.metrics.pivot(index="cutoff", columns="scorer", values=metric)
        return table.reindex(columns=[s for s in SCORERS if s in table.columns])

    def summary(self) -> pd.DataFrame:
        """ROC AUC and top-decile lift per cutoff for every scorer (wide), plus the model's margin."""
        auc = self.compare("roc_auc").add_prefix("roc_auc_")
        lift = self.compare("lift_top_decile").add_prefix("lift_")
        out = pd.concat([auc, lift], axis=1)
        out["auc_gain_vs_recency"] = out["roc_auc_model"] - out["roc_auc_recency"]
        if "roc_auc_bgnbd" in out:
            out["auc_gain_vs_bgnbd"] = out["roc_auc_model"] - out["roc_auc_bgnbd"]
        first = self.metrics.drop_duplicates("cutoff").set_index("cutoff")
        out.insert(0, "churn_rate", first["churn_rate"])
        out.insert(0, "n_customers", first["n_customers"])
        return out

    def beats_recency(self) -> bool:
        """True when the model's ROC AUC exceeds the recency baseline's at every cutoff."""
        s = self.summary()
        return bool((s["roc_auc_model"] > s["roc_auc_recency"]).all())


def backtest(
    transactions: Any,
    cutoffs: Any,
    horizon: Any = 90,
    *,
    lookback: Any = 365,
    model: ChurnModel | None = None,
    n_train_snapshots: int = 3,
    train_step: Any = 30,
    use_bgnbd: bool | str = "auto",
    top_fraction: float = 0.1,
    n_bins: int = 10,
    keep_models: bool = False,
    data_end: Any = None,
) -> BacktestResult:
    """Backtest over rolling origins: one trained model per evaluation cutoff.

    Parameters
    ----------
    transactions
        Canonical transactions (DataFrame, Parquet path or ibis table).
    cutoffs
        Evaluation cutoffs (date-likes). Each needs ``cutoff + horizon`` within the data.
    horizon, lookback
        Label window and activity look-back, in days.
    model
        An unfitted :class:`ChurnModel` used as a template (cloned per cutoff); default settings otherwise.
    n_train_snapshots, train_step
        Training snapshots per cutoff: ``c - horizon - k * train_step`` for ``k = 0..n-1`` (those after the
        first transaction). The latest is the validation split for early stopping and calibration.
    use_bgnbd
        As in :func:`make_churn_dataset`; the BG/NBD baseline is reported when it is available.
    top_fraction, n_bins
        Share targeted for lift and capture (0.1 = top decile); bins of the calibration table.
    keep_models
        Keep each cutoff's fitted model in ``result.models`` (for explanations and plots).
    data_end
        End of the observation period when later than the last transaction (see ``make_churn_dataset``).
    """
    horizon_days = to_days(horizon)
    step_days = to_days(train_step)
    table = to_ibis(transactions)  # converted once, shared by every snapshot
    source = prepare(table)
    template = model if model is not None else ChurnModel()
    cut_list = sorted(_naive_utc(c) for c in _as_list(cutoffs))
    if not cut_list:
        raise ValueError("backtest needs at least one cutoff")

    cache: dict[pd.Timestamp, ChurnDataset] = {}

    def dataset(c: pd.Timestamp) -> ChurnDataset:
        if c not in cache:
            cache[c] = make_churn_dataset(
                table, c, horizon_days, lookback, use_bgnbd=use_bgnbd, data_end=data_end
            )
        return cache[c]

    metric_rows: list[dict[str, Any]] = []
    calib: list[pd.DataFrame] = []
    preds: list[pd.DataFrame] = []
    models: dict[pd.Timestamp, ChurnModel] = {}
    notes: list[str] = []
    for c in cut_list:
        test = dataset(c)  # validates the cutoff and the horizon first
        train_cuts = []
        for k in range(int(n_train_snapshots)):
            tc = c - pd.Timedelta(days=horizon_days + k * step_days)
            if to_epoch(tc) > source.first_epoch + SECONDS_PER_DAY:
                train_cuts.append(tc)
        if not train_cuts:
            raise DataContractError(
                f"no training snapshot fits before cutoff {c}: the first label window would start before the "
                f"data ({from_epoch(source.first_epoch)})",
                column="timestamp",
                rule="cutoff - horizon > first transaction",
                examples=[str(c)],
            )
        train_sets = [dataset(tc) for tc in train_cuts]
        X_train = pd.concat([d.X for d in train_sets])
        y_train = pd.concat([d.y for d in train_sets])
        time = np.concatenate([np.full(len(d.X), d.cutoff.value) for d in train_sets])
        columns = [col for col in X_train.columns if col in test.X.columns]
        fitted = clone(template).fit(X_train[columns], y_train, time=time if len(train_sets) > 1 else None)
        if keep_models:
            models[c] = fitted
        # rank by the margin (isotonic calibration creates ties), judge probabilities by Brier/calibration
        margin = fitted.decision_function(test.X[columns])
        p_model = fitted.predict_proba(test.X[columns])[:, 1]
        y = test.y.to_numpy()
        scored = pd.DataFrame(
            {
                "cutoff": c,
                "customer_id": test.X.index,
                "churned": y,
                "model": p_model,
                "model_margin": margin,
                "recency": test.X["recency_days"].rank(pct=True).to_numpy(),
            }
        )
        scorers: dict[str, tuple[np.ndarray, np.ndarray | None]] = {
            "model": (margin, p_model),
            "recency": (scored["recency"].to_numpy(), None),
        }
        if "bg_p_alive" in test.X:
            p_bg = 1.0 - test.X["bg_p_alive"].to_numpy()
            scored["bgnbd"] = p_bg
            scorers["bgnbd"] = (p_bg, p_bg)
            if "bg_p_no_purchase" in test.X:
                p_none = test.X["bg_p_no_purchase"].to_numpy()
                scored["bgnbd_p0"] = p_none
                scorers["bgnbd_p0"] = (p_none, p_none)
        elif c == cut_list[0]:
            notes.append("BG/NBD baseline not reported: BG/NBD did not converge or is not identified here")
        for name, (score, proba) in scorers.items():
            row = {"cutoff": c, "scorer": name, "n_customers": len(y), "churn_rate": float(y.mean())}
            row.update(churn_scores(y, score, proba, fraction=top_fraction))
            if name == "model":
                row.update(
                    n_train=fitted.n_train_ + fitted.n_valid_,
                    n_train_snapshots=len(train_sets),
                    n_trees=fitted.n_trees_,
                    calibration=fitted.calibration_method_,
                    validation=fitted.validation_strategy_,
                )
            metric_rows.append(row)
            if proba is not None:
                table_c = calibration_table(y, proba, n_bins)
                table_c.insert(0, "scorer", name)
                table_c.insert(0, "cutoff", c)
                calib.append(table_c)
        preds.append(scored)
    return BacktestResult(
        metrics=pd.DataFrame(metric_rows),
        calibration=pd.concat(calib, ignore_index=True) if calib else pd.DataFrame(),
        predictions=pd.concat(preds, ignore_index=True),
        horizon_days=horizon_days,
        models=models,
        notes=notes,
    )


def _naive_utc(moment: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp if stamp.tzinfo is None else stamp.tz_convert("UTC").tz_localize(None)


def _as_list(cutoffs: Any) -> list[Any]:
    if isinstance(cutoffs, str | pd.Timestamp) or not hasattr(cutoffs, "__iter__"):
        return [cutoffs]
    return list(cutoffs)
