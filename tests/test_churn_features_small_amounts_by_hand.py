"""A purchase order is an order with a positive net amount (``churn.features`` module docstring), however small:
an order of 0.50 is a purchase in the features and in the label window (issue 21: the mutant ``amount > 0`` ->
``amount > 1`` survived, because every purchase of the other hand-made tables was worth 5 or more).

Cutoff 2024-03-31 (the whole day is history, bound b = 2024-04-01 00:00 UTC), horizon 30 days. The data set is
built inside each test (no module-scoped fixture), so mutmut's per-test coverage sees every test that reads it.
"""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.churn import make_churn_dataset

ROWS = [
    ("S", "2024-03-01 00:00", 0.50, "s1"),  # age 31: a purchase of 50 cents
    ("S", "2024-03-21 00:00", 0.75, "s2"),  # age 11
    ("S", "2024-04-10 00:00", 0.25, "s3"),  # label window: a purchase of 25 cents -> not churned
    ("T", "2024-03-11 00:00", 40.0, "t1"),  # age 21
    ("T", "2024-03-31 00:00", 20.0, "t2"),  # age 1; nothing in the label window -> churned
    ("T", "2024-05-15 00:00", 20.0, "t3"),  # after the label window (keeps the data long enough)
]


def _dataset():
    frame = pd.DataFrame(ROWS, columns=["customer_id", "timestamp", "amount", "order_id"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    return make_churn_dataset(frame, "2024-03-31", 30, 365, use_bgnbd=False)


def test_an_order_of_fifty_cents_is_a_purchase_in_the_features() -> None:
    ds = _dataset()
    row = ds.X.loc["S"]
    assert row["n_orders"] == 2.0 and row["n_purchase_days"] == 2.0
    assert row["spend_total"] == pytest.approx(1.25) and row["order_value_max"] == pytest.approx(0.75)
    assert row["recency_days"] == 11.0 and row["tenure_days"] == 31.0 and row["ipt_mean"] == 20.0
    assert row["orders_30d"] == 1.0 and row["spend_30d"] == pytest.approx(0.75)


def test_a_purchase_of_twenty_five_cents_in_the_label_window_means_not_churned() -> None:
    ds = _dataset()
    assert ds.y.to_dict() == {"S": 0, "T": 1}
