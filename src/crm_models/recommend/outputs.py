"""Per-customer top-k products, shaped for the customer table and the activation export."""

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


def next_products_table(
    recommender: Any,
    customer_ids: Iterable[Any],
    *,
    k: int = 3,
    labels: Mapping[str, str] | pd.Series | None = None,
    model: str | None = None,
    separator: str = "; ",
) -> pd.DataFrame:
    """The per-customer next products as a flat table for a CSV beside the customer table.

    One row per customer (in the order given): ``customer_id``, ``next_products`` (the ``k`` best products not
    bought yet, as their labels joined by ``separator``), ``next_product_ids`` (the same as ids) and ``model``
    (``model``, or the recommender's class name). Real customer ids: write it beside the customer table, never
    into a report.
    """
    rows = next_products(recommender, customer_ids, k=k, exclude_purchased=True, labels=labels, separator=separator)
    ids = pd.Series([separator.join(map(str, p)) for p in rows["next_product_ids"]], dtype="string")
    return pd.DataFrame({"customer_id": rows["customer_id"].astype("string"), "next_products": rows["next_products"],
                         "next_product_ids": ids.to_numpy(), "model": model or type(recommender).__name__})
