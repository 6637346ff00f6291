"""Model registry: versioned models with a ``champion`` alias, and comparison with the champion.

Typical use in a notebook, after fitting and logging the metrics of this run::

    info = log_sklearn_model(model, name="churn_model", input_example=X.head(),
                             registered_model_name="crm_churn")
    comparison = track_champion("crm_churn", info.registered_model_version, {"auc": auc, "brier": brier},
                                primary="auc", greater_is_better={"brier": False})
    display(comparison)   # this run vs the champion; comparison.attrs["promoted"] says if the alias moved
    display(Markdown(champion_verdict(comparison, label="ROC AUC")))
    display(champion_table(comparison))   # metric x (this model, champion (vN), difference, better)

For errors, where lower wins, pass ``greater_is_better=False`` (or ``{"mae": False}``).

(``compare_with_champion`` and ``promote_if_better`` are the two halves, for finer control.)

The champion's metrics are read from the MLflow run that produced the champion version.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

CHAMPION_ALIAS = "champion"
COMPARISON_COLUMNS = ("metric", "current", "champion", "difference", "better")

__all__ = [
    "CHAMPION_ALIAS",
    "champion_metrics",
    "champion_table",
    "champion_verdict",
    "compare_with_champion",
    "get_champion",
    "model_versions_of_run",
    "promote_if_better",
    "recorded_comparison",
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
    """A DataFrame comparing ``metrics`` with the champion's: current, champion, difference, better,
    champion_version, greater_is_better (one row per metric, in the order given).

    ``better`` is ``True``/``False`` where both values exist, ``None`` otherwise (no champion yet, or
    the champion did not log that metric). ``greater_is_better`` is one flag for all metrics or a
    mapping per metric (missing names default to ``True``); the column of that name records it per row.
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
                "greater_is_better": bool(higher),
            }
        )
    table = pd.DataFrame(rows, columns=[*COMPARISON_COLUMNS, "champion_version", "greater_is_better"])
    table["better"] = pd.Series([row["better"] for row in rows], index=table.index, dtype=object)  # True/False/None
    return table


def promote_if_better(
    name: str,
    version: int | str,
    metric: str,
    *,
    greater_is_better: bool = True,
    value: float | None = None,
    tracking_uri: str | None = None,
) -> bool:
    """Make ``version`` the champion when there is none or when it beats the champion on ``metric``.

    The candidate's value is ``value`` when given, else ``metric`` as logged in the run that produced
    ``version``; the champion's is always read from its run. ``greater_is_better=False`` for errors
    (lower wins). Returns whether the alias moved. Ties, and a candidate without a finite value, keep
    the current champion; a champion that lacks the metric is replaced.
    """
    client = _client(tracking_uri)
    candidate = client.get_model_version(name, str(version))
    if value is not None:
        candidate_value: float | None = float(value)
    else:
        candidate_value = client.get_run(candidate.run_id).data.metrics.get(metric) if candidate.run_id else None
    if candidate_value is not None and not math.isfinite(candidate_value):
        candidate_value = None
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

    ``greater_is_better`` is one flag or a mapping per metric: pass ``{"holdout_mae": False}`` (or
    ``False``) for errors, where lower wins. The candidate is judged on ``metrics[primary]``. Metrics
    missing from the run that produced ``version`` are logged there, because later comparisons read the
    champion's metrics from its run.

    Returns the comparison DataFrame (see ``compare_with_champion``: its ``champion_version`` column is the
    champion *before* the decision), made before any promotion, with the primary metric in the first row
    and ``attrs["promoted"]`` (bool) and ``attrs["champion_version"]`` (after the decision).
    :func:`champion_verdict` puts it in words, :func:`champion_table` makes it display-ready.

    The decision is also recorded on the version, as tags ``crm_primary_metric``,
    ``crm_greater_is_better``, ``crm_champion_decision`` (``first`` / ``promoted`` / ``kept``),
    ``crm_previous_champion`` and ``crm_champion_comparison`` (the table as JSON): a report written later
    reads it back with :func:`recorded_comparison`, i.e. the comparison with the champion *of that time*
    rather than with the version itself once it has been promoted.
    """
    if primary not in metrics:
        raise ValueError(f"the primary metric {primary!r} is not among the metrics {sorted(metrics)}")
    ordered = {primary: metrics[primary], **{k: v for k, v in metrics.items() if k != primary}}
    _log_missing_metrics(name, version, ordered, tracking_uri=tracking_uri)
    comparison = compare_with_champion(name, ordered, greater_is_better=greater_is_better, tracking_uri=tracking_uri)
    higher = greater_is_better if isinstance(greater_is_better, bool) else greater_is_better.get(primary, True)
    before = get_champion(name, tracking_uri=tracking_uri)
    promoted = promote_if_better(
        name, version, primary, greater_is_better=higher, value=float(metrics[primary]), tracking_uri=tracking_uri
    )
    champion = get_champion(name, tracking_uri=tracking_uri)
    decision = "first" if before is None else ("promoted" if promoted else "kept")
    tags = {
        "crm_primary_metric": primary,
        "crm_greater_is_better": str(bool(higher)).lower(),
        "crm_champion_decision": decision,
        "crm_previous_champion": "" if before is None else str(before.version),
        COMPARISON_TAG: _comparison_json(comparison),
    }
    client = _client(tracking_uri)
    for key, tag in tags.items():
        client.set_model_version_tag(name, str(version), key, tag)
    comparison.attrs["promoted"] = promoted
    comparison.attrs["champion_version"] = None if champion is None else str(champion.version)
    return comparison


COMPARISON_TAG = "crm_champion_comparison"
_TAG_LIMIT = 5000  # MLflow's limit on a model version tag value


def _comparison_json(comparison: Any) -> str:
    import json

    import numpy as np

    def clean(value: Any) -> Any:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return None
        if isinstance(value, bool | np.bool_):
            return bool(value)
        return value if isinstance(value, str) else float(value)

    rows = [
        {k: clean(row[k]) for k in (*COMPARISON_COLUMNS, "greater_is_better")}
        for row in comparison.to_dict("records")
    ]
    text = json.dumps(rows)
    while len(text) > _TAG_LIMIT and len(rows) > 1:  # keep the primary metric (first) and as many as fit
        rows.pop()
        text = json.dumps(rows)
    return text


def recorded_comparison(name: str, version: int | str, *, tracking_uri: str | None = None) -> Any | None:
    """The comparison :func:`track_champion` made for ``version`` (before any promotion), or ``None``.

    The same shape as :func:`track_champion`'s result (primary metric first, ``champion_version`` = the
    champion at that time, ``attrs["promoted"]``, ``attrs["champion_version"]`` after that decision);
    ``None`` when the version was never tracked or the registry cannot be read.
    """
    import json

    import pandas as pd

    try:
        tags = _client(tracking_uri).get_model_version(name, str(version)).tags
    except Exception:  # noqa: BLE001 - a registry query must never break a report
        return None
    if COMPARISON_TAG not in tags:
        return None
    previous = tags.get("crm_previous_champion") or None
    rows = json.loads(tags[COMPARISON_TAG])
    table = pd.DataFrame(rows, columns=list(COMPARISON_COLUMNS)).astype(
        {"current": float, "champion": float, "difference": float}
    )
    table["better"] = pd.Series([row.get("better") for row in rows], index=table.index, dtype=object)
    table["champion_version"] = previous
    table["greater_is_better"] = [bool(row.get("greater_is_better", True)) for row in rows]
    promoted = tags.get("crm_champion_decision") in ("first", "promoted")
    table.attrs["promoted"] = promoted
    table.attrs["champion_version"] = str(version) if promoted else previous
    return table


def _log_missing_metrics(
    name: str, version: int | str, metrics: Mapping[str, float], *, tracking_uri: str | None
) -> None:
    client = _client(tracking_uri)
    run_id = client.get_model_version(name, str(version)).run_id
    if not run_id:
        return
    logged = client.get_run(run_id).data.metrics
    for key, value in metrics.items():
        number = float(value)
        if key not in logged and math.isfinite(number):
            client.log_metric(run_id, key, number)


def champion_verdict(comparison: Any, *, label: str | None = None, fmt: str = "{:.3f}") -> str:
    """One sentence on a :func:`track_champion` (or :func:`recorded_comparison`) result, e.g.
    ``"This model's ROC AUC 0.760 vs champion 0.750 (version 3): promoted, version 4 is the new champion
    (higher is better)."``

    The primary metric is the first row; ``label`` names it in words (default: its name); ``fmt``
    formats its values.
    """
    row = comparison.iloc[0]
    words = label or str(row["metric"])
    direction = "higher" if bool(row.get("greater_is_better", True)) else "lower"
    current = fmt.format(row["current"])
    previous = row.get("champion_version")
    previous = None if _isna(previous) else str(previous)
    now = comparison.attrs.get("champion_version")
    if previous is None:
        return (f"This model's {words} {current}; there was no champion yet, so this version"
                f"{'' if now is None else f' ({now})'} becomes the champion ({direction} is better).")
    if _isna(row["champion"]):
        reference = f"the champion (version {previous}) did not log {words}"
    else:
        reference = f"champion {fmt.format(row['champion'])} (version {previous})"
    if comparison.attrs.get("promoted"):
        return f"This model's {words} {current} vs {reference}: promoted, version {now} is the new champion ({direction} is better)."
    return (f"This model's {words} {current} vs {reference}: kept, version {previous} stays the champion "
            f"({direction} is better; ties keep the champion).")


def champion_table(comparison: Any) -> Any:
    """A display-ready view of a comparison: one row per metric, ``this model``, ``champion (vN)``,
    ``difference`` and ``better`` (``yes`` / ``no`` / ``-`` where there is nothing to compare)."""
    import pandas as pd

    previous = comparison["champion_version"].iloc[0] if len(comparison) else None
    champion = "champion" if _isna(previous) else f"champion (v{previous})"
    words = {True: "yes", False: "no"}
    return pd.DataFrame(
        {
            "this model": comparison["current"].to_numpy(dtype=float),
            champion: comparison["champion"].to_numpy(dtype=float),
            "difference": comparison["difference"].to_numpy(dtype=float),
            "better": ["-" if _isna(v) else words[bool(v)] for v in comparison["better"]],
        },
        index=pd.Index(comparison["metric"].astype(str).to_list(), name="metric"),
    )


def _isna(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def registered_name(base: str, suite: str | None = None) -> str:
    """The registry name of a model family for the current suite: ``crm_churn-demo``, ``crm_churn-online_retail``.

    Champions are only comparable on the same data, so each suite (``$CRM_SUITE``, exported by ``crm run``) keeps
    its own registered model and ``champion`` alias; outside a suite run the bare ``base`` name is used.
    """
    import os
    import re

    suite = suite if suite is not None else os.environ.get("CRM_SUITE", "")
    if not suite:
        return base
    return f"{base}-{re.sub(r'[^A-Za-z0-9_.-]+', '_', suite)}"
