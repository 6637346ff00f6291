"""The lifecycle aggregations give the same results on a local Spark session and on DuckDB.

Needs the ``spark`` extra (pyspark) and Java 17; skips with the reason when either is missing.
"""

from __future__ import annotations

import pandas as pd
import pytest

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[spark]')")

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def transactions():
    from crm_models.data import clean_transactions
    from crm_models.datasets import make_demo

    demo = make_demo(seed=13, n_customers=600)
    clean, _ = clean_transactions(demo.transactions)
    return demo, clean[["customer_id", "timestamp", "amount", "product_id"]]


def test_cohorts_and_repurchase_identical(spark_table, transactions) -> None:
    from crm_models.lifecycle import cohort_table, second_purchase_times

    demo, clean = transactions
    table = spark_table(clean, "lifecycle_tx")
    for period in ("W", "M", "Q"):
        on_spark = cohort_table(table, period=period, observation_end=demo.observation_end)
        on_duckdb = cohort_table(clean, period=period, observation_end=demo.observation_end)
        assert len(on_duckdb) > 5
        pd.testing.assert_frame_equal(on_spark, on_duckdb, check_dtype=False, check_exact=False, rtol=1e-12)
    for by in (None, "cohort", "product_id"):
        on_spark = second_purchase_times(table, by=by, observation_end=demo.observation_end)
        on_duckdb = second_purchase_times(clean, by=by, observation_end=demo.observation_end)
        pd.testing.assert_frame_equal(on_spark, on_duckdb, check_dtype=False, check_exact=False, rtol=1e-12)


def test_cycles_and_seasonality_identical(spark_table, transactions) -> None:
    from crm_models.lifecycle import purchase_cycles, seasonality_profile

    demo, clean = transactions
    table = spark_table(clean, "lifecycle_tx2")
    on_spark = purchase_cycles(table, observation_end=demo.observation_end)
    on_duckdb = purchase_cycles(clean, observation_end=demo.observation_end)
    pd.testing.assert_frame_equal(on_spark, on_duckdb, check_dtype=False, check_exact=False, rtol=1e-9)
    for unit in ("weekday", "hour", "month"):
        on_spark = seasonality_profile(table, unit=unit, by="product_id")
        on_duckdb = seasonality_profile(clean, unit=unit, by="product_id")
        pd.testing.assert_frame_equal(on_spark, on_duckdb, check_dtype=False, check_exact=False, rtol=1e-12)


def test_funnel_identical(spark_table) -> None:
    from crm_models.datasets.demo_events import STAGES, simulate_web_events
    from crm_models.lifecycle import funnel

    events = simulate_web_events(1_500, seed=4).events
    table = spark_table(events, "lifecycle_events")
    for options in ({}, {"window": "30min", "by": "device"}, {"mode": "open"}):
        on_spark = funnel(table, list(STAGES), **options)
        on_duckdb = funnel(events, list(STAGES), **options)
        assert on_duckdb["customers"].iloc[-1] > 0
        pd.testing.assert_frame_equal(on_spark, on_duckdb, check_dtype=False, check_exact=False, rtol=1e-12)
