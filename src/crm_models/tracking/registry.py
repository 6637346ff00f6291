"""Model registry: versioned models with a ``champion`` alias, and comparison with the champion.

Typical use in a notebook, after fitting and logging the metrics of this run::

    info = log_sklearn_model(model, name="churn_model", input_example=X.head(),
                             registered_model_name="crm_churn")
    comparison = track_champion("crm_churn", info.registered_model_version, {"auc": auc, "brier": brier},
                                primary="auc", greater_is_better={"brier": False})
    display(comparison)   # this run vs the champion; comparison.attrs["promoted"] says if the alias moved

(``compare_with_champion`` and ``promote_if_better`` are the two halves, for finer control.)

The champion's metrics are read from the MLflow run that produced the champion version.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

CHAMPION_ALIAS = "champion"

__all__ = [
    "CHAMPION_ALIAS",
    "champion_metrics",
    "compare_with_champion",
    "get_champion",
    "model_versions_of_run",
    "promote_if_better",
    "register_model",
    "set_champion",
    "track_champion",
]


def _client(tracking_uri: str | None = None) -> Any:
    import mlflow
    from mlflow.tracking import MlflowClient

    from crm_models.tracking.mlflow_helpers import default_tracking_uri

    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri()
    mlflow.set_registry_uri(uri)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def register_model(
    model_uri: str, name: str, *, tags: Mapping[str, str] | None = None, tracking_uri: str | None = None
) -> Any:
    """Register ``model_uri`` (``runs:/<run>/<path>`` or ``models:/...``) as a new version of ``name``."""
    import mlflow

    _client(tracking_uri)
    version = mlflow.register_model(model_uri, name, tags=dict(tags or {}))
    return version


def set_champion(name: str, version: int | str, *, tracking_uri: str | None = None) -> None:
    """Point the ``champion`` alias of model ``name`` at ``version``."""
    _client(tracking_uri).set_registered_model_alias(name, CHAMPION_ALIAS, str(version))


def get_champion(name: str, *, tracking_uri: str | None = None) -> Any | None:
    """The champion ``ModelVersion`` of ``name``, or ``None`` when the model or the alias does not exist."""
    from mlflow.exceptions import MlflowException

    try:
        return _client(tracking_uri).get_model_version_by_alias(name, CHAMPION_ALIAS)
    except MlflowException:
        return None


def champion_metrics(name: str, *, tracking_uri: str | None = None) -> dict[str, float]:
    """Metrics of the run that produced the champion version (empty when there is no champion)."""
    champion = get_champion(name, tracking_uri=tracking_uri)
    if champion is None or not champion.run_id:
        return {}
    return dict(_client(tracking_uri).get_run(champion.run_id).data.metrics)


def compare_with_champion(
    name: str,
    metrics: Mapping[str, float],
    *,
    greater_is_better: Mapping[str, bool] | bool = True,
    tracking_uri: str | None = None,
) -> Any:
    """A DataFrame comparing ``metrics`` with the champion's: current, champion, difference, better.

    ``better`` is ``True``/``False`` where both values exist, ``None`` otherwise (no champion yet, or
    the champion did not log that metric). ``greater_is_better`` is one flag for all metrics or a
    mapping per metric (missing names default to ``True``).
    """
    import pandas as pd

    champion = get_champion(name, tracking_uri=tracking_uri)
    reference = champion_metrics(name, tracking_uri=tracking_uri) if champion is not None else {}
    rows = []
    for metric, value in metrics.items():
        current = float(value)
        best = reference.get(metric)
        higher = greater_is_better if isinstance(greater_is_better, bool) else greater_is_better.get(metric, True)
        if best is None or not math.isfinite(current) or not math.isfinite(best):
            better = None
            diff = math.nan
        else:
            diff = current - best
            better = diff > 0 if higher else diff < 0
        rows.append(
            {
                "metric": metric,
                "current": current,
                "champion": math.nan if best is None else best,
                "difference": diff,
                "better": better,
                "champion_version": None if champion is None else str(champion.version),
            }
        )
    table = pd.DataFrame(rows, columns=["metric", "current", "champion", "difference", "better", "champion_version"])
    table["better"] = pd.Series([row["better"] for row in rows], index=table.index, dtype=object)  # True/False/None
    return table


def promote_if_better(
    name: str,
    version: int | str,
    metric: str,
    *,
    greater_is_better: bool = True,
    tracking_uri: str | None = None,
) -> bool:
    """Make ``version`` the champion when there is none or when it beats the champion on ``metric``.

    Returns whether the alias moved. Ties keep the current champion.
    """
    client = _client(tracking_uri)
    candidate = client.get_model_version(name, str(version))
    candidate_value = client.get_run(candidate.run_id).data.metrics.get(metric) if candidate.run_id else None
    champion = get_champion(name, tracking_uri=tracking_uri)
    if champion is None:
        set_champion(name, version, tracking_uri=tracking_uri)
        return True
    if str(champion.version) == str(version) or candidate_value is None:
        return False
    best = client.get_run(champion.run_id).data.metrics.get(metric) if champion.run_id else None
    if best is None or (candidate_value > best if greater_is_better else candidate_value < best):
        set_champion(name, version, tracking_uri=tracking_uri)
        return True
    return False


def model_versions_of_run(run_id: str, *, tracking_uri: str | None = None) -> list[Any]:
    """Registered model versions created from MLflow run ``run_id`` (for the landing page)."""
    client = _client(tracking_uri)
    try:
        return list(client.search_model_versions(f"run_id = '{run_id}'"))
    except Exception:  # noqa: BLE001 - a registry query must never break a report
        return []


def track_champion(
    name: str,
    version: int | str,
    metrics: Mapping[str, float],
    *,
    primary: str,
    greater_is_better: Mapping[str, bool] | bool = True,
    tracking_uri: str | None = None,
) -> Any:
    """Compare this run's ``metrics`` with the champion's, then promote ``version`` if it wins on ``primary``.

    Returns the comparison DataFrame (see ``compare_with_champion``), made *before* any promotion, with
    ``attrs["promoted"]`` (bool) and ``attrs["champion_version"]`` (after the decision).
    """
    if primary not in metrics:
        raise ValueError(f"the primary metric {primary!r} is not among the metrics {sorted(metrics)}")
    comparison = compare_with_champion(name, metrics, greater_is_better=greater_is_better, tracking_uri=tracking_uri)
    higher = greater_is_better if isinstance(greater_is_better, bool) else greater_is_better.get(primary, True)
    promoted = promote_if_better(name, version, primary, greater_is_better=higher, tracking_uri=tracking_uri)
    champion = get_champion(name, tracking_uri=tracking_uri)
    comparison.attrs["promoted"] = promoted
    comparison.attrs["champion_version"] = None if champion is None else str(champion.version)
    return comparison
