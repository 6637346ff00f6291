"""Journeys from touchpoints: the errors name the column, the rule and the offending rows (issue 21); each test
names the mutation class (a wrong implementation) it guards against."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.attribution import build_journeys
from crm_models.exceptions import DataContractError


def _touchpoints(**changes) -> pd.DataFrame:
    frame = pd.DataFrame({
        "customer_id": ["c1", "c1", "c2"],
        "timestamp": ["2024-01-01 10:00", "2024-01-02 10:00", "2024-01-01 12:00"],
        "channel": ["a", "b", "a"],
        "conversion": [0, 1, 0],
        "value": [0.0, 20.0, 0.0],
    })
    return frame.assign(**changes)


@pytest.mark.parametrize(
    ("changes", "column", "rule"),
    [
        ({"conversion": [0, 2, 0]}, "conversion", "conversion in {0, 1}"),
        ({"value": [0.0, -20.0, 0.0]}, "value", ">= 0"),
        ({"channel": ["a", " ", "a"]}, "channel", "non-empty channel name"),
    ],
)
def test_bad_touchpoints_name_the_column_the_rule_and_the_rows(changes, column, rule):
    """Guards the arguments of the engine-side row checks (a dropped ``rule=`` or ``column=``): the error names
    the column and the rule, and its example rows are the offending ones only (the second touch, the only one on
    2 January; c1's other touch and c2's touch are valid)."""
    with pytest.raises(DataContractError) as caught:
        build_journeys(_touchpoints(**changes))
    error = caught.value
    assert error.column == column and error.rule == rule
    assert len(error.examples) == 1
    assert pd.Timestamp(error.examples["timestamp"].iloc[0]) == pd.Timestamp("2024-01-02 10:00")


def test_journeys_table_errors_name_the_rule_and_show_the_offending_rows():
    """Guards the arguments of the journeys-table checks (``rule=`` set to ``None``, ``examples=`` dropped or
    ``None``): a missing column names the rule, a count that is no number and a missing path show that row."""
    from crm_models.attribution import encode_journeys

    with pytest.raises(DataContractError) as caught:
        encode_journeys(pd.DataFrame({"route": ["a"], "conversions": [1]}))
    assert (caught.value.column, caught.value.rule) == ("path", "required column")
    with pytest.raises(DataContractError) as caught:
        encode_journeys(pd.DataFrame({"path": ["a", "b"], "conversions": [1.0, np.nan]}))
    assert caught.value.column == "conversions" and caught.value.examples["path"].tolist() == ["b"]
    with pytest.raises(DataContractError) as caught:
        encode_journeys(pd.DataFrame({"path": ["a", None], "conversions": [1.0, 2.0]}))
    assert caught.value.column == "path" and caught.value.examples["conversions"].tolist() == [2.0]


def test_an_engine_table_mixing_aware_and_naive_times_names_the_timestamp_column():
    """Guards the column of the mixed time-zone error on engine tables (``column=`` set to ``None``): one value
    with a UTC offset among naive values is refused, naming the column, the one-kind-per-table rule and both
    kinds of rows (here 1 aware and 2 naive)."""
    import ibis

    frame = pd.DataFrame({"customer_id": ["c1", "c1", "c2"],
                          "timestamp": ["2024-06-01 10:00:00+02:00", "2024-06-01 11:00:00", "2024-06-01 12:00:00"],
                          "channel": ["a", "b", "a"], "conversion": [0, 1, 0]})
    with pytest.raises(DataContractError, match=r"1 rows\) with naive values \(2 rows\)") as caught:
        build_journeys(ibis.memtable(frame))
    assert caught.value.column == "timestamp" and "one kind per table" in caught.value.rule
    assert len(caught.value.examples) == 3


def test_integer_times_error_shows_at_most_five_rows():
    """Guards the size of the example block of the integer-times error (``head(5)`` -> ``head(6)``): like every
    other contract error it shows a few rows, at most five, not the table."""
    frame = pd.DataFrame({"customer_id": [f"c{i}" for i in range(10)], "timestamp": range(1_718_000_000, 1_718_000_010),
                          "channel": ["a"] * 10, "conversion": [0] * 10})
    with pytest.raises(DataContractError, match="holds numbers") as caught:
        build_journeys(frame)
    assert caught.value.column == "timestamp" and len(caught.value.examples) == 5
