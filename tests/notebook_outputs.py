"""Helpers for the notebook tests: read an executed notebook's outputs, and isolate a run's tracking.

Imported by the ``test_*_notebook*.py`` modules (pytest puts ``tests/`` on the path).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def outputs_of(nb: Any, kind: str) -> list[str]:
    """Every output of MIME type ``kind`` (e.g. ``"text/markdown"``, ``"text/html"``), in cell order."""
    return ["".join(o["data"][kind]) if isinstance(o["data"][kind], list) else str(o["data"][kind])
            for c in nb.cells for o in c.get("outputs", []) if kind in o.get("data", {})]


def markdown_outputs(nb: Any) -> list[str]:
    """The Markdown a notebook displayed (its sentences for readers)."""
    return outputs_of(nb, "text/markdown")


def all_text(nb: Any) -> str:
    """Every stream and text-like output, joined (for "no raw id anywhere" checks)."""
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(str(output.get("text", "")))
            parts.extend(str(v) for k, v in output.get("data", {}).items() if k.startswith("text/"))
    return "\n".join(parts)


def isolate_tracking(mp: pytest.MonkeyPatch, folder: Path) -> None:
    """Point MLflow at a throw-away file store under ``folder`` and forget any run or suite of the caller."""
    mp.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    mp.setenv("MLFLOW_TRACKING_URI", (folder / "mlruns").as_uri())
    mp.delenv("MLFLOW_RUN_ID", raising=False)
    mp.delenv("CRM_SUITE", raising=False)
