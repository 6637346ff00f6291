"""The checks behind a CLV report: the purchase model refitted on a calibration period and scored on the holdout,
and the interval of the total value from parameter uncertainty (or the reason there is none).

The holdout check follows Fader, Hardie & Lee (2005, "Counting your customers the easy way", section 5): fit on
the calibration period, compare expected with actual repeat purchases in the holdout by calibration frequency and
week by week. It validates the *procedure*; the values a report shows come from the fit on all data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crm_models.clv.validation import clv_interval, holdout_comparison, ranking_metrics, tracking_comparison
from crm_models.exceptions import ConvergenceError
from crm_models.summary import customer_summary

#: Rule of thumb of this project (not from a paper) for calling a fit trustworthy on its holdout: total repeat
#: purchases within 15% and an AUC of at least 0.65 for ranking who buys again.
MAX_RELATIVE_ERROR = 0.15
MIN_AUC = 0.65


@dataclass
class HoldoutCheck:
    """A purchase model fitted up to ``calibration_end`` and scored on the holdout up to the observation end.

    ``summary``: the calibration summary with holdout columns; ``duration``: the holdout length in the time unit;
    ``comparison``: :func:`holdout_comparison` (row ``"all"`` holds the means per customer); ``tracking``:
    :func:`tracking_comparison` by week; ``predicted``: expected holdout purchases per customer; ``ranking``:
    :func:`ranking_metrics` of ``predicted`` against the actual holdout purchases.
    """

    calibration_end: pd.Timestamp
    model: Any
    summary: pd.DataFrame
    duration: float
    comparison: pd.DataFrame
    tracking: pd.DataFrame
    predicted: pd.Series
    ranking: pd.Series

    #: The entries of :meth:`errors` where lower is better (the AUC is the exception).
    lower_is_better: tuple[str, ...] = ("holdout_mae", "holdout_rmse", "holdout_abs_relative_error")

    @property
    def expected_total(self) -> float:
        """Expected repeat purchases of all customers in the holdout."""
        return float(self.comparison.loc["all", "expected"] * len(self.summary))

    @property
    def actual_total(self) -> float:
        """Actual repeat purchases of all customers in the holdout."""
        return float(self.comparison.loc["all", "actual"] * len(self.summary))

    @property
    def relative_error(self) -> float:
        """(expected - actual) / actual of the holdout's repeat purchases; NaN when nobody bought again."""
        actual = self.actual_total
        return (self.expected_total - actual) / actual if actual else float("nan")

    def errors(self) -> dict[str, float]:
        """Per-customer errors on the holdout (for comparing runs): mean absolute error, root mean squared error,
        absolute relative error of the total and the ranking AUC."""
        diff = self.predicted.to_numpy(dtype=float) - self.summary["frequency_holdout"].to_numpy(dtype=float)
        return {"holdout_mae": float(np.mean(np.abs(diff))), "holdout_rmse": float(np.sqrt(np.mean(diff ** 2))),
                "holdout_abs_relative_error": float(abs(self.relative_error)),
                "holdout_auc": float(self.ranking["auc"])}

    def trustworthy(self, max_relative_error: float = MAX_RELATIVE_ERROR, min_auc: float = MIN_AUC) -> bool:
        """Whether the fit met both thresholds (see :data:`MAX_RELATIVE_ERROR`, :data:`MIN_AUC`)."""
        return bool(abs(self.relative_error) <= max_relative_error and self.ranking["auc"] >= min_auc)

    @property
    def verdict(self) -> str:
        """How far to trust the values, in words (Markdown), from :meth:`trustworthy`."""
        if self.trustworthy():
            return "The model is trustworthy on this data"
        return "**Treat these values with caution**: the model missed the holdout"


def holdout_check(transactions: Any, model: Any, *, observation_end: Any, calibration_end: Any = None,
                  holdout_weeks: float = 26, time_unit: str = "W") -> HoldoutCheck:
    """Fit ``model`` (an unfitted purchase model, e.g. ``BetaGeoModel()``) on the purchases up to
    ``calibration_end`` (default: ``holdout_weeks`` before ``observation_end``) and compare its predictions with
    the holdout up to ``observation_end`` (dates mean whole days). ``transactions`` are purchases (positive
    amounts)."""
    if calibration_end is None:
        calibration_end = pd.Timestamp(observation_end) - pd.Timedelta(weeks=holdout_weeks)
    summary = customer_summary(transactions, observation_end=observation_end, calibration_end=calibration_end,
                               time_unit=time_unit)
    fitted = model.fit_from_summary(summary)
    duration = float(summary["duration_holdout"].iloc[0])
    comparison = holdout_comparison(fitted, summary["frequency"], summary["recency"], summary["T"],
                                    summary["frequency_holdout"], duration)
    tracking = tracking_comparison(fitted, transactions, calibration_end=calibration_end,
                                   observation_end=observation_end, time_unit=time_unit)
    predicted = pd.Series(np.asarray(fitted.expected_purchases(duration, summary["frequency"], summary["recency"],
                                                               summary["T"]), dtype=float), index=summary.index)
    ranking = ranking_metrics(predicted, summary["frequency_holdout"])
    return HoldoutCheck(pd.Timestamp(calibration_end), fitted, summary, duration, comparison, tracking, predicted,
                        ranking)


def total_interval(purchase_model: Any, spend_model: Any, summary: pd.DataFrame, *, n_draws: int = 100,
                   seed: int | None = None, **value_kwargs: Any) -> tuple[pd.Series | None, str]:
    """The total CLV's interval from parameter uncertainty (:func:`clv_interval`), or ``None`` and the reason
    in words when a parameter sits at its boundary (no covariance to sample from)."""
    try:
        _, total = clv_interval(purchase_model, spend_model, summary["frequency"], summary["recency"], summary["T"],
                                summary["monetary_value"], n_draws=n_draws, seed=seed, **value_kwargs)
    except ConvergenceError as error:
        return None, str(error).split(".")[0]
    return total, ""
