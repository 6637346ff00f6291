"""Export an executed notebook to a self-contained, offline HTML report without code.

The template ``templates/crm_offline`` extends nbconvert's lab template and empties every block that
loads a script from the network (require.js, MathJax, Mermaid, widgets). Inputs and prompts are hidden,
stderr (warnings) is dropped, images are embedded as data URIs, and the style sheet ``style.css`` is
inlined, so the file opens the same way from a laptop, an e-mail attachment or a file share.
The rendered page is passed through :func:`crm_models.reporting.html_safety.sanitize_html` (outputs carry
data: an injected ``<script>`` or ``onerror`` must not run) and gets the strict Content-Security-Policy.
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from crm_models.data.files import atomic_write_text
from crm_models.reporting.html_safety import sanitize_html, with_csp

TEMPLATE_NAME = "crm_offline"

__all__ = ["TEMPLATE_NAME", "executive_summary", "notebook_title", "render_html", "report_css", "write_report"]


def _templates_dir() -> Path:
    return Path(__file__).resolve().parent / "templates"


def report_css() -> str:
    """The shared report style sheet (colour-blind-safe palette, print rules)."""
    return resources.files("crm_models.reporting").joinpath("style.css").read_text(encoding="utf-8")


def notebook_title(nb: Any, default: str = "Report") -> str:
    """The notebook's title: ``metadata.title``, else the first markdown heading, else ``default``."""
    title = nb.metadata.get("title") if hasattr(nb, "metadata") else None
    if title:
        return str(title)
    for cell in nb.cells:
        if cell.cell_type != "markdown":
            continue
        for line in cell.source.splitlines():
            match = re.match(r"^\s*#{1,6}\s+(.+?)\s*#*\s*$", line)
            if match:
                return match.group(1)
    return default


@functools.lru_cache(maxsize=1)
def _exporter() -> Any:
    from nbconvert import HTMLExporter

    return HTMLExporter(
        template_name=TEMPLATE_NAME,
        extra_template_basedirs=[str(_templates_dir())],
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
        theme="light",
    )


def render_html(nb: Any, meta: Mapping[str, Any] | None = None) -> str:
    """Render a notebook node to offline HTML; ``meta`` fills the header, banner and footer."""
    from crm_models import __version__

    info: dict[str, Any] = {
        "title": notebook_title(nb),
        "run_id": "",
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "as_of": None,
        "failed": False,
        "error_summary": "",
        "index_href": "../index.html",
        "notebook": "",
        "git_commit": "",
        "mlflow_run_id": "",
        "version": __version__,
    }
    info.update(dict(meta or {}))
    info["css"] = report_css()
    body, _ = _exporter().from_notebook_node(_for_readers(nb, info["title"]), resources={"crm": info})
    # Notebook outputs carry data (Markdown with an arm's name, HTML tables): nothing in them may run.
    return with_csp(sanitize_html(body))


def _for_readers(nb: Any, title: str) -> Any:
    """Drop Papermill's error markers (the report's banner and error box say it in words) and the
    heading that repeats the report's title."""
    import copy

    markers = [i for i, c in enumerate(nb.cells) if "papermill-error-cell-tag" in c.metadata.get("tags", [])]
    if markers:
        nb = copy.deepcopy(nb)
        nb.cells = [c for i, c in enumerate(nb.cells) if i not in set(markers)]
    return _without_title(nb, title)


def _without_title(nb: Any, title: str) -> Any:
    """A copy of ``nb`` whose first heading is dropped when it repeats the report header's title."""
    import copy

    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.splitlines()
        for i, line in enumerate(lines):
            match = re.match(r"^\s*#{1,6}\s+(.+?)\s*#*\s*$", line)
            if match and match.group(1) == title:
                trimmed = copy.deepcopy(nb)
                trimmed.cells[index].source = "\n".join(lines[:i] + lines[i + 1 :])
                return trimmed
            if line.strip():
                return nb
        return nb
    return nb


def write_report(nb: Any, path: str | os.PathLike[str], meta: Mapping[str, Any] | None = None) -> Path:
    """Render ``nb`` and write it atomically to ``path`` (temporary file + rename)."""
    return atomic_write_text(path, render_html(nb, meta))


def executive_summary(nb: Any, limit: int = 2000) -> str:
    """HTML of the notebook's executive summary: its first Markdown output, else its first prose cell."""
    from nbconvert.filters import markdown2html

    text = ""
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = output.get("data", {})
            if "text/markdown" in data:
                value = data["text/markdown"]
                text = "".join(value) if isinstance(value, list) else str(value)
                break
        if text:
            break
    if not text:
        for cell in nb.cells:
            if cell.cell_type != "markdown" or "papermill-error-cell-tag" in cell.metadata.get("tags", []):
                continue
            prose = [ln for ln in cell.source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
            if prose:
                text = "\n".join(prose)
                break
    # the box on the landing page is the summary: drop headings such as "### Executive summary"
    text = "\n".join(ln for ln in text.strip().splitlines() if not re.match(r"^\s{0,3}#{1,6}\s", ln)).strip()
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0] + " ..."
    return markdown2html(text) if text else ""
