"""Item-to-item collaborative filtering: "customers who bought A also bought B" (Sarwar, Karypis, Konstan &
Riedl 2001, "Item-based collaborative filtering recommendation algorithms", WWW; Linden, Smith & York 2003).

The similarity of products i and j is the cosine of their customer columns in the binary purchase matrix X,
``s_ij = c_ij / sqrt(c_i c_j)`` with ``c_ij`` the customers who bought both (Sarwar et al. 2001, eq. 1); a
customer's score for j is the sum of the similarities of j to the products the customer bought, ``X S``.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from crm_models.exceptions import ConfigurationError
from crm_models.recommend._base import BaseRecommender


def binary(counts: sp.csr_matrix) -> sp.csr_matrix:
    """``counts`` with every stored entry set to 1 (bought or not)."""
    out = counts.copy().astype("float64")
    out.data[:] = 1.0
    return out


class ItemCosineRecommender(BaseRecommender):
    """Item-item cosine similarity on who bought what.

    Parameters
    ----------
    neighbours
        Keep only each product's ``neighbours`` most similar products (``None`` keeps all).
    shrinkage
        Added to the cosine's denominator, damping similarities between rarely bought products.
    """

    def __init__(self, neighbours: int | None = None, shrinkage: float = 0.0) -> None:
        self.neighbours = neighbours
        self.shrinkage = shrinkage

    def _fit_model(self, counts: sp.csr_matrix) -> None:
        if self.neighbours is not None and int(self.neighbours) < 1:
            raise ConfigurationError(f"neighbours must be None or a positive integer, got {self.neighbours!r}")
        if self.shrinkage < 0:
            raise ConfigurationError(f"shrinkage must be >= 0, got {self.shrinkage!r}")
        x = binary(counts)
        co = (x.T @ x).toarray()
        norms = np.sqrt(np.diag(co))
        similarity = co / (np.outer(norms, norms) + self.shrinkage)
        np.fill_diagonal(similarity, 0.0)
        if self.neighbours is not None and self.neighbours < similarity.shape[0]:
            # Per column j keep the `neighbours` largest similarities s_ij (ties to the smaller product index).
            top = np.argsort(-similarity, axis=0, kind="stable")[: int(self.neighbours)]
            keep = np.zeros(similarity.shape, dtype=bool)
            np.put_along_axis(keep, top, True, axis=0)
            similarity = np.where(keep, similarity, 0.0)
        self.similarity_ = similarity

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(binary(self.interactions_[rows]) @ self.similarity_)
