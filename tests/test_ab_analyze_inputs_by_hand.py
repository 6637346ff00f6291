"""``analyze_experiment``'s inputs: errors name the column and the rule, covariates given as a list per outcome,
and ``experiment_outcomes`` refusing a coupon cost for an arm that does not exist.

Mutation classes guarded against (issue 21): an error's ``rule=`` or ``column=`` dropped or set to ``None``
(arguments shifted by one), a covariate list replaced, and a refusal check replaced by ``None``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.ab import analyze_experiment
from crm_models.ab.outcomes import experiment_outcomes
from crm_models.exceptions import DataContractError


def _data(arms: list[str]) -> pd.DataFrame:
    n = 12 * len(arms)
    return pd.DataFrame({"unit_id": range(n), "variant": np.repeat(arms, 12),
                         "converted": np.tile([1, 0, 0, 1, 0, 0, 1, 0, 0, 0, 1, 0], len(arms)),
                         "spend": np.arange(n, dtype=float) % 7, "pre_spend": np.arange(n, dtype=float) % 5})


def test_no_control_named_gives_column_and_rule() -> None:
    with pytest.raises(DataContractError) as info:
        analyze_experiment(_data(["A", "B"]), bayes_draws=10)
    assert info.value.column == "variant" and info.value.rule == "control arm named or given with control="


def test_two_control_like_arms_give_column_and_rule() -> None:
    with pytest.raises(DataContractError, match="several arms could be the control") as info:
        analyze_experiment(_data(["control", "holdout", "A"]), bayes_draws=10)
    assert info.value.column == "variant" and info.value.rule == "exactly one control arm"
    assert sorted(info.value.examples) == ["control", "holdout"]


def test_a_missing_outcome_column_gives_column_and_rule() -> None:
    with pytest.raises(DataContractError) as info:
        analyze_experiment(_data(["control", "A"]), outcomes=["revenue"], bayes_draws=10)
    assert info.value.column == "revenue" and info.value.rule == "required column"


def test_covariates_as_a_list_per_outcome_equal_a_single_name() -> None:
    """``{outcome: [column]}`` and ``{outcome: column}`` are the same adjustment."""
    data = _data(["control", "A"])
    as_list = analyze_experiment(data, outcomes=["spend"], covariates={"spend": ["pre_spend"]}, bayes_draws=10)
    as_name = analyze_experiment(data, outcomes=["spend"], covariates={"spend": "pre_spend"}, bayes_draws=10)
    assert as_list.table.loc[0, "cuped_covariates"] == "pre_spend" and as_list.table.loc[0, "primary"] == "cuped"
    assert as_list.table.loc[0, "cuped_effect"] == pytest.approx(as_name.table.loc[0, "cuped_effect"])


def test_coupon_cost_for_an_arm_that_does_not_exist_is_refused() -> None:
    units = pd.DataFrame({"unit_id": ["u1", "u2"], "variant": ["control", "coupon"],
                          "assigned_at": pd.to_datetime(["2024-01-01", "2024-01-01"])})
    log = pd.DataFrame({"customer_id": ["u1"], "timestamp": pd.to_datetime(["2024-01-02"]), "amount": [5.0]})
    with pytest.raises(ValueError, match=r"coupon_cost.*coupon_50") as info:
        experiment_outcomes(units, log, windows=(7,), coupon_cost={"coupon": 1.0, "coupon_50": 2.0})
    assert "'coupon'" not in str(info.value)  # only the unknown arm is named
