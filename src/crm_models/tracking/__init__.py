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
    log_metrics,
    log_params,
    log_sklearn_model,
    log_table,
)

__all__ = [
    "active_run",
    "data_fingerprint",
    "default_tracking_uri",
    "git_commit",
    "log_figure",
    "log_metrics",
    "log_params",
    "log_sklearn_model",
    "log_table",
]
