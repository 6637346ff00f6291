"""RFM scoring and segmentation: scores, an ordered rule table, the value x loyalty matrix, segment summary."""

from crm_models.rfm.scores import percentile_scores, quantile_scores, rfm_inputs, rfm_scores
from crm_models.rfm.segments import (
    DEFAULT_REMAINDER,
    DEFAULT_RULES,
    SegmentRule,
    segment_customers,
    segment_summary,
    value_loyalty_matrix,
)

__all__ = [
    "DEFAULT_REMAINDER",
    "DEFAULT_RULES",
    "SegmentRule",
    "percentile_scores",
    "quantile_scores",
    "rfm_inputs",
    "rfm_scores",
    "segment_customers",
    "segment_summary",
    "value_loyalty_matrix",
]
