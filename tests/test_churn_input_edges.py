"""The churn input adapter on tiny tables: time range, optional columns, missing values per column, and the
conversions of horizons and instants (issue 21: mutants of churn/_input)."""

from __future__ import annotations

import math

import ibis
import numpy as np
import pandas as pd
import pytest

from crm_models.churn._input import from_epoch, prepare, to_days, to_epoch, to_ibis
from crm_models.exceptions import DataContractError

DAY = 86_400.0


def _frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "customer_id": ["a", "b", "a"],
            "timestamp": pd.to_datetime(["2024-01-03 00:00", "2024-01-01 00:00", "2024-01-02 12:00"]),
            "amount": [1.0, 2.0, 3.0],
        }
    )


def test_time_range_and_optional_columns_of_a_frame():
    """``first_epoch`` is the minimum and ``last_epoch`` the maximum (guards min/max swapped, the
    ``iloc[0]`` index), and no optional column is claimed when there is none."""
    source = prepare(_frame())
    assert source.first_epoch == to_epoch("2024-01-01")
    assert source.last_epoch == to_epoch("2024-01-03")
    assert (source.has_order_id, source.has_quantity, source.has_product_id, source.has_channel,
            source.has_n_items) == (False, False, False, False, False)
    epochs = sorted(source.table.to_pandas()["_epoch"].tolist())
    assert epochs == [to_epoch("2024-01-01"), to_epoch("2024-01-02 12:00"), to_epoch("2024-01-03")]


@pytest.mark.parametrize("column", ["order_id", "quantity", "product_id", "channel", "n_items"])
def test_each_optional_column_is_seen(column):
    """Each flag reads its own column (guards a flag reading the wrong name or dropped)."""
    values = {"order_id": ["1", "2", "3"], "quantity": [1, 2, 3], "product_id": ["p", "q", "r"],
              "channel": ["web", "shop", "web"], "n_items": [1, 1, 2]}
    source = prepare(_frame().assign(**{column: values[column]}))
    flags = {"order_id": source.has_order_id, "quantity": source.has_quantity,
             "product_id": source.has_product_id, "channel": source.has_channel, "n_items": source.has_n_items}
    assert flags == {name: name == column for name in flags}


def test_a_date_typed_timestamp_is_read_as_midnight():
    """An ibis table whose timestamp is a date is cast to a timestamp before the epoch is taken."""
    frame = _frame().assign(timestamp=lambda f: f["timestamp"].dt.date)
    source = prepare(ibis.memtable(frame))
    assert source.first_epoch == to_epoch("2024-01-01") and source.last_epoch == to_epoch("2024-01-03")
    assert source.table.to_pandas()["_epoch"].max() == to_epoch("2024-01-03")


@pytest.mark.parametrize("column", ["customer_id", "timestamp", "amount"])
def test_missing_required_values_in_an_ibis_table_name_the_column(column):
    """One engine query counts the NULLs per required column; the error names the column, the rule, the
    count, and shows at most five offending rows (seven are missing here)."""
    frame = pd.concat([_frame()] * 4, ignore_index=True)  # 12 rows
    frame[column] = frame[column].astype(object)
    frame.loc[:6, column] = None
    with pytest.raises(DataContractError, match=r"^7 transaction\(s\) have a missing") as err:
        prepare(ibis.memtable(frame))
    assert err.value.column == column and err.value.rule == "not null"
    assert len(err.value.examples) == 5
    assert list(err.value.examples.columns) == ["customer_id", "timestamp", "amount"]
    assert err.value.examples[column].isna().all()


def test_other_inputs_are_refused_naming_their_type():
    with pytest.raises(TypeError, match="list"):
        to_ibis([1, 2, 3])


@pytest.mark.parametrize(
    "horizon, days",
    [(90, 90.0), (0.5, 0.5), (np.int64(3), 3.0), (np.float32(1.5), 1.5), ("90D", 90.0),
     (pd.Timedelta(hours=12), 0.5), ("36h", 1.5)],
)
def test_horizons_in_days(horizon, days):
    assert to_days(horizon) == pytest.approx(days)


@pytest.mark.parametrize("horizon", [0, -1, 0.0, "0D", "-2D", math.inf, math.nan])
def test_horizons_that_are_not_positive_durations_are_refused(horizon):
    """Guards ``days <= 0`` (``<`` would let 0 through) and the finiteness check."""
    with pytest.raises(ValueError, match="positive duration"):
        to_days(horizon)


def test_a_boolean_is_not_a_number_of_days():
    """``True`` is an int to Python; the adapter does not read it as one day."""
    with pytest.raises(ValueError):
        to_days(True)


def test_epoch_conversions():
    """Naive values are UTC, aware values are converted (guards dropping ``tz_convert``), and
    ``from_epoch`` inverts ``to_epoch`` to the sub-second."""
    assert to_epoch("1970-01-02") == DAY
    assert to_epoch(pd.Timestamp("1970-01-02 01:00", tz="Europe/Paris")) == DAY
    assert to_epoch(pd.Timestamp("1970-01-01 19:00", tz="America/New_York")) == DAY
    assert from_epoch(DAY + 0.5) == pd.Timestamp("1970-01-02 00:00:00.5")
    assert from_epoch(to_epoch("2024-02-29 13:45")) == pd.Timestamp("2024-02-29 13:45")


def test_a_single_transaction_is_a_table():
    """One row is enough (guards the emptiness check ``n == 0`` -> ``n == 1``); its time range is one instant."""
    source = prepare(_frame().iloc[:1])
    assert source.first_epoch == source.last_epoch == to_epoch("2024-01-03")


def test_a_path_is_registered_with_the_given_backend(tmp_path):
    """A CSV path goes to the ``backend`` it is given (guards the argument dropped for paths and ibis
    tables), and is read like the frame."""
    from crm_models.data import duckdb_backend

    path = tmp_path / "tx.csv"
    _frame().to_csv(path, index=False)
    con = duckdb_backend()
    source = prepare(str(path), con)
    assert source.table._find_backend() is con
    assert (source.first_epoch, source.last_epoch) == (to_epoch("2024-01-01"), to_epoch("2024-01-03"))
