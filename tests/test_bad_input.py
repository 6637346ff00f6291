"""The bad-input catalogue for the data layer, summary and RFM (issue 12, items 9 and 10): one test per case.

Each case is input a careless user could hand in. It must end in a named error (``DataContractError`` naming
the column, the rule and example rows, or ``ConfigurationError`` naming the parameter) or a counted drop,
never a library traceback or a silently wrong value. The first block holds the cases that were already handled
(kept as regression tests); the rest were fixed with this module.
"""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.data import clean_transactions, read_transactions
from crm_models.datasets.sources import load_transactions_source
from crm_models.exceptions import ConfigurationError, DataContractError
from crm_models.rfm import rfm_scores
from crm_models.summary import customer_summary


def transactions(**overrides: list) -> pd.DataFrame:
    data = {
        "customer_id": ["a", "b", "c", "a"],
        "timestamp": ["2024-01-01 10:00", "2024-01-02 11:00", "2024-01-03 12:00", "2024-01-04 13:00"],
        "amount": [10.5, 20.0, 5.0, 7.25],
    }
    data.update(overrides)
    return pd.DataFrame(data)


def clean() -> pd.DataFrame:
    return read_transactions(transactions())


# --- cases handled before this module (regression tests) -------------------------------------------------------

def test_good_missing_column_is_named() -> None:
    with pytest.raises(DataContractError) as info:
        read_transactions(transactions().drop(columns="amount"))
    assert info.value.column == "amount" and info.value.rule == "required column"


def test_good_unparseable_timestamp_shows_the_row() -> None:
    with pytest.raises(DataContractError) as info:
        read_transactions(transactions(timestamp=["2024-01-01", "yesterday-ish", "2024-01-03", "2024-01-04"]))
    assert info.value.column == "timestamp"
    assert "yesterday-ish" in str(info.value)


def test_good_non_numeric_amount_shows_the_row() -> None:
    with pytest.raises(DataContractError) as info:
        read_transactions(transactions(amount=["1", "2", "ten", "4"]))
    assert info.value.column == "amount" and "ten" in str(info.value)


def test_good_empty_table_is_refused() -> None:
    with pytest.raises(DataContractError, match="empty"):
        read_transactions(transactions().iloc[0:0])


def test_good_time_zone_mix_is_refused() -> None:
    with pytest.raises(DataContractError) as info:
        read_transactions(transactions(timestamp=["2024-01-01 10:00", "2024-01-02 10:00+02:00",
                                                  "2024-01-03 10:00", "2024-01-04 10:00"]))
    assert "one kind per table" in info.value.rule


def test_good_dropped_rows_are_counted_by_reason() -> None:
    frame = read_transactions(transactions(customer_id=["a", None, "c", "a"], amount=[10.0, 5.0, 0.0, -3.0]))
    kept, report = clean_transactions(frame)
    assert len(kept) == 1
    assert report.dropped("missing customer id") == 1
    assert report.dropped("non-positive amount") == 1
    assert report.dropped("cancellation or return") == 1
    assert report.rows_in == report.rows_kept + report.rows_dropped


# --- item 9: timestamps ---------------------------------------------------------------------------------------

def test_integer_timestamps_need_a_unit() -> None:
    """1718000000 was read as nanoseconds (1970-01-01 00:00:01.718)."""
    with pytest.raises(DataContractError) as info:
        read_transactions(transactions(timestamp=[1718000000, 1718000060, 1718000120, 1718000180]))
    assert info.value.column == "timestamp"
    assert "timestamp_unit" in str(info.value) and "1718000000" in str(info.value)


def test_integer_timestamps_as_text_in_a_csv_need_a_unit(tmp_path) -> None:
    path = tmp_path / "tx.csv"
    transactions(timestamp=[1718000000, 1718000060, 1718000120, 1718000180]).to_csv(path, index=False)
    with pytest.raises(DataContractError, match="timestamp_unit"):
        read_transactions(path)


def test_integer_timestamps_with_a_unit_are_read_as_epoch() -> None:
    table = read_transactions(transactions(timestamp=[1718000000, 1718000060, 1718000120, 1718000180]),
                              timestamp_unit="s")
    assert table["timestamp"].iloc[0] == pd.Timestamp("2024-06-10 06:13:20")
    millis = read_transactions(transactions(timestamp=[1718000000000] * 4), timestamp_unit="ms")
    assert millis["timestamp"].iloc[0] == pd.Timestamp("2024-06-10 06:13:20")


def test_unknown_timestamp_unit_names_the_parameter() -> None:
    with pytest.raises(ConfigurationError, match="timestamp_unit='days'"):
        read_transactions(transactions(timestamp=[1] * 4), timestamp_unit="days")


def test_mixed_day_first_and_month_first_strings_are_refused() -> None:
    """"02/06/2024" was read as 6 February and "13/06/2024" as 13 June, in one column."""
    frame = transactions(timestamp=["02/06/2024", "13/06/2024", "03/06/2024", "04/06/2024"])
    with pytest.raises(DataContractError) as info:
        read_transactions(frame)
    assert info.value.column == "timestamp"
    assert "dayfirst" in str(info.value) and "13/06/2024" in str(info.value)


def test_day_month_strings_with_dayfirst_are_read_consistently() -> None:
    frame = transactions(timestamp=["02/06/2024", "13/06/2024", "03/06/2024", "04/06/2024"])
    table = read_transactions(frame, dayfirst=True)
    assert table["timestamp"].dt.month.tolist() == [6, 6, 6, 6]
    with pytest.raises(DataContractError, match="13/06/2024") as info:
        read_transactions(frame, dayfirst=False)  # 13 cannot be a month: reported, not swapped
    assert "dayfirst=False" in info.value.rule


# --- item 10: names and shapes ---------------------------------------------------------------------------------

def test_duplicate_column_names_are_refused() -> None:
    frame = pd.DataFrame([["a", "2024-01-01", 1.0, 2.0]], columns=["customer_id", "timestamp", "amount", "amount"])
    with pytest.raises(DataContractError) as info:
        read_transactions(frame)
    assert info.value.column == "amount" and "unique" in info.value.rule
    with pytest.raises(DataContractError, match="duplicated column"):
        customer_summary(frame.assign(timestamp=pd.Timestamp("2024-01-01")))


def test_mapping_onto_a_name_that_also_exists_is_refused() -> None:
    frame = transactions().assign(revenue=[1.0, 2.0, 3.0, 4.0])
    with pytest.raises(DataContractError) as info:
        read_transactions(frame, columns={"amount": "revenue"})
    assert info.value.column == "amount"
    assert "'revenue'" in str(info.value) and "already has a column 'amount'" in str(info.value)


def test_observation_end_before_all_data_is_a_named_error() -> None:
    """customer_summary returned an empty frame."""
    with pytest.raises(DataContractError) as info:
        customer_summary(clean(), observation_end="2023-06-30")
    assert "observation_end" in str(info.value) and "before the first purchase" in str(info.value)
    assert info.value.column == "timestamp"
    assert "2024-01-01 10:00:00" in str(info.value), "the first purchases are shown"


def test_calibration_end_before_all_data_is_a_named_error() -> None:
    with pytest.raises(DataContractError, match="calibration_end"):
        customer_summary(clean(), observation_end="2024-01-04", calibration_end="2023-06-30")


def test_empty_frame_to_rfm_scores_is_a_named_error() -> None:
    """rfm_scores raised AttributeError ('NaTType' object has no attribute 'normalize')."""
    with pytest.raises(DataContractError, match="empty"):
        rfm_scores(clean().iloc[0:0])


def test_empty_inputs_to_rfm_scores_is_a_named_error() -> None:
    """rfm_scores returned an empty table of scores."""
    empty = pd.DataFrame({"recency_days": [], "frequency": [], "monetary": []})
    with pytest.raises(DataContractError, match="empty"):
        rfm_scores(inputs=empty)


def test_string_amounts_to_clean_transactions_are_a_named_error() -> None:
    """clean_transactions raised TypeError from comparing strings with 0."""
    frame = clean().assign(amount=["10.5", "20", "five", "7.25"])
    with pytest.raises(DataContractError) as info:
        clean_transactions(frame)
    assert info.value.column == "amount" and "numeric" in info.value.rule
    assert "five" in str(info.value)


@pytest.mark.parametrize("call", [
    lambda: clean_transactions(clean(), observation_end="notadate"),
    lambda: customer_summary(clean(), observation_end="notadate"),
    lambda: customer_summary(clean(), calibration_end="notadate"),
    lambda: rfm_scores(clean(), observation_end="notadate"),
    lambda: load_transactions_source(clean(), observation_end="notadate"),
], ids=["clean_transactions", "summary-observation", "summary-calibration", "rfm_scores", "loader"])
def test_end_that_is_not_a_date_names_the_parameter(call) -> None:
    with pytest.raises(ConfigurationError) as info:
        call()
    assert "'notadate'" in str(info.value)
    assert "observation_end" in str(info.value) or "calibration_end" in str(info.value)
