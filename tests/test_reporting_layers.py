"""The dependency rule (ARCHITECTURE.md): data < summary < model families < plotting / tracking / reporting < cli.

Checked with import-linter's contracts in ``.importlinter``, and the reporting
package itself: the landing page (``index.py``) reads the run store and never imports the runner.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
REPORTING = PROJECT / "src" / "crm_models" / "reporting"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_import_linter_contract_is_kept():
    executable = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.skip("import-linter is not installed (it is in the dev extra: make setup)")
    out = subprocess.run([executable], check=False, cwd=PROJECT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_landing_page_and_runner_do_not_import_each_other():
    assert "crm_models.reporting.runner" not in _imports(REPORTING / "index.py")
    assert "crm_models.reporting.runner" not in _imports(REPORTING / "store.py")
    assert "crm_models.reporting.runner" not in _imports(REPORTING / "export.py")
