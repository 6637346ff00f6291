"""The churn report's facts: what the backtest and the scored customers say, as numbers and plain sentences.

Pure functions of a :class:`~crm_models.churn.BacktestResult` and of the scored customers (the run's customer
table): no printing, plotting or logging. Sentences that name a method or a baseline take the name from the
fitted objects (``SCORER_LABELS`` for the baselines a result holds, ``calibration_method_`` of the fitted model);
money is formatted by a callable the caller passes (the report's currency formatter), so this module does not
depend on the presentation layer.

Lift is the churn rate among the top ``fraction`` of customers by score divided by the overall churn rate; ROC
AUC is the probability that a random churner is ranked above a random non-churner (Hanley & McNeil 1982,
*Radiology* 143(1), eq. 1 read as a probability).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crm_models.churn.backtest import HEADLINE_SCORERS, SCORER_LABELS, BacktestResult

__all__ = ["REPORT_LABELS", "BacktestFacts", "LatestScores", "RiskFacts", "backtest_cutoffs", "backtest_facts",
           "backtest_metrics", "champion_metrics", "latest_scores", "risk_facts"]

#: Short names of the scorers for chart legends (the long ones are :data:`SCORER_LABELS`).
SHORT_LABELS = {"model": "model", "recency": "recency", "bgnbd_p0": "BG/NBD P(no purchase)", "bgnbd": "BG/NBD"}

#: Reader's names of the columns of ``BacktestResult.summary()`` and ``action_table`` and of the champion
#: metrics (for stakeholder tables).
REPORT_LABELS = {
    "cutoff": "Cutoff",
    "n_customers": "Customers scored",
    "churn_rate": "Share who churned",
    "roc_auc_model": "Ranking quality (ROC AUC): model",
    "roc_auc_recency": "Ranking quality (ROC AUC): days since last purchase",
    "roc_auc_bgnbd_p0": "Ranking quality (ROC AUC): BG/NBD",
    "lift_model": "Churn in the riskiest 10%, x average: model",
    "lift_recency": "Churn in the riskiest 10%, x average: days since last purchase",
    "lift_bgnbd_p0": "Churn in the riskiest 10%, x average: BG/NBD",
    "auc_gain_vs_recency": "Model's ROC AUC minus recency's",
    "auc_gain_vs_bgnbd": "Model's ROC AUC minus BG/NBD's",
    "mean_churn_probability": "Chance of no purchase (average)",
    "total_value": "Customer value (CLV), total",
    "share_of_value_at_risk": "Share of value at risk",
    "backtest_roc_auc": "Ranking quality (ROC AUC), backtest mean",
    "backtest_pr_auc": "Precision among the riskiest (PR AUC), backtest mean",
    "backtest_brier": "Probability error (Brier score, 0 is perfect), backtest mean",
    "backtest_lift_top_decile": "Churn in the riskiest 10%, x average, backtest mean",
}


def backtest_cutoffs(last_day: pd.Timestamp, horizon_days: float, n_cutoffs: int, *, last: object = None,
                     step_days: float = 30) -> list[pd.Timestamp]:
    """``n_cutoffs`` monthly evaluation cutoffs, oldest first, ending at ``last`` (default: the latest cutoff
    whose label window closes by ``last_day``, i.e. ``last_day - horizon_days``)."""
    if int(n_cutoffs) < 1:
        raise ValueError(f"n_cutoffs must be at least 1, got {n_cutoffs!r}")
    end = pd.Timestamp(last) if last is not None else pd.Timestamp(last_day) - pd.Timedelta(days=horizon_days)
    return [end - pd.Timedelta(days=step_days * k) for k in range(int(n_cutoffs))][::-1]


@dataclass(frozen=True)
class BacktestFacts:
    """Means over the backtest cutoffs of ROC AUC and top-decile lift per headline scorer, and the verdict.

    ``auc`` and ``lift`` are indexed by scorer (``model``, ``recency``, ``bgnbd_p0`` when BG/NBD fitted);
    ``wins_vs_recency`` counts the cutoffs where the model's ROC AUC beats recency's; ``recommended`` is
    :meth:`BacktestResult.recommended_score`; ``not_beaten`` the labels of the baselines the model does not
    beat at every cutoff; ``churn_rate`` the mean observed churn rate.
    """

    n_cutoffs: int
    auc: pd.Series
    lift: pd.Series
    wins_vs_recency: int
    recommended: str
    not_beaten: tuple[str, ...]
    churn_rate: float

    def ranking_sentence(self) -> str:
        """How far the ranking can be trusted, in words, with the ROC AUCs explained."""
        baselines = [s for s in ("recency", "bgnbd_p0") if s in self.auc]
        others = "; ".join(f"{SCORER_LABELS[s]} {self.auc[s]:.2f}" for s in baselines)
        text = (f"In a backtest over {self.n_cutoffs} monthly cutoffs, the 10% of customers the model flagged as "
                f"riskiest churned **{self.lift['model']:.1f} times as often as average** (ranking by "
                f"{SCORER_LABELS['recency']}: {self.lift['recency']:.1f} times). It ranks a churner above a "
                f"customer who stays {self.auc['model']:.0%} of the time (ROC AUC of {self.auc['model']:.2f}, "
                f"where 0.5 is chance; {others})")
        return text + f", better than recency at {self.wins_vs_recency} of {self.n_cutoffs} cutoffs."

    def advice(self) -> str:
        """Empty when the model beats every baseline at every cutoff, else which score to rank by instead."""
        if self.recommended == "model":
            return ""
        return (f"**The model does not beat {' or '.join(self.not_beaten)} at every cutoff**: rank customers by "
                f"*{SCORER_LABELS[self.recommended]}* instead (the model's reasons below still explain the risk).")


def backtest_facts(result: BacktestResult) -> BacktestFacts:
    """The headline facts of a backtest (see :class:`BacktestFacts`)."""
    auc = result.compare("roc_auc")
    lift = result.compare("lift_top_decile")
    not_beaten = tuple(SCORER_LABELS[s] for s in HEADLINE_SCORERS[1:]
                       if s in auc and not bool((auc["model"] > auc[s]).all()))
    rates = result.metrics.drop_duplicates("cutoff")["churn_rate"]
    return BacktestFacts(n_cutoffs=len(auc), auc=auc.mean(), lift=lift.mean(),
                         wins_vs_recency=int((auc["model"] > auc["recency"]).sum()),
                         recommended=result.recommended_score(), not_beaten=not_beaten,
                         churn_rate=float(rates.mean()))


@dataclass(frozen=True)
class LatestScores:
    """The customers of the latest backtest cutoff: observed churn ``y``, ranking scores and probabilities per
    scorer (keyed by :data:`SHORT_LABELS`), the cutoff, and the model fitted for it (``None`` unless the backtest
    kept its models)."""

    cutoff: pd.Timestamp
    y: np.ndarray
    ranking: dict[str, np.ndarray]
    probability: dict[str, np.ndarray]
    model: Any

    def calibration_sentence(self, metrics: pd.DataFrame) -> str:
        """The calibration method (from the fitted model) and its Brier score and gap on these customers."""
        row = metrics[(metrics["cutoff"] == self.cutoff) & (metrics["scorer"] == "model")].iloc[0]
        return (f"Calibration: {self.model.calibration_method_} scaling, chosen and fitted on a calibration slice "
                "that neither trained the trees nor stopped them. On this cutoff's customers (never seen by the "
                f"calibrator) the Brier score is {row['brier']:.3f} (0 is perfect) and predicted and observed churn "
                f"differ by {row['ece']:.1%} on average.")


def latest_scores(result: BacktestResult) -> LatestScores:
    """Scores of the latest cutoff's customers (the model ranks by its margin: calibration creates ties)."""
    cutoff = max(result.models) if result.models else result.predictions["cutoff"].max()
    latest = result.predictions[result.predictions["cutoff"] == cutoff]
    ranking = {SHORT_LABELS["model"]: latest["model_margin"].to_numpy(),
               SHORT_LABELS["recency"]: latest["recency"].to_numpy()}
    probability = {SHORT_LABELS["model"]: latest["model"].to_numpy()}
    if "bgnbd_p0" in latest:
        ranking[SHORT_LABELS["bgnbd_p0"]] = probability[SHORT_LABELS["bgnbd_p0"]] = latest["bgnbd_p0"].to_numpy()
    return LatestScores(pd.Timestamp(cutoff), latest["churned"].to_numpy(), ranking, probability,
                        result.models.get(cutoff))


@dataclass(frozen=True)
class RiskFacts:
    """Today's risk of the scored customers: how many, how many are expected to churn, the high tier (the
    contact capacity), its value at risk and most common reason, and the value at risk of everyone scored."""

    n_scored: int
    expected_churners: float
    n_high: int
    high_value_at_risk: float
    total_value_at_risk: float
    high_top_reason: str

    @property
    def expected_share(self) -> float:
        """Expected share of the scored customers who do not buy in the horizon (mean churn probability)."""
        return self.expected_churners / self.n_scored if self.n_scored else float("nan")

    def sentence(self, *, description: str, as_of: pd.Timestamp, horizon_days: float,
                 money: Callable[[float], str]) -> str:
        """Today's risk in words; ``money`` formats an amount in the report's currency."""
        reason = f" Their most common reason: *{self.high_top_reason}*." if self.high_top_reason else ""
        return (f"**{self.n_scored:,} active customers** of {description} were scored on {as_of:%d %B %Y}: about "
                f"**{self.expected_churners:,.0f} of them ({self.expected_share:.0%}) are expected not to buy in the "
                f"next {horizon_days:g} days**. The **{self.n_high:,} customers at highest risk** (the team's contact "
                f"capacity) hold **{money(self.high_value_at_risk)} of value at risk** (churn probability x customer "
                f"value, as in the CLV report; {money(self.total_value_at_risk)} across all active customers).{reason}")


def risk_facts(customers: pd.DataFrame) -> RiskFacts:
    """:class:`RiskFacts` of the scored rows of a customer table (``churn_probability``, ``risk_tier``,
    ``value_at_risk`` and ``top_reason`` columns; rows without a churn probability are left out)."""
    scored = customers[customers["churn_probability"].notna()]
    high = scored[scored["risk_tier"] == "high"]
    reasons = high["top_reason"].dropna()
    return RiskFacts(n_scored=len(scored), expected_churners=float(scored["churn_probability"].sum()),
                     n_high=len(high), high_value_at_risk=float(high["value_at_risk"].sum()),
                     total_value_at_risk=float(scored["value_at_risk"].sum()),
                     high_top_reason=str(reasons.mode().iloc[0]) if len(reasons) else "")


def backtest_metrics(result: BacktestResult,
                     names: tuple[str, ...] = ("roc_auc", "pr_auc", "brier", "lift_top_decile", "capture_top_decile"),
                     ) -> dict[str, float]:
    """Every scorer's metrics at every cutoff as flat names (``model_roc_auc_20240601``), plus the means of ROC
    AUC per headline scorer (``mean_roc_auc_model``), for experiment tracking."""
    out: dict[str, float] = {}
    for row in result.metrics.itertuples(index=False):
        for name in names:
            out[f"{row.scorer}_{name}_{pd.Timestamp(row.cutoff):%Y%m%d}"] = float(getattr(row, name))
    out.update({f"mean_roc_auc_{k}": float(v) for k, v in result.compare("roc_auc").mean().items()})
    return out


def champion_metrics(result: BacktestResult) -> dict[str, float]:
    """The model's backtest means that decide against the registered champion: ``backtest_roc_auc`` (primary),
    ``backtest_pr_auc``, ``backtest_brier`` (lower is better) and ``backtest_lift_top_decile``."""
    model = result.metrics[result.metrics["scorer"] == "model"]
    return {f"backtest_{name}": float(model[name].mean()) for name in ("roc_auc", "pr_auc", "brier", "lift_top_decile")}
