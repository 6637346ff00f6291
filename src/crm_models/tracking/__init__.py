"""MLflow helpers for notebooks and the suite runner (a leaf module: model code never imports it).

A suite run (``crm run``) opens one MLflow run per notebook and exports ``MLFLOW_RUN_ID`` and
``MLFLOW_TRACKING_URI`` to the notebook's kernel; the ``log_*`` functions here then write into that
run. Used interactively (no suite run), they open a run of their own in the project's store.
"""

from crm_models.tracking.mlflow_helpers import (
    active_run,
    data_fingerprint,
    default_tracking_uri,
    git_commit,
    log_figure,
    log_kpis,
    log_metrics,
    log_params,
    log_sklearn_model,
    log_table,
    set_tags,
)
from crm_models.tracking.registry import (
    CHAMPION_ALIAS,
    champion_metrics,
    compare_with_champion,
    get_champion,
    promote_if_better,
    register_model,
    set_champion,
    track_champion,
)

__all__ = [
    "CHAMPION_ALIAS",
    "active_run",
    "champion_metrics",
    "compare_with_champion",
    "data_fingerprint",
    "default_tracking_uri",
    "get_champion",
    "git_commit",
    "log_figure",
    "log_kpis",
    "log_metrics",
    "log_params",
    "log_sklearn_model",
    "log_table",
    "promote_if_better",
    "register_model",
    "set_champion",
    "set_tags",
    "track_champion",
]
