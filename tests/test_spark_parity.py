"""The same ibis aggregations give identical results on a local Spark session and on DuckDB.

Needs the ``spark`` extra (pyspark) and Java 17; skips with the reason when either is missing.
"""

from __future__ import annotations

import pandas as pd
import pytest

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[spark]')")

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def demo_transactions():
    from crm_models.data import clean_transactions
    from crm_models.datasets import make_demo

    demo = make_demo(seed=11, n_customers=1_500)
    clean, _ = clean_transactions(demo.transactions)
    return demo, clean


def test_customer_summary_identical_on_spark_and_duckdb(spark_table, demo_transactions) -> None:
    from crm_models.summary import customer_summary

    demo, clean = demo_transactions
    columns = clean[["customer_id", "timestamp", "amount"]]
    options = {"observation_end": demo.observation_end, "calibration_end": "2024-06-30", "time_unit": "W"}
    on_spark = customer_summary(spark_table(columns, "transactions"), **options)
    on_duckdb = customer_summary(columns, **options)
    assert len(on_duckdb) > 1_000
    pd.testing.assert_frame_equal(on_spark, on_duckdb, check_dtype=False, check_exact=False, rtol=1e-12)


def test_rfm_inputs_identical_on_spark_and_duckdb(spark_table, demo_transactions) -> None:
    from crm_models.rfm import rfm_inputs

    demo, clean = demo_transactions
    columns = clean[["customer_id", "timestamp", "amount"]]
    on_spark = rfm_inputs(spark_table(columns, "transactions_rfm"), observation_end=demo.observation_end)
    on_duckdb = rfm_inputs(columns, observation_end=demo.observation_end)
    pd.testing.assert_frame_equal(on_spark, on_duckdb, check_dtype=False, check_exact=False, rtol=1e-12)


def test_build_journeys_identical_on_spark_and_duckdb(spark_table) -> None:
    from crm_models.attribution import build_journeys
    from crm_models.datasets import make_demo

    touchpoints = make_demo(seed=5, n_customers=800).touchpoints
    options = {"lookback": "30D", "collapse_repeats": True}
    on_spark = build_journeys(spark_table(touchpoints, "touchpoints"), **options)
    on_duckdb = build_journeys(touchpoints, **options)
    assert on_duckdb["conversions"].sum() > 0
    key = [c for c in on_duckdb.columns if c in ("path",)] or list(on_duckdb.columns[:1])
    left = on_spark.sort_values(key).reset_index(drop=True)
    right = on_duckdb.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(left, right, check_dtype=False, check_exact=False, rtol=1e-9)
