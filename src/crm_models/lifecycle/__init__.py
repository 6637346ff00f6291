"""Customer lifecycle: acquisition cohorts, repurchase (survival), purchase cycles, event funnels, seasonality.

Aggregations over transactions and events are ibis expressions run on DuckDB by default (``backend=`` or an
ibis table from another backend runs them elsewhere); the small per-customer or per-stage results come back as
pandas frames, and the statistics on them (Kaplan-Meier, Wilson intervals, shrinkage) are plain numpy.
"""

from crm_models.lifecycle.repurchase import (
    KaplanMeier,
    repurchase_curves,
    repurchase_rate,
    second_purchase_times,
)

__all__ = ["KaplanMeier", "repurchase_curves", "repurchase_rate", "second_purchase_times"]
