"""The recommenders a report compares by temporal validation (issue 15 item 3): one unfitted instance of each."""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from typing import Any

from crm_models.exceptions import ConfigurationError

LABELS = ("popularity", "item cosine", "EASE", "ALS")


def candidate_recommenders(*, random_state: int = 0, include_als: bool | None = None,
                           names: Sequence[str] | None = None) -> dict[str, Any]:
    """``{"popularity", "item cosine", "EASE"}`` with their default settings, plus ``"ALS"`` when the optional
    ``implicit`` package is installed (``include_als=None``) or when asked for (``True``; fitting then fails
    with the install hint if it is missing). Labels are the names the evaluation table and the report use.

    ``names`` (one label or a list) keeps only those labels, in the order of :data:`LABELS` (e.g.
    ``["popularity", "item cosine"]`` for a quick run; naming ``"ALS"`` asks for it); an unknown label is refused
    with ``ConfigurationError``.
    """
    if isinstance(names, str):
        names = [names]
    if names is not None:
        unknown = [n for n in names if n not in LABELS]
        if unknown or not names:
            raise ConfigurationError(f"models={list(names)!r}: every name must be one of {', '.join(LABELS)}")
        include_als = "ALS" in names
    from crm_models.recommend.als import ALSRecommender
    from crm_models.recommend.ease import EASERecommender
    from crm_models.recommend.item_item import ItemCosineRecommender
    from crm_models.recommend.popularity import PopularityRecommender

    models: dict[str, Any] = {"popularity": PopularityRecommender(), "item cosine": ItemCosineRecommender(),
                              "EASE": EASERecommender()}
    if include_als or (include_als is None and importlib.util.find_spec("implicit") is not None):
        models["ALS"] = ALSRecommender(random_state=random_state)
    return models if names is None else {n: m for n, m in models.items() if n in names}
