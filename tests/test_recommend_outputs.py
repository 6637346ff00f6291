"""Issue 15 item 5: demo order lines with planted pairs, the order-lines source of notebook 06, the per-customer
next-product columns, the candidate models and the report's sentences."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from crm_models.datasets import make_demo
from crm_models.datasets.demo_order_lines import DEMO_CATALOGUE, PLANTED_PAIRS, simulate_order_lines
from crm_models.datasets.order_lines_source import load_order_lines_source
from crm_models.exceptions import DataContractError
from crm_models.recommend import PopularityRecommender, association_rules, evaluate_recommenders
from crm_models.recommend.report import describe_evaluation, one_rule_per_itemset, top_pair_sentence


@pytest.fixture(scope="module")
def demo():
    return make_demo(seed=11, n_customers=1500)


@pytest.fixture(scope="module")
def demo_lines(demo):
    return simulate_order_lines(demo.transactions, seed=11)


def test_rules_recover_exactly_the_planted_pairs(demo_lines) -> None:
    rules = association_rules(demo_lines, min_support=0.01, min_confidence=0.3, max_size=3)
    found = {(a, c) for a, c in zip(rules["antecedents"], rules["consequents"], strict=True)}
    planted = {((a,), (b,)) for a, b in PLANTED_PAIRS} | {((b,), (a,)) for a, b in PLANTED_PAIRS}
    assert found == planted, "the planted pairs, in both directions, and nothing else"
    by_rule = {(r.antecedents, r.consequents): r for r in rules.itertuples(index=False)}
    for a, b in PLANTED_PAIRS:
        row = by_rule[((a,), (b,))]._asdict()
        # planted confidence 0.7, plus the small chance that B is on the order anyway
        assert row["confidence"] == pytest.approx(0.72, abs=0.05), (a, b)
        assert row["lift"] > 5


def test_order_lines_add_up_to_the_orders_and_keep_returns(demo, demo_lines) -> None:
    tx = demo.transactions.set_index("order_id")
    purchases = demo_lines.loc[demo_lines["amount"] > 0]
    totals = purchases.groupby("order_id")["amount"].sum()
    np.testing.assert_allclose(totals.to_numpy(), tx.loc[totals.index, "amount"].to_numpy(), atol=0.03)
    assert set(totals.index) == set(tx.index[tx["amount"] > 0])
    returns = demo_lines.loc[demo_lines["amount"] < 0]
    assert len(returns) == int((tx["amount"] < 0).sum()) and (returns["quantity"] < 0).all()
    assert set(demo_lines["product_id"]) <= set(DEMO_CATALOGUE)
    assert not purchases.duplicated(["order_id", "product_id"]).any(), "a product appears once per order"
    # every order holds a product of the order's category, and baskets hold more than one product on average
    category = tx.loc[purchases["order_id"], "product_id"].to_numpy()
    has_own = (purchases["category"].to_numpy() == category)
    assert pd.Series(has_own).groupby(purchases["order_id"].to_numpy()).any().all()
    assert purchases.groupby("order_id").size().mean() > 1.5


def test_order_lines_are_deterministic_per_seed(demo) -> None:
    small = demo.transactions.head(400)
    pd.testing.assert_frame_equal(simulate_order_lines(small, seed=1), simulate_order_lines(small, seed=1))
    assert not simulate_order_lines(small, seed=1).equals(simulate_order_lines(small, seed=2))


def test_order_lines_source_simulates_for_the_demo_only_and_refuses_single_product_orders(demo, tmp_path) -> None:
    loaded = load_order_lines_source("demo", transactions=demo.transactions, seed=11)
    assert loaded.simulated and loaded.labels["SH01"] == "Running shoes"
    assert "simulated" in loaded.report.notes[0]
    (tmp_path / "truth.json").write_text("{}")  # the demo's files, as DemoData.write leaves them
    beside = load_order_lines_source(tmp_path / "transactions.parquet", source_format="transactions",
                                     transactions=demo.transactions, seed=11)
    pd.testing.assert_frame_equal(beside.lines, loaded.lines)
    with pytest.raises(DataContractError, match="exactly one product line"):  # someone else's file: never padded
        load_order_lines_source("mine.parquet", source_format="transactions", transactions=demo.transactions)
    other = demo.transactions.assign(product_id="SKU-" + demo.transactions["product_id"])
    with pytest.raises(DataContractError, match="exactly one product line"):
        load_order_lines_source("mine.csv", source_format="transactions", transactions=other)
    lines = simulate_order_lines(demo.transactions.head(300), seed=3).drop(columns=["description", "category"])
    real = load_order_lines_source(lines, transactions=lines)
    assert not real.simulated and len(real.lines) == len(lines)


def test_next_product_columns_by_hand_in_the_tables_order() -> None:
    from crm_models.customers import next_product_columns

    lines = pd.DataFrame({"order_id": ["1", "1", "2", "3", "3", "4"], "customer_id": ["a", "a", "b", "c", "c", "d"],
                          "product_id": ["x", "y", "x", "x", "z", "w"], "quantity": [1, 1, 1, 1, 1, 1],
                          "timestamp": pd.to_datetime(["2024-01-01"] * 6), "amount": [1.0] * 6})
    model = PopularityRecommender().fit(lines)
    added = next_product_columns(model, pd.Index(["c", "a", "new"], name="customer_id"), k=2,
                                 labels={"x": "Ex", "y": "Why", "z": "Zed"}, model="popularity").columns
    assert list(added.index) == ["c", "a", "new"]
    # c bought x and z: the best remaining by popularity are w and y (one buyer each; ties by id); the new
    # customer gets the popularity ranking itself (x: two buyers)
    assert list(added["next_product_1"]) == ["w", "w", "x"] and list(added["next_product_2"]) == ["y", "z", "w"]
    assert list(added["next_products"]) == ["w; Why", "w; Zed", "Ex; w"]
    assert (added["next_products_model"] == "popularity").all()


def test_report_sentences_come_from_the_results(demo_lines) -> None:
    rules = association_rules(demo_lines, min_support=0.01, min_confidence=0.3)
    labels = {p: v[0] for p, v in DEMO_CATALOGUE.items()}
    first = rules.iloc[0]
    sentence = top_pair_sentence(rules, labels)
    assert sentence.startswith(f"customers who buy {labels[first['antecedents'][0]]} also buy "
                               f"{labels[first['consequents'][0]]} (lift ")
    assert sentence.endswith(f"{first['lift']:.0f})" if first["lift"] >= 10 else f"{first['lift']:.1f})")
    assert "no products" in top_pair_sentence(rules.head(0))
    once = one_rule_per_itemset(rules)
    assert len(once) == len(PLANTED_PAIRS) and once.index.equals(rules.index[::2]), "the stronger direction"
    result = evaluate_recommenders({}, demo_lines, cutoff="2024-10-02", k=5)
    text = describe_evaluation(result)
    assert "chose **popularity**" in text and f"{result.n_customers:,} customers" in text
    assert "01 October 2024" not in text and "02 October 2024" in text and "next 90 days" in text


def test_category_sentences_find_the_planted_cross_category_pair(demo_lines) -> None:
    from crm_models.recommend.report import describe_categories

    sentences = describe_categories(demo_lines, min_support=0.01, min_confidence=0.3)
    # running shoes -> sport socks is the only planted pair across categories
    assert len(sentences) == 1 and re.match(r"Of the orders with (Shoes|Sport), \d+% also had (Sport|Shoes):",
                                            sentences[0]), sentences
    assert describe_categories(demo_lines.drop(columns="category")) == []


def test_candidates_include_als_only_with_implicit(monkeypatch) -> None:
    import importlib.util

    from crm_models.recommend import ALSRecommender, EASERecommender, candidate_recommenders

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    models = candidate_recommenders(random_state=4)
    assert list(models) == ["popularity", "item cosine", "EASE"] and isinstance(models["EASE"], EASERecommender)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    als = candidate_recommenders(random_state=4)["ALS"]
    assert isinstance(als, ALSRecommender) and als.random_state == 4
    assert "ALS" not in candidate_recommenders(include_als=False)
    assert list(candidate_recommenders(names=["EASE", "popularity"])) == ["popularity", "EASE"]
    assert isinstance(candidate_recommenders(names=["ALS"])["ALS"], ALSRecommender), "naming ALS asks for it"
    assert list(candidate_recommenders(names="EASE")) == ["EASE"], "one label on its own"


@pytest.mark.parametrize("names", [["EASE", "ease"], [], "cosine"])
def test_candidates_refuse_unknown_names(names) -> None:
    from crm_models.exceptions import ConfigurationError
    from crm_models.recommend import candidate_recommenders

    with pytest.raises(ConfigurationError, match="must be one of popularity, item cosine, EASE, ALS"):
        candidate_recommenders(names=names)
