"""An ``observation_end`` with a time of day: the customer table counts purchases up to that instant and is dated
that day. It used to take ``end - 1 day`` of an end one nanosecond after the instant (the day before, at that
time), so RFM, value and the previous segment lost the last day's purchases, while churn scoring took the whole
day and counted purchases after the instant. Both tests fail on 5d2bd3a."""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.customers import CustomerTableSettings, build_customer_table
from crm_models.datasets.sources import load_transactions_source

SETTINGS = CustomerTableSettings(n_estimators=30, capacity=20, seed=3)


@pytest.fixture(scope="module")
def loaded():
    return load_transactions_source("demo", n_customers=400, seed=11, returns="keep")


def test_the_last_instant_of_the_day_gives_the_whole_day_table(loaded):
    day = loaded.observation_end.normalize()
    whole_day = build_customer_table(loaded.transactions, observation_end=day, settings=SETTINGS)
    last_instant = build_customer_table(loaded.transactions, observation_end=day + pd.Timedelta("23:59:59.999999"),
                                        settings=SETTINGS)
    assert last_instant.metadata["as_of"] == whole_day.metadata["as_of"] == str(day.date())
    columns = ["frequency", "monetary_value", "R", "F", "M", "segment", "previous_segment", "age_days",
               "days_since_last_purchase", "clv"]
    pd.testing.assert_frame_equal(last_instant.frame[columns].sort_index(), whole_day.frame[columns].sort_index())


def _with_purchases(tx: pd.DataFrame, customer: str, stamps: list[pd.Timestamp]) -> pd.DataFrame:
    extra = pd.DataFrame({"customer_id": customer, "timestamp": stamps, "amount": 1000.0,
                          "order_id": [f"X{i}" for i in range(len(stamps))], "quantity": 1, "product_id": "shoes"})
    return pd.concat([tx, extra.astype(tx.dtypes.to_dict())], ignore_index=True)


def test_purchases_after_the_instant_are_left_out_and_those_before_it_counted(loaded):
    tx = loaded.transactions
    day = loaded.observation_end.normalize()
    noon = day + pd.Timedelta(hours=12)
    buyer = str(tx.loc[tx["amount"] > 0, "customer_id"].iloc[0])
    both = build_customer_table(_with_purchases(tx, buyer, [day + pd.Timedelta(hours=9), day + pd.Timedelta(hours=15)]),
                                observation_end=noon, settings=SETTINGS)
    morning = build_customer_table(_with_purchases(tx, buyer, [day + pd.Timedelta(hours=9)]),
                                   observation_end=noon, settings=SETTINGS)
    assert both.frame.loc[buyer, "days_since_last_purchase"] == 0  # the 09:00 purchase counts
    assert both.metadata["as_of"] == str(day.date())
    # the 15:00 purchase lies after the instant: the table is the one without it
    pd.testing.assert_frame_equal(both.frame, morning.frame)
