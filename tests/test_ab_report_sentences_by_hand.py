"""``crm_models.ab.report``: the sentences and the stakeholder table of a made-up read-out whose numbers are
given, so every figure in the text is known by hand.

Mutation classes guarded against (issue 21): the "not significant" branch of the effect sentence altered, the
``significant`` column left out of the read-out table, the rounding of a relative effect (``100 / x`` for
``100 * x``), and the caveat sentence of the money outcome altered.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_models.ab import srm_test
from crm_models.ab.analyze import ExperimentReadout
from crm_models.ab.report import effect_sentence, headline_sentences, readout_table


def _readout() -> ExperimentReadout:
    base = {"n_control": 1000, "n_arm": 1000, "variance_removed": np.nan, "msprt_stop_fraction": np.nan,
            "cuped_rel_effect": np.nan, "primary": "newcombe"}
    rows = [
        {**base, "outcome": "converted", "arm": "a", "kind": "proportion", "mean_control": 0.10, "mean_arm": 0.13,
         "effect": 0.03, "ci_low": 0.004, "ci_high": 0.056, "rel_effect": 0.3, "p_holm": 0.02, "significant": True,
         "prob_beat_control": 0.99},
        {**base, "outcome": "converted", "arm": "b", "kind": "proportion", "mean_control": 0.10, "mean_arm": 0.105,
         "effect": 0.005, "ci_low": -0.012, "ci_high": 0.022, "rel_effect": 0.05, "p_holm": 0.6,
         "significant": False, "prob_beat_control": 0.7},
        {**base, "outcome": "revenue", "arm": "a", "kind": "mean", "mean_control": 6.0, "mean_arm": 6.5,
         "effect": 0.5, "ci_low": -1.25, "ci_high": 2.25, "rel_effect": 0.08, "p_holm": 0.5, "significant": False,
         "prob_beat_control": np.nan},
    ]
    return ExperimentReadout(pd.DataFrame(rows), srm_test({"control": 1000, "a": 1000, "b": 1000}),
                             control="control")


def test_effect_sentence_of_an_arm_that_is_not_significant() -> None:
    """Arm b: +0.5 pp (95 % CI -1.2 to 2.2), +5 % relative, not significant; P(beats control) 70 %."""
    text = effect_sentence(_readout(), "converted", "b")
    assert text == ("**b raised conversion by 0.5 percentage points** (95% CI -1.2 to 2.2; +5% relative, not "
                    "significant after correcting for testing several arms and outcomes). The chance that b beats "
                    "control is 70%.")


def test_effect_sentence_of_a_significant_arm_rounds_the_relative_effect() -> None:
    """Arm a: +3.0 pp (0.4 to 5.6), relative 0.3 -> "+30% relative", significant."""
    text = effect_sentence(_readout(), "converted", "a")
    assert text.startswith("**a raised conversion by 3.0 percentage points** (95% CI 0.4 to 5.6; +30% relative, "
                           "significant after correcting")


def test_readout_table_keeps_the_significance_column() -> None:
    """The stakeholder table shows which arms are significant (a column with values is never left out)."""
    table = readout_table(_readout(), "converted").frame
    assert table["significant"].tolist() == [True, False]
    assert table["p_holm"].tolist() == [0.02, 0.6]
    assert "variance_removed" not in table and "msprt_stop_fraction" not in table  # all NaN: left out


def test_money_outcome_sentence_ends_with_the_caveat() -> None:
    """The money outcome's sentence is followed by the caveat, as its own sentence (capitalised)."""
    lines = headline_sentences(_readout(), "converted", "a", money_outcome="revenue", money=lambda v: f"${v:,.2f}")
    assert lines[1] == ("Revenue per customer against control: a +$0.50 (95% CI -$1.25 to +$2.25). A bigger discount "
                        "can convert more yet earn less per order: weigh both outcomes before rolling out.")
