"""Issue 21, survivors of the reporting mutation sample (session 3): the landing page and run page built from
hand-written run manifests, the suite file's shared parameters, and Papermill's error markers in a report.

Each test names the mutation class it guards against.
"""

from __future__ import annotations

import json

import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from crm_models.reporting.index import write_index, write_run_page

OLD, NEW = "20240101-000000-weekly", "20240108-000000-weekly"


def _notebook(name: str, status: str, kpis: dict) -> dict:
    return {"name": name, "title": name.upper(), "report": f"{name}.html", "status": status, "kpis": kpis,
            "summary_html": "", "error_name": "" if status == "ok" else "ValueError",
            "error_message": "" if status == "ok" else "boom", "data_window": {"data_end": "2024-12-31"},
            "models": []}


def _manifest(run_id: str, started: str, notebooks: list[dict]) -> dict:
    return {"suite": "weekly", "title": "Weekly", "run_id": run_id, "started": started, "finished": started,
            "duration_seconds": 12.0, "as_of": None, "git_commit": "abcdef1234567890", "exit_code": 0,
            "notebooks": notebooks}


def _publish(folder, manifest: dict) -> None:
    (folder / manifest["run_id"]).mkdir()
    (folder / manifest["run_id"] / "run.json").write_text(json.dumps(manifest))


def test_landing_page_after_a_partial_run(tmp_path, monkeypatch) -> None:
    """An earlier run of two notebooks (``clv`` failed) and a later ``--only rfm`` run. Guards against: the
    latest view not being completed with the earlier report (``clv`` would vanish), the failed count reading the
    wrong key or value (every run would be "failed"), and the suite header losing the run's date."""
    monkeypatch.delenv("MLFLOW_ALLOW_FILE_STORE", raising=False)
    _publish(tmp_path, _manifest(OLD, "2024-01-01T00:00:00+00:00",
                                 [_notebook("rfm", "ok", {"kpi_active_customers": 900.0}),
                                  _notebook("clv", "failed", {})]))
    _publish(tmp_path, _manifest(NEW, "2024-01-08T00:00:00+00:00",
                                 [_notebook("rfm", "ok", {"kpi_active_customers": 1000.0})]))
    page = write_index(tmp_path, tracking_uri=(tmp_path / "no-store").as_uri()).read_text()
    assert f"Not part of the latest run; this report is from run {OLD}" in page
    assert f'href="{OLD}/clv.html"' in page
    assert f'index.html">{NEW}</a>, 2024-01-08 00:00 UTC' in page
    rows = {run_id: page.split(f'<tr><td><a href="{run_id}/index.html">')[1].split("</tr>")[0] for run_id in (OLD, NEW)}
    assert "\u2713 all ran" in rows[NEW] and "\u2717 1 of 2 failed" in rows[OLD]


def test_run_page_shows_its_headline_numbers_and_commit(tmp_path) -> None:
    """Guards against the run page losing its KPI cards or its (shortened) git commit."""
    manifest = _manifest(NEW, "2024-01-08T00:00:00+00:00", [_notebook("rfm", "ok", {"kpi_active_customers": 1000.0})])
    _publish(tmp_path, manifest)
    page = write_run_page(tmp_path / NEW, manifest).read_text()
    assert "commit abcdef1234<" in page or "commit abcdef1234 " in page or "commit abcdef1234\n" in page
    assert "abcdef12345" not in page
    assert "Active customers" in page and "1,000" in page


def test_shared_suite_parameters_reach_every_notebook(tmp_path) -> None:
    """Guards against the suite-level ``parameters`` being read from the wrong key: both notebooks get the shared
    ``currency``, and a notebook's own value wins over it."""
    import nbformat

    from crm_models.reporting.suite import load_suite

    for name in ("a", "b"):
        cell = new_code_cell("currency = ''")
        cell.metadata["tags"] = ["parameters"]
        nbformat.write(new_notebook(cells=[cell]), tmp_path / f"{name}.ipynb")
    (tmp_path / "s.yaml").write_text("name: s\nparameters: {currency: EUR}\nnotebooks:\n  - path: a.ipynb\n"
                                     "  - path: b.ipynb\n    parameters: {currency: GBP}\n", encoding="utf-8")
    suite = load_suite(tmp_path / "s.yaml", root=tmp_path)
    assert [spec.parameters["currency"] for spec in suite.notebooks] == ["EUR", "GBP"]


def test_papermill_error_markers_are_left_out_of_the_report() -> None:
    """Guards against the marker filter failing when a notebook has markers (the report's banner says it in words;
    the marker's own text must not be shown)."""
    from crm_models.reporting.export import render_html

    marker = new_markdown_cell("<span>An Exception was encountered at MARKER-TEXT</span>")
    marker.metadata["tags"] = ["papermill-error-cell-tag"]
    nb = new_notebook(cells=[new_markdown_cell("# Report"), marker, new_markdown_cell("Kept prose here.")])
    html = render_html(nb, {"title": "Report", "failed": True, "error_summary": "ValueError: boom"})
    assert "MARKER-TEXT" not in html and "Kept prose here." in html


def test_landing_page_compares_with_the_previous_run_in_mlflow(tmp_path, mlflow_db) -> None:
    """Guards against the MLflow look-up losing the notebook name (it then failed and fell back to the manifests
    on disk) or the experiment (it then searched the default one and found nothing): MLflow holds 800 for the
    previous run while its manifest on disk says 900, so the change must read +25.0 % against 800."""
    from mlflow.tracking import MlflowClient

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(uri)
    experiment = client.create_experiment("weekly-exp", artifact_location=(tmp_path / "artifacts").as_uri())
    for suite_run, start, value in ((OLD, 1_704_067_200_000, 800.0), (NEW, 1_704_672_000_000, 1000.0)):
        run = client.create_run(experiment, start_time=start, tags={
            "crm_suite": "weekly", "crm_notebook": "rfm", "crm_suite_run": suite_run, "crm_status": "ok"})
        client.log_metric(run.info.run_id, "kpi_active_customers", value)
        client.set_terminated(run.info.run_id, "FINISHED")
    reports = tmp_path / "reports"
    reports.mkdir()
    _publish(reports, _manifest(OLD, "2024-01-01T00:00:00+00:00", [_notebook("rfm", "ok", {"kpi_active_customers": 900.0})]))
    _publish(reports, _manifest(NEW, "2024-01-08T00:00:00+00:00", [_notebook("rfm", "ok", {"kpi_active_customers": 1000.0})]))
    page = write_index(reports, tracking_uri=uri, experiment="weekly-exp").read_text()
    assert "\u25b2 +25.0 % vs previous run (800)" in page


def _tiny_suite(folder) -> None:
    """Write ``tiny.yaml``: a suite of one notebook whose data file does not exist, so that a run records and
    publishes it (a DataMissingError, exit code 3) without the cost of starting a kernel."""
    import nbformat

    cell = new_code_cell("report_as_of = None\ndata_path = ''")
    cell.metadata["tags"] = ["parameters"]
    nbformat.write(new_notebook(cells=[cell, new_code_cell("x = 1")],
                                metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                         "language": "python"}}), folder / "tiny.ipynb")
    (folder / "tiny.yaml").write_text(f"name: tiny\nnotebooks:\n  - path: {folder / 'tiny.ipynb'}\n"
                                      f"    parameters: {{data_path: {folder / 'nowhere.csv'}}}\n", encoding="utf-8")


def test_a_second_run_after_a_killed_one_says_so_and_applies_retention(tmp_path, mlflow_db) -> None:
    """Guards against retention being applied to no suite (old run folders were never removed) and against the
    message about a killed run losing that run's id: run 1 publishes; a killed run leaves its lock record and a
    RUNNING MLflow run; run 2 (keep=1) marks that run KILLED, says which run it was, and removes run 1's folder."""
    import io

    from mlflow.tracking import MlflowClient

    from crm_models.reporting.runner import run_suite

    _tiny_suite(tmp_path)
    reports, uri = tmp_path / "reports", f"sqlite:///{tmp_path / 'mlflow.db'}"
    first = run_suite(tmp_path / "tiny.yaml", reports_dir=reports, tracking_uri=uri, progress=False,
                      stream=io.StringIO())
    assert first.exit_code == 3  # the data file is missing: nothing started a kernel
    client = MlflowClient(uri)
    experiment = client.get_run(first.notebooks[0].mlflow_run_id).info.experiment_id
    left = client.create_run(experiment, tags={"crm_suite_run": "dead-run"}).info.run_id
    (reports / ".crm-run.lock").write_text(json.dumps({"pid": 1, "run_id": "dead-run"}))
    out = io.StringIO()
    second = run_suite(tmp_path / "tiny.yaml", reports_dir=reports, tracking_uri=uri, progress=False, keep=1,
                       stream=out)
    assert "the previous run dead-run was killed; marked 1" in out.getvalue()
    assert client.get_run(left).info.status == "KILLED"
    assert sorted(p.name for p in reports.iterdir() if p.is_dir() and not p.name.startswith(".")) == [second.run_id]


def test_the_wait_for_a_busy_lock_is_told_on_the_runs_stream(tmp_path, capsys) -> None:
    """Guards against ``run_suite`` not passing its ``stream`` to the lock (the "waiting" message then went to
    stderr, where a caller that gave a stream does not look): while another holder keeps the reports folder, a
    run that may wait 0.2 s says on its stream that it waits, names the lock, and then gives up (no notebook runs).
    """
    import io

    from crm_models.reporting.lock import LockBusyError, RunLock
    from crm_models.reporting.runner import run_suite

    _tiny_suite(tmp_path)
    reports, out = tmp_path / "reports", io.StringIO()
    with RunLock(reports, label="other"), pytest.raises(LockBusyError):
        run_suite(tmp_path / "tiny.yaml", reports_dir=reports, tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
                  progress=False, wait=0.2, stream=out)
    assert "waiting" in out.getvalue() and ".crm-run.lock" in out.getvalue() and "'other'" in out.getvalue()
    assert "waiting" not in capsys.readouterr().err
    assert not [p for p in reports.iterdir() if p.is_dir()]
