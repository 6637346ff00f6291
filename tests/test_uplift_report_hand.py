"""The targeting sentences and tracked KPIs of the experiment report, by hand (issue 21, survivors of
``uplift/report``): the chosen learner and its numbers come from the fitted objects, money from the caller's
formatter, and the table headers name what the sentences name."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from crm_models.ab import srm_test
from crm_models.ab.analyze import ExperimentReadout
from crm_models.uplift.report import (
    UPLIFT_LABELS,
    chosen_sentence,
    experiment_kpis,
    targeting_sentence,
    truth_sentence,
)


def _comparison() -> SimpleNamespace:
    table = pd.DataFrame({"learner": ["X-learner", "X-learner", "DR-learner"], "arm": ["a", "b", "a"],
                          "qini_auc": [0.08, 0.01, 0.05]})
    return SimpleNamespace(target_arm="a", best_name_="X-learner", table_=table)


def _policies(*, response: bool) -> pd.DataFrame:
    rows = {"uplift model, best cut-off": (0.4, 900.0), "treat everyone": (1.0, 1000.0)}
    if response:
        rows["response model, best cut-off"] = (0.3, 900.0)
    return pd.DataFrame({"policy": list(rows), "fraction_treated": [v[0] for v in rows.values()],
                         "profit": [v[1] for v in rows.values()]})


def _money(value: float) -> str:
    return f"EUR {value:,.0f}"


def test_targeting_sentence_when_the_ranking_beats_chance_and_no_response_model():
    """Guards the other branches of ``targeting_sentence``: a ranking that beats chance, no response-model
    comparison, a loss against treating everyone (minus sign) and a tie with a response model (plus sign)."""
    text = targeting_sentence(_comparison(), _policies(response=False), null=SimpleNamespace(beats_random=True),
                              interval={"ci_low": 0.02, "ci_high": 0.14}, population=5000, money=_money)
    assert "-EUR 100 versus sending it to everyone." in text
    assert "likeliest" not in text
    assert "ranks customers clearly better than chance" in text and "**not**" not in text
    assert "**40% of customers**" in text and "**EUR 900 incremental profit** per 5,000 customers" in text
    assert "95% CI 0.020 to 0.140" in text and "Qini coefficient 0.080" in text  # the target arm's row
    with_response = targeting_sentence(_comparison(), _policies(response=True),
                                       null=SimpleNamespace(beats_random=True),
                                       interval={"ci_low": 0.02, "ci_high": 0.14}, population=5000, money=_money)
    assert "and +EUR 0 versus sending it to the customers likeliest to buy" in with_response


def test_chosen_sentence_by_hand():
    """Guards ``chosen_sentence``: the learner's name from the comparison, the permutation score and p-value from
    the null, the bootstrap interval, all rounded to three decimals."""
    null = SimpleNamespace(score=0.08123, p_value=0.0119)
    text = chosen_sentence(_comparison(), null=null, interval={"ci_low": -0.0104, "ci_high": 0.1496})
    assert text == ("Chosen: **X-learner**, Qini coefficient 0.081 on a (a random ranking scores as high with "
                    "probability 0.012; bootstrap 95% CI -0.010 to 0.150).")


def test_the_table_headers_name_what_the_sentences_name():
    """Guards ``UPLIFT_LABELS``: every column of the comparison and policy tables has a reader's name, and the
    names of the Qini column and the profit column are the words the sentences use."""
    table_columns = ["learner", "arm", "n_units", "qini_auc", "uplift_auc", "uplift_at_0.3", "chosen"]
    policy_columns = ["policy", "fraction_treated", "n_treated", "incremental_outcome", "profit"]
    assert set(table_columns + policy_columns) == set(UPLIFT_LABELS)
    assert all(label and "_" not in label and label[0].isupper() for label in UPLIFT_LABELS.values())
    chosen = chosen_sentence(_comparison(), null=SimpleNamespace(score=0.1, p_value=0.2),
                             interval={"ci_low": 0.0, "ci_high": 0.2})
    assert UPLIFT_LABELS["qini_auc"] in chosen
    targeting = targeting_sentence(_comparison(), _policies(response=False), null=SimpleNamespace(beats_random=True),
                                   interval={"ci_low": 0.0, "ci_high": 0.2}, population=100, money=_money)
    assert UPLIFT_LABELS["qini_auc"] in targeting
    assert UPLIFT_LABELS["profit"].lower() in targeting
    assert "30%" in UPLIFT_LABELS["uplift_at_0.3"] and "AUUC" in UPLIFT_LABELS["uplift_auc"]


def test_truth_sentence_names_each_learner_in_order():
    """Guards ``truth_sentence``: Pearson correlation per learner (two decimals), in the given order."""
    truth = np.array([1.0, 2.0, 3.0, 5.0])
    text = truth_sentence({"T-learner": truth, "noise": np.array([1.0, 0.0, 1.0, 0.0])}, truth)
    r = np.corrcoef([1.0, 0.0, 1.0, 0.0], truth)[0, 1]
    assert text == ("Correlation of predicted with true uplift (simulated data, so the truth is known): "
                    f"T-learner 1.00, noise {r:.2f}.")


def test_experiment_kpis_by_hand():
    """Guards ``experiment_kpis``: the primary lift (CUPED here) of the arm, the best cut-off's profit and its
    gain over treating everyone, both p-values, and one Qini per learner and arm under a metric-safe name."""
    row = {"outcome": "converted", "arm": "a", "kind": "proportion", "n_control": 1000, "n_arm": 1000,
           "mean_control": 0.10, "mean_arm": 0.12, "effect": 0.021, "ci_low": 0.004, "ci_high": 0.038,
           "rel_effect": 0.2, "cuped_rel_effect": 0.21, "primary": "cuped", "p_holm": 0.01, "significant": True}
    readout = ExperimentReadout(pd.DataFrame([row]), srm_test({"control": 1000, "a": 1000}), control="control")
    null = SimpleNamespace(score=0.08, p_value=0.03)
    kpis = experiment_kpis(readout, "a", _policies(response=False), _comparison(), null)
    assert kpis == pytest.approx({
        "kpi_experiment_lift": 0.21, "kpi_experiment_abs_effect": 0.021, "kpi_incremental_profit": 900.0,
        "uplift_qini": 0.08, "srm_p_value": readout.srm.p_value, "qini_null_p_value": 0.03,
        "gain_vs_treat_everyone": -100.0, "qini_X_learner_a": 0.08, "qini_X_learner_b": 0.01,
        "qini_DR_learner_a": 0.05})
    assert readout.srm.p_value == pytest.approx(1.0)
