"""Multi-touch attribution: journeys, heuristics, exact Markov removal effects, Shapley values.

>>> import pandas as pd
>>> from crm_models.attribution import markov_attribution, shapley_attribution
>>> journeys = pd.DataFrame({"path": ["a > b", "b", "a"], "conversions": [2, 1, 0], "nulls": [1, 3, 2]})
>>> markov_attribution(journeys).credit["conversions"].round(3).tolist()
[0.9, 2.1]
>>> shapley_attribution(journeys).credit["conversions"].tolist()
[1.0, 2.0]
"""

from crm_models.attribution.heuristics import HEURISTIC_METHODS, heuristic_attribution
from crm_models.attribution.journeys import (
    CONVERSION_STATE,
    NULL_STATE,
    START_STATE,
    EncodedJourneys,
    build_journeys,
    encode_journeys,
)
from crm_models.attribution.markov import (
    MarkovAttribution,
    OrderSelection,
    markov_attribution,
    select_markov_order,
)
from crm_models.attribution.roi import ChannelROI, channel_roi
from crm_models.attribution.shapley import MAX_EXACT_CHANNELS, ShapleyAttribution, shapley_attribution
from crm_models.attribution.uncertainty import (
    ALL_METHODS,
    attribute,
    bootstrap_attribution,
    compare_attribution,
)

__all__ = [
    "ALL_METHODS",
    "CONVERSION_STATE",
    "HEURISTIC_METHODS",
    "MAX_EXACT_CHANNELS",
    "NULL_STATE",
    "START_STATE",
    "ChannelROI",
    "EncodedJourneys",
    "MarkovAttribution",
    "OrderSelection",
    "ShapleyAttribution",
    "attribute",
    "bootstrap_attribution",
    "build_journeys",
    "channel_roi",
    "compare_attribution",
    "encode_journeys",
    "heuristic_attribution",
    "markov_attribution",
    "select_markov_order",
    "shapley_attribution",
]
