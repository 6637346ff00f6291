"""Suite files (``experiments/*.yaml``): which notebooks to run, with which parameters.

Example::

    name: demo                       # used in run ids and MLflow tags (letters, digits, - and _)
    title: Demo brand, weekly customer analytics
    kernel: crm-models               # optional; default: "crm-models" when installed, else "python3"
    retention: 20                    # run folders kept under reports/ (older ones are deleted)
    data:                            # files or folders whose sha256 is logged as the data fingerprint
      - "{root}/data/demo"
    parameters:                      # injected into every notebook
      data_dir: "{root}/data/demo"
    notebooks:
      - path: notebooks/01_rfm_segmentation.ipynb
        parameters: {n_segments: 5}  # merged over the suite parameters
        as_of_parameter: observation_end   # receives --as-of (default: report_as_of)
        timeout: 900                 # seconds per cell (default: no limit)

Relative ``path`` and ``data`` entries are resolved against the project root (the folder holding
``pyproject.toml``); in string parameters, ``{root}`` expands to that absolute folder. Notebooks run with
their own folder as the working directory, exactly as in JupyterLab.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crm_models.exceptions import ConfigurationError

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
DEFAULT_RETENTION = 20
DEFAULT_AS_OF_PARAMETER = "report_as_of"
_SUITE_KEYS = {"name", "title", "kernel", "retention", "data", "parameters", "notebooks", "description"}
_NOTEBOOK_KEYS = {"path", "name", "title", "parameters", "as_of_parameter", "timeout", "data"}

__all__ = ["NotebookSpec", "Suite", "load_suite"]


@dataclass(frozen=True)
class NotebookSpec:
    """One notebook of a suite, with its parameters already merged and expanded."""

    name: str
    path: Path
    parameters: dict[str, Any]
    as_of_parameter: str = DEFAULT_AS_OF_PARAMETER
    timeout: float | None = None
    data: tuple[Path, ...] = ()
    title: str | None = None


@dataclass(frozen=True)
class Suite:
    """A validated suite file."""

    name: str
    source: Path
    root: Path
    notebooks: tuple[NotebookSpec, ...]
    title: str = ""
    kernel: str | None = None
    retention: int = DEFAULT_RETENTION
    data: tuple[Path, ...] = ()
    description: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


def _expand(value: Any, root: Path) -> Any:
    if isinstance(value, str):
        return value.replace("{root}", str(root))
    if isinstance(value, list):
        return [_expand(v, root) for v in value]
    if isinstance(value, dict):
        return {k: _expand(v, root) for k, v in value.items()}
    return value


def _resolve(entry: Any, root: Path, where: str) -> Path:
    if not isinstance(entry, str | os.PathLike) or not str(entry):
        raise ConfigurationError(f"{where}: expected a path, got {entry!r}")
    path = Path(_expand(str(entry), root))
    return path if path.is_absolute() else (root / path).resolve()


def _paths(value: Any, root: Path, where: str) -> tuple[Path, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise ConfigurationError(f"{where}: expected a path or a list of paths, got {type(value).__name__}")
    return tuple(_resolve(v, root, where) for v in value)


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ConfigurationError(f"{where}: expected a mapping of names to values, got {value!r}")
    return dict(value)


def load_suite(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> Suite:
    """Read and validate a suite file; raise ``ConfigurationError`` saying what is wrong and where."""
    import yaml

    from crm_models.tracking.mlflow_helpers import find_project_root

    source = Path(path).resolve()
    if not source.is_file():
        raise ConfigurationError(f"suite file not found: {source}")
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigurationError(f"{source}: expected a mapping with 'name' and 'notebooks' at the top level")
    unknown = set(raw) - _SUITE_KEYS
    if unknown:
        raise ConfigurationError(f"{source}: unknown keys {sorted(unknown)}; allowed: {sorted(_SUITE_KEYS)}")
    base = Path(root).resolve() if root is not None else find_project_root(source.parent)

    name = raw.get("name") or source.stem
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ConfigurationError(f"{source}: 'name' must be letters, digits, '-' or '_' (got {name!r})")
    retention = raw.get("retention", DEFAULT_RETENTION)
    if not isinstance(retention, int) or isinstance(retention, bool) or retention < 1:
        raise ConfigurationError(f"{source}: 'retention' must be a whole number >= 1 (got {retention!r})")
    kernel = raw.get("kernel")
    if kernel is not None and not isinstance(kernel, str):
        raise ConfigurationError(f"{source}: 'kernel' must be a kernel name (got {kernel!r})")
    shared = _expand(_mapping(raw.get("parameters"), f"{source}: 'parameters'"), base)
    suite_data = _paths(raw.get("data"), base, f"{source}: 'data'")

    entries = raw.get("notebooks")
    if not isinstance(entries, list) or not entries:
        raise ConfigurationError(f"{source}: 'notebooks' must be a non-empty list")
    specs: list[NotebookSpec] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        where = f"{source}: notebooks[{i}]"
        if isinstance(entry, str):
            entry = {"path": entry}
        if not isinstance(entry, dict) or "path" not in entry:
            raise ConfigurationError(f"{where}: expected a mapping with a 'path'")
        unknown = set(entry) - _NOTEBOOK_KEYS
        if unknown:
            raise ConfigurationError(f"{where}: unknown keys {sorted(unknown)}; allowed: {sorted(_NOTEBOOK_KEYS)}")
        nb_path = _resolve(entry["path"], base, where)
        if nb_path.suffix != ".ipynb":
            raise ConfigurationError(f"{where}: {nb_path.name} is not a notebook (.ipynb)")
        if not nb_path.is_file():
            raise ConfigurationError(f"{where}: notebook not found: {nb_path}")
        nb_name = entry.get("name") or nb_path.stem
        if not isinstance(nb_name, str) or not NAME_PATTERN.match(nb_name):
            raise ConfigurationError(f"{where}: 'name' must be letters, digits, '-' or '_' (got {nb_name!r})")
        if nb_name in seen:
            raise ConfigurationError(f"{where}: the name {nb_name!r} is used twice; give one a 'name'")
        seen.add(nb_name)
        params = {**shared, **_expand(_mapping(entry.get("parameters"), f"{where}.parameters"), base)}
        timeout = entry.get("timeout")
        if timeout is not None and (not isinstance(timeout, int | float) or timeout <= 0):
            raise ConfigurationError(f"{where}: 'timeout' must be a positive number of seconds")
        as_of_parameter = entry.get("as_of_parameter", DEFAULT_AS_OF_PARAMETER)
        if not isinstance(as_of_parameter, str) or not as_of_parameter.isidentifier():
            raise ConfigurationError(f"{where}: 'as_of_parameter' must be a Python name")
        specs.append(
            NotebookSpec(
                name=nb_name,
                path=nb_path,
                parameters=params,
                as_of_parameter=as_of_parameter,
                timeout=float(timeout) if timeout is not None else None,
                data=_paths(entry.get("data"), base, f"{where}.data") or suite_data,
                title=entry.get("title"),
            )
        )
    return Suite(
        name=name,
        source=source,
        root=base,
        notebooks=tuple(specs),
        title=str(raw.get("title") or name),
        kernel=kernel,
        retention=retention,
        data=suite_data,
        description=str(raw.get("description") or ""),
        raw=raw,
    )
