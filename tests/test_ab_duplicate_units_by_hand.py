"""A unit written two ways in one id column (1 and "1", 17850.0 and "17850") is one unit: caught as a duplicate."""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.ab import analyze_experiment
from crm_models.ab.outcomes import experiment_outcomes
from crm_models.exceptions import DataContractError

T0 = pd.Timestamp("2024-01-01 10:00")

SPELLINGS = [([1, "1"], "int-and-text"), ([17850.0, "17850"], "float-and-text"), ([7.0, 7], "float-and-int"),
             (["u9", " u9"], "padded-text")]


def _ids(pair: list) -> pd.Series:
    return pd.Series([*pair, 2, 3, "4", 5.0], dtype=object)


@pytest.mark.parametrize("pair", [p for p, _ in SPELLINGS], ids=[i for _, i in SPELLINGS])
def test_analyze_experiment_refuses_a_unit_written_two_ways(pair):
    data = pd.DataFrame({"unit_id": _ids(pair), "variant": ["control", "treat"] * 3,
                         "converted": [0, 1, 1, 0, 1, 1]})
    with pytest.raises(DataContractError, match="more than once") as err:
        analyze_experiment(data, outcomes=["converted"])
    assert err.value.column == "unit_id" and len(err.value.examples) == 2


def test_analyze_experiment_accepts_distinct_mixed_ids():
    data = pd.DataFrame({"unit_id": _ids([1, "10"]), "variant": ["control", "treat"] * 3,
                         "converted": [0, 1, 1, 0, 1, 1]})
    readout = analyze_experiment(data, outcomes=["converted"])
    assert readout is not None


@pytest.mark.parametrize("pair", [p for p, _ in SPELLINGS], ids=[i for _, i in SPELLINGS])
def test_experiment_outcomes_refuses_a_unit_written_two_ways(pair):
    assignments = pd.DataFrame({"unit_id": _ids(pair), "variant": ["control", "coupon"] * 3,
                                "assigned_at": [T0] * 6})
    transactions = pd.DataFrame({"customer_id": ["2"], "timestamp": [T0 + pd.Timedelta(days=1)],
                                 "amount": [5.0], "order_id": ["o1"], "quantity": [1]})
    with pytest.raises(DataContractError, match="more than once") as err:
        experiment_outcomes(assignments, transactions, windows=(30,), observation_end="2024-04-01")
    assert err.value.column == "unit_id" and len(err.value.examples) == 2


def test_contract_rule_reads_whole_floats_in_an_object_column_as_integers():
    from crm_models.data.contract import coerce_identifier

    ids = pd.Series([17850.0, "17850", 7, 2.5, None, " x "], dtype=object)
    assert coerce_identifier(ids).tolist() == ["17850", "17850", "7", "2.5", pd.NA, "x"]
