"""The run store: published run folders under ``reports/`` and their manifests (``run.json``).

One folder per suite run (``reports/<run-id>/``) holds its reports, its run page and ``run.json``; a run is
written to ``reports/.staging-<run-id>`` first and published with one rename. This module reads the
manifests (newest first) and applies the retention; the runner writes, the landing page reads.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

MANIFEST = "run.json"
STAGING_PREFIX = ".staging-"

__all__ = ["MANIFEST", "STAGING_PREFIX", "apply_retention", "list_runs"]


def list_runs(reports_dir: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Manifests of the published runs under ``reports_dir``, newest first."""
    found = []
    for child in Path(reports_dir).iterdir() if Path(reports_dir).is_dir() else []:
        manifest = child / MANIFEST
        if child.is_dir() and not child.name.startswith(".") and manifest.is_file():
            try:
                found.append(json.loads(manifest.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue
    return sorted(found, key=lambda m: (m.get("started", ""), m.get("run_id", "")), reverse=True)


def apply_retention(reports_dir: Path, suite: str, keep: int, protect: str = "") -> list[str]:
    """Delete the oldest run folders of ``suite`` beyond ``keep``; return the removed run ids."""
    runs = [m for m in list_runs(reports_dir) if m.get("suite") == suite]
    removed = []
    for manifest in runs[keep:]:
        run_id = manifest.get("run_id", "")
        folder = reports_dir / run_id
        if not run_id or run_id == protect or folder.parent != reports_dir:
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(run_id)
    for stale in reports_dir.glob(f"{STAGING_PREFIX}*"):  # left by a crashed run; we hold the lock
        shutil.rmtree(stale, ignore_errors=True)
    return removed
