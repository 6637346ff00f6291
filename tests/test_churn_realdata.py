"""Churn backtest on the UCI Online Retail data: the model against recency and BG/NBD P(no purchase) per cutoff."""

from __future__ import annotations

import pytest

from crm_models.churn import ChurnModel, backtest

CUTOFFS = ["2011-06-01", "2011-07-01", "2011-07-31", "2011-08-30"]  # every 30 days: snapshots are shared


@pytest.mark.realdata
def test_online_retail_backtest_beats_recency(shared_data):
    from crm_models.datasets import load_online_retail

    transactions = load_online_retail(shared_data / "online_retail.csv.gz")
    model = ChurnModel(n_estimators=150, learning_rate=0.1, early_stopping_rounds=20)
    result = backtest(transactions, CUTOFFS, horizon=90, model=model, n_train_snapshots=3)
    summary = result.summary()
    assert list(summary.index.strftime("%Y-%m-%d")) == CUTOFFS
    assert (summary["n_customers"] > 2_000).all()
    # the model beats "days since last purchase" on ROC AUC at every monthly cutoff
    assert (summary["roc_auc_model"] > summary["roc_auc_recency"]).all(), summary.to_string()
    assert (summary["roc_auc_model"] > 0.7).all(), summary.to_string()
    # and BG/NBD's probability of no purchase in the horizon, fitted on the whole base (issue 11, item 1)
    assert "roc_auc_bgnbd_p0" in summary and "roc_auc_bgnbd" not in summary
    # Measured (issue 11): with disjoint slices and the purge gap the model ties it (within 0.001 ROC AUC at
    # three of four cutoffs, +0.010 at the first). It must not lose by more than noise, and when it does not
    # win at every cutoff the result recommends the baseline (the notebook says so in its headline).
    assert (summary["roc_auc_model"] > summary["roc_auc_bgnbd_p0"] - 0.005).all(), summary.to_string()
    expected = "model" if result.beats_bgnbd() else "bgnbd_p0"
    assert result.recommended_score() == expected
    model_rows = result.metrics[result.metrics["scorer"] == "model"]
    assert (model_rows["brier"] < 0.25).all()
    assert (model_rows["validation"] == "time").all()
