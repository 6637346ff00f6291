"""Temporal evaluation on Online Retail (cutoff 2011-09-01, the next 90 days, new products only).

Reference figures of issue 15, measured on the same split: popularity precision@10 0.047, implicit ALS 0.079,
item cosine 0.089, EASE 0.105, on 1,791 customers with a new product in the window.
"""

from __future__ import annotations

import pytest

from crm_models.recommend import (
    ALSRecommender,
    EASERecommender,
    ItemCosineRecommender,
    evaluate_recommenders,
    next_products,
)

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def retail_lines(shared_data):
    from crm_models.datasets import load_online_retail_lines

    return load_online_retail_lines(shared_data / "online_retail.csv.gz", cancellations="exclude")


@pytest.fixture(scope="module")
def evaluation(retail_lines):
    models = {"item cosine": ItemCosineRecommender(), "EASE": EASERecommender()}
    return evaluate_recommenders(models, retail_lines, cutoff="2011-09-01", horizon_days=90, k=10)


def test_evaluation_reproduces_the_reference_figures(evaluation) -> None:
    table = evaluation.table
    # The cutoff day is whole (training includes 2011-09-01): 1,799 customers here against the reference 1,791.
    assert 1_780 <= evaluation.n_customers <= 1_810
    assert table.loc["popularity", "precision"] == pytest.approx(0.047, abs=0.003)
    assert table.loc["item cosine", "precision"] == pytest.approx(0.089, abs=0.004)
    assert table.loc["EASE", "precision"] == pytest.approx(0.105, abs=0.004)
    assert table.loc["EASE", "precision"] >= 0.10, "the goal of the issue"
    assert evaluation.best_model("precision") == "EASE"
    assert (table.loc["EASE", ["recall", "map", "ndcg", "hit_rate", "coverage"]]
            > table.loc["popularity", ["recall", "map", "ndcg", "hit_rate", "coverage"]]).all()
    assert table.loc["popularity", "precision_vs_baseline"] == pytest.approx(1.0)


def test_next_products_carry_descriptions(evaluation, retail_lines) -> None:
    labels = retail_lines.drop_duplicates("product_id").set_index("product_id")["description"]
    model = evaluation.models["EASE"]
    table = next_products(model, model.customers_[:50], k=3, labels=labels)
    assert (table["next_product_ids"].map(len) == 3).all()
    assert table["next_products"].str.contains("; ").all()


def test_als_beats_popularity(retail_lines) -> None:
    pytest.importorskip("implicit", reason="implicit is not installed (pip install -e '.[als]')")
    result = evaluate_recommenders({"ALS": ALSRecommender()}, retail_lines, cutoff="2011-09-01")
    assert result.table.loc["ALS", "precision"] > 1.5 * result.table.loc["popularity", "precision"]
