"""The experiment report's sentences and tables (ab.report, uplift.report), checked by hand on a made-up read-out."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from crm_models.ab import srm_test
from crm_models.ab.analyze import ExperimentReadout
from crm_models.ab.report import (
    best_arm_on,
    headline_sentences,
    primary_effect,
    readout_table,
)
from crm_models.uplift.report import targeting_sentence, truth_sentence


def _readout(counts: dict[str, int]) -> ExperimentReadout:
    base = {"n_control": 1000, "n_arm": 1000, "p_holm": 0.01, "variance_removed": 0.1, "msprt_stop_fraction": np.nan}
    rows = [
        {**base, "outcome": "converted", "arm": "a", "kind": "proportion", "mean_control": 0.10, "mean_arm": 0.12,
         "effect": 0.021, "ci_low": 0.004, "ci_high": 0.038, "rel_effect": 0.2, "cuped_rel_effect": 0.21,
         "primary": "cuped", "significant": True, "prob_beat_control": 0.99},
        {**base, "outcome": "converted", "arm": "b", "kind": "proportion", "mean_control": 0.10, "mean_arm": 0.105,
         "effect": 0.005, "ci_low": -0.01, "ci_high": 0.02, "rel_effect": 0.05, "cuped_rel_effect": 0.04,
         "primary": "raw", "significant": False, "prob_beat_control": 0.7},
        {**base, "outcome": "revenue", "arm": "a", "kind": "mean", "mean_control": 6.0, "mean_arm": 6.5,
         "effect": 0.5, "ci_low": -1.25, "ci_high": 2.25, "rel_effect": 0.08, "cuped_rel_effect": 0.09,
         "primary": "cuped", "significant": False, "prob_beat_control": np.nan},
    ]
    return ExperimentReadout(pd.DataFrame(rows), srm_test(counts), control="control")


def test_headline_states_the_effect_in_percentage_points_and_money_in_the_currency() -> None:
    readout = _readout({"control": 1000, "a": 1000, "b": 1000})
    assert best_arm_on(readout, "converted") == "a"
    assert primary_effect(readout, "converted", "a") == pytest.approx({"effect": 0.021, "relative": 0.21})
    assert primary_effect(readout, "converted", "b")["relative"] == pytest.approx(0.05)  # raw is primary there
    lines = headline_sentences(readout, "converted", "a", money_outcome="revenue",
                               money=lambda v: f"EUR {v:,.2f}", true_effect=0.02)
    assert lines[0].startswith("**a raised conversion by 2.1 percentage points** (95% CI 0.4 to 3.8; +21% relative")
    assert "significant after correcting" in lines[0] and "beats control is 99%" in lines[0]
    assert "Revenue per customer against control: a +EUR 0.50 (95% CI -EUR 1.25 to +EUR 2.25)" in lines[1]
    assert "2.0 percentage points" in lines[2]
    assert not any("p =" in line or "chi-square" in line for line in lines), "no technical check in the headline"


def test_a_sample_ratio_mismatch_comes_first_as_a_stop() -> None:
    lines = headline_sentences(_readout({"control": 1000, "a": 1300, "b": 1000}), "converted", "a")
    assert lines[0].startswith("**Stop: SAMPLE RATIO MISMATCH")


def test_readout_tables_put_conversions_in_points_and_revenue_in_money() -> None:
    readout = _readout({"control": 1000, "a": 1000, "b": 1000})
    conv = readout_table(readout, "converted")
    assert conv.frame.loc["a", "effect_pp"] == pytest.approx(2.1) and "effect" not in conv.frame
    assert conv.money == [] and {"mean_control", "mean_arm", "relative_effect"} <= set(conv.shares)
    assert "msprt_stop_fraction" not in conv.frame, "a column without values is left out"
    rev = readout_table(readout, "revenue")
    assert rev.frame.loc["a", "effect"] == pytest.approx(0.5)
    assert {"mean_control", "effect", "ci_low"} <= set(rev.money) and "prob_beat_control" not in rev.frame
    with pytest.raises(ValueError, match="'orders' is not in the read-out"):
        readout_table(readout, "orders")


def test_targeting_sentence_by_hand() -> None:
    table = pd.DataFrame({"learner": ["X-learner", "X-learner"], "arm": ["a", "b"], "qini_auc": [0.08, 0.01]})
    comparison = SimpleNamespace(target_arm="a", best_name_="X-learner", table_=table)
    policies = pd.DataFrame({"policy": ["uplift model, best cut-off", "treat everyone", "response model, best cut-off"],
                             "fraction_treated": [0.4, 1.0, 0.3], "profit": [1500.0, 1000.0, 1600.0]})
    text = targeting_sentence(comparison, policies, null=SimpleNamespace(beats_random=False),
                              interval={"ci_low": -0.01, "ci_high": 0.15}, population=20000,
                              money=lambda v: f"GBP {v:,.0f}")
    assert "sending a to the **40% of customers** the X-learner expects" in text
    assert "**GBP 1,500 incremental profit** per 20,000 customers" in text
    assert "+GBP 500 versus sending it to everyone and -GBP 100 versus sending it to the customers likeliest" in text
    assert "is **not** distinguishable from a random ranking" in text and "Qini coefficient 0.080" in text


def test_truth_sentence_correlations() -> None:
    truth = np.array([0.0, 1.0, 2.0, 3.0])
    text = truth_sentence({"good": truth * 2, "backwards": -truth}, truth)
    assert text.endswith("good 1.00, backwards -1.00.")
