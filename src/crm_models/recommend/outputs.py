"""Per-customer top-k products: the rows :func:`crm_models.customers.enrich.next_product_columns` turns into
the customer table's next-product columns (and so into the activation export)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd


def next_products(
    recommender: Any,
    customer_ids: Iterable[Any],
    *,
    k: int = 3,
    exclude_purchased: bool = True,
    labels: Mapping[str, str] | pd.Series | None = None,
    separator: str = "; ",
) -> pd.DataFrame:
    """One row per customer with the ``k`` products a fitted recommender ranks first.

    Columns: ``customer_id``, ``next_product_ids`` (a tuple of product ids, best first) and ``next_products``
    (the same products as one human-readable string, using ``labels`` such as product descriptions where given,
    product ids otherwise; empty when nothing is left to recommend). Customers keep the order given.
    """
    ids = pd.Series(list(customer_ids), dtype="string")
    recs = recommender.recommend(ids, k=k, exclude_purchased=exclude_purchased)
    lookup = dict(labels.items()) if labels is not None else {}
    grouped = recs.sort_values(["customer_id", "rank"]).groupby("customer_id", sort=False)["product_id"].agg(tuple)
    product_ids = [tuple(grouped.get(c, ())) for c in ids]
    text = [separator.join(str(lookup.get(p, p)) for p in products) for products in product_ids]
    return pd.DataFrame({"customer_id": ids.to_numpy(), "next_product_ids": product_ids,
                         "next_products": pd.Series(text, dtype="string")})

