"""The baseline every recommender is measured against: the products most customers bought."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from crm_models.recommend._base import BaseRecommender


class PopularityRecommender(BaseRecommender):
    """Rank products by the number of distinct customers who bought them (the same list for everyone).

    Examples
    --------
    >>> import pandas as pd
    >>> lines = pd.DataFrame({"order_id": ["1", "2", "3"], "customer_id": ["a", "b", "b"],
    ...                       "product_id": ["x", "x", "y"], "quantity": [1, 1, 1]})
    >>> PopularityRecommender().fit(lines).recommend(["a"], k=1)["product_id"].tolist()
    ['y']
    """

    def __init__(self) -> None:
        pass

    def _fit_model(self, counts: sp.csr_matrix) -> None:
        self.scores_ = self.popularity_.astype("float64")

    def _score(self, rows: np.ndarray) -> np.ndarray:
        return np.tile(self.scores_, (len(rows), 1))
