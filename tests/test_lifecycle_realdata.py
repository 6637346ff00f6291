"""Lifecycle on UCI Online Retail: cohorts, repurchase and cycles agree with the customer summary."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.realdata

END = "2011-12-09"


@pytest.fixture(scope="module")
def transactions(shared_data):
    from crm_models.datasets import load_online_retail

    return load_online_retail(shared_data / "online_retail.csv.gz")


def test_online_retail_lifecycle_matches_the_customer_summary(transactions) -> None:
    from crm_models.lifecycle import cohort_table, purchase_cycles, repurchase_rate, second_purchase_times
    from crm_models.summary import customer_summary

    summary = customer_summary(transactions, observation_end=END)
    cohorts = cohort_table(transactions, period="M", observation_end=END)
    first_period = cohorts.loc[cohorts["period"] == 0]
    assert first_period["customers"].sum() == len(summary) == 4_338
    assert (first_period["active_share"] == 1.0).all()
    times = second_purchase_times(transactions, observation_end=END)
    # a second purchase day exists exactly when the summary counts a repeat purchase
    assert times["repurchased"].sum() == (summary["frequency"] > 0).sum()
    assert (times["duration"] <= times["followup"]).all()
    rate = repurchase_rate(times, within_days=90).loc["all"]
    assert abs(rate["rate"] - rate["km_rate"]) < 0.02  # two estimators of the same 90-day rate
    assert 0.40 < rate["km_rate"] < 0.52
    cycles = purchase_cycles(transactions, observation_end=END)
    assert cycles.index.equals(summary.index)
    assert (cycles["purchase_days"] - 1 == summary["frequency"]).all()
