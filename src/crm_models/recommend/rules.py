"""Association rules ("customers who bought A also bought B") for item sets of up to three products.

Item sets are counted by the engine (ibis; DuckDB by default, any ibis backend such as Spark when an ibis table
is handed in), level by level as in Apriori (Agrawal & Srikant 1994, "Fast algorithms for mining association
rules", VLDB): frequent single products, then pairs of frequent products in the same basket, then the candidate
triples whose three pairs are all frequent. Only counts leave the engine, so Python's memory is bounded by the
number of frequent item sets, not by the number of baskets; DuckDB spills joins and intermediate tables to disk
under its ``memory_limit`` (see :func:`crm_models.data.duckdb_backend`).

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

import contextlib
from dataclasses import dataclass
from itertools import combinations
from typing import Any

import numpy as np
import pandas as pd

from crm_models.data.engine import TableSource
from crm_models.exceptions import ConfigurationError
from crm_models.recommend.baskets import basket_items

RULE_COLUMNS = ("antecedents", "consequents", "antecedent_support", "consequent_support", "support",
                "confidence", "lift", "leverage", "conviction", "count")


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
    ``count / n_baskets >= min_support`` (the comparison mlxtend makes). Counting runs on the engine of
    ``lines`` (see :func:`crm_models.recommend.baskets.basket_items`).
    """
    _check_settings(min_support, max_size)
    with _Scratch(basket_items(lines, backend=backend, basket=basket)) as scratch:
        return _count_itemsets(scratch, float(min_support), int(max_size))


class _Scratch:
    """Intermediate tables reused by several queries: materialised as temporary tables on DuckDB (dropped on
    exit), left as expressions on other backends (a Spark plan is recomputed, not collected)."""

    def __init__(self, items: Any) -> None:
        import ibis

        self.backend = ibis.get_backend(items)
        self.names: list[str] = []
        self.items = self.keep(items)

    def keep(self, expression: Any) -> Any:
        if getattr(self.backend, "name", "") != "duckdb":
            return expression
        from crm_models.data.engine import _temp_name

        name = _temp_name()
        self.names.append(name)
        return self.backend.create_table(name, expression, temp=True)

    def __enter__(self) -> _Scratch:  # noqa: PYI034 - a private helper, never subclassed
        return self

    def __exit__(self, *exc: object) -> None:
        for name in self.names:
            # ibis' drop_table emits SQL that DuckDB 2.0 rejects; the plain statement works everywhere.
            with contextlib.suppress(Exception):
                self.backend.raw_sql(f'DROP TABLE IF EXISTS "{name}"')


def _count_itemsets(scratch: _Scratch, threshold: float, max_size: int) -> FrequentItemsets:
    import ibis

    items = scratch.items
    n_baskets = int(items["basket"].nunique().execute())
    if n_baskets == 0:
        empty = pd.DataFrame({"items": pd.Series([], dtype=object), "size": pd.Series([], dtype="int64"),
                              "count": pd.Series([], dtype="int64"), "support": pd.Series([], dtype="float64")})
        return FrequentItemsets(empty, 0, threshold, max_size)

    def frequent(counts: Any) -> Any:
        return counts.filter(counts["count"].cast("float64") / n_baskets >= threshold)

    singles = frequent(items.group_by("product_id").agg(count=items.count()))
    codes = singles.select("product_id", "count",
                           code=ibis.row_number().over(order_by=singles["product_id"]))
    code_frame = codes.to_pandas().sort_values("code").reset_index(drop=True)
    product_of = dict(zip(code_frame["code"].astype(int), code_frame["product_id"].astype(object), strict=True))
    pieces = [pd.DataFrame({"codes": [(int(c),) for c in code_frame["code"]],
                            "count": code_frame["count"].astype("int64")})]

    if max_size >= 2 and len(code_frame) >= 2:
        code_table = ibis.memtable(code_frame[["product_id", "code"]].astype({"code": "int64"}))
        coded = items.join(code_table, "product_id").select("basket", "code")
        coded = scratch.keep(coded)
        pairs = _pair_rows(coded, coded)
        if max_size >= 3:
            # Triples are counted from the basket pairs too: keep them once (DuckDB spills them under its limit).
            pairs = scratch.keep(pairs)
        pair_frame = frequent(pairs.group_by(["i", "j"]).agg(count=pairs.count())).to_pandas()
        pieces.append(pd.DataFrame({"codes": list(zip(pair_frame["i"].astype(int), pair_frame["j"].astype(int),
                                                      strict=True)),
                                    "count": pair_frame["count"].astype("int64")}))
        if max_size >= 3 and len(pair_frame) >= 2:
            candidates = _candidate_triples(pair_frame)
            if len(candidates):
                triple_frame = _count_triples(pairs, coded, candidates, frequent)
                pieces.append(pd.DataFrame({
                    "codes": list(zip(triple_frame["i"].astype(int), triple_frame["j"].astype(int),
                                      triple_frame["k"].astype(int), strict=True)),
                    "count": triple_frame["count"].astype("int64")}))

    table = pd.concat(pieces, ignore_index=True)
    # Codes follow the sort order of product ids, so decoding keeps every tuple sorted.
    table["items"] = [tuple(product_of[c] for c in codes_) for codes_ in table["codes"]]
    table["size"] = table["codes"].map(len).astype("int64")
    table["support"] = table["count"].to_numpy(dtype="float64") / n_baskets
    table = table.drop(columns="codes")[["items", "size", "count", "support"]]
    table = table.sort_values(["size", "support", "items"], ascending=[True, False, True], kind="stable")
    return FrequentItemsets(table.reset_index(drop=True), n_baskets, threshold, max_size)


def _pair_rows(first: Any, second: Any) -> Any:
    """``(basket_a, i, j)`` for products i < j bought together, from two (possibly restricted) coded tables."""
    left = first.select(basket_a=first["basket"], i=first["code"])
    right = second.select(basket_b=second["basket"], j=second["code"])
    joined = left.join(right, [left["basket_a"] == right["basket_b"], left["i"] < right["j"]])
    return joined.select("basket_a", "i", "j")


def _candidate_triples(pairs: pd.DataFrame) -> pd.DataFrame:
    """Apriori candidate generation: triples i < j < k whose three pairs are all frequent."""
    frame = pairs[["i", "j"]].astype("int64")
    joined = frame.merge(frame.rename(columns={"j": "k"}), on="i")
    joined = joined.loc[joined["j"] < joined["k"]]
    frequent_pairs = frame.rename(columns={"i": "j", "j": "k"})
    return joined.merge(frequent_pairs, on=["j", "k"])[["i", "j", "k"]].reset_index(drop=True)


def _count_triples(pairs: Any, coded: Any, candidates: pd.DataFrame, frequent: Any) -> pd.DataFrame:
    """Baskets containing each candidate triple (i < j < k), counted on the engine with equality joins only.

    The basket pairs ``(basket, i, j)`` are matched to the candidates on ``(i, j)``, which names the third
    product k; a semi join keeps the rows whose basket also holds k.
    """
    import ibis

    table = ibis.memtable(candidates)
    with_k = pairs.join(table, [pairs["i"] == table["i"], pairs["j"] == table["j"]])
    with_k = with_k.select("basket_a", "i", "j", "k")
    third = coded.select(basket_c=coded["basket"], code_c=coded["code"])
    present = with_k.semi_join(third, [with_k["basket_a"] == third["basket_c"], with_k["k"] == third["code_c"]])
    return frequent(present.group_by(["i", "j", "k"]).agg(count=present.count())).to_pandas()


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
