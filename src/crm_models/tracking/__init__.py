"""MLflow helpers for notebooks and the suite runner (a leaf module: model code never imports it).

A suite run (``crm run``) opens one MLflow run per notebook and exports ``MLFLOW_RUN_ID`` and
``MLFLOW_TRACKING_URI`` to the notebook's kernel; the ``log_*`` functions here then write into that
run. Used interactively (no suite run), the first call opens one run in the project's store (or the one
``MLFLOW_TRACKING_URI`` names; artifacts then live beside that store) and every later call in the same
kernel reuses it; ``new_session_run()`` starts a fresh one.

``log_clv_model`` (the CLV models as a pyfunc model) is loaded on first use: it imports MLflow.
"""

from crm_models.tracking.mlflow_helpers import (
    active_run,
    artifact_location_for,
    current_tracking_uri,
    data_fingerprint,
    default_tracking_uri,
    git_commit,
    log_figure,
    log_kpis,
    log_metrics,
    log_params,
    log_sklearn_model,
    log_table,
    new_session_run,
    set_tags,
)
from crm_models.tracking.registry import (
    CHAMPION_ALIAS,
    champion_metrics,
    champion_table,
    champion_verdict,
    compare_with_champion,
    get_champion,
    promote_if_better,
    recorded_comparison,
    register_model,
    registered_name,
    set_champion,
    track_champion,
)

__all__ = [
    "CHAMPION_ALIAS",
    "active_run",
    "artifact_location_for",
    "champion_metrics",
    "champion_table",
    "champion_verdict",
    "compare_with_champion",
    "current_tracking_uri",
    "data_fingerprint",
    "default_tracking_uri",
    "get_champion",
    "git_commit",
    "log_clv_model",
    "log_figure",
    "log_kpis",
    "log_metrics",
    "log_params",
    "log_sklearn_model",
    "log_table",
    "new_session_run",
    "promote_if_better",
    "recorded_comparison",
    "register_model",
    "registered_name",
    "set_champion",
    "set_tags",
    "track_champion",
]


def __getattr__(name: str):  # PEP 562: the pyfunc CLV model imports MLflow, so load it on first use only
    if name in ("log_clv_model", "CLVPyfuncModel"):
        from crm_models.tracking import clv_model

        return getattr(clv_model, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
