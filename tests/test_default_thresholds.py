"""The default thresholds that reports rely on, pinned at their edges (issue 21: "default thresholds nobody
asserts"). A changed default must change a test on purpose, not slip through."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.churn.decisions import DEFAULT_THRESHOLDS, churn_decisions, risk_tiers
from crm_models.clv.checks import MAX_RELATIVE_ERROR, MIN_AUC, HoldoutCheck
from crm_models.customers import CustomerTableSettings


def test_risk_tier_defaults_at_their_edges() -> None:
    assert DEFAULT_THRESHOLDS == (0.6, 0.3)
    tiers = risk_tiers(np.array([0.6, 0.5999, 0.3, 0.2999, 0.0, 1.0]))
    assert tiers.astype(str).tolist() == ["high", "medium", "medium", "low", "low", "high"]


def test_high_value_is_the_top_fifth_by_default() -> None:
    proba = pd.Series(0.5, index=[f"c{i}" for i in range(10)])
    clv = pd.Series(np.arange(10.0), index=proba.index)
    decided = churn_decisions(proba, clv=clv)
    # the cut is the 0.8 quantile of values (7.2 here): 8 and 9 are high value, 7 is not
    assert sorted(decided.loc[decided["high_value"], "value"]) == [8.0, 9.0]


def _check(relative_error: float, auc: float) -> HoldoutCheck:
    summary = pd.DataFrame({"frequency_holdout": [1.0] * 100})
    comparison = pd.DataFrame({"expected": [1.0 + relative_error], "actual": [1.0]}, index=["all"])
    return HoldoutCheck(pd.Timestamp("2024-01-01"), None, summary, 13.0, comparison, pd.DataFrame(),
                        pd.Series(np.ones(100)), pd.Series({"auc": auc}))


@pytest.mark.parametrize(("error", "auc", "trusted"), [
    (0.15, 0.65, True), (-0.15, 0.65, True), (0.1501, 0.9, False), (-0.1501, 0.9, False), (0.0, 0.6499, False)])
def test_clv_trust_rule_at_its_edges(error: float, auc: float, trusted: bool) -> None:
    assert (MAX_RELATIVE_ERROR, MIN_AUC) == (0.15, 0.65)
    check = _check(error, auc)
    assert check.trustworthy() is trusted
    assert check.verdict.startswith("The model is trustworthy") is trusted


def test_customer_table_defaults_that_reports_quote() -> None:
    settings = CustomerTableSettings()
    assert (settings.churn_horizon_days, settings.lookback_days, settings.capacity) == (90, 365, 500)
    assert (settings.horizon, settings.time_unit, settings.discount_rate, settings.margin) == (52.0, "W", 0.10, 0.30)
    assert (settings.high_value_quantile, settings.segment_compare_days) == (0.8, 90)
