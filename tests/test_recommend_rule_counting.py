"""The counting core of the association rules (numpy over batches of baskets) against brute-force counts, in every
mode it switches between: dense and sparse key counts, dense and searched prefix numbers, chunked and very large
baskets, one cached batch and many re-streamed batches."""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_models.recommend import _itemset_counts as core
from crm_models.recommend import association_rules, frequent_itemsets
from crm_models.recommend import rules as rules_module

baskets_strategy = st.lists(st.lists(st.integers(0, 9), min_size=1, max_size=9), min_size=1, max_size=25)


def rows_of(baskets: list[list[int]], n_codes: int = 10) -> core.Rows:
    offsets = np.concatenate([[0], np.cumsum([len(b) for b in baskets])])
    codes = np.array([c for b in baskets for c in b], dtype=np.int64)
    return core.distinct_rows(offsets, codes, n_codes)


def brute_force(baskets: list[list[int]], size: int, n: int = 10) -> Counter:
    counts = Counter(t for b in baskets for t in combinations(sorted(set(b)), size))
    if size == 3:
        wanted = set(candidates_of(n))
        counts = Counter({t: c for t, c in counts.items() if t in wanted})
    return counts


def test_distinct_rows_keeps_each_product_once_sorted() -> None:
    indptr, indices = rows_of([[3, 1, 3, 2], [5], [4, 4]])
    assert indptr.tolist() == [0, 3, 4, 5]
    assert indices.tolist() == [1, 2, 3, 5, 4], "repeats merged, codes sorted within each basket"


def test_restrict_rows_recodes_and_drops_small_baskets() -> None:
    rows = rows_of([[0, 1, 2], [0, 3], [1, 2, 3], [2]])
    recode = np.array([-1, 1, 0, 2], dtype=np.int32)  # product 0 is dropped; 1 -> 1, 2 -> 0, 3 -> 2
    indptr, indices = core.restrict_rows(rows, recode, 2)
    assert indptr.tolist() == [0, 2, 5], "the baskets [0, 3] and [2] keep fewer than two products"
    assert sorted(indices[0:2].tolist()) == [0, 1] and sorted(indices[2:5].tolist()) == [0, 1, 2]


def pair_counts(rows: core.Rows, n: int) -> dict:
    counter = core.KeyCounter(n * n)
    core.count_pairs(rows, n, counter)
    keys, counts = counter.counts()
    return {(int(k) // n, int(k) % n): int(c) for k, c in zip(keys, counts, strict=True)}


def candidates_of(n: int) -> list[tuple[int, int, int]]:
    """Some triples, so that some pairs (i, j) start no candidate: those with i + j a multiple of 3 are left out."""
    return [t for t in combinations(range(n), 3) if (t[0] + t[1]) % 3]


def triple_counts(rows: core.Rows, n: int, searched: bool = False) -> dict:
    every = candidates_of(n)
    i, j, k = (np.array(column) for column in zip(*every, strict=True))
    prefixes = core.PrefixNumbers(i, j, n)
    if searched:
        prefixes._dense = None  # find prefixes by binary search, as for many frequent products
    counter = core.KeyCounter(len(prefixes) * n)
    core.count_triples(rows, n, prefixes, counter)
    keys, counts = counter.counts()
    found = dict(zip(keys.tolist(), counts.tolist(), strict=True))
    wanted = prefixes.of_candidate * n + k
    return {t: found[w] for t, w in zip(every, wanted.tolist(), strict=True) if w in found}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(baskets=baskets_strategy)
def test_pair_and_triple_counts_equal_brute_force(baskets) -> None:
    rows = rows_of(baskets)
    assert pair_counts(rows, 10) == dict(brute_force(baskets, 2))
    assert triple_counts(rows, 10) == dict(brute_force(baskets, 3))


@pytest.mark.parametrize("mode", ["sparse keys", "searched prefixes", "tiny chunks"])
def test_counts_are_the_same_in_every_mode(monkeypatch, rng, mode) -> None:
    baskets = [list(rng.choice(12, size=rng.integers(1, 14))) for _ in range(300)]
    baskets.append(list(range(12)))  # one basket with every product: C(12, 3) = 220 triples
    if mode == "sparse keys":
        monkeypatch.setattr(core, "_DENSE_KEYS", 0)
    elif mode == "tiny chunks":  # many flushes; baskets of 8 or more products take the large-basket path
        monkeypatch.setattr(core, "_CHUNK_KEYS", 50)
    rows = rows_of(baskets, 12)
    assert pair_counts(rows, 12) == dict(brute_force(baskets, 2))
    assert triple_counts(rows, 12, searched=mode == "searched prefixes") == dict(brute_force(baskets, 3, 12))


def test_candidate_triples_need_all_three_pairs() -> None:
    pairs = np.array([[0, 1], [0, 2], [1, 2], [0, 3], [1, 3], [2, 4]])
    candidates = core.candidate_triples(pairs[:, 0], pairs[:, 1])
    assert sorted(map(tuple, candidates.to_numpy().tolist())) == [(0, 1, 2), (0, 1, 3)], "(0, 2, 3) lacks (2, 3)"


def test_product_codes_stay_the_same_across_batches() -> None:
    codes = rules_module._ProductCodes()
    first = codes.encode(np.array(["b", "a", "b"], dtype=object))
    second = codes.encode(np.array(["c", "a", "c", "b"], dtype=object))
    decoded = np.asarray(codes.products)
    assert decoded[first].tolist() == ["b", "a", "b"]
    assert decoded[second].tolist() == ["c", "a", "c", "b"] and len(codes) == 3


def seeded_lines(rng, n_baskets: int = 2_000, n_products: int = 30) -> pd.DataFrame:
    popularity = rng.dirichlet(np.full(n_products, 0.5))
    rows = [(f"o{b}", f"p{p:02d}", float(rng.integers(-1, 3)))
            for b in range(n_baskets) for p in rng.choice(n_products, size=rng.integers(1, 9), p=popularity)]
    return pd.DataFrame(rows, columns=["order_id", "product_id", "quantity"])


def test_many_small_batches_asked_again_give_the_same_rules(monkeypatch, rng) -> None:
    lines = seeded_lines(rng)
    in_one_batch = association_rules(lines, min_support=0.01, min_confidence=0.1)
    assert len(in_one_batch) > 50 and (in_one_batch["antecedents"].map(len) == 2).any()
    calls = []
    original = rules_module._arrow_batches

    def counted(expression, batch_rows):
        calls.append(batch_rows)
        yield from original(expression, batch_rows)

    monkeypatch.setattr(rules_module, "_BATCH_BASKETS", 64)
    monkeypatch.setattr(rules_module, "_CACHE_ENTRIES", 0)
    monkeypatch.setattr(rules_module, "_arrow_batches", counted)
    streamed = association_rules(lines, min_support=0.01, min_confidence=0.1)
    assert calls == [64, 64, 64], "three passes (products, pairs, triples), each asking the engine again"
    pd.testing.assert_frame_equal(streamed, in_one_batch, check_exact=False, rtol=1e-12)


def test_cached_baskets_are_read_from_the_engine_once(monkeypatch, rng) -> None:
    calls = []
    original = rules_module._arrow_batches

    def counted(expression, batch_rows):
        calls.append(batch_rows)
        yield from original(expression, batch_rows)

    monkeypatch.setattr(rules_module, "_arrow_batches", counted)
    counted_sets = frequent_itemsets(seeded_lines(rng), min_support=0.01, max_size=3)
    assert calls == [rules_module._BATCH_BASKETS] and counted_sets.itemsets["size"].max() == 3


def test_number_of_baskets_counts_purchase_orders_only(rng) -> None:
    lines = seeded_lines(rng, n_baskets=500)
    purchases = lines.loc[lines["quantity"] > 0]
    counted_sets = frequent_itemsets(lines, min_support=0.05, max_size=1)
    assert counted_sets.n_baskets == purchases["order_id"].nunique()
    singles = counted_sets.itemsets.set_index(counted_sets.itemsets["items"].map(lambda t: t[0]))["count"]
    expected = purchases.drop_duplicates(["order_id", "product_id"])["product_id"].value_counts()
    assert singles.to_dict() == expected.loc[singles.index].to_dict()


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 7])
def test_triple_positions_are_every_combination_in_order(size) -> None:
    positions = list(zip(*(p.tolist() for p in core._triple_positions(size)), strict=True))
    assert positions == list(combinations(range(size), 3))
