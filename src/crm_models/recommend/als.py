"""Implicit-feedback matrix factorisation (Hu, Koren & Volinsky 2008, "Collaborative Filtering for Implicit
Feedback Datasets", ICDM) through the optional ``implicit`` package (``pip install crm-models[als]``).

Confidence ``c_ui = 1 + alpha r_ui`` for r the number of orders on which customer u bought product i (eq. 2 of
the paper); preferences are 1 where r > 0. Scores are the dot products of customer and product factors.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from crm_models.exceptions import ConfigurationError
from crm_models.recommend._base import BaseRecommender


class ALSRecommender(BaseRecommender):
    """Alternating least squares on implicit feedback, via ``implicit.cpu.als.AlternatingLeastSquares``.

    Parameters
    ----------
    factors, regularization, iterations
        As in ``implicit``.
    alpha
        Confidence weight of an order (Hu et al. 2008, eq. 2).
    random_state
        Seed of the factor initialisation.
    """

    def __init__(self, factors: int = 64, regularization: float = 0.05, alpha: float = 10.0, iterations: int = 15,
                 random_state: int = 0) -> None:
        self.factors = factors
        self.regularization = regularization
        self.alpha = alpha
        self.iterations = iterations
        self.random_state = random_state

    def _fit_model(self, counts: sp.csr_matrix) -> None:
        try:
            from implicit.cpu.als import AlternatingLeastSquares
        except ImportError as error:
            raise ConfigurationError("ALSRecommender needs the optional 'implicit' package: "
                                     "pip install 'crm-models[als]'") from error
        from threadpoolctl import threadpool_limits

        if self.alpha <= 0:
            raise ConfigurationError(f"alpha must be > 0, got {self.alpha!r}")
        model = AlternatingLeastSquares(factors=int(self.factors), regularization=float(self.regularization),
                                        alpha=float(self.alpha), iterations=int(self.iterations),
                                        random_state=int(self.random_state), calculate_training_loss=False)
        # implicit parallelises itself; one BLAS thread avoids oversubscription (and its warning).
        with threadpool_limits(1, "blas"):
            model.fit(sp.csr_matrix(counts, dtype="float32"), show_progress=False)
        self.customer_factors_ = np.asarray(model.user_factors)
        self.product_factors_ = np.asarray(model.item_factors)

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return self.customer_factors_[rows].astype("float64") @ self.product_factors_.T.astype("float64")
