"""Run history from MLflow: what the suite runner tagged, for the landing page and for notebooks.

The suite runner tags every notebook run with ``crm_suite``, ``crm_notebook``, ``crm_suite_run`` (the
report folder's run id) and, for back-dated runs, ``crm_as_of``. These functions read those runs back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

TAG_SUITE = "crm_suite"
TAG_NOTEBOOK = "crm_notebook"
TAG_SUITE_RUN = "crm_suite_run"
TAG_AS_OF = "crm_as_of"
TAG_STATUS = "crm_status"
KPI_PREFIX = "kpi_"

__all__ = [
    "KPI_PREFIX",
    "TAG_AS_OF",
    "TAG_NOTEBOOK",
    "TAG_STATUS",
    "TAG_SUITE",
    "TAG_SUITE_RUN",
    "NotebookRun",
    "kpis_of",
    "notebook_runs",
    "previous_run",
]


@dataclass(frozen=True)
class NotebookRun:
    """One notebook's MLflow run, reduced to what reports need."""

    run_id: str
    suite: str
    notebook: str
    suite_run: str
    start_time: int
    status: str
    metrics: dict[str, float] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def kpis(self) -> dict[str, Any]:
        """Numeric ``kpi_*`` metrics and text ``kpi_*`` tags (e.g. an experiment verdict)."""
        return kpis_of(self.metrics, self.tags)


def kpis_of(metrics: dict[str, float], tags: dict[str, str]) -> dict[str, Any]:
    """Collect ``kpi_*`` metrics (numbers) and ``kpi_*`` tags (words) into one mapping."""
    out: dict[str, Any] = {k: v for k, v in tags.items() if k.startswith(KPI_PREFIX)}
    out.update({k: v for k, v in metrics.items() if k.startswith(KPI_PREFIX)})
    return dict(sorted(out.items()))


def _client(tracking_uri: str | None) -> Any:
    import os

    from mlflow.tracking import MlflowClient

    from crm_models.tracking.mlflow_helpers import default_tracking_uri

    return MlflowClient(tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri())


def _to_run(run: Any) -> NotebookRun:
    tags = dict(run.data.tags)
    return NotebookRun(
        run_id=run.info.run_id,
        suite=tags.get(TAG_SUITE, ""),
        notebook=tags.get(TAG_NOTEBOOK, ""),
        suite_run=tags.get(TAG_SUITE_RUN, ""),
        start_time=int(run.info.start_time or 0),
        status=tags.get(TAG_STATUS, run.info.status),
        metrics=dict(run.data.metrics),
        params=dict(run.data.params),
        tags=tags,
    )


def notebook_runs(
    suite: str,
    notebook: str | None = None,
    *,
    experiment: str | None = None,
    tracking_uri: str | None = None,
    max_results: int = 200,
) -> list[NotebookRun]:
    """Runs the suite runner made for ``suite`` (optionally one ``notebook``), newest first."""
    from crm_models.tracking.mlflow_helpers import DEFAULT_EXPERIMENT

    client = _client(tracking_uri)
    found = client.get_experiment_by_name(experiment or DEFAULT_EXPERIMENT)
    if found is None:
        return []
    query = f"tags.{TAG_SUITE} = '{_quote(suite)}'"
    if notebook is not None:
        query += f" and tags.{TAG_NOTEBOOK} = '{_quote(notebook)}'"
    runs = client.search_runs(
        [found.experiment_id], filter_string=query, max_results=max_results, order_by=["attributes.start_time DESC"]
    )
    return [_to_run(r) for r in runs]


def previous_run(
    suite: str,
    notebook: str,
    before_suite_run: str,
    *,
    experiment: str | None = None,
    tracking_uri: str | None = None,
    successful_only: bool = True,
) -> NotebookRun | None:
    """The run of ``notebook`` in ``suite`` to compare suite run ``before_suite_run`` with.

    Regular runs are compared with the latest earlier regular run; back-dated runs (``--as-of``) with the
    run of the latest earlier as-of date, so that a back-fill never shows up as this week's change.
    """
    runs = notebook_runs(suite, notebook, experiment=experiment, tracking_uri=tracking_uri)
    current = [r for r in runs if r.suite_run == before_suite_run]
    cutoff = min((r.start_time for r in current), default=None)
    as_of = current[0].tags.get(TAG_AS_OF) if current else None
    candidates = []
    for run in runs:
        if run.suite_run == before_suite_run or (successful_only and run.status != "ok"):
            continue
        other = run.tags.get(TAG_AS_OF)
        if as_of is None:
            if other is None and (cutoff is None or run.start_time < cutoff):
                candidates.append(run)
        elif other is not None and other < as_of:
            candidates.append(run)
    if as_of is not None:
        candidates.sort(key=lambda r: (r.tags.get(TAG_AS_OF, ""), r.start_time), reverse=True)
    return candidates[0] if candidates else None


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace("'", "\\'")
