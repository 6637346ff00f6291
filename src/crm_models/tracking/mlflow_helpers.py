"""Thin wrappers around MLflow that attach to the suite runner's run when there is one."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

PROJECT_ROOT_MARKERS = ("pyproject.toml", ".git")
DEFAULT_EXPERIMENT = "crm_models"


def find_project_root(start: str | os.PathLike[str] | None = None) -> Path:
    """Return the nearest parent folder of ``start`` (default: cwd) that holds ``pyproject.toml``."""
    here = Path(start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").exists() and (folder / "src" / "crm_models").exists():
            return folder
    package_root = Path(__file__).resolve().parents[3]
    return package_root


def default_tracking_uri(root: str | os.PathLike[str] | None = None) -> str:
    """``sqlite:///<repo>/experiments/mlflow.db`` with an absolute path (independent of the cwd)."""
    base = Path(root) if root is not None else find_project_root()
    db = (base / "experiments" / "mlflow.db").resolve()
    db.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{db}"


def default_artifact_location(root: str | os.PathLike[str] | None = None) -> str:
    """Absolute ``experiments/artifacts`` folder as a file URI."""
    base = Path(root) if root is not None else find_project_root()
    folder = (base / "experiments" / "artifacts").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder.as_uri()


def artifact_location_for(tracking_uri: str) -> str | None:
    """Where a new experiment of the store at ``tracking_uri`` keeps its artifacts.

    Beside a sqlite store: ``sqlite:////x/y/mlflow.db`` -> ``file:///x/y/artifacts`` (absolute, created),
    so artifacts follow the database (the project default gives ``experiments/artifacts``). Any other store
    (a ``file:`` store, a tracking server) returns ``None``: MLflow chooses, e.g. inside the file store.
    """
    if not tracking_uri.startswith("sqlite:///"):
        return None
    path = tracking_uri[len("sqlite:///") :].split("?", 1)[0]
    if not path or path == ":memory:":
        return None
    folder = (Path(path).parent / "artifacts").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    return folder.as_uri()


def current_tracking_uri(root: str | os.PathLike[str] | None = None) -> str:
    """``MLFLOW_TRACKING_URI`` when set, else the project's sqlite store (:func:`default_tracking_uri`)."""
    return os.environ.get("MLFLOW_TRACKING_URI") or default_tracking_uri(root)


def ensure_experiment(name: str = DEFAULT_EXPERIMENT, root: str | os.PathLike[str] | None = None) -> str:
    """Create (once) the experiment with an artifact location that follows the tracking store; return its id.

    Also points MLflow's tracking and registry URIs at that store, so that a model registered while
    logging lands in the same store as the run (not in one set earlier in the process).
    """
    import mlflow

    uri = current_tracking_uri(root)
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return get_or_create_experiment(name, uri)


def get_or_create_experiment(name: str, tracking_uri: str) -> str:
    """The id of experiment ``name`` in the store at ``tracking_uri``, created (with artifacts beside the
    store, see :func:`artifact_location_for`) when it does not exist yet; safe when two processes race."""
    from mlflow.tracking import MlflowClient

    client = MlflowClient(tracking_uri=tracking_uri)
    existing = client.get_experiment_by_name(name)
    if existing is not None:
        return existing.experiment_id
    try:
        return client.create_experiment(name, artifact_location=artifact_location_for(tracking_uri))
    except Exception:  # another process created it in between
        found = client.get_experiment_by_name(name)
        if found is None:
            raise
        return found.experiment_id


_session_run: dict[str, str] = {}  # tracking URI -> the one run this process (kernel) logs into outside the runner


@contextmanager
def active_run(run_name: str | None = None) -> Iterator[Any]:
    """Yield the MLflow run to log into: the active one, the suite runner's (``MLFLOW_RUN_ID``), or this
    process's own run.

    Outside ``crm run`` (a notebook in JupyterLab) the first ``log_*`` call opens one run and every later
    call in the same kernel writes into that same run (it is ended after each call, so a closed kernel
    leaves no run RUNNING). Naming the run (``with active_run("baseline"):``) or calling
    :func:`new_session_run` starts a fresh one, which later calls then reuse.
    """
    import mlflow

    if mlflow.active_run() is not None:
        yield mlflow.active_run()
        return
    run_id = os.environ.get("MLFLOW_RUN_ID")
    experiment_id = ensure_experiment()
    if run_id:
        # mlflow.end_run() removes MLFLOW_RUN_ID from the environment; put it back, or the next log_*
        # call in the same kernel would open a new run instead of writing into the runner's.
        try:
            with mlflow.start_run(run_id=run_id) as run:
                yield run
        finally:
            os.environ["MLFLOW_RUN_ID"] = run_id
        return
    uri = current_tracking_uri()
    reuse = None if run_name else _session_run.get(uri)
    if reuse is not None:
        try:
            run = mlflow.start_run(run_id=reuse)
        except Exception:  # noqa: BLE001 - the run was deleted meanwhile: open a new one below
            _session_run.pop(uri, None)
        else:
            with run:
                yield run
            return
    with mlflow.start_run(experiment_id=experiment_id, run_name=run_name) as run:
        _session_run[uri] = run.info.run_id
        yield run


def new_session_run() -> None:
    """Forget this process's run: the next ``log_*`` call outside the runner opens a new one."""
    _session_run.pop(current_tracking_uri(), None)


def log_params(params: Mapping[str, Any]) -> None:
    """Log parameters (values are stringified, truncated to MLflow's limit)."""
    import mlflow

    clean = {str(k): str(v)[:500] for k, v in params.items()}
    with active_run():
        mlflow.log_params(clean)


def log_metrics(metrics: Mapping[str, float], step: int | None = None) -> None:
    """Log numeric metrics; non-finite values are skipped rather than failing the run."""
    import math

    import mlflow

    clean = {}
    for key, value in metrics.items():
        try:
            number = float(value)
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            clean[str(key)] = number
    with active_run():
        mlflow.log_metrics(clean, step=step)


def log_figure(figure: Any, artifact_file: str) -> None:
    """Log a matplotlib figure as an image artifact."""
    import mlflow

    with active_run():
        mlflow.log_figure(figure, artifact_file)


def log_table(frame: Any, artifact_file: str) -> None:
    """Log a DataFrame as a CSV artifact (callers pseudonymize identifiers first)."""
    import tempfile

    import mlflow

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(artifact_file).name
        frame.to_csv(path, index=True)
        with active_run():
            folder = Path(artifact_file).parent.as_posix()
            mlflow.log_artifact(str(path), artifact_path=None if folder in ("", ".") else folder)


def log_sklearn_model(
    model: Any,
    name: str,
    input_example: Any = None,
    pip_requirements: list[str] | None = None,
    registered_model_name: str | None = None,
    serialization_format: str = "cloudpickle",
) -> Any:
    """Log a scikit-learn compatible model with a signature and explicit pip requirements.

    Requirement inference costs seconds per model, so the requirements are always passed explicitly
    (default: this environment's versions of the project and its modelling stack).
    ``serialization_format`` defaults to ``"cloudpickle"``: MLflow 3's default, skops, refuses custom
    estimators such as :class:`crm_models.churn.ChurnModel` (an xgboost Booster inside). Loading a
    cloudpickled model needs ``crm_models`` importable, which the pip requirements state.
    With ``registered_model_name`` the model is also registered; the returned ``ModelInfo`` then
    carries ``registered_model_version`` (for :func:`crm_models.tracking.track_champion`).
    """
    import mlflow
    import mlflow.sklearn
    from mlflow.models import infer_signature

    if pip_requirements is None:
        pip_requirements = _default_requirements()
    signature = None
    if input_example is not None and hasattr(model, "predict_proba"):
        signature = infer_signature(input_example, model.predict_proba(input_example))
    elif input_example is not None and hasattr(model, "predict"):
        signature = infer_signature(input_example, model.predict(input_example))
    with active_run():
        return mlflow.sklearn.log_model(
            model,
            name=name,
            signature=signature,
            input_example=input_example,
            pip_requirements=pip_requirements,
            registered_model_name=registered_model_name,
            serialization_format=serialization_format,
        )


DEFAULT_REQUIREMENTS = ("crm-models", "scikit-learn", "xgboost-cpu", "numpy", "pandas", "scipy")


def _default_requirements(packages: tuple[str, ...] = DEFAULT_REQUIREMENTS) -> list[str]:
    """Pinned ``name==version`` for the installed ones of ``packages`` (no inference, no subprocess)."""
    from importlib.metadata import PackageNotFoundError, version

    requirements = []
    for package in packages:
        try:
            requirements.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            continue
    return requirements


def data_fingerprint(path_or_frame: Any) -> str:
    """sha256 of a file's bytes, or of a DataFrame's content hash, for reproducibility records."""
    digest = hashlib.sha256()
    if isinstance(path_or_frame, str | os.PathLike):
        path = Path(path_or_frame)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            with open(file, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
        return digest.hexdigest()
    import pandas as pd

    hashed = pd.util.hash_pandas_object(path_or_frame, index=True).to_numpy()
    digest.update(hashed.tobytes())
    return digest.hexdigest()


def git_commit(root: str | os.PathLike[str] | None = None) -> str:
    """The current git commit of the project, or ``"unknown"`` outside a checkout."""
    base = Path(root) if root is not None else find_project_root()
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=base, capture_output=True, text=True, timeout=10, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def log_kpis(kpis: Mapping[str, Any]) -> None:
    """Log headline numbers for the landing page: numbers as ``kpi_*`` metrics, words as ``kpi_*`` tags.

    Names get the ``kpi_`` prefix when they lack it. Text values (an experiment verdict, a top channel)
    are stored as tags because MLflow metrics are numeric.
    """
    import math

    import mlflow

    numbers: dict[str, float] = {}
    words: dict[str, str] = {}
    for key, value in kpis.items():
        name = str(key) if str(key).startswith("kpi_") else f"kpi_{key}"
        if isinstance(value, bool):
            words[name] = "yes" if value else "no"
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            words[name] = str(value)[:250]
            continue
        if math.isfinite(number):
            numbers[name] = number
    with active_run():
        if numbers:
            mlflow.log_metrics(numbers)
        if words:
            mlflow.set_tags(words)


def set_tags(tags: Mapping[str, Any]) -> None:
    """Set run tags (values stringified), e.g. ``data_start`` / ``data_end`` for the landing page."""
    import mlflow

    with active_run():
        mlflow.set_tags({str(k): str(v)[:5000] for k, v in tags.items()})
