"""The recommenders a report compares by temporal validation (issue 15 item 3): one unfitted instance of each."""

from __future__ import annotations

import importlib.util
from typing import Any


def candidate_recommenders(*, random_state: int = 0, include_als: bool | None = None) -> dict[str, Any]:
    """``{"popularity", "item cosine", "EASE"}`` with their default settings, plus ``"ALS"`` when the optional
    ``implicit`` package is installed (``include_als=None``) or when asked for (``True``; fitting then fails
    with the install hint if it is missing). Labels are the names the evaluation table and the report use."""
    from crm_models.recommend.als import ALSRecommender
    from crm_models.recommend.ease import EASERecommender
    from crm_models.recommend.item_item import ItemCosineRecommender
    from crm_models.recommend.popularity import PopularityRecommender

    models: dict[str, Any] = {"popularity": PopularityRecommender(), "item cosine": ItemCosineRecommender(),
                              "EASE": EASERecommender()}
    if include_als or (include_als is None and importlib.util.find_spec("implicit") is not None):
        models["ALS"] = ALSRecommender(random_state=random_state)
    return models
