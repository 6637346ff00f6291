"""EASE, the embarrassingly shallow autoencoder (Steck 2019, "Embarrassingly Shallow Autoencoders for Sparse
Data", WWW '19).

An item-item weight matrix B with a zero diagonal minimises ``||X - X B||_F^2 + lambda ||B||_F^2`` for the
binary customer x product matrix X. Its closed form (Steck 2019, eq. 8):

    P = (X'X + lambda I)^-1,    B = I - P diag(1 / diag(P)),

that is ``B_ij = -P_ij / P_jj`` off the diagonal and ``B_jj = 0``. A customer's scores are ``x B``.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg
import scipy.sparse as sp

from crm_models.exceptions import ConfigurationError
from crm_models.recommend._base import BaseRecommender
from crm_models.recommend.item_item import binary


def ease_weights(gram: np.ndarray, l2: float) -> np.ndarray:
    """EASE's B from the Gram matrix ``X'X`` and the L2 penalty (Steck 2019, eq. 8).

    The inverse is taken through a Cholesky factorisation (``X'X + lambda I`` is symmetric positive definite
    for ``lambda > 0``), which is more stable than a general inverse.
    """
    n = gram.shape[0]
    regularised = np.array(gram, dtype="float64", copy=True)
    regularised[np.diag_indices(n)] += l2
    factor = scipy.linalg.cho_factor(regularised, lower=False, check_finite=False)
    precision = scipy.linalg.cho_solve(factor, np.eye(n), check_finite=False)
    weights = -precision / np.diag(precision)[None, :]
    np.fill_diagonal(weights, 0.0)
    return weights


class EASERecommender(BaseRecommender):
    """EASE (Steck 2019): a closed-form linear item-item model on the binary purchase matrix.

    Parameters
    ----------
    l2
        The L2 penalty lambda; larger values shrink the weights towards zero.
    """

    def __init__(self, l2: float = 200.0) -> None:
        self.l2 = l2

    def _fit_model(self, counts: sp.csr_matrix) -> None:
        if not float(self.l2) > 0:
            raise ConfigurationError(f"l2 must be > 0 (X'X + l2 I must be invertible), got {self.l2!r}")
        x = binary(counts)
        self.weights_ = ease_weights((x.T @ x).toarray(), float(self.l2))

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return np.asarray(binary(self.interactions_[rows]) @ self.weights_)
