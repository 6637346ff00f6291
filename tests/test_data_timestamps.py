"""The one rule for end dates: helpers shared by every function that takes an end or cutoff."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from crm_models.data.timestamps import as_engine_bound, bound_like, end_exclusive, end_inclusive_day
from crm_models.exceptions import ConfigurationError


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_end_inclusive_day_keeps_the_input_resolution(unit) -> None:
    """A midnight end in ns came back from load_transactions_source and changed churn scores downstream."""
    stamp = pd.Timestamp("2024-12-31").as_unit(unit)
    assert end_inclusive_day(stamp) == pd.Timestamp("2024-12-31")
    assert end_inclusive_day(stamp).unit == unit


@pytest.mark.parametrize("value", ["2024-01-10", pd.Timestamp("2024-01-10"), dt.date(2024, 1, 10),
                                   "2024-01-10 15:30", pd.Timestamp("2024-01-10 23:59:59.999999")])
def test_end_inclusive_day_is_the_day_before_the_exclusive_bound(value) -> None:
    assert end_inclusive_day(value) == pd.Timestamp("2024-01-10")
    assert end_inclusive_day(value) == (end_exclusive(value) - pd.Timedelta(1, "ns")).normalize()


def test_engine_bound_rounds_up_to_microseconds() -> None:
    """A time-of-day end must keep an event exactly at that instant once the bound loses its nanoseconds."""
    bound = end_exclusive("2024-01-10 12:00")
    assert as_engine_bound(bound) == dt.datetime(2024, 1, 10, 12, 0, 0, 1)
    assert as_engine_bound(end_exclusive("2024-01-10")) == dt.datetime(2024, 1, 11)


def test_bound_like_follows_the_data_zone() -> None:
    aware = pd.Series(pd.to_datetime(["2024-01-10 10:00"]).tz_localize("UTC"))
    naive = pd.Series(pd.to_datetime(["2024-01-10 10:00"]))
    bound = end_exclusive("2024-01-10")
    assert bound_like(bound, aware) == pd.Timestamp("2024-01-11", tz="UTC")
    assert bound_like(bound, naive) == pd.Timestamp("2024-01-11")


def test_end_that_is_not_a_date_names_the_parameter() -> None:
    with pytest.raises(ConfigurationError, match="cutoff='notadate'"):
        end_inclusive_day("notadate", "cutoff")
