"""forecast_points reads customer ids on both sides with the data contract's identifier rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.exceptions import DataContractError
from crm_models.loyalty import build_ledger, forecast_points

ISSUE = pd.DataFrame({"customer_id": pd.array(["17850", "17850", "12"], dtype="string"),
                      "timestamp": pd.to_datetime(["2024-01-15 10:00", "2024-06-01 12:00", "2024-07-01 09:00"]),
                      "amount": [100.0, 50.0, 20.0]})


class PoissonStub:
    """Alive with probability one, a known purchase rate per customer (from ``frequency``)."""

    def probability_alive(self, frequency, recency, T):
        return np.ones(np.shape(frequency))

    def expected_purchases(self, t, frequency, recency, T):
        return np.asarray(frequency, dtype=float) * np.asarray(t, dtype=float)


def _summary(index: pd.Index) -> pd.DataFrame:
    # 17850 buys ten times as often as 12, so swapping or dropping the rows changes the answer
    return pd.DataFrame({"frequency": [0.1, 0.01], "recency": [138.0, 10.0], "T": [351.0, 180.0]}, index=index)


@pytest.mark.parametrize("index", [
    pd.Index([17850, 12], name="customer_id"),
    pd.Index([17850.0, 12.0], name="customer_id"),
    pd.Index(["17850", "12"], name="customer_id", dtype=object),
], ids=["int", "float", "object-str"])
def test_numeric_summary_ids_match_text_ledger_ids(index):
    ledger = build_ledger(ISSUE, as_of="2024-12-31")
    expected = forecast_points(ledger, PoissonStub(), _summary(pd.Index(["17850", "12"], dtype="string")),
                               redemption_share=0.5, point_value=0.01)
    got = forecast_points(ledger, PoissonStub(), _summary(index), redemption_share=0.5, point_value=0.01)
    pd.testing.assert_frame_equal(got.per_customer, expected.per_customer)
    assert sorted(got.per_customer.index) == ["12", "17850"]
    assert got.per_customer.index.dtype == "string"
    assert got.per_customer.loc["17850", "expected_redeemed"] > got.per_customer.loc["12", "expected_redeemed"]


def test_summary_ids_that_collide_under_the_rule_are_refused():
    ledger = build_ledger(ISSUE, as_of="2024-12-31")
    index = pd.Index([17850, "17850", 12], dtype=object, name="customer_id")
    summary = pd.DataFrame({"frequency": [0.1, 0.2, 0.01], "recency": [1.0, 1.0, 1.0], "T": [9.0, 9.0, 9.0]},
                           index=index)
    with pytest.raises(DataContractError, match="customer_id") as info:
        forecast_points(ledger, PoissonStub(), summary, redemption_share=0.5, point_value=0.01)
    assert "more than once" in str(info.value)
