"""Association rules ("customers who bought A also bought B") for item sets of up to three products.

Item sets are counted level by level as in Apriori (Agrawal & Srikant 1994, "Fast algorithms for mining
association rules", VLDB): frequent single products, then pairs of frequent products in the same basket, then
the candidate triples whose three pairs are all frequent.

The engine (ibis; DuckDB by default, any ibis backend such as Spark when an ibis table is handed in) reads the
order lines and groups the purchase lines into baskets, one list of products per basket. The baskets come back
as a stream of batches, each holding whole baskets; numpy counts them (see
:mod:`crm_models.recommend._itemset_counts`). Python's memory is bounded by one batch plus the counts: when all
baskets fit in a fixed number of entries they are kept between the counting passes, otherwise each pass asks the
engine again. DuckDB spills its grouping to disk under its ``memory_limit`` (see
:func:`crm_models.data.duckdb_backend`).

Rule measures for a rule A -> C with supports s(A), s(C), s(AC) (Agrawal, Imielinski & Swami 1993; Brin,
Motwani, Ullman & Tsur 1997 for lift and conviction; Piatetsky-Shapiro 1991 for leverage):

- confidence = s(AC) / s(A)
- lift = confidence / s(C)
- leverage = s(AC) - s(A) s(C)
- conviction = (1 - s(C)) / (1 - confidence), infinite when confidence is 1.

These are the definitions of mlxtend's ``association_rules``; the values equal mlxtend's ``fpgrowth`` +
``association_rules`` on the same baskets (tested).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from crm_models.data.engine import TableSource
from crm_models.exceptions import ConfigurationError
from crm_models.recommend._itemset_counts import (
    KeyCounter,
    PrefixNumbers,
    Rows,
    candidate_triples,
    count_pairs,
    count_triples,
    distinct_rows,
    restrict_rows,
)
from crm_models.recommend.baskets import purchase_lines

RULE_COLUMNS = ("antecedents", "consequents", "antecedent_support", "consequent_support", "support",
                "confidence", "lift", "leverage", "conviction", "count")
_BATCH_BASKETS = 1_000_000  # baskets per batch handed back by the engine
_CACHE_ENTRIES = 1 << 25  # keep the baskets in memory between passes up to this many (basket, product) entries


@dataclass(frozen=True)
class FrequentItemsets:
    """Frequent item sets and the number of baskets their supports are shares of.

    ``itemsets`` has one row per item set: ``items`` (a sorted tuple of product ids), ``size``, ``count``
    (baskets that contain every item) and ``support`` (``count / n_baskets``).
    """

    itemsets: pd.DataFrame
    n_baskets: int
    min_support: float
    max_size: int


def _check_settings(min_support: float, max_size: int) -> None:
    if not 0.0 < float(min_support) <= 1.0:
        raise ConfigurationError(f"min_support must be in (0, 1], got {min_support!r}")
    if int(max_size) not in (1, 2, 3) or int(max_size) != max_size:
        raise ConfigurationError(f"max_size must be 1, 2 or 3 (item sets up to three products), got {max_size!r}")


def frequent_itemsets(
    lines: TableSource,
    *,
    min_support: float = 0.01,
    max_size: int = 3,
    backend: Any = None,
    basket: str = "order_id",
) -> FrequentItemsets:
    """Count the item sets of up to ``max_size`` products whose support is at least ``min_support``.

    ``support`` is the share of baskets that contain every product of the set; a set is kept when
    ``count / n_baskets >= min_support`` (the comparison mlxtend makes). The engine of ``lines`` groups the
    purchase lines into baskets, one list of products per basket; numpy counts them batch by batch.
    """
    _check_settings(min_support, max_size)
    source = _BasketSource(_basket_lists(lines, backend=backend, basket=basket))
    return _count_itemsets(source, float(min_support), int(max_size))


def _basket_lists(lines: TableSource, *, backend: Any = None, basket: str = "order_id") -> Any:
    """One row per basket with the list of its purchased products (``basket_products``; a product bought on
    two lines of the basket appears twice), as an ibis expression on the engine of ``lines``.

    Raises ``DataContractError`` when ``basket`` or ``product_id`` is missing.
    """
    table = purchase_lines(lines, (basket, "product_id"), backend=backend,
                           rule="baskets need a basket id and a product id (read_order_lines maps them)")
    grouped = table.group_by(basket).agg(basket_products=table["product_id"].collect())
    return grouped.select("basket_products")


class _ProductCodes:
    """Integer codes for product ids, shared by every batch (new products get the next codes)."""

    def __init__(self) -> None:
        self.products: pd.Index | None = None

    def __len__(self) -> int:
        return 0 if self.products is None else len(self.products)

    def encode(self, values: np.ndarray) -> np.ndarray:
        codes, uniques = pd.factorize(values)
        if self.products is None:
            self.products = pd.Index(uniques)
            return codes
        position = np.asarray(self.products.get_indexer(uniques), dtype=np.int64)
        new = position < 0
        if new.any():
            position[new] = len(self.products) + np.arange(int(new.sum()))
            self.products = self.products.append(pd.Index(uniques[new]))
        return position[codes]


class _BasketSource:
    """The baskets of an engine expression (see :func:`_basket_lists`) in batches of whole baskets, as
    ``(indptr, indices)`` rows over product codes with every product once.

    Each pass over the source streams the engine's result batch by batch. When all baskets fit in
    ``cache_entries`` (basket, product) entries, the first pass keeps them and later passes reuse them; otherwise
    every pass asks the engine again, so memory stays bounded by one batch.
    """

    def __init__(self, expression: Any, cache_entries: int | None = None) -> None:
        self.expression = expression
        self.codes = _ProductCodes()
        self.cache_entries = _CACHE_ENTRIES if cache_entries is None else cache_entries
        self._cache: list[Rows] | None = None

    def __iter__(self) -> Iterator[Rows]:
        if self._cache is not None:
            yield from self._cache
            return
        cache: list[Rows] | None = []
        entries = 0
        for batch in _arrow_batches(self.expression, _BATCH_BASKETS):
            if batch.num_rows == 0:
                continue
            rows = self._rows(batch.column(0))
            entries += len(rows[1])
            if cache is not None and entries <= self.cache_entries:
                cache.append(rows)
            else:
                cache = None
            yield rows
        self._cache = cache

    def _rows(self, column: Any) -> Rows:
        values = column.flatten().to_numpy(zero_copy_only=False)
        codes = self.codes.encode(values)
        return distinct_rows(column.offsets.to_numpy(), codes, len(self.codes))


def _arrow_batches(expression: Any, batch_rows: int) -> Iterator[Any]:
    """The result of ``expression`` as a stream of Arrow record batches.

    On DuckDB the compiled query is streamed through DuckDB's own Arrow reader (ibis 12's
    ``to_pyarrow_batches`` calls a method DuckDB 2.0 no longer has); other backends use ``to_pyarrow_batches``.
    """
    import ibis

    backend = ibis.get_backend(expression)
    if getattr(backend, "name", "") == "duckdb":
        yield from backend.con.sql(backend.compile(expression)).to_arrow_reader(batch_rows)
    else:
        yield from expression.to_pyarrow_batches(chunk_size=batch_rows)


def _count_itemsets(source: _BasketSource, threshold: float, max_size: int) -> FrequentItemsets:
    n_baskets = 0
    product_counts = np.zeros(0, dtype=np.int64)
    for indptr, indices in source:
        n_baskets += len(indptr) - 1
        batch_counts = np.bincount(indices, minlength=len(source.codes))
        batch_counts[:len(product_counts)] += product_counts
        product_counts = batch_counts
    if n_baskets == 0:
        empty = pd.DataFrame({"items": pd.Series([], dtype=object), "size": pd.Series([], dtype="int64"),
                              "count": pd.Series([], dtype="int64"), "support": pd.Series([], dtype="float64")})
        return FrequentItemsets(empty, 0, threshold, max_size)

    def frequent(counts: np.ndarray) -> np.ndarray:
        return counts.astype("float64") / n_baskets >= threshold

    # Frequent products get codes 0..n-1 in the order of their ids, so every code tuple i < j < k decodes to a
    # sorted tuple of product ids.
    kept = np.flatnonzero(frequent(product_counts))
    products = np.asarray(source.codes.products)[kept] if len(kept) else np.zeros(0, dtype=object)
    by_id = np.argsort(products, kind="stable")
    kept, products = kept[by_id], products[by_id].tolist()
    n = len(kept)
    recode = np.full(len(source.codes), -1, dtype=np.int32)
    recode[kept] = np.arange(n)
    pieces = [pd.DataFrame({"codes": [(c,) for c in range(n)], "count": product_counts[kept]})]

    if max_size >= 2 and n >= 2:
        pair_counter = KeyCounter(n * n)
        for rows in source:
            count_pairs(restrict_rows(rows, recode, 2), n, pair_counter)
        keys, counts = pair_counter.counts()
        keys, counts = keys[frequent(counts)], counts[frequent(counts)]
        pair_i, pair_j = keys // n, keys % n
        pieces.append(pd.DataFrame({"codes": list(zip(pair_i.tolist(), pair_j.tolist(), strict=True)),
                                    "count": counts}))
        if max_size >= 3 and len(keys) >= 2:
            candidates = candidate_triples(pair_i, pair_j)
            if len(candidates):
                pieces.append(_count_triples(source, recode, n, candidates, frequent))

    table = pd.concat(pieces, ignore_index=True)
    table["items"] = [tuple(products[c] for c in codes_) for codes_ in table["codes"]]
    table["size"] = table["codes"].map(len).astype("int64")
    table["count"] = table["count"].astype("int64")
    table["support"] = table["count"].to_numpy(dtype="float64") / n_baskets
    table = table.drop(columns="codes")[["items", "size", "count", "support"]]
    table = table.sort_values(["size", "support", "items"], ascending=[True, False, True], kind="stable")
    return FrequentItemsets(table.reset_index(drop=True), n_baskets, threshold, max_size)


def _count_triples(source: _BasketSource, recode: np.ndarray, n: int, candidates: pd.DataFrame,
                   frequent: Any) -> pd.DataFrame:
    """``codes`` and ``count`` of the frequent candidate triples: one more pass over the baskets, restricted to
    the products of some candidate and to baskets with three of them."""
    i, j, k = (candidates[c].to_numpy(dtype=np.int64) for c in ("i", "j", "k"))
    in_candidates = np.zeros(n, dtype=bool)
    in_candidates[np.concatenate([i, j, k])] = True
    recode_triples = np.where((recode >= 0) & in_candidates[np.maximum(recode, 0)], recode, -1).astype(np.int32)
    prefixes = PrefixNumbers(i, j, n)
    counter = KeyCounter(len(prefixes) * n)
    for rows in source:
        count_triples(restrict_rows(rows, recode_triples, 3), n, prefixes, counter)
    keys, counts = counter.counts()
    wanted = prefixes.of_candidate * n + k
    count = np.zeros(len(wanted), dtype=np.int64)
    if len(keys):
        position = np.minimum(np.searchsorted(keys, wanted), len(keys) - 1)
        found = keys[position] == wanted
        count[found] = counts[position[found]]
    keep = frequent(count)
    return pd.DataFrame({"codes": list(zip(i[keep].tolist(), j[keep].tolist(), k[keep].tolist(), strict=True)),
                         "count": count[keep]})


def conviction(confidence: np.ndarray, consequent_support: np.ndarray) -> np.ndarray:
    """``(1 - s(C)) / (1 - confidence)``, infinite where confidence is 1 (Brin et al. 1997)."""
    confidence = np.asarray(confidence, dtype="float64")
    consequent_support = np.asarray(consequent_support, dtype="float64")
    out = np.full(confidence.shape, np.inf)
    finite = confidence < 1.0
    out[finite] = (1.0 - consequent_support[finite]) / (1.0 - confidence[finite])
    return out


def rules_from_itemsets(itemsets: FrequentItemsets, *, min_confidence: float = 0.5) -> pd.DataFrame:
    """Every rule A -> C with A and C disjoint, non-empty and A + C a frequent item set of two or more products,
    kept when its confidence is at least ``min_confidence``; measures as in the module docstring.

    Sorted by lift, then confidence, then support (largest first), ties by antecedents and consequents.
    """
    if not 0.0 <= float(min_confidence) <= 1.0:
        raise ConfigurationError(f"min_confidence must be in [0, 1], got {min_confidence!r}")
    frame = itemsets.itemsets
    support = dict(zip(frame["items"], frame["support"], strict=True))
    antecedents: list[tuple] = []
    consequents: list[tuple] = []
    joint: list[float] = []
    counts: list[int] = []
    for items, count, s in zip(frame["items"], frame["count"], frame["support"], strict=True):
        if len(items) < 2:
            continue
        for size in range(1, len(items)):
            for antecedent in combinations(items, size):
                antecedents.append(antecedent)
                consequents.append(tuple(i for i in items if i not in antecedent))
                joint.append(s)
                counts.append(int(count))
    s_ac = np.asarray(joint, dtype="float64")
    s_a = np.asarray([support[a] for a in antecedents], dtype="float64")
    s_c = np.asarray([support[c] for c in consequents], dtype="float64")
    confidence = s_ac / s_a if len(s_ac) else s_ac
    rules = pd.DataFrame({
        "antecedents": pd.Series(antecedents, dtype=object),
        "consequents": pd.Series(consequents, dtype=object),
        "antecedent_support": s_a,
        "consequent_support": s_c,
        "support": s_ac,
        "confidence": confidence,
        "lift": confidence / s_c if len(s_ac) else s_ac,
        "leverage": s_ac - s_a * s_c,
        "conviction": conviction(confidence, s_c),
        "count": np.asarray(counts, dtype="int64"),
    })
    rules = rules.loc[rules["confidence"] >= float(min_confidence)]
    rules = rules.sort_values(["lift", "confidence", "support", "antecedents", "consequents"],
                              ascending=[False, False, False, True, True], kind="stable")
    return rules.reset_index(drop=True)


def association_rules(
    lines: TableSource,
    *,
    min_support: float = 0.01,
    min_confidence: float = 0.5,
    max_size: int = 3,
    backend: Any = None,
    basket: str = "order_id",
) -> pd.DataFrame:
    """Association rules among item sets of up to ``max_size`` (at most 3) products bought on the same order.

    Parameters
    ----------
    lines
        Canonical order lines (pandas, a CSV/Parquet path, or an ibis table on any backend).
    min_support
        Keep item sets contained in at least this share of baskets.
    min_confidence
        Keep rules A -> C with ``s(AC) / s(A)`` at least this.
    backend
        The ibis backend that pandas frames and paths are registered with (DuckDB by default).

    Returns
    -------
    One row per rule: ``antecedents`` and ``consequents`` (sorted tuples of product ids), their supports, the
    rule's ``support``, ``confidence``, ``lift``, ``leverage``, ``conviction`` and ``count`` (baskets with
    every product of the rule).

    Examples
    --------
    >>> lines = pd.DataFrame({"order_id": ["1", "1", "2", "2", "3"], "product_id": ["a", "b", "a", "b", "a"],
    ...                       "quantity": [1, 1, 1, 1, 1]})
    >>> rules = association_rules(lines, min_support=0.5, min_confidence=0.5)
    >>> rules[["antecedents", "consequents", "confidence"]].round(3).to_string(index=False)
    'antecedents consequents  confidence\\n       (b,)        (a,)       1.000\\n       (a,)        (b,)       0.667'
    """
    counted = frequent_itemsets(lines, min_support=min_support, max_size=max_size, backend=backend, basket=basket)
    return rules_from_itemsets(counted, min_confidence=min_confidence)
