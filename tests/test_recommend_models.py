"""Recommenders: one interface, the scikit-learn contract, EASE's closed form, cosine by hand, planted structure."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone

from crm_models.exceptions import ConfigurationError, NotFittedError
from crm_models.recommend import (
    ALSRecommender,
    EASERecommender,
    ItemCosineRecommender,
    PopularityRecommender,
    build_interactions,
    next_products,
)
from crm_models.recommend._base import _top_k
from crm_models.recommend.ease import ease_weights


def planted_lines(rng: np.random.Generator, n_customers: int = 300) -> pd.DataFrame:
    """Products come in pairs (p0, p1), (p2, p3), ...: a customer who buys one of a pair usually buys the other."""
    rows = []
    order = 0
    for customer in range(n_customers):
        for pair in rng.choice(6, size=rng.integers(1, 3), replace=False):
            products = [2 * pair, 2 * pair + 1] if rng.random() < 0.9 else [2 * pair]
            for product in products:
                rows.append((f"o{order}", f"c{customer:03d}", f"p{product:02d}", 1.0))
            order += 1
    return pd.DataFrame(rows, columns=["order_id", "customer_id", "product_id", "quantity"])


SMALL = pd.DataFrame({
    "order_id": ["1", "1", "2", "3", "3", "4", "5"],
    "customer_id": ["a", "a", "b", "c", "c", "d", "d"],
    "product_id": ["x", "y", "x", "y", "z", "z", "x"],
    "quantity": [1.0, 2.0, 1.0, 1.0, 1.0, 1.0, -1.0],
})

MODELS = [PopularityRecommender(), ItemCosineRecommender(), EASERecommender(l2=1.0)]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_one_interface_and_the_estimator_contract(model) -> None:
    unfitted = clone(model)
    with pytest.raises(NotFittedError):
        unfitted.recommend(["a"])
    fitted = unfitted.fit(SMALL)
    assert fitted is unfitted and not hasattr(model, "products_"), "fit returns self and leaves the original alone"
    assert type(model).__name__.endswith("Recommender")
    assert clone(fitted).get_params() == model.get_params()
    recs = fitted.recommend(["a", "b", "c"], k=2)
    assert list(recs.columns) == ["customer_id", "rank", "product_id", "score"]
    # a bought x and y, so only z is left; b bought x; c bought y and z.
    assert recs.loc[recs["customer_id"] == "a", "product_id"].tolist() == ["z"]
    assert set(recs.loc[recs["customer_id"] == "b", "product_id"]) <= {"y", "z"}
    assert recs.loc[recs["customer_id"] == "c", "product_id"].tolist() == ["x"]
    assert (recs.groupby("customer_id")["rank"].apply(lambda r: list(r) == list(range(1, len(r) + 1)))).all()
    everything = fitted.recommend(["a"], k=3, exclude_purchased=False)
    assert sorted(everything["product_id"]) == ["x", "y", "z"]


def test_return_lines_are_not_purchases() -> None:
    interactions = build_interactions(SMALL)
    d = interactions.customers.get_loc("d")
    bought = set(interactions.products[interactions.matrix[d].indices])
    assert bought == {"z"}, "d returned x (negative quantity), so x is not one of d's purchases"


def test_unknown_customers_get_the_popularity_ranking() -> None:
    model = EASERecommender(l2=1.0).fit(SMALL)
    recs = model.recommend(["new customer"], k=3)
    # x: a, b (2 customers); y: a, c (2); z: c, d (2): a three-way tie broken by product id.
    assert recs["product_id"].tolist() == ["x", "y", "z"]


@settings(max_examples=300, deadline=None)
@given(scores=st.integers(1, 6).flatmap(lambda rows: st.integers(1, 12).flatmap(
    lambda cols: arrays(np.float64, (rows, cols), elements=st.sampled_from([-np.inf, -1.0, 0.0, 0.5, 2.0]))),
), data=st.data())
def test_top_k_equals_the_stable_full_sort(scores, data) -> None:
    """The partition-based top k keeps the full sort's order, ties (many here) going to the smaller column index,
    -inf (excluded products) last."""
    k = data.draw(st.integers(1, scores.shape[1]))
    expected = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(_top_k(scores, k), expected)


def test_k_must_be_a_positive_integer() -> None:
    model = PopularityRecommender().fit(SMALL)
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ConfigurationError, match="k must be"):
            model.recommend(["a"], k=bad)


def test_ease_weights_solve_each_columns_ridge_regression(rng) -> None:
    """Steck (2019) eq. 8 against the definition: column j of B is the ridge regression of x_j on the other
    columns (B_jj = 0), b = (X_-j' X_-j + lambda I)^-1 X_-j' x_j."""
    x = (rng.random((60, 8)) < 0.3).astype(float)
    l2 = 2.5
    weights = ease_weights(x.T @ x, l2)
    assert np.allclose(np.diag(weights), 0.0)
    for j in range(x.shape[1]):
        others = [i for i in range(x.shape[1]) if i != j]
        xo = x[:, others]
        direct = np.linalg.solve(xo.T @ xo + l2 * np.eye(len(others)), xo.T @ x[:, j])
        np.testing.assert_allclose(weights[others, j], direct, rtol=1e-9, atol=1e-12)


def test_item_cosine_similarity_by_hand() -> None:
    model = ItemCosineRecommender().fit(SMALL)
    sim = pd.DataFrame(model.similarity_, index=model.products_, columns=model.products_)
    # Buyers: x {a, b}, y {a, c}, z {c, d}. cos(x, y) = 1 / sqrt(2 * 2); cos(x, z) = 0; cos(y, z) = 1 / 2.
    assert sim.loc["x", "y"] == pytest.approx(0.5) and sim.loc["y", "z"] == pytest.approx(0.5)
    assert sim.loc["x", "z"] == 0.0 and sim.loc["x", "x"] == 0.0
    limited = ItemCosineRecommender(neighbours=1, shrinkage=1.0).fit(SMALL)
    assert (np.count_nonzero(limited.similarity_, axis=0) <= 1).all()
    assert limited.similarity_.max() == pytest.approx(1 / 3), "shrinkage: 1 / (2 + 1)"


@pytest.mark.parametrize("model", [ItemCosineRecommender(), EASERecommender(l2=10.0)],
                         ids=lambda m: type(m).__name__)
def test_recommenders_find_the_planted_partner_product(model, rng) -> None:
    lines = planted_lines(rng)
    fitted = clone(model).fit(lines)
    # A new buyer of p04 only: the partner p05 must come first.
    probe = pd.DataFrame({"order_id": ["new"], "customer_id": ["probe"], "product_id": ["p04"], "quantity": [1.0]})
    refit = clone(model).fit(pd.concat([lines, probe], ignore_index=True))
    assert refit.recommend(["probe"], k=1)["product_id"].tolist() == ["p05"]
    assert len(fitted.recommend(fitted.customers_[:5], k=3)) == 15


def test_next_products_for_the_customer_table() -> None:
    model = PopularityRecommender().fit(SMALL)
    table = next_products(model, ["c", "a", "zz"], k=2, labels={"x": "Mug", "z": "Teapot"})
    assert table["customer_id"].tolist() == ["c", "a", "zz"]
    assert table.loc[0, "next_product_ids"] == ("x",) and table.loc[0, "next_products"] == "Mug"
    assert table.loc[2, "next_products"] == "Mug; y", "unlabelled products fall back to their id"


def test_als_recommender_is_seeded_and_excludes_purchases(rng) -> None:
    pytest.importorskip("implicit", reason="implicit is not installed (pip install -e '.[als]')")
    lines = planted_lines(rng)
    first = ALSRecommender(factors=8, iterations=5, random_state=3).fit(lines)
    second = ALSRecommender(factors=8, iterations=5, random_state=3).fit(lines)
    customers = first.customers_[:20]
    a, b = first.recommend(customers, k=3), second.recommend(customers, k=3)
    pd.testing.assert_frame_equal(a, b)
    bought = set(zip(lines["customer_id"], lines["product_id"], strict=True))
    assert not any((c, p) in bought for c, p in zip(a["customer_id"], a["product_id"], strict=True))
