"""What every recommender shares: ``fit(lines)`` builds the interactions, ``recommend(customer_ids, k)`` ranks.

A subclass declares its settings in ``__init__`` and implements ``_fit_model(X)`` (learn from the binary or
count matrix, set attributes ending in ``_``) and ``_score(rows)`` (a dense block of scores for some customers).
Customers the model never saw get the popularity ranking (the count of customers who bought each product).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.base import BaseEstimator

from crm_models.data.engine import TableSource
from crm_models.exceptions import ConfigurationError, NotFittedError
from crm_models.recommend.interactions import build_interactions

BATCH_ROWS = 2048


class BaseRecommender(BaseEstimator):
    """Shared ``fit``/``recommend`` of the product recommenders (scikit-learn estimator contract)."""

    def fit(self, lines: TableSource, y: Any = None, *, backend: Any = None) -> BaseRecommender:
        """Learn from canonical order lines (pandas, a path, or an ibis table); returns ``self``."""
        interactions = build_interactions(lines, backend=backend)
        self.customers_ = interactions.customers
        self.products_ = interactions.products
        self.interactions_ = interactions.matrix
        binary = interactions.matrix.copy()
        binary.data[:] = 1.0
        self.popularity_ = np.asarray(binary.sum(axis=0)).ravel()
        self._fit_model(interactions.matrix)
        return self

    def _fit_model(self, counts: sp.csr_matrix) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _score(self, rows: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _check_fitted(self) -> None:
        if not hasattr(self, "products_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet: call fit(lines) first")

    def recommend(self, customer_ids: Iterable[Any], k: int = 10, exclude_purchased: bool = True) -> pd.DataFrame:
        """The top ``k`` products for each customer.

        Parameters
        ----------
        customer_ids
            Customers to recommend for; ids are compared as strings. Customers not seen in ``fit`` get the
            popularity ranking.
        k
            Products per customer.
        exclude_purchased
            Leave out products the customer bought in the training lines.

        Returns
        -------
        ``customer_id, rank (1..k), product_id, score``, customers in the order given, best product first; ties
        go to the product with the smaller id.
        """
        self._check_fitted()
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ConfigurationError(f"k must be a positive integer, got {k!r}")
        ids = pd.Index(pd.Series(list(customer_ids), dtype="string"))
        k = min(int(k), len(self.products_))
        positions = self.customers_.get_indexer(ids)
        known = positions >= 0
        frames = []
        for start in range(0, len(ids), BATCH_ROWS):
            block = slice(start, start + BATCH_ROWS)
            pos, seen = positions[block], known[block]
            scores = np.tile(self.popularity_.astype("float64"), (len(pos), 1))
            if seen.any():
                scores[seen] = self._score(pos[seen])
                if exclude_purchased:
                    bought = self.interactions_[pos[seen]]
                    sub = scores[seen]
                    rows, cols = bought.nonzero()
                    sub[rows, cols] = -np.inf
                    scores[seen] = sub
            top = _top_k(scores, k)
            picked = np.take_along_axis(scores, top, axis=1)
            frame = pd.DataFrame({
                "customer_id": np.repeat(ids[block].to_numpy(), k),
                "rank": np.tile(np.arange(1, k + 1), len(pos)),
                "product_id": self.products_.to_numpy()[top.ravel()],
                "score": picked.ravel(),
            })
            frames.append(frame.loc[np.isfinite(frame["score"].to_numpy())])
        if not frames:
            return pd.DataFrame({"customer_id": pd.Series([], dtype="string"), "rank": pd.Series([], dtype="int64"),
                                 "product_id": pd.Series([], dtype="string"),
                                 "score": pd.Series([], dtype="float64")})
        out = pd.concat(frames, ignore_index=True)
        out["customer_id"] = out["customer_id"].astype("string")
        out["product_id"] = out["product_id"].astype("string")
        return out


def _top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Column indices of the ``k`` largest scores per row, best first; ties go to the smaller column index.

    The same as ``np.argsort(-scores, axis=1, kind="stable")[:, :k]`` in linear time per row: the ``k``-th
    largest score of each row (a partition) is the threshold; every column above it is kept, and of the columns
    equal to it the ones with the smallest indices, until ``k`` are kept; only those ``k`` are then sorted.
    """
    n_rows, n_cols = scores.shape
    if k >= n_cols:
        return np.argsort(-scores, axis=1, kind="stable")[:, :k]
    threshold = -np.partition(-scores, k - 1, axis=1)[:, k - 1 : k]
    above = scores > threshold
    tied = scores == threshold
    room = k - above.sum(axis=1, keepdims=True)
    keep = above | (tied & (np.cumsum(tied, axis=1) <= room))
    columns = np.nonzero(keep)[1].reshape(n_rows, k)  # row-major: each row's k columns in ascending order
    order = np.argsort(-np.take_along_axis(scores, columns, axis=1), axis=1, kind="stable")
    return np.take_along_axis(columns, order, axis=1)
