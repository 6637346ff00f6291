"""``clean_order_lines`` and ``clean_events`` check their input as ``clean_transactions`` does (one shared
check): a duplicated column name, and a numeric or timestamp column of the wrong type, give a
``DataContractError`` naming the column and the rule instead of a pandas error or a silent wrong count."""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.data.events import clean_events
from crm_models.data.order_lines import clean_order_lines
from crm_models.data.quality import clean_transactions
from crm_models.exceptions import DataContractError

LINES = pd.DataFrame({"order_id": ["o1", "o2"], "customer_id": ["a", "b"],
                      "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"]), "product_id": ["p", "q"],
                      "quantity": [1.0, 2.0], "amount": [3.0, 4.0]})
EVENTS = pd.DataFrame({"customer_id": ["a", "b"], "event": ["view", "cart"],
                       "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02"])})
TX = LINES[["customer_id", "timestamp", "amount"]]


def _duplicated(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    out = pd.concat([frame, frame[[column]]], axis=1)
    assert list(out.columns).count(column) == 2
    return out


@pytest.mark.parametrize(("clean", "frame", "column"), [
    (clean_transactions, TX, "amount"),
    (clean_order_lines, LINES, "amount"),
    (clean_order_lines, LINES, "product_id"),
    (clean_events, EVENTS, "event"),
])
def test_a_duplicated_column_is_refused_by_name(clean, frame, column) -> None:
    with pytest.raises(DataContractError, match="duplicated column name") as error:
        clean(_duplicated(frame, column))
    assert error.value.column == column
    assert error.value.rule == "column names must be unique"


@pytest.mark.parametrize("column", ["quantity", "amount"])
def test_order_lines_with_numbers_as_text_are_refused_by_name(column) -> None:
    lines = LINES.assign(**{column: ["1", "x"]})
    with pytest.raises(DataContractError, match=f"{column} has dtype .*not a number.*read_order_lines") as error:
        clean_order_lines(lines)
    assert error.value.column == column
    assert error.value.rule == f"{column} must be numeric"


@pytest.mark.parametrize(("clean", "frame", "reader"), [
    (clean_transactions, TX, "read_transactions"),
    (clean_order_lines, LINES, "read_order_lines"),
    (clean_events, EVENTS, "read_events"),
])
def test_timestamps_as_text_are_refused_by_name(clean, frame, reader) -> None:
    """Text timestamps must not reach the observation-end filter (text compared with a date) or the models."""
    text = frame.assign(timestamp=["2024-01-01", "2024-01-02"])
    with pytest.raises(DataContractError, match=f"timestamp has dtype .*not a datetime.*{reader}") as error:
        clean(text, observation_end="2024-01-01")
    assert error.value.column == "timestamp"
    assert error.value.rule == "timestamp must be a datetime column"
