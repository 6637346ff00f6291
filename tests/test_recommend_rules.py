"""Association rules: hand-computed measures, parity with mlxtend (fpgrowth + association_rules), bad settings."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_models.exceptions import ConfigurationError, DataContractError
from crm_models.recommend import association_rules, frequent_itemsets


def lines_from_baskets(baskets: list[set[str]], quantity: float = 1.0) -> pd.DataFrame:
    rows = [(str(i), p) for i, basket in enumerate(baskets) for p in sorted(basket)]
    return pd.DataFrame({"order_id": [r[0] for r in rows], "product_id": [r[1] for r in rows],
                         "quantity": quantity})


# a: 4 of 5 baskets, b and c: 3 of 5; every pair 2 of 5; abc 1 of 5.
HAND = [{"a", "b", "c"}, {"a", "b"}, {"a", "c"}, {"b", "c"}, {"a"}]


def rule(rules: pd.DataFrame, antecedents: tuple, consequents: tuple) -> pd.Series:
    match = rules.loc[(rules["antecedents"] == antecedents) & (rules["consequents"] == consequents)]
    assert len(match) == 1, f"rule {antecedents} -> {consequents} not found once"
    return match.iloc[0]


def test_measures_equal_hand_computed_values() -> None:
    rules = association_rules(lines_from_baskets(HAND), min_support=0.2, min_confidence=0.0)
    assert len(rules) == 12, "3 pairs x 2 directions + 1 triple x 6 splits"
    a_b = rule(rules, ("a",), ("b",))
    assert a_b["support"] == pytest.approx(0.4)
    assert a_b["confidence"] == pytest.approx(0.5)
    assert a_b["lift"] == pytest.approx(0.5 / 0.6)
    assert a_b["leverage"] == pytest.approx(0.4 - 0.8 * 0.6)
    assert a_b["conviction"] == pytest.approx(0.4 / 0.5)
    b_a = rule(rules, ("b",), ("a",))
    assert b_a["confidence"] == pytest.approx(2 / 3) and b_a["conviction"] == pytest.approx(0.2 / (1 / 3))
    ab_c = rule(rules, ("a", "b"), ("c",))
    assert ab_c["antecedent_support"] == pytest.approx(0.4) and ab_c["confidence"] == pytest.approx(0.5)
    assert ab_c["leverage"] == pytest.approx(0.2 - 0.4 * 0.6) and ab_c["count"] == 1
    c_ab = rule(rules, ("c",), ("a", "b"))
    assert c_ab["confidence"] == pytest.approx(1 / 3) and c_ab["conviction"] == pytest.approx(0.6 / (2 / 3))
    assert list(rules["lift"]) == sorted(rules["lift"], reverse=True)


def test_minimum_support_and_confidence_filter() -> None:
    lines = lines_from_baskets(HAND)
    assert len(association_rules(lines, min_support=0.3, min_confidence=0.0)) == 6, "abc (0.2) is not frequent"
    confident = association_rules(lines, min_support=0.2, min_confidence=0.6)
    assert set(zip(confident["antecedents"], confident["consequents"], strict=True)) == {
        (("b",), ("a",)), (("c",), ("a",)), (("b",), ("c",)), (("c",), ("b",))}
    counted = frequent_itemsets(lines, min_support=0.2, max_size=2)
    assert counted.n_baskets == 5 and counted.itemsets["size"].max() == 2


def test_certain_rule_has_infinite_conviction() -> None:
    rules = association_rules(lines_from_baskets([{"x", "y"}, {"x", "y"}, {"x"}]), min_support=0.5,
                              min_confidence=0.9)
    certain = rule(rules, ("y",), ("x",))
    assert certain["confidence"] == 1.0 and math.isinf(certain["conviction"])


def test_return_lines_do_not_make_products_bought_together() -> None:
    lines = lines_from_baskets([{"a", "b"}, {"a"}, {"b"}])
    returned = pd.DataFrame({"order_id": ["1", "2"], "product_id": ["b", "a"], "quantity": [-1.0, -1.0]})
    rules = association_rules(pd.concat([lines, returned], ignore_index=True), min_support=0.3, min_confidence=0.1)
    assert len(rules) == 2
    assert np.allclose(rules["support"], 1 / 3), "only basket 0 holds a and b"
    assert np.allclose(rules["confidence"], 0.5), "a and b are each bought on two orders"


@pytest.mark.parametrize("bad", [{"min_support": 0.0}, {"min_support": 1.5}, {"min_confidence": -0.1},
                                 {"max_size": 4}])
def test_bad_settings_raise(bad) -> None:
    with pytest.raises(ConfigurationError):
        association_rules(lines_from_baskets(HAND), **bad)


def test_missing_product_column_is_named() -> None:
    with pytest.raises(DataContractError, match="product_id"):
        association_rules(pd.DataFrame({"order_id": ["1"], "sku": ["a"]}))


mlxtend = pytest.importorskip("mlxtend", reason="mlxtend is not installed (pip install -e '.[dev]')")


def mlxtend_rules(lines: pd.DataFrame, min_support: float, min_confidence: float) -> pd.DataFrame:
    from mlxtend.frequent_patterns import association_rules as mx_rules
    from mlxtend.frequent_patterns import fpgrowth

    baskets = lines.loc[lines["quantity"] > 0, ["order_id", "product_id"]].drop_duplicates()
    onehot = pd.crosstab(baskets["order_id"], baskets["product_id"]).astype(bool)
    onehot.columns = onehot.columns.astype(object)
    itemsets = fpgrowth(onehot, min_support=min_support, use_colnames=True, max_len=3)
    if len(itemsets) == 0:
        return pd.DataFrame(columns=["antecedents", "consequents"])
    rules = mx_rules(itemsets, num_itemsets=len(onehot), metric="confidence", min_threshold=min_confidence)
    return rules.rename(columns={"antecedent support": "antecedent_support",
                                 "consequent support": "consequent_support"})


def assert_same_rules(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    def keyed(frame: pd.DataFrame) -> pd.DataFrame:
        keys = pd.MultiIndex.from_arrays([frame["antecedents"].map(lambda s: tuple(sorted(s))),
                                          frame["consequents"].map(lambda s: tuple(sorted(s)))])
        return frame.set_index(keys).sort_index()

    left, right = keyed(ours), keyed(theirs)
    assert list(left.index) == list(right.index)
    for column in ("antecedent_support", "consequent_support", "support", "confidence", "lift", "leverage",
                   "conviction"):
        np.testing.assert_allclose(left[column].to_numpy(dtype=float), right[column].to_numpy(dtype=float),
                                   rtol=1e-12, atol=0, err_msg=column)


def test_equal_to_mlxtend_on_seeded_random_baskets(rng) -> None:
    n_baskets, n_products = 3_000, 40
    popularity = rng.dirichlet(np.full(n_products, 0.5))
    baskets = [set(rng.choice(n_products, size=rng.integers(1, 8), p=popularity).astype(str))
               for _ in range(n_baskets)]
    lines = lines_from_baskets(baskets)
    ours = association_rules(lines, min_support=0.01, min_confidence=0.2)
    theirs = mlxtend_rules(lines, 0.01, 0.2)
    assert len(ours) > 100 and (ours["antecedents"].map(len) + ours["consequents"].map(len) == 3).sum() > 10
    assert_same_rules(ours, theirs)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(baskets=st.lists(st.sets(st.sampled_from("abcdefg"), min_size=1, max_size=5), min_size=1, max_size=30),
       min_support=st.sampled_from([0.05, 0.1, 0.2, 1 / 3]), min_confidence=st.sampled_from([0.0, 0.3, 0.7, 1.0]))
def test_equal_to_mlxtend_on_any_small_baskets(baskets, min_support, min_confidence) -> None:
    lines = lines_from_baskets(baskets)
    ours = association_rules(lines, min_support=min_support, min_confidence=min_confidence)
    theirs = mlxtend_rules(lines, min_support, min_confidence)
    if len(theirs) == 0:
        assert len(ours) == 0
    else:
        assert_same_rules(ours, theirs)


@pytest.mark.realdata
def test_equal_to_mlxtend_on_online_retail(shared_data) -> None:
    from crm_models.datasets import load_online_retail_lines

    lines = load_online_retail_lines(shared_data / "online_retail.csv.gz", cancellations="exclude")
    ours = association_rules(lines, min_support=0.01, min_confidence=0.3)
    theirs = mlxtend_rules(lines, 0.01, 0.3)
    assert len(ours) == 698, "rules among products on at least 1% of 18,402 invoices"
    assert_same_rules(ours, theirs)
    top = ours.iloc[0]
    assert top["lift"] > 20 and top["count"] >= 100
