"""Churn plots draw without error and return matplotlib objects (no model fit needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")

from crm_models.churn import BacktestResult, churn_decisions
from crm_models.plotting import churn as plots


@pytest.fixture
def data(rng):
    n = 400
    y = rng.integers(0, 2, n)
    p = np.clip(0.3 * y + rng.uniform(0, 0.7, n), 0, 1)
    X = pd.DataFrame({"recency_days": rng.uniform(0, 300, n), "orders_90d": rng.integers(0, 5, n).astype(float),
                      "recency_over_ipt": rng.uniform(0, 4, n)}, index=[f"c{i}" for i in range(n)])
    contrib = pd.DataFrame(rng.normal(size=(n, 3)), index=X.index, columns=X.columns)
    contrib["base_value"] = 0.1
    contrib["margin"] = contrib[list(X.columns)].sum(axis=1) + 0.1
    return y, p, X, contrib


def test_plots_return_matplotlib_objects(data):
    import matplotlib.pyplot as plt

    y, p, X, contrib = data
    scores = {"model": p, "recency": X["recency_days"].to_numpy()}
    assert len(plots.plot_roc_pr(y, scores).axes) == 2
    assert len(plots.plot_lift_gain(y, scores).axes) == 2
    assert plots.plot_calibration(y, {"model": p}).get_title() == "Calibration"
    assert plots.plot_shap_summary(contrib, X).get_xlabel().startswith("contribution")
    ax = plots.plot_waterfall(contrib.iloc[0], X.iloc[0], max_features=2, title="customer x")
    assert ax.get_title() == "customer x" and len(ax.get_yticklabels()) == 3
    decisions = churn_decisions(pd.Series(p, index=X.index), X=X)
    assert plots.plot_risk_tiers(decisions).get_title() == "Risk tiers"
    metrics = pd.DataFrame({"cutoff": pd.to_datetime(["2024-01-01"] * 2 + ["2024-02-01"] * 2),
                            "scorer": ["model", "recency"] * 2, "roc_auc": [0.8, 0.7, 0.82, 0.71]})
    result = BacktestResult(metrics=metrics, calibration=pd.DataFrame(), predictions=pd.DataFrame(),
                            horizon_days=90)
    assert len(plots.plot_backtest(result).get_lines()) == 2
    plt.close("all")
