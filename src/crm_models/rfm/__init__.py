"""RFM scoring and segmentation: scores, an ordered rule table, the value x loyalty matrix, segment summary."""

from crm_models.rfm.migration import migration_flows, migration_matrix, segment_history, segment_trends
from crm_models.rfm.scores import percentile_scores, quantile_scores, rfm_inputs, rfm_scores
from crm_models.rfm.segments import (
    DEFAULT_REMAINDER,
    DEFAULT_RULES,
    RFM_GRID_RULES,
    RULE_SETS,
    SEED_003_RULES,
    SegmentRule,
    segment_customers,
    segment_summary,
    value_loyalty_matrix,
    value_modifier,
)

__all__ = [
    "DEFAULT_REMAINDER",
    "DEFAULT_RULES",
    "RFM_GRID_RULES",
    "RULE_SETS",
    "SEED_003_RULES",
    "SegmentRule",
    "migration_flows",
    "migration_matrix",
    "percentile_scores",
    "quantile_scores",
    "rfm_inputs",
    "rfm_scores",
    "segment_customers",
    "segment_history",
    "segment_summary",
    "segment_trends",
    "value_loyalty_matrix",
    "value_modifier",
]
