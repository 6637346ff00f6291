"""Outcomes from transactions on a local Spark session equal those on DuckDB (the engine-backed claim).

Needs the ``spark`` extra (pyspark) and Java 17; skips with the reason when either is missing.
"""

from __future__ import annotations

import pandas as pd
import pytest

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[spark]')")

pytestmark = pytest.mark.spark


def test_experiment_outcomes_identical_on_spark_and_duckdb(spark_table):
    from crm_models.ab import experiment_outcomes
    from crm_models.datasets import make_demo
    from crm_models.datasets.demo_repurchase import coupon_transactions

    demo = make_demo(seed=11, n_customers=1_500)
    log, _ = coupon_transactions(demo)
    plain = log.astype({"customer_id": object, "order_id": object})
    plain["timestamp"] = plain["timestamp"].astype("datetime64[us]")  # Spark keeps microseconds
    table = spark_table(plain, "coupon_log")
    kwargs = {"windows": (30, 60), "assigned_at": "enrolled_at", "observation_end": "2024-12-31"}
    on_spark = experiment_outcomes(demo.experiment, table, **kwargs)
    on_duckdb = experiment_outcomes(demo.experiment, plain, **kwargs)
    pd.testing.assert_frame_equal(on_spark.table, on_duckdb.table, check_exact=False, rtol=1e-9)
    for a, b in zip(on_spark.quality.drops, on_duckdb.quality.drops, strict=True):
        assert (a["reason"], a["rows"]) == (b["reason"], b["rows"])
        assert a["amount"] == pytest.approx(b["amount"], rel=1e-9)
    assert on_spark.units_incomplete[60] > 0  # the comparison covers censored windows
    assert on_spark.quality.notes == on_duckdb.quality.notes
