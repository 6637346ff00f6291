"""Temporal evaluation of recommenders by hand (issue 21, mutation survivors of `recommend`): metrics at k = 1,
the window edges of the split, the ratio to the baseline (and NaN when the baseline scores 0), the chosen model,
the evaluation table and its sentence.

Each test names the class of wrong implementation it guards against.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.exceptions import ConfigurationError, DataContractError
from crm_models.recommend import (
    catalogue_coverage,
    evaluate_recommenders,
    hit_rate_at_k,
    map_at_k,
    ndcg_at_k,
    precision_at_k,
    recall_at_k,
    temporal_split,
)
from crm_models.recommend._base import BaseRecommender
from crm_models.recommend.report import describe_evaluation, evaluation_table


class FixedOrder(BaseRecommender):
    """The same ranking for everyone: ``order`` best first (a recommender whose hits are known by hand)."""

    def __init__(self, order: tuple = ()) -> None:
        self.order = order

    def _fit_model(self, counts) -> None:
        rank = {p: len(self.order) - i for i, p in enumerate(self.order)}
        self.scores_ = np.array([float(rank.get(p, 0)) for p in self.products_])

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return np.tile(self.scores_, (len(rows), 1))


def stamp(text: str) -> pd.Timestamp:
    return pd.Timestamp(text)


# Training (before the cutoff 2024-01-31, a whole day: bound 2024-02-01 00:00): c1 p1, c2 p1, c3 p2, c4 p3 (at
# 23:59:59 on the cutoff day, so in training). Popularity: p1 2 buyers, p2 1, p3 1.
# Window of 10 days [2024-02-01, 2024-02-11): c1 p3 exactly at the bound (in), c1 p1 again (not new), c2 p3 at
# 2024-02-10 23:59 (in), c3 p3, c5 p1 (never seen in training: not evaluated), c2 p2 returned (no purchase) and
# c3 p1 exactly at the window end 2024-02-11 00:00 (out with 10 days, in with the default 90).
LINES = pd.DataFrame({
    "order_id": [f"o{i}" for i in range(11)],
    "customer_id": ["c1", "c2", "c3", "c4", "c1", "c1", "c2", "c3", "c5", "c2", "c3"],
    "product_id": ["p1", "p1", "p2", "p3", "p3", "p1", "p3", "p3", "p1", "p2", "p1"],
    "quantity": [1, 1, 1, 1, 1, 1, 1, 1, 1, -1, 1],
    "timestamp": [stamp(t) for t in ["2024-01-05", "2024-01-06", "2024-01-07", "2024-01-31 23:59:59",
                                     "2024-02-01 00:00", "2024-02-03", "2024-02-10 23:59", "2024-02-05",
                                     "2024-02-02", "2024-02-04", "2024-02-11 00:00"]],
})


def test_metrics_at_one_by_hand() -> None:
    """Guards: k = 1 refused as too small, a metric that reads another argument or divides by the wrong count.

    Customer 1 gets [a, b] for {b}; customer 2 gets [c] for {c, d}. At k = 1: precision (0 + 1) / 2, recall
    (0 + 1/2) / 2, hit rate 1/2, NDCG (0 + 1/1) / 2, AP (0 + 1/min(2, 1)) / 2; coverage {a, c} of 4 products.
    """
    recommended, relevant = [["a", "b"], ["c"]], [{"b"}, {"c", "d"}]
    assert precision_at_k(recommended, relevant, k=1) == pytest.approx(0.5)
    assert recall_at_k(recommended, relevant, k=1) == pytest.approx(0.25)
    assert hit_rate_at_k(recommended, relevant, k=1) == pytest.approx(0.5)
    assert ndcg_at_k(recommended, relevant, k=1) == pytest.approx(0.5)
    assert map_at_k(recommended, relevant, k=1) == pytest.approx(0.5)
    assert catalogue_coverage(recommended, catalogue_size=4, k=1) == pytest.approx(0.5)
    # at k = 2 customer 1's hit is at rank 2: NDCG 1/log2(3) / 1, AP (1/2) / 1
    assert ndcg_at_k(recommended, relevant, k=2) == pytest.approx((1 / np.log2(3) + 1 / (1 + 1 / np.log2(3))) / 2)
    assert map_at_k(recommended, relevant, k=2) == pytest.approx((0.5 + 0.5) / 2)


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_metrics_refuse_a_k_that_is_not_a_positive_integer(k) -> None:
    """Guards: the k check loosened or dropped (for the ranking metrics and for coverage alike)."""
    with pytest.raises(ConfigurationError, match="k must be a positive integer"):
        precision_at_k([["a"]], [{"a"}], k=k)
    with pytest.raises(ConfigurationError, match="k must be a positive integer"):
        catalogue_coverage([["a"]], catalogue_size=3, k=k)


def test_split_edges_by_hand() -> None:
    """Guards: an event exactly at the cutoff bound or at the window end put on the wrong side, returns counted
    as purchases, re-bought products counted as new, customers unseen in training evaluated."""
    split = temporal_split(LINES, "2024-01-31", horizon_days=10)
    assert split.cutoff == stamp("2024-02-01") and split.window_end == stamp("2024-02-11")
    assert sorted(split.train["customer_id"]) == ["c1", "c2", "c3", "c4"], "23:59:59 on the cutoff day trains"
    assert split.relevant.to_dict() == {"c1": {"p3"}, "c2": {"p3"}, "c3": {"p3"}}
    assert split.n_test_buyers == 4, "c1, c2, c3 and the new c5 bought in the window"
    longer = temporal_split(LINES, "2024-01-31", horizon_days=11)
    assert longer.relevant.to_dict()["c3"] == {"p1", "p3"}, "the window end moved past 2024-02-11 00:00"


@pytest.mark.parametrize("column", ["customer_id", "product_id", "timestamp"])
def test_split_names_the_missing_column(column) -> None:
    """Guards: the error naming no column, or checking another column than the one missing."""
    with pytest.raises(DataContractError) as error:
        temporal_split(LINES.drop(columns=column), "2024-01-31")
    assert error.value.column == column and column in str(error.value)


def test_split_refuses_bad_horizons_and_an_empty_training_period() -> None:
    """Guards: a zero or fractional horizon accepted; an empty training period left to fail later."""
    for bad in (0, 2.5, True):
        with pytest.raises(ConfigurationError, match="horizon_days"):
            temporal_split(LINES, "2024-01-31", horizon_days=bad)
    with pytest.raises(DataContractError) as error:
        temporal_split(LINES, "2023-12-31")
    assert error.value.column == "timestamp"


def test_evaluation_ratios_to_a_given_baseline_by_hand() -> None:
    """Guards: the ratio to the baseline multiplied instead of divided, the horizon not passed to the split,
    the fitted models not returned, the chosen model not the best, a popularity baseline added although the
    baseline is among the models.

    At k = 1 "p3 first" recommends p3 to c1, c2, c3 (3 hits of 3); "p2 first" recommends p2 to c1 and c2
    (misses) and p3 to c3, who bought p2 (1 hit): precisions 1 and 1/3, ratio 3.
    """
    models = {"p3 first": FixedOrder(("p3", "p2", "p1")), "p2 first": FixedOrder(("p2", "p3", "p1"))}
    result = evaluate_recommenders(models, LINES, cutoff="2024-01-31", horizon_days=10, k=1, baseline="p2 first")
    table = result.table
    assert list(table.index) == ["p3 first", "p2 first"]
    assert table.loc["p3 first", "precision"] == pytest.approx(1.0)
    assert table.loc["p2 first", "precision"] == pytest.approx(1 / 3)
    assert table.loc["p3 first", "precision_vs_baseline"] == pytest.approx(3.0)
    assert table.loc["p2 first", "recall_vs_baseline"] == pytest.approx(1.0)
    assert table.loc["p3 first", "coverage"] == pytest.approx(1 / 3), "one of three products shown"
    assert result.best_model("precision") == "p3 first" and result.best_model("coverage") == "p2 first"
    assert result.k == 1 and result.n_customers == 3
    assert result.cutoff == stamp("2024-02-01") and result.window_end == stamp("2024-02-11")
    assert set(result.models) == {"p3 first", "p2 first"}
    assert result.models["p3 first"].products_.tolist() == ["p1", "p2", "p3"]
    assert not hasattr(models["p3 first"], "products_"), "the models handed in stay unfitted"
    # the default horizon is 90 days: c3's p1 at 2024-02-11 is then relevant too (recall 1/2 for c3)
    default = evaluate_recommenders(models, LINES, cutoff="2024-01-31", k=1, baseline="p2 first")
    assert default.window_end == stamp("2024-02-01") + pd.Timedelta(days=90)
    assert default.table.loc["p3 first", "recall"] == pytest.approx((1 + 1 + 0.5) / 3)


def test_a_baseline_that_scores_zero_gives_no_ratio() -> None:
    """Guards: dividing by a baseline of 0 (infinite ratios) instead of leaving the ratio undefined.

    Popularity (added as the default baseline) recommends p2 to c1 and c2 (p1 bought, p2 and p3 tied at one
    buyer: the smaller id) and p1 to c3: no hit, precision 0.
    """
    result = evaluate_recommenders({"p3 first": FixedOrder(("p3", "p2", "p1"))}, LINES, cutoff="2024-01-31",
                                   horizon_days=10, k=1)
    table = result.table
    assert list(table.index) == ["popularity", "p3 first"]
    assert table.loc["popularity", "precision"] == 0.0
    assert np.isnan(table.loc["p3 first", "precision_vs_baseline"])
    assert np.isnan(table.loc["popularity", "hit_rate_vs_baseline"])
    assert table.loc["p3 first", "coverage_vs_baseline"] == pytest.approx((1 / 3) / (2 / 3))


def test_evaluation_needs_new_purchases_in_the_window() -> None:
    """Guards: the check for an empty test window inverted or dropped."""
    early = LINES.loc[LINES["timestamp"] < stamp("2024-02-01")]
    with pytest.raises(DataContractError, match="test window"):
        evaluate_recommenders({}, early, cutoff="2024-01-31", horizon_days=10)


def test_evaluation_table_and_sentence_by_hand() -> None:
    """Guards: the report table's columns, labels or order lost; the sentence's ratio or chosen model wrong."""
    models = {"p2 first": FixedOrder(("p2", "p3", "p1")), "p3 first": FixedOrder(("p3", "p2", "p1"))}
    result = evaluate_recommenders(models, LINES, cutoff="2024-01-31", horizon_days=10, k=1, baseline="p2 first")
    table = evaluation_table(result)
    assert list(table.index) == ["p3 first", "p2 first"], "best precision first"
    assert list(table.columns) == ["Precision@1", "Recall@1", "MAP@1", "NDCG@1", "Hit rate@1",
                                   "Catalogue coverage@1", "Precision vs p2 first (x)"]
    assert table.iloc[:, 0].tolist() == pytest.approx([1.0, 1 / 3])
    assert table["Precision vs p2 first (x)"].tolist() == pytest.approx([3.0, 1.0])
    text = describe_evaluation(result)
    assert "chose **p3 first**" in text and "3.0 times" in text and "100.0% of its top 1" in text
    assert "3 customers" in text and "next 10 days" in text and "31 January 2024" in text
    assert "p2 first" in text.split("3.0 times", 1)[1] and "most popular" not in text, "the baseline is named"
    assert describe_evaluation(result, baseline="p2 first") == text


def test_the_report_names_the_baseline_the_evaluation_used() -> None:
    """Regression: the table's ratio column read "vs popularity" and the sentence "recommending the most popular
    products" whatever the baseline was, and ``describe_evaluation(result)`` after a non-popularity baseline
    failed with a KeyError on "popularity". With the default baseline both still say popularity."""
    models = {"p3 first": FixedOrder(("p3", "p2", "p1"))}
    given = evaluate_recommenders(models, LINES, cutoff="2024-01-31", horizon_days=10, k=1, baseline="p3 first")
    assert list(given.table.index) == ["p3 first"], "no popularity row is added"
    assert evaluation_table(given).columns[-1] == "Precision vs p3 first (x)"
    assert "no model beat the baseline **p3 first**" in describe_evaluation(given)
    assert given.baseline == "p3 first"
    default = evaluate_recommenders(models, LINES, cutoff="2024-01-31", horizon_days=10, k=1)
    assert default.baseline == "popularity" and evaluation_table(default).columns[-1] == "Precision vs popularity (x)"
    assert "more than the 0.000 of recommending the most popular products" in describe_evaluation(default)


def test_a_cutoff_with_a_time_of_day_names_its_own_day() -> None:
    """Regression: the sentence named the day before the cutoff bound minus one day, so a cutoff at 31 January
    12:00 (training includes that instant) read "up to 30 January 2024"."""
    result = evaluate_recommenders({"p3 first": FixedOrder(("p3", "p2", "p1"))}, LINES,
                                   cutoff="2024-01-31 12:00", horizon_days=10, k=1)
    assert "up to 31 January 2024" in describe_evaluation(result)


def test_integer_ids_are_scored_like_text_ids() -> None:
    """Regression: recommendations carry text ids, so with integer customer and product ids in the lines no
    recommended product ever matched a relevant one and every model scored 0."""
    numeric = LINES.assign(customer_id=LINES["customer_id"].str[1:].astype(int),
                           product_id=LINES["product_id"].str[1:].astype(int))
    as_text = LINES.assign(customer_id=LINES["customer_id"].str[1:], product_id=LINES["product_id"].str[1:])
    models = {"p3 first": FixedOrder(("3", "2", "1"))}
    kwargs = {"cutoff": "2024-01-31", "horizon_days": 10, "k": 1}
    table = evaluate_recommenders(models, numeric, **kwargs).table
    assert table.loc["p3 first", "precision"] == pytest.approx(1.0)
    pd.testing.assert_frame_equal(table, evaluate_recommenders(models, as_text, **kwargs).table)
    assert temporal_split(numeric, "2024-01-31", horizon_days=10).relevant.to_dict() == {"1": {"3"}, "2": {"3"},
                                                                                         "3": {"3"}}
