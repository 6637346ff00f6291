"""Seasonality profiles: weekday, hour and month slots by hand, segments, and every slot present."""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.lifecycle import seasonality_profile

TX = pd.DataFrame({
    "customer_id": ["a", "a", "b", "b", "c"],
    # Mon 2024-01-01 09:xx twice (a), Sat 2024-01-06 21:00 (b), Mon 2024-02-05 09:30 (b), a return on Sunday (c)
    "timestamp": pd.to_datetime(["2024-01-01 09:10", "2024-01-01 09:50", "2024-01-06 21:00", "2024-02-05 09:30",
                                 "2024-01-07 12:00"]),
    "amount": [10.0, 3.0, 8.0, 4.0, -5.0],
    "channel": ["web", "web", "store", "web", "store"],
})


def test_weekday_profile_by_hand() -> None:
    profile = seasonality_profile(TX, unit="weekday", observation_end="2024-12-31").set_index("label")
    assert len(profile) == 7
    assert profile.loc["Monday", "purchases"] == 3 and profile.loc["Monday", "customers"] == 2
    assert profile.loc["Saturday", "purchases"] == 1 and profile.loc["Sunday", "purchases"] == 0  # return ignored
    assert profile["share"].sum() == pytest.approx(1.0)
    assert profile.loc["Monday", "index"] == pytest.approx(0.75 * 7)
    assert (profile["share_lower"] <= profile["share"]).all() and (profile["share"] <= profile["share_upper"]).all()


def test_hour_and_month_profiles_with_segments() -> None:
    hours = seasonality_profile(TX, unit="hour", by="channel").set_index(["segment", "slot"])
    assert len(hours) == 2 * 24
    assert hours.loc[("web", 9), "purchases"] == 3 and hours.loc[("store", 21), "purchases"] == 1
    months = seasonality_profile(TX, unit="month", by=pd.Series({"a": "new", "b": "loyal"}))
    months = months.set_index(["segment", "label"])
    assert months.loc[("loyal", "February"), "share"] == 0.5
    assert months.loc[("new", "January"), "index"] == pytest.approx(1.0 / (31 / 365))


def test_unknown_unit_is_refused() -> None:
    with pytest.raises(ValueError, match="unit must be"):
        seasonality_profile(TX, unit="season")
