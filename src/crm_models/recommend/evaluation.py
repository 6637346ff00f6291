"""Temporal evaluation of recommenders: train before a cutoff, score the products customers buy next.

Metrics are plain functions of ranked lists and sets of relevant products, averaged over customers (binary
relevance; see Manning, Raghavan & Schuetze 2008, "Introduction to Information Retrieval", ch. 8 for precision,
recall and average precision; Jaervelin & Kekaelaeinen 2002 for NDCG):

- precision@k = |top-k and relevant| / k
- recall@k = |top-k and relevant| / |relevant|
- AP@k = sum over ranks i <= k of precision@i x rel(i), divided by min(|relevant|, k); MAP@k is its mean
- NDCG@k = DCG@k / IDCG@k with DCG = sum rel(i) / log2(i + 1) and IDCG the DCG of min(|relevant|, k) hits
- hit rate@k = share of customers with at least one relevant product in the top k
- catalogue coverage@k = distinct products recommended in anyone's top k / products in the catalogue.

Customers without relevant products are left out by :func:`temporal_split`; the functions require every
customer to have at least one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone

from crm_models.data.timestamps import end_exclusive, naive_utc_column
from crm_models.exceptions import ConfigurationError, DataContractError

Ranked = Sequence[Sequence[Any]]
Relevant = Sequence[set]

METRIC_LABELS = {
    "precision": "Precision@k",
    "recall": "Recall@k",
    "map": "MAP@k",
    "ndcg": "NDCG@k",
    "hit_rate": "Hit rate@k",
    "coverage": "Catalogue coverage@k",
}


def _check(recommended: Ranked, relevant: Relevant, k: int) -> None:
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ConfigurationError(f"k must be a positive integer, got {k!r}")
    if len(recommended) != len(relevant):
        raise ConfigurationError(f"recommended has {len(recommended)} customers but relevant has {len(relevant)}")
    if len(relevant) == 0:
        raise ConfigurationError("no customers to evaluate")
    empty = [i for i, r in enumerate(relevant) if len(r) == 0]
    if empty:
        raise ConfigurationError(f"{len(empty)} customers have no relevant products (positions {empty[:5]}); "
                                 "leave them out before scoring")


def _hits(recommended: Ranked, relevant: Relevant, k: int) -> list[np.ndarray]:
    return [np.array([item in rel for item in list(rec)[:k]], dtype=bool) for rec, rel in zip(recommended, relevant,
                                                                                             strict=True)]


def precision_at_k(recommended: Ranked, relevant: Relevant, k: int = 10) -> float:
    """Mean share of the top ``k`` that is relevant (a list shorter than ``k`` still divides by ``k``).

    >>> precision_at_k([["a", "b", "c"]], [{"a", "c", "z"}], k=2)
    0.5
    """
    _check(recommended, relevant, k)
    return float(np.mean([h.sum() / k for h in _hits(recommended, relevant, k)]))


def recall_at_k(recommended: Ranked, relevant: Relevant, k: int = 10) -> float:
    """Mean share of the relevant products found in the top ``k``."""
    _check(recommended, relevant, k)
    return float(np.mean([h.sum() / len(rel) for h, rel in zip(_hits(recommended, relevant, k), relevant,
                                                                strict=True)]))


def average_precision_at_k(recommended: Ranked, relevant: Relevant, k: int = 10) -> np.ndarray:
    """AP@k per customer: precision at each relevant rank, summed and divided by ``min(|relevant|, k)``."""
    _check(recommended, relevant, k)
    out = []
    for h, rel in zip(_hits(recommended, relevant, k), relevant, strict=True):
        ranks = np.arange(1, len(h) + 1)
        precision_at_i = np.cumsum(h) / ranks
        out.append(float((precision_at_i * h).sum() / min(len(rel), k)))
    return np.asarray(out)


def map_at_k(recommended: Ranked, relevant: Relevant, k: int = 10) -> float:
    """Mean average precision at ``k`` (the mean of :func:`average_precision_at_k`)."""
    return float(np.mean(average_precision_at_k(recommended, relevant, k)))


def ndcg_at_k(recommended: Ranked, relevant: Relevant, k: int = 10) -> float:
    """Mean normalised discounted cumulative gain at ``k`` with binary relevance."""
    _check(recommended, relevant, k)
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    out = []
    for h, rel in zip(_hits(recommended, relevant, k), relevant, strict=True):
        dcg = float((h * discounts[: len(h)]).sum())
        ideal = float(discounts[: min(len(rel), k)].sum())
        out.append(dcg / ideal)
    return float(np.mean(out))


def hit_rate_at_k(recommended: Ranked, relevant: Relevant, k: int = 10) -> float:
    """Share of customers with at least one relevant product in the top ``k``."""
    _check(recommended, relevant, k)
    return float(np.mean([h.any() for h in _hits(recommended, relevant, k)]))


def catalogue_coverage(recommended: Ranked, catalogue_size: int, k: int = 10) -> float:
    """Distinct products in anyone's top ``k``, as a share of ``catalogue_size`` products.

    >>> catalogue_coverage([["a", "b"], ["a", "c"]], catalogue_size=10, k=1)
    0.1
    """
    if catalogue_size < 1:
        raise ConfigurationError(f"catalogue_size must be positive, got {catalogue_size!r}")
    if isinstance(k, bool) or int(k) != k or k < 1:
        raise ConfigurationError(f"k must be a positive integer, got {k!r}")
    shown = {item for rec in recommended for item in list(rec)[:k]}
    return len(shown) / catalogue_size


@dataclass(frozen=True)
class TemporalSplit:
    """Training lines before the cutoff and, per evaluated customer, the new products bought in the window."""

    train: pd.DataFrame
    relevant: pd.Series  # index customer_id, values: set of product ids
    cutoff: pd.Timestamp  # first instant after the training period (exclusive bound)
    window_end: pd.Timestamp  # exclusive end of the test window
    n_test_buyers: int  # customers who bought anything in the window


def temporal_split(lines: pd.DataFrame, cutoff: Any, horizon_days: int = 90) -> TemporalSplit:
    """Split order lines at ``cutoff`` (a date means the whole day: training includes it) into training lines
    and, for customers seen in training, the products they bought in the next ``horizon_days`` days that they
    had not bought before (new products only). Only purchase lines (positive quantity) count. Customer and
    product ids are compared as text (as :meth:`BaseRecommender.recommend` does).
    """
    for column in ("customer_id", "product_id", "timestamp"):
        if column not in lines.columns:
            raise DataContractError(f"order lines lack the column {column!r}", column=column, rule="required column")
    if isinstance(horizon_days, bool) or int(horizon_days) != horizon_days or horizon_days < 1:
        raise ConfigurationError(f"horizon_days must be a positive whole number of days, got {horizon_days!r}")
    frame = naive_utc_column(lines)
    # ids as text, as the recommenders read them: integer ids would never equal the recommended (text) ids
    frame = frame.assign(customer_id=frame["customer_id"].astype("string"),
                         product_id=frame["product_id"].astype("string"))
    if "quantity" in frame.columns:
        frame = frame.loc[frame["quantity"] > 0]
    bound = end_exclusive(cutoff, "cutoff")
    window_end = bound + pd.Timedelta(days=int(horizon_days))
    train = frame.loc[frame["timestamp"] < bound].reset_index(drop=True)
    test = frame.loc[(frame["timestamp"] >= bound) & (frame["timestamp"] < window_end)]
    if len(train) == 0:
        raise DataContractError(f"no purchase lines before the cutoff {bound:%Y-%m-%d}", column="timestamp",
                                rule="training needs lines before the cutoff")
    bought_before = train[["customer_id", "product_id"]].drop_duplicates()
    pairs = test[["customer_id", "product_id"]].drop_duplicates()
    pairs = pairs.loc[pairs["customer_id"].isin(bought_before["customer_id"])]
    seen = pairs.merge(bought_before, how="left", on=["customer_id", "product_id"], indicator=True)["_merge"]
    pairs = pairs.loc[seen.eq("left_only").to_numpy()]
    grouped = pairs.groupby("customer_id", sort=True)["product_id"].agg(list)
    # built by hand: on text columns pandas turns sets returned by agg or map back into (arrow) lists
    relevant = pd.Series([set(products) for products in grouped], index=grouped.index, dtype=object,
                         name="product_id")
    return TemporalSplit(train, relevant, bound, window_end, int(test["customer_id"].nunique()))


@dataclass(frozen=True)
class EvaluationResult:
    """The evaluation table (one row per model) and what it was measured on."""

    table: pd.DataFrame
    k: int
    n_customers: int
    cutoff: pd.Timestamp
    window_end: pd.Timestamp
    models: dict
    baseline: str = "popularity"  # the row the ``*_vs_baseline`` ratios divide by

    def baseline_is_popularity(self) -> bool:
        """True when the baseline row is a :class:`~crm_models.recommend.PopularityRecommender` (reports then
        call it "recommending the most popular products")."""
        from crm_models.recommend.popularity import PopularityRecommender

        return isinstance(self.models.get(self.baseline), PopularityRecommender)

    def best_model(self, metric: str = "precision") -> str:
        """The name of the model with the highest ``metric``."""
        return str(self.table[metric].idxmax())


def score_recommendations(recommendations: pd.DataFrame, relevant: pd.Series, catalogue_size: int,
                          k: int = 10) -> dict[str, float]:
    """Every metric of the module for ``recommend(...)`` output against ``relevant`` (customer -> set)."""
    grouped = recommendations.sort_values(["customer_id", "rank"]).groupby("customer_id", sort=False)["product_id"]
    lists = grouped.agg(list)
    ranked = [lists.get(c, []) for c in relevant.index]
    sets = list(relevant.to_numpy())
    return {
        "precision": precision_at_k(ranked, sets, k),
        "recall": recall_at_k(ranked, sets, k),
        "map": map_at_k(ranked, sets, k),
        "ndcg": ndcg_at_k(ranked, sets, k),
        "hit_rate": hit_rate_at_k(ranked, sets, k),
        "coverage": catalogue_coverage(ranked, catalogue_size, k),
    }


def evaluate_recommenders(
    models: Mapping[str, Any],
    lines: pd.DataFrame,
    *,
    cutoff: Any,
    horizon_days: int = 90,
    k: int = 10,
    baseline: str = "popularity",
) -> EvaluationResult:
    """Fit each model on the lines before ``cutoff`` and score its top ``k`` new products against what each
    customer bought in the next ``horizon_days`` days (see :func:`temporal_split`).

    ``models`` maps a label to an unfitted recommender (each is cloned, the originals stay unfitted); the
    ``baseline`` entry (a :class:`~crm_models.recommend.PopularityRecommender` when absent) gives the
    ``*_vs_baseline`` ratios. Returns an :class:`EvaluationResult` whose table has one row per model with every
    metric, the ratio of each to the baseline's, and the fitted models.
    """
    from crm_models.recommend.popularity import PopularityRecommender

    split = temporal_split(lines, cutoff, horizon_days)
    if len(split.relevant) == 0:
        raise DataContractError("no customer seen before the cutoff bought a new product in the test window",
                                column="timestamp", rule="the test window needs new purchases")
    candidates = dict(models)
    if baseline not in candidates:
        candidates = {baseline: PopularityRecommender(), **candidates}
    rows, fitted = {}, {}
    customers = split.relevant.index
    for name, model in candidates.items():
        estimator = clone(model).fit(split.train)
        recs = estimator.recommend(customers, k=k, exclude_purchased=True)
        rows[name] = score_recommendations(recs, split.relevant, len(estimator.products_), k)
        fitted[name] = estimator
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "model"
    for metric in list(METRIC_LABELS):
        base = table.loc[baseline, metric]
        table[f"{metric}_vs_baseline"] = table[metric] / base if base > 0 else np.nan
    return EvaluationResult(table, int(k), len(customers), split.cutoff, split.window_end, fitted, baseline)
