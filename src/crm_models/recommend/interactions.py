"""Order lines -> the customer x product interaction matrix the recommenders learn from.

Counting runs on the engine (ibis; DuckDB by default): one row per (customer, product) with the number of
distinct orders on which the customer bought the product. Only purchase lines count (positive quantity).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from crm_models.data.engine import TableSource
from crm_models.exceptions import DataContractError
from crm_models.recommend.baskets import purchase_lines


@dataclass(frozen=True)
class Interactions:
    """A sparse customer x product matrix of order counts, with the ids of its rows and columns."""

    matrix: sp.csr_matrix
    customers: pd.Index
    products: pd.Index


def interaction_counts(lines: TableSource, *, backend: Any = None) -> pd.DataFrame:
    """``customer_id, product_id, orders``: distinct orders per customer and product (purchase lines only)."""
    table = purchase_lines(lines, ("customer_id", "product_id"), backend=backend,
                           rule="recommenders need customer and product ids (read_order_lines maps them)")
    order = table["order_id"].nunique() if "order_id" in table.columns else table.count()
    counts = table.group_by(["customer_id", "product_id"]).agg(orders=order).to_pandas()
    counts["customer_id"] = counts["customer_id"].astype("string")
    counts["product_id"] = counts["product_id"].astype("string")
    return counts.sort_values(["customer_id", "product_id"], kind="stable").reset_index(drop=True)


def build_interactions(lines: TableSource, *, backend: Any = None) -> Interactions:
    """The :class:`Interactions` of ``lines``; customers and products sorted by id.

    Raises ``DataContractError`` when no purchase line is left.
    """
    counts = interaction_counts(lines, backend=backend)
    if len(counts) == 0:
        raise DataContractError("no purchase lines to learn from (every line has a non-positive quantity or a "
                                "missing id)", column="quantity", rule="at least one line with quantity > 0")
    customers = pd.Index(pd.unique(counts["customer_id"]), name="customer_id")
    products = pd.Index(np.sort(pd.unique(counts["product_id"]).astype(object)), name="product_id")
    rows = customers.get_indexer(counts["customer_id"])
    cols = products.get_indexer(counts["product_id"].astype(object))
    matrix = sp.csr_matrix((counts["orders"].to_numpy(dtype="float64"), (rows, cols)),
                           shape=(len(customers), len(products)))
    return Interactions(matrix, customers, products)
