"""The landing page ``reports/index.html`` and one page per run (``reports/<run-id>/index.html``).

The landing page shows, for the latest run of each suite: run date and data window, the headline KPIs
of every notebook (metrics and tags named ``kpi_*``) with the change against the previous run taken
from MLflow history, each report's executive summary and link, models compared with their champion,
and a table of earlier runs. Pages are rendered from the Jinja2 templates in ``templates/pages`` with
autoescape on (everything from a manifest is escaped; executive summaries are sanitized HTML) and carry
a strict Content-Security-Policy: plain HTML with inline CSS, no scripts at all.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from crm_models.data.files import atomic_write_text

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


_SHARE_WORDS = {"share", "rate", "ratio", "fraction", "probability", "retention", "breakage", "conversion", "lift"}
_MONEY_WORDS = {"clv", "revenue", "value", "profit", "liability", "spend", "cost", "margin"}


def _words(name: str) -> set[str]:
    return set(name.lower().removeprefix("kpi_").split("_"))


def _is_share(name: str) -> bool:
    """Shares by word (``conversion_rate``, ``funnel_conversion``, ``expected_breakage``), not by substring, so
    that counts such as ``conversions`` stay counts."""
    return bool(_words(name) & _SHARE_WORDS)


def _is_money(name: str) -> bool:
    """Money by word (``total_clv``, ``value_at_risk``, ``plan_expected_profit``); never a share or a count."""
    return bool(_words(name) & _MONEY_WORDS) and not _is_share(name) and "customers" not in _words(name)


def format_value(name: str, value: Any, currency: str = "") -> str:
    """A KPI value for people: thousands separators, percentages for shares, the currency on money, words kept
    as words."""
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
    if currency and _is_money(name):
        return f"{currency} {number:,.0f}" if abs(number) >= 100 else f"{currency} {number:,.2f}"
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
    if not math.isfinite(before):  # NaN or infinite: no arrow, no "+nan %"
        return "none", "no number in the previous run to compare"
    if not math.isfinite(now):
        return "none", f"no number to compare (previous run: {format_value(name, before)})"
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


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    folder = Path(__file__).resolve().parent / "templates" / "pages"
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(folder)),
        autoescape=True,  # every value from a manifest is escaped; sanitized summaries are marked safe
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _render(template: str, **context: Any) -> str:
    from crm_models.reporting.html_safety import CSP_META

    return _environment().get_template(template).render(csp_meta=CSP_META, css=_css(), **context)


def _when(stamp: str | None) -> str:
    if not stamp:
        return ""
    try:
        return dt.datetime.fromisoformat(stamp).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return stamp


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


def _kpi_groups(
    manifest: Mapping[str, Any], previous: Mapping[str, Mapping[str, Any] | None] | None, prefix: str
) -> list[dict[str, Any]]:
    """Headline numbers grouped by report; with ``previous`` (landing page), each shows its change."""
    groups = []
    for nb in manifest.get("notebooks", []):
        before = None if previous is None else previous.get(nb["name"])
        cards = []
        for name, value in nb.get("kpis", {}).items():
            kind = text = None
            if previous is not None:
                kind, text = format_delta(name, value, None if before is None else before.get(name))
            cards.append({"label": kpi_label(name), "value": format_value(name, value, nb.get("currency", "")),
                          "words": isinstance(value, str), "delta": text,
                          "delta_kind": kind})
        if cards:
            groups.append({"href": nb.get("href") or prefix + nb["report"], "title": nb.get("title") or nb["name"],
                           "cards": cards})
    return groups


def _reports(manifest: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    from crm_models.reporting.html_safety import sanitize_html

    items = []
    for nb in manifest.get("notebooks", []):
        message = nb.get("error_message") or ""
        items.append(
            {
                "href": nb.get("href") or prefix + nb["report"],
                "title": nb.get("title") or nb["name"],
                "ok": nb.get("status") == "ok",
                "error_name": nb.get("error_name", ""),
                "error_line": message.splitlines()[0][:200] if message else "",
                # run.json is data on disk: sanitize at every render, not only when the summary was extracted
                "summary_html": sanitize_html(nb["summary_html"]) if nb.get("summary_html") else "",
                "earlier": {"run_id": nb["run_id"], "when": _when(nb.get("started"))}
                if nb.get("from_earlier_run") else None,
            }
        )
    return items


def _models(manifest: Mapping[str, Any]) -> list[dict[str, str]]:
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
            rows.append({"name": str(model["name"]), "version": str(model["version"]), "status": status,
                         "details": details})
    return rows


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


def _runs(manifests: list[Mapping[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for m in manifests:
        nbs = m.get("notebooks", [])
        failed = sum(1 for nb in nbs if nb.get("status") != "ok")
        rows.append(
            {
                "run_id": m["run_id"],
                "suite": m.get("suite", ""),
                "when": _when(m.get("started")),
                "as_of": m.get("as_of") or "",
                "ok": failed == 0,
                "result": "\u2713 all ran" if failed == 0 else f"\u2717 {failed} of {len(nbs)} failed",
                "duration": f"{float(m.get('duration_seconds', 0)):,.0f} s",
            }
        )
    return rows


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
    """HTML of the landing page for the runs published under ``reports_dir`` (template ``pages/index.html.j2``)."""
    from crm_models.reporting.store import list_runs

    manifests = list_runs(reports_dir)
    by_suite: dict[str, list[Mapping[str, Any]]] = {}
    for m in manifests:
        by_suite.setdefault(m.get("suite", ""), []).append(m)
    suites = []
    for suite, runs in by_suite.items():
        manifest = _latest_view(runs)
        prefix = f"{manifest['run_id']}/"
        previous = _previous_kpis(manifest, manifests, tracking_uri, experiment)
        failed = [nb for nb in manifest.get("notebooks", []) if nb.get("status") != "ok"]
        suites.append(
            {
                "title": manifest.get("title") or suite,
                "prefix": prefix,
                "run_id": manifest["run_id"],
                "when": _when(manifest.get("started")),
                "window": _window(manifest),
                "failed_names": ", ".join(nb.get("title") or nb["name"] for nb in failed),
                "kpi_groups": _kpi_groups(manifest, previous, prefix),
                "reports": _reports(manifest, prefix),
                "models": _models(manifest),
            }
        )
    return _render(
        "index.html.j2",
        page_title="Customer analytics reports",
        updated=_when(manifests[0].get("finished")) if manifests else "",
        suites=suites,
        runs=_runs(manifests),
    )


def write_index(
    reports_dir: str | os.PathLike[str], *, tracking_uri: str | None = None, experiment: str | None = None
) -> Path:
    """Rewrite ``reports_dir/index.html`` atomically."""
    text = render_index(reports_dir, tracking_uri=tracking_uri, experiment=experiment)
    return atomic_write_text(Path(reports_dir) / "index.html", text)


def write_run_page(folder: str | os.PathLike[str], manifest: Mapping[str, Any]) -> Path:
    """Write ``<run folder>/index.html``: the reports and KPIs of one run (no comparison)."""
    text = _render(
        "run.html.j2",
        page_title=f"Run {manifest['run_id']}",
        title=manifest.get("title") or manifest.get("suite", ""),
        run_id=manifest["run_id"],
        when=_when(manifest.get("started")),
        window=_window(manifest),
        commit=(manifest.get("git_commit") or "")[:10],
        kpi_groups=_kpi_groups(manifest, None, ""),
        reports=_reports(manifest, ""),
        models=_models(manifest),
    )
    return atomic_write_text(Path(folder) / "index.html", text)
