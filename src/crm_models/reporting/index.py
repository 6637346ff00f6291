"""The landing page ``reports/index.html`` and one page per run (``reports/<run-id>/index.html``).

The landing page shows, for the latest run of each suite: run date and data window, the headline KPIs
of every notebook (metrics and tags named ``kpi_*``) with the change against the previous run taken
from MLflow history, each report's executive summary and link, models compared with their champion,
and a table of earlier runs. Pages are plain HTML with inline CSS: no scripts at all.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crm_models.reporting._io import atomic_write_text

__all__ = ["format_delta", "format_value", "kpi_label", "render_index", "write_index", "write_run_page"]

_ACRONYMS = {"clv": "CLV", "ltv": "LTV", "cac": "CAC", "auc": "AUC", "ab": "A/B", "rfm": "RFM", "roi": "ROI",
             "srm": "SRM", "id": "ID", "ids": "IDs", "pct": "%", "qini": "Qini", "cuped": "CUPED"}


def kpi_label(name: str) -> str:
    """``kpi_total_clv`` -> ``Total CLV``."""
    words = name.removeprefix("kpi_").split("_")
    out = [_ACRONYMS.get(w.lower(), w) for w in words if w]
    if out:
        out[0] = out[0][:1].upper() + out[0][1:]
    return " ".join(out)


def _is_share(name: str) -> bool:
    return any(tag in name.lower() for tag in ("share", "rate", "ratio", "fraction", "probability"))


def format_value(name: str, value: Any) -> str:
    """A KPI value for people: thousands separators, percentages for shares, words kept as words."""
    if isinstance(value, str):
        return value
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "n/a"
    lowered = name.lower()
    if "pct" in lowered or "percent" in lowered:
        return f"{number:,.1f} %"
    if _is_share(name) and -1 <= number <= 1:
        return f"{100 * number:,.1f} %"
    if number.is_integer():
        return f"{int(number):,}"
    if abs(number) >= 100:
        return f"{number:,.0f}"
    if abs(number) >= 1:
        return f"{number:,.2f}"
    return f"{number:.3g}"


def format_delta(name: str, current: Any, previous: Any) -> tuple[str, str]:
    """(css class, text) describing the change from ``previous`` to ``current``; arrows, not colour alone."""
    if previous is None:
        return "none", "no earlier run to compare"
    if isinstance(current, str) or isinstance(previous, str):
        if str(current) == str(previous):
            return "flat", "unchanged since the previous run"
        return "flat", f"was: {previous}"
    try:
        now, before = float(current), float(previous)
    except (TypeError, ValueError):
        return "none", ""
    diff = now - before
    if diff == 0:
        return "flat", "= unchanged since the previous run"
    arrow, kind = ("\u25b2", "up") if diff > 0 else ("\u25bc", "down")
    lowered = name.lower()
    if ("pct" in lowered or "percent" in lowered) or (_is_share(name) and -1 <= now <= 1 and -1 <= before <= 1):
        scale = 1.0 if ("pct" in lowered or "percent" in lowered) else 100.0
        text = f"{arrow} {diff * scale:+,.1f} points vs previous run ({format_value(name, before)})"
    elif before != 0 and abs(100 * diff / abs(before)) < 0.05:
        return "flat", f"\u2248 unchanged since the previous run ({format_value(name, before)})"
    elif before != 0:
        text = f"{arrow} {100 * diff / abs(before):+,.1f} % vs previous run ({format_value(name, before)})"
    else:
        text = f"{arrow} {format_value(name, diff)} vs previous run (0)"
    return kind, text


def _css() -> str:
    from crm_models.reporting.export import report_css

    return report_css()


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1.0\">\n"
        "<meta name=\"generator\" content=\"crm_models\">\n"
        f"<title>{html.escape(title)}</title>\n<style>\n{_css()}\n</style>\n</head>\n"
        f"<body class=\"crm-index\">\n{body}\n</body>\n</html>\n"
    )


def _when(stamp: str | None) -> str:
    if not stamp:
        return ""
    try:
        return dt.datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return stamp


def _status_badge(ok: bool, text: str | None = None) -> str:
    kind = "ok" if ok else "failed"
    label = text or ("\u2713 complete" if ok else "\u2717 failed")
    return f'<span class="crm-status {kind}">{html.escape(label)}</span>'


def _window(manifest: Mapping[str, Any]) -> str:
    current = [nb for nb in manifest.get("notebooks", []) if not nb.get("from_earlier_run")]
    starts = [nb.get("data_window", {}).get("data_start") for nb in current]
    ends = [nb.get("data_window", {}).get("data_end") for nb in current]
    starts = [s for s in starts if s]
    ends = [e for e in ends if e]
    parts = []
    if starts and ends:
        parts.append(f"data from {min(starts)} to {max(ends)}")
    elif ends:
        parts.append(f"data up to {max(ends)}")
    if manifest.get("as_of"):
        parts.append(f"as of {manifest['as_of']}")
    return "; ".join(parts)


def _kpi_cards(
    manifest: Mapping[str, Any], previous: Mapping[str, Mapping[str, Any] | None] | None, prefix: str
) -> str:
    """Headline numbers grouped by report; with ``previous`` (landing page), each shows its change."""
    groups = []
    for nb in manifest.get("notebooks", []):
        before = None if previous is None else previous.get(nb["name"])
        cards = []
        for name, value in nb.get("kpis", {}).items():
            delta = ""
            if previous is not None:
                kind, text = format_delta(name, value, None if before is None else before.get(name))
                delta = f"<div class=\"crm-delta {kind}\">{html.escape(text)}</div>"
            cards.append(
                "<div class=\"crm-kpi\">"
                f"<div class=\"label\">{html.escape(kpi_label(name))}</div>"
                f"<div class=\"value\">{html.escape(format_value(name, value))}</div>{delta}</div>"
            )
        if cards:
            groups.append(
                f"<h4 class=\"crm-kpi-group\"><a href=\"{html.escape(nb.get('href') or prefix + nb['report'])}\">"
                f"{html.escape(nb.get('title') or nb['name'])}</a></h4>"
                "<div class=\"crm-kpis\">" + "".join(cards) + "</div>"
            )
    if not groups:
        return "<p>No headline numbers were logged in this run.</p>"
    return "".join(groups)


def _reports_list(manifest: Mapping[str, Any], prefix: str) -> str:
    items = []
    for nb in manifest.get("notebooks", []):
        ok = nb.get("status") == "ok"
        error = "" if ok else (
            f"<p class=\"crm-banner\">Did not finish: {html.escape(nb.get('error_name', ''))}: "
            f"{html.escape((nb.get('error_message') or '').splitlines()[0][:200] if nb.get('error_message') else '')}</p>"
        )
        summary = f"<div class=\"crm-summary\">{nb['summary_html']}</div>" if nb.get("summary_html") else ""
        earlier = ""
        if nb.get("from_earlier_run"):
            earlier = (f"<p class=\"crm-meta\">Not part of the latest run; this report is from run "
                       f"{html.escape(nb['run_id'])} ({html.escape(_when(nb.get('started')))}).</p>")
        items.append(
            f"<li><h3><a href=\"{html.escape(nb.get('href') or prefix + nb['report'])}\">"
            f"{html.escape(nb.get('title') or nb['name'])}</a> "
            f"{_status_badge(ok)}</h3>{earlier}{error}{summary}</li>"
        )
    return "<ul class=\"crm-reports\" style=\"list-style:none;padding-left:0\">" + "".join(items) + "</ul>"


def _models_table(manifest: Mapping[str, Any]) -> str:
    rows = []
    for nb in manifest.get("notebooks", []):
        for model in nb.get("models", []):
            status = "this run is the champion" if model.get("is_champion") else (
                f"champion is version {model['champion_version']}" if model.get("champion_version") else "no champion yet"
            )
            details = "; ".join(
                f"{c['metric']}: {format_value(c['metric'], c['current'])}"
                + ("" if c.get("champion") is None else f" (champion {format_value(c['metric'], c['champion'])})")
                for c in model.get("comparison", [])
            )
            rows.append(
                f"<tr><td>{html.escape(model['name'])}</td><td>{html.escape(str(model['version']))}</td>"
                f"<td>{html.escape(status)}</td><td>{html.escape(details)}</td></tr>"
            )
    if not rows:
        return ""
    return (
        "<h2>Models and their champions</h2><table class=\"crm-table\"><thead><tr><th>Model</th><th>Version</th>"
        "<th>Champion</th><th>This run vs champion</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _previous_kpis(
    manifest: Mapping[str, Any], manifests: list[Mapping[str, Any]], tracking_uri: str | None, experiment: str | None
) -> dict[str, dict[str, Any] | None]:
    """KPIs of each notebook's previous successful run, from MLflow (falling back to older manifests)."""
    from crm_models.tracking.history import previous_run

    out: dict[str, dict[str, Any] | None] = {}
    for nb in manifest.get("notebooks", []):
        found: dict[str, Any] | None = None
        try:
            prior = previous_run(
                manifest["suite"], nb["name"], nb.get("run_id") or manifest["run_id"], tracking_uri=tracking_uri,
                experiment=experiment,
            )
            found = prior.kpis if prior is not None else None
        except Exception:  # noqa: BLE001 - MLflow store gone: use the manifests on disk
            started = nb.get("started") or manifest["started"]
            older = [m for m in manifests if m.get("suite") == manifest["suite"] and m["started"] < started]
            for m in older:
                match = [x for x in m.get("notebooks", []) if x["name"] == nb["name"] and x.get("status") == "ok"]
                if match:
                    found = match[0].get("kpis", {})
                    break
        out[nb["name"]] = found
    return out


def _runs_table(manifests: list[Mapping[str, Any]], prefix: str) -> str:
    rows = []
    for m in manifests:
        nbs = m.get("notebooks", [])
        failed = sum(1 for nb in nbs if nb.get("status") != "ok")
        badge = _status_badge(failed == 0, "\u2713 all ran" if failed == 0 else f"\u2717 {failed} of {len(nbs)} failed")
        rows.append(
            f"<tr><td><a href=\"{html.escape(prefix + m['run_id'])}/index.html\">{html.escape(m['run_id'])}</a></td>"
            f"<td>{html.escape(m.get('suite', ''))}</td><td>{html.escape(_when(m.get('started')))}</td>"
            f"<td>{html.escape(m.get('as_of') or '')}</td><td>{badge}</td>"
            f"<td>{float(m.get('duration_seconds', 0)):,.0f} s</td></tr>"
        )
    return (
        "<table class=\"crm-table\"><thead><tr><th>Run</th><th>Suite</th><th>Started</th><th>Data as of</th>"
        "<th>Result</th><th>Duration</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


def _latest_view(runs: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The latest run of a suite, completed with the newest report of every notebook it did not run
    (a run with ``--only`` must not hide the other reports)."""
    latest = runs[0]
    entries: dict[str, dict[str, Any]] = {}
    for run in runs:
        for nb in run.get("notebooks", []):
            if nb["name"] in entries:
                continue
            entry = dict(nb)
            entry.update(run_id=run["run_id"], started=run.get("started"), href=f"{run['run_id']}/{nb['report']}",
                         from_earlier_run=run is not latest)
            entries[nb["name"]] = entry
    view = dict(latest)
    view["notebooks"] = list(entries.values())
    return view


def render_index(
    reports_dir: str | os.PathLike[str], *, tracking_uri: str | None = None, experiment: str | None = None
) -> str:
    """HTML of the landing page for the runs published under ``reports_dir``."""
    from crm_models.reporting.runner import list_runs

    manifests = list_runs(reports_dir)
    parts = ["<header class=\"crm-header\"><h1 class=\"crm-title\">Customer analytics reports</h1>"]
    if not manifests:
        parts.append("<p class=\"crm-meta\">No runs yet. Run <code>crm demo</code> or <code>crm run SUITE</code>.</p>"
                     "</header>")
        return _page("Customer analytics reports", "".join(parts))
    parts.append(
        f"<p class=\"crm-meta\">Updated {html.escape(_when(manifests[0].get('finished')))}</p></header><main>"
    )
    by_suite: dict[str, list[Mapping[str, Any]]] = {}
    for m in manifests:
        by_suite.setdefault(m.get("suite", ""), []).append(m)
    for suite, runs in by_suite.items():
        manifest = _latest_view(runs)
        prefix = f"{manifest['run_id']}/"
        previous = _previous_kpis(manifest, manifests, tracking_uri, experiment)
        failed = [nb for nb in manifest.get("notebooks", []) if nb.get("status") != "ok"]
        window = _window(manifest)
        parts.append(
            f"<section class=\"crm-suite\"><h2>{html.escape(manifest.get('title') or suite)}</h2>"
            f"<p class=\"crm-meta\">Latest run <a href=\"{html.escape(prefix)}index.html\">{html.escape(manifest['run_id'])}</a>"
            f", {html.escape(_when(manifest.get('started')))}"
            + (f"; {html.escape(window)}" if window else "")
            + "</p>"
        )
        if failed:
            names = ", ".join(nb.get("title") or nb["name"] for nb in failed)
            parts.append(f"<div class=\"crm-banner\" role=\"alert\"><strong>Incomplete run:</strong> "
                         f"{html.escape(names)} did not finish; see the report for the error.</div>")
        parts.append("<h3>Headline numbers</h3>" + _kpi_cards(manifest, previous, prefix))
        parts.append("<h3>Reports</h3>" + _reports_list(manifest, prefix))
        parts.append(_models_table(manifest))
        parts.append("</section>")
    parts.append("<h2>All runs</h2>" + _runs_table(manifests, ""))
    parts.append("</main><footer class=\"crm-footer\">Generated by crm_models. Customer identifiers in these "
                 "reports are pseudonymized.</footer>")
    return _page("Customer analytics reports", "".join(parts))


def write_index(
    reports_dir: str | os.PathLike[str], *, tracking_uri: str | None = None, experiment: str | None = None
) -> Path:
    """Rewrite ``reports_dir/index.html`` atomically."""
    text = render_index(reports_dir, tracking_uri=tracking_uri, experiment=experiment)
    return atomic_write_text(Path(reports_dir) / "index.html", text)


def write_run_page(folder: str | os.PathLike[str], manifest: Mapping[str, Any]) -> Path:
    """Write ``<run folder>/index.html``: the reports and KPIs of one run (no comparison)."""
    window = _window(manifest)
    body = (
        "<header class=\"crm-header\"><nav class=\"crm-nav\"><a href=\"../index.html\">&larr; All reports</a></nav>"
        f"<h1 class=\"crm-title\">{html.escape(manifest.get('title') or manifest.get('suite', ''))}</h1>"
        f"<p class=\"crm-meta\">Run {html.escape(manifest['run_id'])}, started {html.escape(_when(manifest.get('started')))}"
        + (f"; {html.escape(window)}" if window else "")
        + f"; commit {html.escape((manifest.get('git_commit') or '')[:10])}</p></header><main>"
        + "<h2>Headline numbers</h2>"
        + _kpi_cards(manifest, None, "")
        + "<h2>Reports</h2>"
        + _reports_list(manifest, "")
        + _models_table(manifest)
        + "</main>"
    )
    return atomic_write_text(Path(folder) / "index.html", _page(f"Run {manifest['run_id']}", body))
