"""Association rules by hand (issue 21, mutation survivors of `recommend`): no baskets, one basket, the order of
tied rules, the sparse counter's merging, the report sentences' rounding and the number of category sentences.

Each test names the class of wrong implementation it guards against.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from crm_models.exceptions import ConfigurationError
from crm_models.recommend import _itemset_counts as core
from crm_models.recommend import association_rules, frequent_itemsets
from crm_models.recommend.report import describe_categories, one_rule_per_itemset, top_pair_sentence
from crm_models.recommend.rules import RULE_COLUMNS


def lines_of(baskets: list[list[str]], quantity: float = 1.0) -> pd.DataFrame:
    rows = [(f"o{b}", "c", p, quantity) for b, basket in enumerate(baskets) for p in basket]
    return pd.DataFrame(rows, columns=["order_id", "customer_id", "product_id", "quantity"])


def test_no_purchase_lines_give_no_item_sets_and_no_rules() -> None:
    """Guards: the empty result built with other columns or dtypes (only returns: zero baskets)."""
    counted = frequent_itemsets(lines_of([["a", "b"], ["a"]], quantity=-1.0), min_support=0.1)
    assert counted.n_baskets == 0 and len(counted.itemsets) == 0
    assert list(counted.itemsets.columns) == ["items", "size", "count", "support"]
    assert [str(t) for t in counted.itemsets.dtypes] == ["object", "int64", "int64", "float64"]
    rules = association_rules(lines_of([["a", "b"]], quantity=-1.0), min_support=0.1, min_confidence=0.1)
    assert list(rules.columns) == list(RULE_COLUMNS) and len(rules) == 0


def test_one_basket_is_counted() -> None:
    """Guards: a single basket taken for no basket (every set in it has support 1)."""
    counted = frequent_itemsets(lines_of([["b", "a", "c"]]), min_support=1.0)
    assert counted.n_baskets == 1
    assert counted.itemsets["items"].tolist() == [("a",), ("b",), ("c",), ("a", "b"), ("a", "c"), ("b", "c"),
                                                 ("a", "b", "c")]
    assert counted.itemsets["support"].tolist() == [1.0] * 7 and counted.itemsets["count"].tolist() == [1] * 7


def test_tied_rules_are_ordered_by_antecedents_then_consequents() -> None:
    """Guards: the tie-break order of the sort reversed (rules of equal lift, confidence and support).

    Baskets {a, b} and {c, d}: a -> b, b -> a, c -> d, d -> c all have support 1/2, confidence 1, lift 2.
    """
    rules = association_rules(lines_of([["d", "c"], ["b", "a"]]), min_support=0.5, min_confidence=0.5)
    assert list(zip(rules["antecedents"], rules["consequents"], strict=True)) == [
        (("a",), ("b",)), (("b",), ("a",)), (("c",), ("d",)), (("d",), ("c",))]
    assert rules["lift"].tolist() == [2.0] * 4 and rules["count"].tolist() == [1] * 4
    assert list(one_rule_per_itemset(rules).index) == [0, 2]


def test_min_support_zero_is_refused_and_one_is_accepted() -> None:
    """Guards: the support bounds moved (0 would keep every set; 1 is a valid, strict threshold)."""
    with pytest.raises(ConfigurationError, match="min_support"):
        frequent_itemsets(lines_of([["a", "b"]]), min_support=0.0)
    with pytest.raises(ConfigurationError, match="max_size"):
        frequent_itemsets(lines_of([["a", "b"]]), max_size=2.5)
    assert len(frequent_itemsets(lines_of([["a", "b"], ["a"]]), min_support=1.0).itemsets) == 1


def test_pairs_need_two_frequent_products_in_the_basket() -> None:
    """Guards: pairs counted only in baskets with three or more frequent products, or triples counted when
    ``max_size`` is 2.

    Baskets {a, b} x 3, {a, b, c} x 2, {c} x 1 (6 baskets): pair ab in 5 (support 5/6), ac, bc in 2 (1/3), abc in 2.
    """
    baskets = [["a", "b"]] * 3 + [["a", "b", "c"]] * 2 + [["c"]]
    counted = frequent_itemsets(lines_of(baskets), min_support=0.3, max_size=3)
    support = dict(zip(counted.itemsets["items"], counted.itemsets["count"], strict=True))
    assert support == {("a",): 5, ("b",): 5, ("c",): 3, ("a", "b"): 5, ("a", "c"): 2, ("b", "c"): 2,
                       ("a", "b", "c"): 2}
    pairs_only = frequent_itemsets(lines_of(baskets), min_support=0.3, max_size=2)
    assert pairs_only.itemsets["size"].max() == 2 and len(pairs_only.itemsets) == 6


def test_sparse_counts_merge_after_many_flushes(monkeypatch) -> None:
    """Guards: the merged sparse counts lost once more than eight flushed parts are combined (a counter for
    key spaces too large for a dense array)."""
    monkeypatch.setattr(core, "_DENSE_KEYS", 0)
    monkeypatch.setattr(core, "_CHUNK_KEYS", 4)
    rng = np.random.default_rng(21)
    counter = core.KeyCounter(50)
    expected: Counter = Counter()
    for _ in range(30):
        keys = rng.integers(0, 50, size=5)
        counter.add(keys)
        expected.update(keys.tolist())
    keys, counts = counter.counts()
    assert dict(zip(keys.tolist(), counts.tolist(), strict=True)) == dict(expected)
    assert keys.tolist() == sorted(expected)


def test_top_pair_sentence_rounds_lifts_of_ten_and_more_to_whole_numbers() -> None:
    """Guards: the rounding threshold moved off 10 (lift 10.4 reads "10", 9.96 reads "10.0")."""
    def rules(lift: float) -> pd.DataFrame:
        return pd.DataFrame({"antecedents": [("a",)], "consequents": [("b",)], "lift": [lift]})

    assert top_pair_sentence(rules(10.4)) == "customers who buy a also buy b (lift 10)"
    assert top_pair_sentence(rules(9.96)) == "customers who buy a also buy b (lift 10.0)"
    assert top_pair_sentence(rules(2.345), {"a": "RED MUG"}).startswith("customers who buy Red mug also buy b")


def test_category_sentences_follow_top() -> None:
    """Guards: the number of category sentences asked for not passed on (three pairs planted, two asked)."""
    rows = []
    for order, (left, right) in enumerate([("toys", "games"), ("pens", "paper"), ("tea", "cups")] * 3):
        rows += [(f"o{order}", "c", f"{left}-1", left, 1), (f"o{order}", "c", f"{right}-1", right, 1)]
    lines = pd.DataFrame(rows, columns=["order_id", "customer_id", "product_id", "category", "quantity"])
    assert len(describe_categories(lines, min_support=0.1, min_confidence=0.5)) == 3
    two = describe_categories(lines, min_support=0.1, min_confidence=0.5, top=2)
    assert len(two) == 2 and all("3.0 times as often" in s for s in two)
