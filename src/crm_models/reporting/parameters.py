"""Notebook parameters before a run: misspelt names are refused, dates become ISO strings.

Papermill injects whatever it is given, so ``--set obsevation_end=2024-06-30`` would run the notebook
with its default ``observation_end`` and exit 0. :func:`check_parameters` compares every parameter a
notebook would receive with the names in its ``parameters`` cell (``papermill.inspect_notebook``) and
raises ``ConfigurationError`` (exit code 2, nothing runs) naming the parameter, the notebook, its known
parameters and the closest match. A suite-wide parameter (``parameters:`` at the top of the suite, or
``--set``) must be known to at least one notebook it is sent to; a notebook's own parameters to that
notebook.

:func:`plain_parameters` turns ``datetime.date``/``datetime`` values (YAML reads ``2024-06-30`` unquoted
as a date) into ISO strings, which every notebook accepts and which Papermill and MLflow can serialise.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from crm_models.exceptions import ConfigurationError

__all__ = ["check_parameters", "notebook_parameters", "plain_parameters"]


def plain_parameters(value: Any) -> Any:
    """``value`` with dates and datetimes (also inside lists and mappings) as ISO strings."""
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {k: plain_parameters(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain_parameters(v) for v in value]
    return value


def notebook_parameters(path: str | Path) -> list[str]:
    """Names declared in the notebook's ``parameters`` cell (empty when it has none)."""
    import papermill as pm

    return list(pm.inspect_notebook(str(path)))


def _unknown(name: str, known: Sequence[str], where: str, source: str) -> ConfigurationError:
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    listed = ", ".join(sorted(known)) or "none (the notebook has no cell tagged 'parameters')"
    return ConfigurationError(f"unknown parameter {name!r} ({source}) for {where}: its parameters are {listed}{hint}")


def check_parameters(
    notebooks: Sequence[Any],
    *,
    shared: Sequence[str] = (),
    overrides: Sequence[str] = (),
    as_of: bool = False,
    suite_notebooks: Sequence[Any] = (),
) -> dict[str, list[str]]:
    """Refuse parameters that no receiving notebook declares; return each notebook's known names.

    ``notebooks`` are ``NotebookSpec`` objects (``name``, ``path``, ``parameters``, ``as_of_parameter``);
    ``shared`` are the suite-wide parameter names, ``overrides`` the ``--set`` names, ``as_of`` whether
    ``--as-of`` is given (then each notebook must declare its ``as_of_parameter``). ``suite_notebooks``: every
    notebook of the suite when only some run (``--only``): a suite-wide parameter is judged against all of them,
    so that running one notebook does not refuse a setting only another notebook declares.
    """
    known = {spec.name: notebook_parameters(spec.path) for spec in notebooks}
    everywhere = set().union(*known.values()) if known else set()
    for name in overrides:
        if name not in everywhere:
            spec = notebooks[0]
            where = "any notebook of the suite" if len(notebooks) > 1 else f"notebook {spec.name!r} ({spec.path.name})"
            raise _unknown(name, sorted(everywhere), where, "--set")
    in_suite = set(everywhere).union(*(notebook_parameters(spec.path) for spec in suite_notebooks
                                       if spec.name not in known))
    for name in shared:
        if name not in in_suite:
            raise _unknown(name, sorted(in_suite), "any notebook of the suite", "suite 'parameters'")
    for spec in notebooks:
        names = known[spec.name]
        own = [n for n in spec.parameters if n not in set(shared) and n not in set(overrides)]
        if as_of:
            own.append(spec.as_of_parameter)
        for name in own:
            if name not in names:
                raise _unknown(name, names, f"notebook {spec.name!r} ({spec.path.name})", "its suite entry")
    return known
