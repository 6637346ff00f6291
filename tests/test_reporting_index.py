"""Landing page pieces without a kernel: KPI labels, number formats, changes, and a page from manifests."""

from __future__ import annotations

import json

import pytest

from crm_models.reporting.index import format_delta, format_value, kpi_label, write_index, write_run_page


def test_labels_and_values_read_like_a_report():
    assert kpi_label("kpi_total_clv") == "Total CLV"
    assert kpi_label("kpi_ab_verdict") == "A/B verdict"
    assert format_value("kpi_active_customers", 12345.0) == "12,345"
    assert format_value("kpi_revenue", 446705.37) == "446,705"
    assert format_value("kpi_conversion_rate", 0.186) == "18.6 %"
    assert format_value("kpi_mean_clv", 8.671) == "8.67"
    assert format_value("kpi_verdict", "coupon_20 wins") == "coupon_20 wins"
    assert format_value("kpi_x", float("nan")) == "n/a"


@pytest.mark.parametrize(
    ("name", "now", "before", "kind", "text"),
    [
        ("kpi_revenue", 110.0, 100.0, "up", "\u25b2 +10.0 % vs previous run (100)"),
        ("kpi_revenue", 90.0, 100.0, "down", "\u25bc -10.0 % vs previous run (100)"),
        ("kpi_churn_rate", 0.25, 0.20, "up", "\u25b2 +5.0 points vs previous run (20.0 %)"),
        ("kpi_customers", 5.0, 5.0, "flat", "= unchanged since the previous run"),
        ("kpi_customers", 5.0, None, "none", "no earlier run to compare"),
        ("kpi_verdict", "B wins", "A wins", "flat", "was: A wins"),
    ],
)
def test_changes_carry_an_arrow_and_a_word_not_only_a_colour(name, now, before, kind, text):
    assert format_delta(name, now, before) == (kind, text)


def _manifest(run_id, started, kpis, status="ok"):
    return {
        "suite": "weekly", "title": "Weekly", "run_id": run_id, "started": started, "finished": started,
        "duration_seconds": 12.0, "as_of": None, "git_commit": "abc", "exit_code": 0 if status == "ok" else 1,
        "notebooks": [{
            "name": "rfm", "title": "Segments", "report": "rfm.html", "status": status, "kpis": kpis,
            "summary_html": "<p><strong>1,000 customers</strong> are active.</p>", "error_name": "",
            "error_message": "", "data_window": {"data_end": "2024-12-31"}, "models": [],
        }],
    }


def test_index_from_manifests_falls_back_when_mlflow_is_unavailable(tmp_path, monkeypatch):
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    for manifest in (
        _manifest("20240101-000000-weekly", "2024-01-01T00:00:00+00:00", {"kpi_active_customers": 900.0}),
        _manifest("20240108-000000-weekly", "2024-01-08T00:00:00+00:00", {"kpi_active_customers": 1000.0}),
    ):
        folder = tmp_path / manifest["run_id"]
        folder.mkdir()
        (folder / "run.json").write_text(json.dumps(manifest))
        write_run_page(folder, manifest)
    (tmp_path / "_screenshots").mkdir()  # not a run: ignored
    page = write_index(tmp_path, tracking_uri=(tmp_path / "no-store").as_uri()).read_text()
    assert "1,000" in page and "\u25b2 +11.1 % vs previous run (900)" in page
    assert 'href="20240108-000000-weekly/rfm.html"' in page and 'href="20240101-000000-weekly/index.html"' in page
    assert "data up to 2024-12-31" in page and "1,000 customers" in page
    assert "<script" not in page
    run_page = (tmp_path / "20240101-000000-weekly" / "index.html").read_text()
    assert 'href="rfm.html"' in run_page and "vs previous run" not in run_page


def test_back_dated_runs_are_compared_with_back_dated_runs(monkeypatch):
    from crm_models.tracking import history

    def run(suite_run, start, as_of=None, status="ok"):
        tags = {history.TAG_AS_OF: as_of} if as_of else {}
        return history.NotebookRun(run_id=suite_run, suite="s", notebook="n", suite_run=suite_run,
                                   start_time=start, status=status, tags=tags)

    newest_first = [
        run("backfill-2", 50, as_of="2024-05-31"),
        run("weekly-3", 40),
        run("backfill-1", 30, as_of="2024-04-30"),
        run("weekly-2", 20, status="failed"),
        run("weekly-1", 10),
    ]
    monkeypatch.setattr(history, "notebook_runs", lambda *a, **k: newest_first)
    assert history.previous_run("s", "n", "weekly-3").suite_run == "weekly-1"  # skips back-fills and failures
    assert history.previous_run("s", "n", "backfill-2").suite_run == "backfill-1"
    assert history.previous_run("s", "n", "backfill-1") is None
    assert history.previous_run("s", "n", "weekly-1") is None


def test_kpi_values_read_as_shares_money_or_counts() -> None:
    from crm_models.reporting.index import format_value

    assert format_value("kpi_funnel_conversion", 0.0864) == "8.6 %"
    assert format_value("kpi_expected_breakage", 0.571) == "57.1 %"
    assert format_value("kpi_first_period_retention", 0.209) == "20.9 %"
    assert format_value("kpi_conversions", 984.0) == "984", "a count is not a share"
    assert format_value("kpi_total_clv", 43351.2, "EUR") == "EUR 43,351"
    assert format_value("kpi_mean_clv", 8.674, "EUR") == "EUR 8.67"
    assert format_value("kpi_value_at_risk", 18786.0, "GBP") == "GBP 18,786"
    assert format_value("kpi_high_risk_customers", 500.0, "EUR") == "500", "customers are not money"
    assert format_value("kpi_total_clv", 43351.2) == "43,351", "no currency known: the number alone"
