"""Association rules counted on a local Spark session equal the ones counted on DuckDB.

Needs the ``spark`` extra (pyspark) and Java 17; skips with the reason when either is missing.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pyspark = pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[spark]')")

pytestmark = pytest.mark.spark


def test_association_rules_identical_on_spark_and_duckdb(spark_table) -> None:
    from crm_models.recommend import association_rules, build_interactions

    rng = np.random.default_rng(20261130)
    n_products = 25
    weights = rng.dirichlet(np.full(n_products, 0.7))
    rows = []
    for order in range(1_500):
        for product in set(rng.choice(n_products, size=rng.integers(2, 10), p=weights)):
            rows.append((f"o{order}", f"c{order % 400}", f"p{product:02d}", float(rng.integers(-1, 4))))
    lines = pd.DataFrame(rows, columns=["order_id", "customer_id", "product_id", "quantity"])
    on_spark_table = spark_table(lines, "order_lines")

    on_duckdb = association_rules(lines, min_support=0.01, min_confidence=0.1)
    on_spark = association_rules(on_spark_table, min_support=0.01, min_confidence=0.1)
    assert len(on_duckdb) > 50 and (on_duckdb["antecedents"].map(len) == 2).any(), "triples are counted"
    pd.testing.assert_frame_equal(on_spark, on_duckdb, check_exact=False, rtol=1e-12)

    spark_matrix = build_interactions(on_spark_table)
    duckdb_matrix = build_interactions(lines)
    assert list(spark_matrix.products) == list(duckdb_matrix.products)
    assert (spark_matrix.matrix != duckdb_matrix.matrix).nnz == 0
