"""Optional columns of the customer table: each customer's purchase rhythm, loyalty standing and next products.

Two groups are computed when the table is built, each switched on by a
:class:`~crm_models.customers.settings.CustomerTableSettings` field so that every notebook of a run builds the same
table:

* ``lifecycle_columns=True``: the usual interval between purchases, the next expected purchase and the overdue
  flag, from :func:`crm_models.lifecycle.purchase_cycles` (a lognormal rhythm per customer shrunk toward the
  population, Gelman et al. 2013, *Bayesian Data Analysis*, section 5.4; see that module);
* ``loyalty_rules="<path to a YAML rule set>"``: the tier held, points outstanding and points expiring within
  ``points_expiring_days`` days, from the rule set replayed on the run's history
  (:func:`crm_models.loyalty.customer_loyalty`).

Both are computed on the same transactions and as-of date as the rest of the table. When the data cannot give
them (e.g. fewer than two repeat buyers for a rhythm), the columns are left empty and the reason is returned as
a note, like the churn model's.

One group is added after the build by the notebook that fits its model, through
:func:`crm_models.customers.extend.extend_customer_table` (which rewrites the run's table, so the later notebooks
and the activation export see it): the *next products* of :func:`next_product_columns` (notebook 06), the
``k`` products a fitted recommender ranks first for each customer (:data:`NEXT_PRODUCT_COLUMNS`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crm_models.customers.settings import CustomerTableSettings
from crm_models.exceptions import ConfigurationError, DataContractError

#: The lifecycle columns and their meaning (added when ``settings.lifecycle_columns`` is true).
LIFECYCLE_COLUMNS: dict[str, str] = {
    "usual_interval_days": "usual days between the customer's purchases (median of their rhythm, shrunk toward "
                           "the population for customers with few purchases)",
    "next_expected_purchase": "day of the last purchase plus the usual interval",
    "overdue": "silence since the last purchase is longer than 90% of the customer's own next intervals",
}
#: The loyalty columns and their meaning (added when ``settings.loyalty_rules`` names a rule set).
LOYALTY_COLUMNS: dict[str, str] = {
    "tier": "loyalty tier held at the as-of date under the suite's rule set",
    "points_outstanding": "loyalty points earned and neither redeemed nor expired",
    "points_expiring_soon": "outstanding points that expire within `points_expiring_days` days unless redeemed",
}

#: The next-product columns and their meaning (added by the recommendations notebook, see
#: :func:`next_product_columns`); ``next_product_<n>`` stands for ``next_product_1`` ... ``next_product_<k>``.
NEXT_PRODUCT_COLUMNS: dict[str, str] = {
    "next_product_<n>": "id of the product ranked <n> for the customer (1 = the best), among the products the "
                        "customer has not bought yet; empty when fewer than <n> are left or none were asked for",
    "next_products": "the same products by name (the product description where the data has one, else the id), "
                     "'; '-separated, best first; empty when the customer has none",
    "next_products_model": "the recommender that ranked them (chosen by the temporal evaluation of notebook 06); "
                           "empty when the customer has none",
}
#: Name of the next-product group in the table's metadata (``column_groups``).
NEXT_PRODUCTS_GROUP = "next_products"


@dataclass
class Enrichment:
    """Columns to join onto the customer table (index ``customer_id``), their meaning, and notes on what was
    left empty and why.

    Columns added after the build (:func:`crm_models.customers.extend.extend_customer_table`) belong to a named
    ``group`` (adding the group again replaces its columns); ``details`` (plain values, e.g. the model and ``k``)
    are kept with the group in the table's metadata, and ``activation=True`` puts the group's columns into the
    activation export.
    """

    columns: pd.DataFrame
    descriptions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    group: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    activation: bool = False


def rules_fingerprint(settings: CustomerTableSettings) -> str | None:
    """sha256 of the loyalty rule file named by ``settings.loyalty_rules`` (``None`` without one), so that a stored
    table built under an edited rule file is not reused (the settings hold only its path)."""
    if not settings.loyalty_rules:
        return None
    path = Path(settings.loyalty_rules)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def lifecycle_columns(transactions: pd.DataFrame, *, as_of: pd.Timestamp,
                      overdue_quantile: float = 0.9) -> pd.DataFrame:
    """``usual_interval_days``, ``next_expected_purchase`` and ``overdue`` per customer up to the end of
    ``as_of`` (see :func:`crm_models.lifecycle.purchase_cycles`)."""
    from crm_models.lifecycle import purchase_cycles

    cycles = purchase_cycles(transactions[["customer_id", "timestamp", "amount"]], observation_end=as_of,
                             overdue_quantile=overdue_quantile)
    return pd.DataFrame({"usual_interval_days": cycles["usual_interval"].astype(float),
                         "next_expected_purchase": cycles["expected_next_purchase"],
                         "overdue": cycles["overdue"].astype(bool)}, index=cycles.index)


def loyalty_columns(transactions: pd.DataFrame, rules: Any, *, as_of: pd.Timestamp,
                    expiring_within_days: int = 30) -> pd.DataFrame:
    """``tier``, ``points_outstanding`` and ``points_expiring_soon`` per customer at the end of ``as_of``.

    ``rules`` is a :class:`~crm_models.loyalty.LoyaltyRules` or the path of a YAML rule set.
    """
    from crm_models.loyalty import LoyaltyRules, customer_loyalty

    if not isinstance(rules, LoyaltyRules):
        rules = LoyaltyRules.from_yaml(rules)
    loyalty = customer_loyalty(transactions[["customer_id", "timestamp", "amount"]], rules, as_of=as_of,
                               expiring_within_days=expiring_within_days)
    return pd.DataFrame({"tier": loyalty["tier"].astype(str),
                         "points_outstanding": loyalty["points_outstanding"].astype(float),
                         "points_expiring_soon": loyalty["points_expiring_soon"].astype(float)},
                        index=loyalty.index)


def _empty(index: pd.Index, columns: dict[str, str]) -> pd.DataFrame:
    kinds = {"next_expected_purchase": "datetime64[ns]", "overdue": "boolean", "tier": "str"}
    return pd.DataFrame({c: pd.Series(np.nan if kinds.get(c) is None else None, index=index,
                                      dtype=kinds.get(c, "float64")) for c in columns})


def enrich(transactions: pd.DataFrame, customers: pd.Index, *, as_of: pd.Timestamp,
           settings: CustomerTableSettings) -> Enrichment:
    """The optional columns the ``settings`` ask for, for the table's ``customers`` (empty when none is asked).

    Customers missing from a computation (none are expected: both use the table's purchases) get missing values
    in its columns; a group the data cannot give is left empty with a note naming the reason.
    """
    parts: list[pd.DataFrame] = []
    descriptions: dict[str, str] = {}
    notes: list[str] = []
    if settings.lifecycle_columns:
        try:
            part = lifecycle_columns(transactions, as_of=as_of)
        except DataContractError as error:
            part = _empty(customers, LIFECYCLE_COLUMNS)
            notes.append(f"no purchase rhythm: {str(error).splitlines()[0]}")
        parts.append(part)
        descriptions.update(LIFECYCLE_COLUMNS)
    if settings.loyalty_rules:
        try:
            part = loyalty_columns(transactions, settings.loyalty_rules, as_of=as_of,
                                   expiring_within_days=settings.points_expiring_days)
        except DataContractError as error:
            part = _empty(customers, LOYALTY_COLUMNS)
            notes.append(f"no loyalty columns: {str(error).splitlines()[0]}")
        parts.append(part)
        descriptions.update(LOYALTY_COLUMNS)
    keys = pd.Index(customers.astype(str), name=customers.name)
    frames = [p.set_axis(p.index.astype(str)).reindex(keys).set_axis(customers) for p in parts]
    columns = pd.concat(frames, axis=1) if frames else pd.DataFrame(index=customers)
    if "overdue" in columns:
        columns["overdue"] = columns["overdue"].astype("boolean")
    return Enrichment(columns, descriptions, notes)


def next_product_descriptions(k: int) -> dict[str, str]:
    """:data:`NEXT_PRODUCT_COLUMNS` with ``next_product_<n>`` spelled out for ``n = 1 .. k``."""
    template = NEXT_PRODUCT_COLUMNS["next_product_<n>"]
    ranked = {f"next_product_{n}": template.replace("<n>", str(n)) for n in range(1, k + 1)}
    return {**ranked, **{c: d for c, d in NEXT_PRODUCT_COLUMNS.items() if c != "next_product_<n>"}}


def next_product_columns(
    recommender: Any,
    customers: pd.Index,
    *,
    k: int = 10,
    model: str | None = None,
    labels: Mapping[str, str] | pd.Series | None = None,
    exclude_purchased: bool = True,
    recommend_for: Iterable[Any] | None = None,
    separator: str = "; ",
) -> Enrichment:
    """The next-product columns (:data:`NEXT_PRODUCT_COLUMNS`) of the table's ``customers`` from a fitted
    recommender (any object with ``recommend(customer_ids, k, exclude_purchased)``, e.g. the classes of
    :mod:`crm_models.recommend`).

    Wide columns ``next_product_1 .. next_product_<k>`` (product ids, best first: the column number is the rank)
    suit a CRM platform's merge fields; ``next_products`` names the same products for people (``labels``, e.g.
    product descriptions, where given) and ``next_products_model`` says which recommender (``model``, or the
    recommender's class name). The recommenders' scores are not exported: they are on each model's own scale
    (sums of similarities, regression weights, counts), so they compare neither across models nor across runs.

    ``recommend_for`` limits the customers who get products (e.g. the first ones of the action list); the others,
    and anyone with nothing left to recommend, get empty values. Customers of ``recommend_for`` that are not in
    ``customers`` are refused (``ConfigurationError``, with their count: ids are not shown).
    """
    from crm_models.recommend.outputs import next_products

    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ConfigurationError(f"k must be a positive integer, got {k!r}")
    keys = pd.Index(customers.astype(str), name=customers.name)
    wanted = keys if recommend_for is None else pd.Index([str(c) for c in recommend_for])
    outside = int((~wanted.isin(keys)).sum())
    if outside:
        raise ConfigurationError(f"{outside} customers of recommend_for are not in the customer table")
    rows = next_products(recommender, wanted, k=int(k), exclude_purchased=exclude_purchased, labels=labels,
                         separator=separator)
    found = dict(zip(rows["customer_id"].astype(str), zip(rows["next_product_ids"], rows["next_products"],
                                                          strict=True), strict=True))
    pairs = [found.get(c, ((), "")) for c in keys]
    ranked = [products for products, _ in pairs]
    names = [text if products else pd.NA for products, text in pairs]
    label = model or type(recommender).__name__
    data = {f"next_product_{n}": pd.array([p[n - 1] if len(p) >= n else pd.NA for p in ranked], dtype="string")
            for n in range(1, int(k) + 1)}
    data["next_products"] = pd.array(names, dtype="string")
    data["next_products_model"] = pd.array([label if p else pd.NA for p in ranked], dtype="string")
    columns = pd.DataFrame(data, index=customers)
    served, asked = sum(1 for p in ranked if p), len(set(wanted))
    details = {"model": label, "k": int(k), "exclude_purchased": bool(exclude_purchased),
               "customers_with_products": served}
    reasons = [f"{n:,} {why}" for n, why in ((len(keys) - asked, "not asked for (recommend_for)"),
                                             (asked - served, "with no product left to recommend")) if n]
    notes = [f"next products for {served:,} of {len(keys):,} customers; " + ", ".join(reasons)] if reasons else []
    return Enrichment(columns, next_product_descriptions(int(k)), notes, group=NEXT_PRODUCTS_GROUP,
                      details=details, activation=True)


def check_next_product_columns(columns: pd.DataFrame) -> None:
    """The rules the next-product columns follow, checked when they are added to a table and read back.

    Per customer: the ranked ids fill ``next_product_1``, ``next_product_2``, ... without gaps and without
    repeating a product, and ``next_products`` and ``next_products_model`` are present exactly when
    ``next_product_1`` is. Raises ``DataContractError`` naming the column and the rule, with example rows by
    position (row numbers, not customer ids).
    """
    ranked = sorted((c for c in columns.columns if c.startswith("next_product_") and c[13:].isdigit()),
                    key=lambda c: int(c[13:]))
    expected = [f"next_product_{n}" for n in range(1, max(len(ranked), 1) + 1)]
    for name in [*expected, "next_products", "next_products_model"]:
        if name not in columns.columns:
            raise DataContractError("the next-product columns are incomplete", column=name,
                                    rule="next_product_1 .. next_product_<k>, next_products, next_products_model")
    rows = columns.reset_index(drop=True)
    present = rows[expected].notna().to_numpy()
    long = rows[expected].rename_axis("row").reset_index().melt(id_vars="row").dropna(subset=["value"])
    repeated = np.zeros(len(rows), dtype=bool)
    repeated[long.loc[long.duplicated(["row", "value"]), "row"].to_numpy(dtype=int)] = True
    checks = [
        ("next_product_<n>", "a customer's products fill next_product_1, next_product_2, ... without gaps",
         (present[:, 1:] & ~present[:, :-1]).any(axis=1)),
        ("next_product_<n>", "a product appears at most once in a customer's next products", repeated),
        ("next_products", "present exactly when next_product_1 is", rows["next_products"].notna().to_numpy()
         != present[:, 0]),
        ("next_products_model", "present exactly when next_product_1 is",
         rows["next_products_model"].notna().to_numpy() != present[:, 0]),
    ]
    for column, rule, bad in checks:
        if bad.any():
            raise DataContractError(f"{int(bad.sum())} customers break a rule of the next-product columns",
                                    column=column, rule=rule, examples=rows.loc[bad, expected[:3]].head())
