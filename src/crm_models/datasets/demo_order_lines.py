"""Product lines for the demo brand's orders, with planted "bought together" pairs whose truth is known.

The demo transactions (:mod:`crm_models.datasets.demo_transactions`) carry one product category per order and
no product lines, so the affinity report would have nothing to find. :func:`simulate_order_lines` expands each
order into lines of a small catalogue (:data:`DEMO_CATALOGUE`, five products per category):

* the first line is a product of the order's category, drawn with fixed popularity weights inside the category;
* each customer has a favourite category (drawn once); ``Poisson(extra_items)`` further products come from it
  with probability ``taste`` and from the whole catalogue otherwise (so a customer's next product is partly
  predictable from their history, which the temporal evaluation can measure);
* for every planted pair (A, B) of :data:`PLANTED_PAIRS`, an order holding A also gets B with probability
  ``pair_probability`` (the confidence the association rules should recover).

Order amounts are split over the lines in proportion to the products' list prices, so the lines of an order add
up to the order's amount; a return (negative amount) becomes one negative line of the returned order's first
product. The result is deterministic for a given ``seed``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_models.datasets.demo_transactions import PRODUCT_CATEGORIES

#: product id -> (description, category, list price, popularity weight inside the category)
DEMO_CATALOGUE: dict[str, tuple[str, str, float, float]] = {
    "AP01": ("Cotton T-shirt", "apparel", 19.0, 5.0),
    "AP02": ("Denim jeans", "apparel", 59.0, 3.0),
    "AP03": ("Wool jumper", "apparel", 69.0, 2.0),
    "AP04": ("Linen shirt", "apparel", 45.0, 1.5),
    "AP05": ("Rain jacket", "apparel", 89.0, 1.0),
    "SH01": ("Running shoes", "shoes", 95.0, 4.0),
    "SH02": ("Leather boots", "shoes", 140.0, 2.0),
    "SH03": ("Canvas sneakers", "shoes", 55.0, 3.0),
    "SH04": ("Sandals", "shoes", 35.0, 1.5),
    "SH05": ("Slippers", "shoes", 25.0, 1.0),
    "AC01": ("Leather belt", "accessories", 39.0, 3.0),
    "AC02": ("Sunglasses", "accessories", 79.0, 2.0),
    "AC03": ("Wool scarf", "accessories", 29.0, 2.5),
    "AC04": ("Canvas tote bag", "accessories", 22.0, 4.0),
    "AC05": ("Wristwatch", "accessories", 149.0, 1.0),
    "HO01": ("Scented candle", "home", 18.0, 4.0),
    "HO02": ("Candle holder", "home", 24.0, 1.0),
    "HO03": ("Cushion cover", "home", 21.0, 3.0),
    "HO04": ("Throw blanket", "home", 49.0, 2.0),
    "HO05": ("Ceramic vase", "home", 34.0, 1.5),
    "BE01": ("Face cream", "beauty", 32.0, 4.0),
    "BE02": ("Cleansing gel", "beauty", 16.0, 1.0),
    "BE03": ("Lip balm", "beauty", 6.0, 3.0),
    "BE04": ("Perfume", "beauty", 65.0, 2.0),
    "BE05": ("Hand cream", "beauty", 9.0, 2.5),
    "KI01": ("Baby bodysuit", "kids", 14.0, 4.0),
    "KI02": ("Baby bib", "kids", 7.0, 1.0),
    "KI03": ("Picture book", "kids", 12.0, 3.0),
    "KI04": ("Soft toy", "kids", 19.0, 2.5),
    "KI05": ("Kids raincoat", "kids", 35.0, 1.5),
    "SP01": ("Yoga mat", "sport", 29.0, 3.0),
    "SP02": ("Sport socks", "sport", 12.0, 1.0),
    "SP03": ("Water bottle", "sport", 15.0, 4.0),
    "SP04": ("Gym bag", "sport", 45.0, 2.0),
    "SP05": ("Resistance bands", "sport", 19.0, 1.5),
    "GI01": ("Gift box", "gifts", 25.0, 4.0),
    "GI02": ("Greeting card", "gifts", 4.0, 1.0),
    "GI03": ("Gift voucher", "gifts", 50.0, 3.0),
    "GI04": ("Photo frame", "gifts", 19.0, 2.0),
    "GI05": ("Wrapping paper", "gifts", 5.0, 2.5),
}

#: Planted "customers who buy A also buy B" pairs (A, B): an order with A gets B with ``pair_probability``.
#: The companions B are the least popular products of their categories, so the pairs stand out by lift.
PLANTED_PAIRS: tuple[tuple[str, str], ...] = (
    ("SH01", "SP02"),  # running shoes -> sport socks
    ("HO01", "HO02"),  # scented candle -> candle holder
    ("KI01", "KI02"),  # baby bodysuit -> baby bib
    ("BE01", "BE02"),  # face cream -> cleansing gel
    ("GI01", "GI02"),  # gift box -> greeting card
)


def demo_catalogue() -> pd.DataFrame:
    """The demo catalogue: one row per product (index ``product_id``) with description, category and price."""
    frame = pd.DataFrame.from_dict(DEMO_CATALOGUE, orient="index",
                                   columns=["description", "category", "price", "weight"])
    frame.index = pd.Index(frame.index, dtype="string", name="product_id")
    return frame.astype({"description": "string", "category": "string"})


def simulate_order_lines(
    transactions: pd.DataFrame,
    *,
    seed: int = 42,
    extra_items: float = 1.0,
    taste: float = 0.85,
    pair_probability: float = 0.7,
) -> pd.DataFrame:
    """Canonical order lines for demo transactions (one row per order with a category in ``product_id``).

    Parameters
    ----------
    transactions
        Canonical transactions with ``order_id``, ``customer_id``, ``timestamp``, ``amount`` and the order's
        category in ``product_id`` (as :func:`crm_models.datasets.make_demo` writes them). Returns are orders
        whose id starts with ``R`` and whose amount is negative; their original order is ``O`` + the same digits.
    seed
        Seed of every draw.
    extra_items
        Mean number of products on an order besides the first (Poisson) before the planted companions.
    taste
        Chance that an extra product comes from the customer's favourite category.
    pair_probability
        Chance that an order with the first product of a planted pair also gets the second.

    Returns
    -------
    ``order_id, customer_id, timestamp, product_id, quantity, amount, description, category``, sorted by time
    and order; each purchase order's line amounts add up to the order's amount (up to rounding to cents).
    """
    for column in ("order_id", "customer_id", "timestamp", "amount", "product_id"):
        if column not in transactions.columns:
            from crm_models.exceptions import DataContractError

            raise DataContractError(f"demo transactions lack the column {column!r}", column=column,
                                    rule="demo order lines need the demo transactions' columns")
    rng = np.random.default_rng(seed)
    catalogue = demo_catalogue()
    ids = catalogue.index.to_numpy(dtype=object)
    position = {p: i for i, p in enumerate(ids)}
    by_category = {c: np.flatnonzero(catalogue["category"].to_numpy() == c) for c in PRODUCT_CATEGORIES}
    weights = catalogue["weight"].to_numpy(dtype=float)
    prices = catalogue["price"].to_numpy(dtype=float)
    overall = weights / weights.sum()
    pairs = [(position[a], position[b]) for a, b in PLANTED_PAIRS]

    orders = transactions.sort_values(["timestamp", "order_id"], kind="stable").reset_index(drop=True)
    customers = pd.unique(orders["customer_id"].astype("string").to_numpy())
    favourite = dict(zip(customers, rng.integers(0, len(PRODUCT_CATEGORIES), size=len(customers)), strict=True))
    purchases = orders.loc[orders["amount"] > 0]
    order_ids, products = [], []
    first_product: dict[str, int] = {}
    for order, customer, category in zip(purchases["order_id"].astype(str), purchases["customer_id"].astype(str),
                                         purchases["product_id"].astype(str), strict=True):
        pool = by_category.get(category, np.arange(len(ids)))
        first = int(rng.choice(pool, p=weights[pool] / weights[pool].sum()))
        basket = [first]
        home = by_category[PRODUCT_CATEGORIES[favourite[customer]]]
        for _ in range(rng.poisson(extra_items)):
            if rng.random() < taste:
                basket.append(int(rng.choice(home, p=weights[home] / weights[home].sum())))
            else:
                basket.append(int(rng.choice(len(ids), p=overall)))
        for a, b in pairs:
            if a in basket and rng.random() < pair_probability:
                basket.append(b)
        basket = list(dict.fromkeys(basket))
        first_product[order] = first
        order_ids.extend([order] * len(basket))
        products.extend(basket)

    lines = pd.DataFrame({"order_id": order_ids, "product": np.asarray(products, dtype=np.int64)})
    lines["price"] = prices[lines["product"].to_numpy()]
    share = lines["price"] / lines.groupby("order_id", sort=False)["price"].transform("sum")
    head = purchases.set_index(purchases["order_id"].astype(str))
    lines["amount"] = (share * head.loc[lines["order_id"], "amount"].to_numpy()).round(2)
    lines["quantity"] = 1.0
    returns = orders.loc[orders["amount"] <= 0]
    if len(returns):
        original = "O" + returns["order_id"].astype(str).str.slice(1)
        fallback = [int(by_category.get(str(c), np.arange(len(ids)))[0]) for c in returns["product_id"]]
        returned = [first_product.get(o, f) for o, f in zip(original, fallback, strict=True)]
        quantity = (-np.abs(returns["quantity"].to_numpy(dtype=float)) if "quantity" in returns.columns
                    else np.full(len(returns), -1.0))
        back = pd.DataFrame({"order_id": returns["order_id"].astype(str).to_numpy(), "product": returned,
                             "amount": returns["amount"].to_numpy(dtype=float), "quantity": quantity})
        lines = pd.concat([lines.drop(columns="price"), back], ignore_index=True)
    else:
        lines = lines.drop(columns="price")
    header = orders.set_index(orders["order_id"].astype(str))[["customer_id", "timestamp"]]
    out = pd.DataFrame({
        "order_id": pd.Series(lines["order_id"].to_numpy(), dtype="string"),
        "customer_id": pd.Series(header.loc[lines["order_id"], "customer_id"].to_numpy(), dtype="string"),
        "timestamp": header.loc[lines["order_id"], "timestamp"].to_numpy(),
        "product_id": pd.Series(ids[lines["product"].to_numpy()], dtype="string"),
        "quantity": lines["quantity"].to_numpy(dtype=float),
        "amount": lines["amount"].to_numpy(dtype=float),
    })
    out["description"] = catalogue["description"].reindex(out["product_id"]).to_numpy()
    out["category"] = catalogue["category"].reindex(out["product_id"]).to_numpy()
    out = out.astype({"description": "string", "category": "string"})
    return out.sort_values(["timestamp", "order_id", "product_id"], kind="stable").reset_index(drop=True)
