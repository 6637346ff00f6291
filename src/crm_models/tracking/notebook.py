"""Notebook helpers on top of the MLflow helpers: one call per report section instead of a copied block."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from crm_models.tracking.mlflow_helpers import log_metrics, log_params, log_table
from crm_models.tracking.registry import champion_table, champion_verdict, track_champion

CHAMPION_HEADING = "## This model against the champion"


@dataclass
class ChampionReport:
    """The outcome of :func:`report_champion`: the raw ``comparison``, its ``verdict`` in one sentence and a
    display-ready ``table`` (one row per metric)."""

    comparison: Any
    verdict: str
    table: Any

    def markdown(self, compared: str = "") -> str:
        """The report section: a heading, the verdict and ``compared`` (what the numbers are, in words)."""
        return f"{CHAMPION_HEADING}\n\n{self.verdict} {compared}".rstrip()


def report_champion(
    name: str, version: int | str, metrics: Mapping[str, float], *, primary: str,
    lower_is_better: Iterable[str] = (), label: str | None = None,
) -> ChampionReport:
    """Compare registered model ``name`` version ``version`` with its champion on ``metrics`` and promote it
    when it wins on ``primary`` (:func:`crm_models.tracking.track_champion`); metrics named in
    ``lower_is_better`` are errors. ``label`` names the primary metric in words in the verdict."""
    lower = set(lower_is_better)
    comparison = track_champion(name, version, {k: float(v) for k, v in metrics.items()}, primary=primary,
                                greater_is_better={k: k not in lower for k in metrics})
    return ChampionReport(comparison, champion_verdict(comparison, label=label), champion_table(comparison))


def log_report(*, params: Mapping[str, Any] | None = None, metrics: Mapping[str, float] | None = None,
               tables: Mapping[str, Any] | None = None, folder: str = "") -> None:
    """Log a report's parameters, metrics and tables (``{name: frame}``, ``None`` frames skipped, each written as
    ``<folder>/<name>.csv``) into the active run: call it inside ``active_run(...)`` so that they share one run.
    Callers pseudonymize customer identifiers first."""
    if params:
        log_params(params)
    if metrics:
        log_metrics(metrics)
    for name, frame in (tables or {}).items():
        if frame is not None:
            log_table(frame, f"{folder.rstrip('/')}/{name}.csv" if folder else f"{name}.csv")
