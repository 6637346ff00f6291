"""Run a suite of parameterized notebooks with Papermill, track each in MLflow, publish HTML reports.

For every notebook of the suite, in order:

1. open an MLflow run (tags ``crm_suite``, ``crm_notebook``, ``crm_suite_run``; params: the notebook's
   parameters as ``nb.<name>``, ``crm.git_commit``, ``crm.data_fingerprint`` (sha256 of the data files),
   ``crm.as_of``), and export ``MLFLOW_RUN_ID`` / ``MLFLOW_TRACKING_URI`` to the kernel so that
   ``crm_models.tracking.log_*`` calls in the notebook write into that run;
2. execute it with Papermill (working directory: the notebook's folder, as in JupyterLab);
3. render the offline HTML report, errors included, and log it (and the executed notebook) as artifacts.

A failing notebook does not stop the others. The reports are written to a staging folder and published
with one rename to ``reports/<run-id>/``; then ``reports/index.html`` is rewritten atomically and run
folders beyond the retention count are removed. A lock on the reports folder keeps two runs apart.

Exit codes (``SuiteResult.exit_code`` and the ``crm`` command):

* 0 - every notebook ran;
* 1 - at least one notebook failed (its report shows the error; the others still ran);
* 2 - bad configuration (suite file, parameters, ``--as-of`` date, unknown kernel); nothing ran;
* 3 - bad data: every failure was a data problem (``DataContractError``, or a data file that is missing,
  empty, corrupt or cut short: see ``crm_models.reporting.preflight``);
* 4 - another run holds the lock on the reports folder (refused, or waited longer than allowed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from crm_models.exceptions import ConfigurationError
from crm_models.reporting.lock import LockBusyError, RunLock
from crm_models.reporting.preflight import check_data_files
from crm_models.reporting.store import MANIFEST, STAGING_PREFIX, apply_retention, list_runs
from crm_models.reporting.suite import NotebookSpec, Suite, load_suite
from crm_models.tracking.history import (
    TAG_AS_OF,
    TAG_NOTEBOOK,
    TAG_STATUS,
    TAG_SUITE,
    TAG_SUITE_RUN,
    kpis_of,
)
from crm_models.tracking.mlflow_helpers import get_or_create_experiment

EXIT_OK = 0
EXIT_NOTEBOOK_FAILED = 1
EXIT_BAD_CONFIG = 2
EXIT_BAD_DATA = 3
EXIT_LOCKED = 4
EXIT_CODES = {
    EXIT_OK: "every notebook ran",
    EXIT_NOTEBOOK_FAILED: "a notebook failed (its report shows the error; the others still ran)",
    EXIT_BAD_CONFIG: "bad configuration (suite file, parameters, --as-of, kernel); nothing ran",
    EXIT_BAD_DATA: "bad data (data contract broken or data file missing)",
    EXIT_LOCKED: "another run holds the lock on the reports folder",
}
DATA_ERRORS = frozenset({"DataContractError", "DataMissingError", "DataFileError"})

__all__ = [
    "EXIT_BAD_CONFIG",
    "EXIT_BAD_DATA",
    "EXIT_CODES",
    "EXIT_LOCKED",
    "EXIT_NOTEBOOK_FAILED",
    "EXIT_OK",
    "LockBusyError",
    "NotebookResult",
    "SuiteResult",
    "apply_retention",
    "list_runs",
    "parse_as_of",
    "run_suite",
]


@dataclass
class NotebookResult:
    """What happened to one notebook of a suite run."""

    name: str
    title: str
    notebook: str
    status: str  # "ok" or "failed"
    report: str  # file name inside the run folder
    duration_seconds: float
    mlflow_run_id: str = ""
    error_name: str = ""
    error_message: str = ""
    data_fingerprint: str = ""
    kpis: dict[str, Any] = field(default_factory=dict)
    summary_html: str = ""
    data_window: dict[str, str] = field(default_factory=dict)
    models: list[dict[str, Any]] = field(default_factory=list)
    currency: str = ""  # the notebook's ``currency`` parameter, shown on its money KPIs

    @property
    def ok(self) -> bool:
        return self.status == "ok"


@dataclass
class SuiteResult:
    """The outcome of ``run_suite``: exit code, where the reports are, one entry per notebook."""

    suite: str
    title: str
    run_id: str
    run_dir: Path
    reports_dir: Path
    started: str
    finished: str
    duration_seconds: float
    as_of: str | None
    git_commit: str
    tracking_uri: str
    notebooks: list[NotebookResult]
    exit_code: int = EXIT_OK

    def to_manifest(self) -> dict[str, Any]:
        data = asdict(self)
        data["run_dir"] = self.run_dir.name
        data.pop("reports_dir")
        return data


def parse_as_of(value: str | dt.date | None) -> str | None:
    """Validate an ``--as-of`` date (``YYYY-MM-DD``) and return it in ISO form."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError as exc:
        raise ConfigurationError(f"--as-of must be a date like 2024-06-30, got {value!r}") from exc


def _default_kernel() -> str:
    from jupyter_client.kernelspec import KernelSpecManager

    names = KernelSpecManager().find_kernel_specs()
    return "crm-models" if "crm-models" in names else "python3"


def _check_kernel(name: str) -> None:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel as exc:
        known = sorted(KernelSpecManager().find_kernel_specs())
        raise ConfigurationError(
            f"Jupyter kernel {name!r} is not installed (known: {known}); run `make setup` to register 'crm-models'"
        ) from exc


def _fingerprint(paths: Sequence[Path]) -> str:
    from crm_models.tracking.mlflow_helpers import data_fingerprint

    if not paths:
        return ""
    if len(paths) == 1:
        return data_fingerprint(paths[0])
    digest = hashlib.sha256()
    for path in paths:
        digest.update(f"{path.name}:{data_fingerprint(path)}\n".encode())
    return digest.hexdigest()


def _data_paths(spec: NotebookSpec, parameters: Mapping[str, Any] | None = None) -> list[Path]:
    """Listed data paths, else parameters that name existing files or folders (absolute paths); ``parameters``:
    the ones the notebook runs with (the suite's, with the run's overrides), ``spec.parameters`` by default."""
    if spec.data:
        return list(spec.data)
    found = []
    for value in (spec.parameters if parameters is None else parameters).values():
        if isinstance(value, str) and os.path.isabs(value) and Path(value).exists() and Path(value).suffix:
            found.append(Path(value))
    return found


def _checked_paths(spec: NotebookSpec, parameters: Mapping[str, Any]) -> list[Path]:
    """The files the pre-flight checks: the listed data, and every parameter that names a data file
    (relative paths are relative to the notebook's folder, its working directory)."""
    from crm_models.reporting.preflight import data_paths_in_parameters

    paths = list(spec.data)
    for path in data_paths_in_parameters(parameters):
        full = path if path.is_absolute() else (spec.path.parent / path).resolve()
        if full not in paths:
            paths.append(full)
    return paths


@contextmanager
def _environ(values: Mapping[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, old in saved.items():
            if old is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = old


def _error_notebook(spec: NotebookSpec, ename: str, evalue: str) -> Any:
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    cell = new_code_cell("", outputs=[new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])])
    return new_notebook(
        cells=[new_markdown_cell(f"# {spec.title or spec.name}"), cell],
        metadata={"title": spec.title or spec.name},
        nbformat=nbformat.current_nbformat,
    )


def _ids_pseudonymized(parameters: Mapping[str, Any]) -> bool:
    """False only when the notebook's ``pseudonymize_ids`` parameter turns pseudonymization off."""
    value = parameters.get("pseudonymize_ids", True)
    return str(value).strip().lower() not in {"false", "0", "no", "off"}


def _run_customer_ids(parameters: Mapping[str, Any]) -> list[Any]:
    """The customer ids of the run's customer table (``customer_table`` folder), to be recognised in the
    notebook's outputs by value; empty when the notebook has no stored table."""
    from crm_models.customers.store import TABLE_FILE

    folder = parameters.get("customer_table")
    path = Path(str(folder)) / TABLE_FILE if folder else None
    if path is None or not path.is_file():
        return []
    import pandas as pd

    try:
        return pd.read_parquet(path, columns=["customer_id"])["customer_id"].tolist()
    except (OSError, ValueError, KeyError):  # a table being rewritten or of an older layout: header rules only
        return []


def _log_params(client: Any, run_id: str, params: Mapping[str, Any]) -> None:
    from mlflow.entities import Param

    batch = [Param(str(k)[:250], str(v)[:6000]) for k, v in params.items()]
    for start in range(0, len(batch), 100):
        client.log_batch(run_id, params=batch[start : start + 100])


def _models_of_run(client: Any, run_id: str, metrics: Mapping[str, float], tracking_uri: str) -> list[dict[str, Any]]:
    from crm_models.tracking.registry import (
        compare_with_champion,
        get_champion,
        model_versions_of_run,
        recorded_comparison,
    )

    found = []
    for version in model_versions_of_run(run_id, tracking_uri=tracking_uri):
        champion = get_champion(version.name, tracking_uri=tracking_uri)
        # The comparison the notebook made when it tracked this version (with the champion of that moment and
        # each metric's direction); only versions never tracked fall back to a fresh higher-is-better comparison.
        comparison = recorded_comparison(version.name, version.version, tracking_uri=tracking_uri)
        if comparison is None:
            own = {k: v for k, v in metrics.items() if not k.startswith("kpi_") and not k.startswith("crm_")}
            comparison = compare_with_champion(version.name, own, tracking_uri=tracking_uri) if own else None
        rows = []
        if comparison is not None:
            for row in comparison.head(6).to_dict("records"):
                rows.append({k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()})
        found.append(
            {
                "name": version.name,
                "version": str(version.version),
                "champion_version": None if champion is None else str(champion.version),
                "is_champion": champion is not None and str(champion.version) == str(version.version),
                "comparison": rows,
            }
        )
    return found


def _run_one(
    spec: NotebookSpec,
    *,
    suite: Suite,
    run_id: str,
    staging: Path,
    scratch: Path,
    client: Any,
    experiment_id: str,
    tracking_uri: str,
    kernel: str,
    as_of: str | None,
    commit: str,
    extra_parameters: Mapping[str, Any],
) -> NotebookResult:
    import nbformat

    from crm_models.reporting.export import executive_summary, notebook_title, write_report
    from crm_models.reporting.privacy import redact_error_text, redact_notebook

    started = time.monotonic()
    from crm_models.reporting.parameters import plain_parameters

    parameters = plain_parameters({**spec.parameters, **dict(extra_parameters)})  # YAML dates -> ISO strings
    if as_of is not None:
        parameters[spec.as_of_parameter] = as_of
    tags = {
        TAG_SUITE: suite.name,
        TAG_NOTEBOOK: spec.name,
        TAG_SUITE_RUN: run_id,
        "mlflow.runName": f"{spec.name} @ {run_id}",
        "mlflow.source.git.commit": commit,
        "mlflow.source.name": str(spec.path.relative_to(suite.root) if spec.path.is_relative_to(suite.root) else spec.path),
    }
    if as_of is not None:
        tags[TAG_AS_OF] = as_of
    run = client.create_run(experiment_id, run_name=tags["mlflow.runName"], tags=tags)
    mlflow_run_id = run.info.run_id

    error_name = error_message = ""
    fingerprint = ""
    executed = scratch / f"{spec.name}.ipynb"
    nb = None
    problems = check_data_files(_checked_paths(spec, parameters))
    if problems:
        missing = all(p.reason == "file not found" for p in problems)
        error_name = "DataMissingError" if missing else "DataFileError"
        error_message = ("data not found: " if missing else "bad data file: ") + "; ".join(map(str, problems))
    else:
        try:
            fingerprint = _fingerprint(_data_paths(spec, parameters))
        except OSError as exc:
            error_name, error_message = "DataMissingError", f"cannot read the data: {exc}"
    _log_params(
        client,
        mlflow_run_id,
        {
            **{f"nb.{k}": v for k, v in parameters.items()},
            "crm.suite": suite.name,
            "crm.notebook": str(spec.path.name),
            "crm.kernel": kernel,
            "crm.git_commit": commit,
            "crm.data_fingerprint": fingerprint or "none",
            "crm.as_of": as_of or "none",
        },
    )
    if not error_name:
        import papermill as pm
        from papermill.exceptions import PapermillExecutionError

        env = {
            "MLFLOW_RUN_ID": mlflow_run_id,
            "MLFLOW_TRACKING_URI": tracking_uri,
            "MLFLOW_EXPERIMENT_ID": experiment_id,
            "CRM_SUITE": suite.name,
            "CRM_SUITE_RUN_ID": run_id,
            "CRM_REPORT_AS_OF": as_of or "",
            "PLOTLY_RENDERER": "notebook",  # nbconvert drops plotly charts rendered any other way
        }
        try:
            with _environ(env):
                pm.execute_notebook(
                    str(spec.path),
                    str(executed),
                    parameters=parameters,
                    kernel_name=kernel,
                    cwd=str(spec.path.parent),
                    progress_bar=False,
                    log_output=False,
                    execution_timeout=spec.timeout,
                )
        except PapermillExecutionError as exc:
            error_name, error_message = exc.ename, str(exc.evalue)
        except Exception as exc:  # noqa: BLE001 - kernel death, timeout, ...: the report must say so
            error_name, error_message = type(exc).__name__, str(exc)
        if executed.exists():
            try:
                nb = nbformat.read(executed, as_version=4)
            except Exception:  # noqa: BLE001 - a half-written output notebook
                nb = None
    if nb is None:
        nb = _error_notebook(spec, error_name or "Error", error_message or "the notebook did not run")
    # Everything published from here on (report, run.json, MLflow tags and artifacts) is redacted: e-mails and
    # phones, names and ids in displayed tables, the run's customer ids, and the identifiers / personal columns
    # of a DataContractError's example rows.
    error_message = redact_error_text(error_message)
    ids = _ids_pseudonymized(parameters)
    redact_notebook(nb, ids=ids, known_ids=_run_customer_ids(parameters) if ids else ())
    nbformat.write(nb, executed)
    failed = bool(error_name)
    title = spec.title or notebook_title(nb, default=spec.name)
    report_name = f"{spec.name}.html"
    first_line = error_message.strip().splitlines()[0] if error_message.strip() else ""
    write_report(
        nb,
        staging / report_name,
        {
            "title": title,
            "run_id": run_id,
            "as_of": as_of,
            "failed": failed,
            "error_summary": f"{error_name}: {first_line[:300]}" if failed else "",
            "notebook": spec.path.name,
            "git_commit": commit,
            "mlflow_run_id": mlflow_run_id,
            "index_href": "../index.html",
        },
    )
    duration = time.monotonic() - started
    status = "failed" if failed else "ok"
    try:
        client.log_artifact(mlflow_run_id, str(staging / report_name), "report")
        client.log_artifact(mlflow_run_id, str(executed), "notebook")
        client.log_metric(mlflow_run_id, "crm_duration_seconds", duration)
        client.set_tag(mlflow_run_id, TAG_STATUS, status)
        if failed:
            client.set_tag(mlflow_run_id, "crm_error", f"{error_name}: {first_line[:200]}")
    finally:
        client.set_terminated(mlflow_run_id, "FAILED" if failed else "FINISHED")
    data = client.get_run(mlflow_run_id).data
    window = {k: data.tags.get(k) or data.params.get(k) for k in ("data_start", "data_end")}
    if not window["data_end"]:  # fall back on the date the notebook was told to stop at
        window["data_end"] = as_of or parameters.get("observation_end") or parameters.get("report_as_of")
    window = {k: str(v) for k, v in window.items() if v}
    return NotebookResult(
        name=spec.name,
        title=title,
        notebook=spec.path.name,
        status=status,
        report=report_name,
        duration_seconds=round(duration, 2),
        mlflow_run_id=mlflow_run_id,
        error_name=error_name,
        error_message=error_message[:2000],
        data_fingerprint=fingerprint,
        kpis=kpis_of(dict(data.metrics), dict(data.tags)),
        summary_html=executive_summary(nb),
        data_window=window,
        models=_models_of_run(client, mlflow_run_id, dict(data.metrics), tracking_uri),
        currency=str(parameters.get("currency") or ""),
    )


def mark_killed_runs(client: Any, experiment_id: str, stale: Mapping[str, Any] | None) -> list[str]:
    """Mark the MLflow runs a killed suite run left RUNNING as KILLED; return their ids.

    ``stale`` is the record a dead lock holder left behind (``RunLock.stale``); only runs tagged with its
    suite run id are touched.
    """
    suite_run = (stale or {}).get("run_id")
    if not suite_run:
        return []
    runs = client.search_runs(
        [experiment_id], filter_string=f"tags.{TAG_SUITE_RUN} = '{suite_run}' and attributes.status = 'RUNNING'",
        max_results=1000,
    )
    for run in runs:
        client.set_tag(run.info.run_id, TAG_STATUS, "killed")
        client.set_terminated(run.info.run_id, "KILLED")
    return [run.info.run_id for run in runs]


def _new_run_id(reports_dir: Path, suite: str, now: dt.datetime) -> str:
    base = f"{now:%Y%m%d-%H%M%S}-{suite}"
    candidate, n = base, 1
    while (reports_dir / candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def run_suite(
    suite: str | os.PathLike[str] | Suite,
    *,
    as_of: str | dt.date | None = None,
    reports_dir: str | os.PathLike[str] | None = None,
    tracking_uri: str | None = None,
    experiment: str | None = None,
    kernel: str | None = None,
    keep: int | None = None,
    wait: float | None = 0,
    only: Sequence[str] | None = None,
    parameters: Mapping[str, Any] | None = None,
    progress: bool = True,
    stream: TextIO | None = None,
    lock: RunLock | None = None,
) -> SuiteResult:
    """Run every notebook of ``suite`` and publish the reports; see the module docstring.

    Raises ``ConfigurationError`` (exit code 2) before anything runs when the suite, ``as_of``, ``only``
    or the kernel is invalid, and ``LockBusyError`` (exit code 4) when another run holds the lock.
    ``lock``: a ``RunLock`` on ``reports_dir`` the caller already holds (``crm demo`` takes it before
    writing the data); the run then neither takes nor releases it.
    Notebook failures do not raise: they set ``exit_code`` (1, or 3 for data problems).
    """
    from crm_models.tracking.mlflow_helpers import DEFAULT_EXPERIMENT, default_tracking_uri, git_commit

    out = stream if stream is not None else sys.stderr
    spec = suite if isinstance(suite, Suite) else load_suite(suite)
    as_of_iso = parse_as_of(as_of)
    notebooks = list(spec.notebooks)
    if only:
        unknown = sorted(set(only) - {nb.name for nb in notebooks})
        if unknown:
            raise ConfigurationError(f"--only names {unknown} are not in suite {spec.name!r}")
        notebooks = [nb for nb in notebooks if nb.name in set(only)]
    kernel_name = kernel or spec.kernel or _default_kernel()
    _check_kernel(kernel_name)
    from crm_models.reporting.parameters import check_parameters

    check_parameters(  # a misspelt name must not run with the default and exit 0
        notebooks, shared=list(spec.raw.get("parameters") or {}), overrides=list(parameters or {}),
        suite_notebooks=spec.notebooks,
    )
    if keep is not None and keep < 1:
        raise ConfigurationError(f"--keep must be at least 1, got {keep}")
    from crm_models.reporting.privacy import require_secret

    require_secret()  # reports pseudonymize ids: a scheduled run never invents (or lacks) the key
    retention = keep or spec.retention
    reports = Path(reports_dir).resolve() if reports_dir is not None else spec.root / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    uri = tracking_uri or os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri(spec.root)

    if lock is not None and lock.path.parent.resolve() != reports.resolve():
        raise ConfigurationError(f"the lock held by the caller is on {lock.path.parent}, not on {reports}")
    held = nullcontext(lock) if lock is not None else RunLock(reports, wait=wait, label=spec.name, stream=out)
    with held as run_lock:
        from mlflow.tracking import MlflowClient  # heavy imports after the lock: a busy answer comes at once
        from tqdm.auto import tqdm

        from crm_models.reporting.index import write_index, write_run_page

        begin = dt.datetime.now(dt.UTC)
        clock = time.monotonic()
        run_id = _new_run_id(reports, spec.name, begin)
        staging = reports / f"{STAGING_PREFIX}{run_id}"
        staging.mkdir(parents=True)
        commit = git_commit(spec.root)
        with _environ({"MLFLOW_TRACKING_URI": uri}):
            client = MlflowClient(tracking_uri=uri, registry_uri=uri)
            experiment_id = get_or_create_experiment(experiment or DEFAULT_EXPERIMENT, uri)
            killed = mark_killed_runs(client, experiment_id, run_lock.stale)
            if killed:
                print(f"crm: the previous run {run_lock.stale.get('run_id')} was killed; marked {len(killed)} "
                      "MLflow run(s) KILLED", file=out)
            run_lock.annotate(run_id=run_id, tracking_uri=uri)
            results: list[NotebookResult] = []
            with tempfile.TemporaryDirectory(prefix="crm-run-") as scratch:
                bar = tqdm(
                    notebooks, desc=f"crm run {spec.name}", unit="notebook", disable=not progress, file=out, leave=True
                )
                for nb_spec in bar:
                    bar.set_postfix_str(nb_spec.name)
                    result = _run_one(
                        nb_spec,
                        suite=spec,
                        run_id=run_id,
                        staging=staging,
                        scratch=Path(scratch),
                        client=client,
                        experiment_id=experiment_id,
                        tracking_uri=uri,
                        kernel=kernel_name,
                        as_of=as_of_iso,
                        commit=commit,
                        extra_parameters=parameters or {},
                    )
                    results.append(result)
                    line = f"  {result.name}: {result.status} in {result.duration_seconds:.1f} s"
                    if not result.ok:
                        line += f" ({result.error_name}: {result.error_message.splitlines()[0][:160] if result.error_message else ''})"
                    tqdm.write(line, file=out)
                bar.close()
        failures = [r for r in results if not r.ok]
        if not failures:
            code = EXIT_OK
        elif all(r.error_name in DATA_ERRORS for r in failures):
            code = EXIT_BAD_DATA
        else:
            code = EXIT_NOTEBOOK_FAILED
        finished = dt.datetime.now(dt.UTC)
        result = SuiteResult(
            suite=spec.name,
            title=spec.title,
            run_id=run_id,
            run_dir=reports / run_id,
            reports_dir=reports,
            started=begin.isoformat(timespec="seconds"),
            finished=finished.isoformat(timespec="seconds"),
            duration_seconds=round(time.monotonic() - clock, 2),
            as_of=as_of_iso,
            git_commit=commit,
            tracking_uri=uri,
            notebooks=results,
            exit_code=code,
        )
        from crm_models.data.files import atomic_write_text

        atomic_write_text(staging / MANIFEST, json.dumps(result.to_manifest(), indent=2, default=str))
        write_run_page(staging, result.to_manifest())
        os.rename(staging, reports / run_id)  # publish: the folder appears complete or not at all
        apply_retention(reports, spec.name, retention, protect=run_id)
        write_index(reports, tracking_uri=uri, experiment=experiment)
    return result
