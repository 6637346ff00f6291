"""The churn report's facts and sentences, checked by hand on small made-up backtests and customer tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.churn import BacktestResult
from crm_models.churn.report import (
    backtest_cutoffs,
    backtest_facts,
    backtest_metrics,
    champion_metrics,
    risk_facts,
)

CUTS = [pd.Timestamp("2024-05-01"), pd.Timestamp("2024-06-01")]


def _result(auc: dict[str, list[float]]) -> BacktestResult:
    rows = []
    for scorer, values in auc.items():
        for c, v in zip(CUTS, values, strict=True):
            rows.append({"cutoff": c, "scorer": scorer, "n_customers": 100, "churn_rate": 0.3 if c == CUTS[0] else 0.5,
                         "roc_auc": v, "pr_auc": v - 0.1, "brier": 1 - v, "lift_top_decile": 10 * v,
                         "capture_top_decile": v / 2})
    return BacktestResult(metrics=pd.DataFrame(rows), calibration=pd.DataFrame(), predictions=pd.DataFrame(),
                          horizon_days=90)


def test_backtest_cutoffs_by_hand() -> None:
    cuts = backtest_cutoffs(pd.Timestamp("2024-12-31"), 90, 3)
    assert [f"{c:%Y-%m-%d}" for c in cuts] == ["2024-08-03", "2024-09-02", "2024-10-02"]
    cuts = backtest_cutoffs(pd.Timestamp("2024-12-31"), 90, 2, last="2024-06-01")
    assert [f"{c:%Y-%m-%d}" for c in cuts] == ["2024-05-02", "2024-06-01"]
    with pytest.raises(ValueError, match="n_cutoffs"):
        backtest_cutoffs(pd.Timestamp("2024-12-31"), 90, 0)


def test_a_model_that_loses_once_to_recency_is_not_recommended() -> None:
    facts = backtest_facts(_result({"model": [0.8, 0.7], "recency": [0.75, 0.72], "bgnbd_p0": [0.6, 0.65]}))
    assert facts.n_cutoffs == 2 and facts.wins_vs_recency == 1
    assert facts.auc["model"] == pytest.approx(0.75) and facts.lift["recency"] == pytest.approx(7.35)
    assert facts.churn_rate == pytest.approx(0.4)
    assert facts.recommended == "recency"
    assert facts.not_beaten == ("days since last purchase",)
    assert "rank customers by *days since last purchase*" in facts.advice()
    sentence = facts.ranking_sentence()
    assert "7.5 times as often as average" in sentence and "ROC AUC of 0.75" in sentence
    assert "75% of the time" in sentence and "at 1 of 2 cutoffs" in sentence


def test_a_model_that_wins_everywhere_needs_no_advice() -> None:
    facts = backtest_facts(_result({"model": [0.8, 0.8], "recency": [0.7, 0.7], "bgnbd_p0": [0.6, 0.79]}))
    assert facts.recommended == "model" and facts.not_beaten == () and facts.advice() == ""
    assert facts.wins_vs_recency == 2


def test_tracking_metrics_are_flat_and_the_champion_means_are_the_models() -> None:
    result = _result({"model": [0.8, 0.7], "recency": [0.75, 0.72]})
    metrics = backtest_metrics(result)
    assert metrics["model_roc_auc_20240501"] == pytest.approx(0.8)
    assert metrics["recency_brier_20240601"] == pytest.approx(0.28)
    assert metrics["mean_roc_auc_model"] == pytest.approx(0.75)
    assert champion_metrics(result) == pytest.approx({"backtest_roc_auc": 0.75, "backtest_pr_auc": 0.65,
                                                      "backtest_brier": 0.25, "backtest_lift_top_decile": 7.5})


def test_risk_facts_of_a_small_table_by_hand() -> None:
    table = pd.DataFrame({
        "churn_probability": [0.9, 0.8, 0.4, 0.1, np.nan],
        "risk_tier": ["high", "high", "medium", "low", "lapsed"],
        "value_at_risk": [90.0, 8.0, 40.0, 1.0, np.nan],
        "top_reason": ["long gap", "long gap", "few orders", "few orders", "nan"],
    }, index=pd.Index(["a", "b", "c", "d", "e"], name="customer_id"))
    facts = risk_facts(table)
    assert (facts.n_scored, facts.n_high) == (4, 2)
    assert facts.expected_churners == pytest.approx(2.2) and facts.expected_share == pytest.approx(0.55)
    assert facts.high_value_at_risk == pytest.approx(98.0) and facts.total_value_at_risk == pytest.approx(139.0)
    assert facts.high_top_reason == "long gap"
    text = facts.sentence(description="the shop", as_of=pd.Timestamp("2024-12-31"), horizon_days=90,
                          money=lambda v: f"EUR {v:,.0f}")
    assert "**4 active customers** of the shop were scored on 31 December 2024" in text
    assert "about **2 of them (55%)" in text and "next 90 days" in text
    assert "**EUR 98 of value at risk**" in text and "EUR 139 across all active customers" in text
    assert "*long gap*" in text
