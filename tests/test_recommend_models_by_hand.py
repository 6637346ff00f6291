"""Recommenders by hand (issue 21, mutation survivors of `recommend`): the output table's contract, batches,
ties, the settings that reach ``implicit``'s ALS, EASE's and item cosine's settings, and products with no label.

Each test names the class of wrong implementation it guards against.
"""

from __future__ import annotations

import sys
import types
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from crm_models.exceptions import ConfigurationError, DataContractError, NotFittedError
from crm_models.recommend import (
    ALSRecommender,
    EASERecommender,
    ItemCosineRecommender,
    PopularityRecommender,
    basket_items,
    build_interactions,
)
from crm_models.recommend import _base as base_module
from crm_models.recommend.affinity import product_names, rule_label

# a bought x, y; b bought x; c bought y, z; d bought z (and returned x: quantity -1 is no purchase)
SMALL = pd.DataFrame({
    "order_id": ["1", "1", "2", "3", "3", "4", "5"],
    "customer_id": ["a", "a", "b", "c", "c", "d", "d"],
    "product_id": ["x", "y", "x", "y", "z", "z", "x"],
    "quantity": [1.0, 2.0, 1.0, 1.0, 1.0, 1.0, -1.0],
})


def test_recommend_for_no_customers_is_an_empty_typed_table() -> None:
    """Guards: the empty result built with other dtypes or columns (an empty customer list must still give a
    table that concatenates with others)."""
    fitted = PopularityRecommender().fit(SMALL)
    empty = fitted.recommend([], k=2)
    assert list(empty.columns) == ["customer_id", "rank", "product_id", "score"] and len(empty) == 0
    assert [str(t) for t in empty.dtypes] == ["string", "int64", "string", "float64"]


def test_recommend_rows_are_numbered_from_zero_after_exclusions() -> None:
    """Guards: the batches concatenated without renumbering (rows removed for bought products leave gaps)."""
    fitted = PopularityRecommender().fit(SMALL)
    recs = fitted.recommend(["a", "b", "c", "d"], k=3)
    # a: z only; b: y, z; c: x; d: x, y (popularity: x 2 buyers, y 2, z 2; ties to the smaller id)
    assert recs["product_id"].tolist() == ["z", "y", "z", "x", "x", "y"]
    assert recs["rank"].tolist() == [1, 1, 2, 1, 1, 2]
    assert recs.index.equals(pd.RangeIndex(len(recs)))
    assert [str(t) for t in recs.dtypes] == ["string", "int64", "string", "float64"]
    assert list(recs.columns) == ["customer_id", "rank", "product_id", "score"]


def test_many_batches_give_the_same_table_as_one(monkeypatch) -> None:
    """Guards: a batch boundary that drops, repeats or misranks customers (recommend works in blocks of
    BATCH_ROWS customers)."""
    fitted = ItemCosineRecommender().fit(SMALL)
    customers = ["d", "a", "nobody", "c", "b"]
    whole = fitted.recommend(customers, k=2)
    monkeypatch.setattr(base_module, "BATCH_ROWS", 2)
    batched = fitted.recommend(customers, k=2)
    pd.testing.assert_frame_equal(batched, whole)
    assert batched.drop_duplicates("customer_id")["customer_id"].tolist() == customers, "the order given"
    # the unknown customer gets the popularity ranking in full: x, y, z have two buyers each -> x, y
    unknown = batched.loc[batched["customer_id"] == "nobody"]
    assert unknown["product_id"].tolist() == ["x", "y"] and unknown["rank"].tolist() == [1, 2]
    assert unknown["score"].tolist() == [2.0, 2.0]


def test_not_fitted_error_names_the_class() -> None:
    """Guards: the error text naming another class (or none) than the one that was not fitted."""
    with pytest.raises(NotFittedError, match="EASERecommender"):
        EASERecommender().recommend(["a"])


def test_top_k_breaks_ties_by_the_smaller_column_in_every_row() -> None:
    """Guards: the sort done over the wrong axis, or ties not given to the smaller index (k < and >= columns)."""
    scores = np.array([[1.0, 3.0, 3.0, 0.0], [2.0, 2.0, 5.0, 2.0], [0.0, 0.0, 0.0, 0.0]])
    assert base_module._top_k(scores, 2).tolist() == [[1, 2], [2, 0], [0, 1]]
    assert base_module._top_k(scores, 4).tolist() == [[1, 2, 0, 3], [2, 0, 1, 3], [0, 1, 2, 3]]
    assert base_module._top_k(scores, 3).tolist() == [[1, 2, 0], [2, 0, 1], [0, 1, 2]]


def test_ease_refuses_a_zero_penalty() -> None:
    """Guards: ``l2 >= 0`` instead of ``l2 > 0`` (X'X alone may be singular: the error must name l2)."""
    with pytest.raises(ConfigurationError, match="l2"):
        EASERecommender(l2=0.0).fit(SMALL)
    with pytest.raises(ConfigurationError, match="l2"):
        EASERecommender(l2=-1.0).fit(SMALL)


def test_item_cosine_keeps_each_products_nearest_neighbours_by_hand() -> None:
    """Guards: neighbours chosen along the wrong axis or not applied (the top-1 per column by hand).

    Buyers: p1 {u1, u2, u3}, p2 {u1, u2}, p3 {u3, u4}, p4 {u4}. Cosines c_ij / sqrt(c_i c_j):
    s12 = 2/sqrt(6) = 0.816, s13 = 1/sqrt(6) = 0.408, s34 = 1/sqrt(2) = 0.707, s14 = s23 = s24 = 0.
    Column p1's nearest is p2, p2's is p1, p3's is p4, p4's is p3.
    """
    lines = pd.DataFrame({
        "order_id": ["1", "1", "2", "2", "3", "3", "4", "4"],
        "customer_id": ["u1", "u1", "u2", "u2", "u3", "u3", "u4", "u4"],
        "product_id": ["p1", "p2", "p1", "p2", "p1", "p3", "p3", "p4"],
        "quantity": [1] * 8,
    })
    full = ItemCosineRecommender().fit(lines).similarity_
    expected = np.array([[0, 2 / 6 ** 0.5, 1 / 6 ** 0.5, 0], [2 / 6 ** 0.5, 0, 0, 0],
                         [1 / 6 ** 0.5, 0, 0, 1 / 2 ** 0.5], [0, 0, 1 / 2 ** 0.5, 0]])
    np.testing.assert_allclose(full, expected)
    nearest = ItemCosineRecommender(neighbours=1).fit(lines).similarity_
    kept = np.zeros((4, 4))
    for i, j in [(1, 0), (0, 1), (3, 2), (2, 3)]:  # (row i kept in column j)
        kept[i, j] = expected[i, j]
    np.testing.assert_allclose(nearest, kept)
    with pytest.raises(ConfigurationError, match="neighbours"):
        ItemCosineRecommender(neighbours=0).fit(lines)
    with pytest.raises(ConfigurationError, match="shrinkage"):
        ItemCosineRecommender(shrinkage=-1.0).fit(lines)


class _FakeALS:
    """Stands in for ``implicit.cpu.als.AlternatingLeastSquares``: records its settings and the matrix it is
    given, and returns factors whose products are the matrix itself (customer factors = rows of the matrix,
    product factors = the identity)."""

    made: ClassVar[list[_FakeALS]] = []

    def __init__(self, **settings) -> None:
        self.settings = settings
        _FakeALS.made.append(self)

    def fit(self, matrix, show_progress=True) -> None:
        self.matrix = matrix
        self.user_factors = matrix.toarray()
        self.item_factors = np.eye(matrix.shape[1], dtype="float32")


@pytest.fixture
def fake_implicit(monkeypatch):
    als = types.ModuleType("implicit.cpu.als")
    als.AlternatingLeastSquares = _FakeALS
    cpu = types.ModuleType("implicit.cpu")
    cpu.als = als
    package = types.ModuleType("implicit")
    package.cpu = cpu
    for name, module in [("implicit", package), ("implicit.cpu", cpu), ("implicit.cpu.als", als)]:
        monkeypatch.setitem(sys.modules, name, module)
    _FakeALS.made.clear()
    return _FakeALS


def test_als_hands_every_setting_and_the_order_counts_to_implicit(fake_implicit) -> None:
    """Guards: a setting of ALSRecommender dropped, replaced by None or left at implicit's default, the count
    matrix not handed over as float32 orders (implicit applies c = 1 + alpha r itself, Hu et al. 2008 eq. 2), and
    scores that are not the dot products of the factors. Runs without ``implicit`` (a stand-in records the call)."""
    model = ALSRecommender(factors=7, regularization=0.25, alpha=3.5, iterations=4, random_state=11)
    model.fit(SMALL)
    (made,) = fake_implicit.made
    assert made.settings == {"factors": 7, "regularization": 0.25, "alpha": 3.5, "iterations": 4,
                             "random_state": 11, "calculate_training_loss": False}
    assert made.matrix.dtype == np.float32
    np.testing.assert_array_equal(made.matrix.toarray(), build_interactions(SMALL).matrix.toarray())
    # the factors' dot products are the order counts; excluding bought products leaves the rest at score 0
    recs = model.recommend(["a", "c"], k=3, exclude_purchased=False)
    assert recs.loc[recs["customer_id"] == "a", "score"].tolist() == [1.0, 1.0, 0.0]
    assert model.get_params() == {"factors": 7, "regularization": 0.25, "alpha": 3.5, "iterations": 4,
                                  "random_state": 11}


def test_als_refuses_a_non_positive_alpha_and_names_the_missing_package(fake_implicit, monkeypatch) -> None:
    """Guards: alpha <= 0 accepted; the install hint lost when implicit is missing."""
    with pytest.raises(ConfigurationError, match="alpha"):
        ALSRecommender(alpha=0.0).fit(SMALL)
    monkeypatch.setitem(sys.modules, "implicit.cpu.als", None)  # an import of it now fails
    with pytest.raises(ConfigurationError, match="implicit"):
        ALSRecommender().fit(SMALL)


def test_candidates_ask_for_implicit_by_its_name(monkeypatch) -> None:
    """Guards: the optional package looked up under another name (ALS offered when only an unrelated package
    is installed, or never), and ALS's seed not passed on."""
    import importlib.util

    from crm_models.recommend import candidate_recommenders

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object() if name == "implicit" else None)
    models = candidate_recommenders(random_state=9)
    assert list(models) == ["popularity", "item cosine", "EASE", "ALS"] and models["ALS"].random_state == 9
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "implicit" else object())
    assert list(candidate_recommenders()) == ["popularity", "item cosine", "EASE"]
    assert list(candidate_recommenders(names=["ALS", "EASE"])) == ["EASE", "ALS"], "naming ALS asks for it"


def test_basket_items_are_distinct_purchase_pairs() -> None:
    """Guards: returns or repeats counted as basket items, a column renamed or lost."""
    lines = pd.DataFrame({"order_id": ["1", "1", "1", "2", "2"], "customer_id": ["a"] * 5,
                          "product_id": ["x", "x", "y", "y", "z"], "quantity": [1, 2, 1, 1, -1]})
    items = basket_items(lines).to_pandas().sort_values(["basket", "product_id"]).reset_index(drop=True)
    assert list(items.columns) == ["basket", "product_id"]
    assert items.astype(str).values.tolist() == [["1", "x"], ["1", "y"], ["2", "y"]]
    per_customer = basket_items(lines, basket="customer_id").to_pandas()
    assert sorted(per_customer["product_id"].astype(str)) == ["x", "y"]


def test_products_without_a_label_keep_their_id_as_written() -> None:
    """Guards: an unlabelled product id capitalised or stripped like a label (ids are codes, not words)."""
    labels = {"a1": "  RED MUG "}
    assert product_names(("a1", "b2"), labels) == "Red mug and b2"
    assert product_names(("b2",)) == "b2"
    assert rule_label(("a1",), ("b2",), labels) == "Red mug \u2192 b2"


def test_interactions_name_the_missing_column_and_the_rule() -> None:
    """Guards: the error for lines without product ids losing its column or its rule (why the ids are needed),
    and lines with returns only failing with an engine or type error instead of naming quantity."""
    with pytest.raises(DataContractError) as error:
        build_interactions(SMALL.drop(columns="product_id"))
    assert error.value.column == "product_id" and "customer and product ids" in error.value.rule
    with pytest.raises(DataContractError) as error:
        PopularityRecommender().fit(SMALL.assign(quantity=-1.0))
    assert error.value.column == "quantity" and "quantity > 0" in error.value.rule
    assert "no purchase lines" in str(error.value)
