"""Customer lifecycle: acquisition cohorts, repurchase (survival), purchase cycles, event funnels, seasonality.

Aggregations over transactions and events are ibis expressions run on DuckDB by default (``backend=`` or an
ibis table from another backend runs them elsewhere); the small per-cohort, per-customer or per-stage results
come back as pandas frames, and the statistics on them (Kaplan-Meier, Wilson intervals, shrinkage) are numpy.
"""

from crm_models.lifecycle.cohorts import cohort_matrix, cohort_table, retention_curve
from crm_models.lifecycle.cycles import purchase_cycles
from crm_models.lifecycle.funnels import funnel, normalize_stages
from crm_models.lifecycle.repurchase import (
    KaplanMeier,
    repurchase_curves,
    repurchase_rate,
    second_purchase_times,
)
from crm_models.lifecycle.seasonality import seasonality_profile

__all__ = [
    "KaplanMeier",
    "cohort_matrix",
    "cohort_table",
    "funnel",
    "normalize_stages",
    "purchase_cycles",
    "repurchase_curves",
    "repurchase_rate",
    "retention_curve",
    "seasonality_profile",
    "second_purchase_times",
]
