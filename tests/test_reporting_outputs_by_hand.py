"""Issue 21, survivors of the reporting mutation sample (session 3): redaction of tables a notebook prints or
displays, the landing page's KPI changes, the data-file pre-flight and the run's data fingerprint.

Expected outputs are written by hand; each test names the mutation class it guards against.
"""

from __future__ import annotations

import pandas as pd

from crm_models.reporting.index import format_delta
from crm_models.reporting.output_redaction import REMOVED, redact_html_tables, redact_text_tables
from crm_models.reporting.preflight import check_data_files

TOKEN = "c_abababab"


def token(value: str) -> str:
    return TOKEN


# --------------------------------------------------------------------------- HTML tables
def test_a_header_wrapped_in_markup_still_names_its_column() -> None:
    """Guards against tags inside a cell adding text to it: ``<th><b>customer_id</b></th>`` is the
    ``customer_id`` column, so the id below it is replaced."""
    html = ("<table><thead><tr><th><b>customer_id</b></th><th>amount</th></tr></thead>"
            "<tbody><tr><td><span>C00042</span></td><td>5</td></tr></tbody></table>")
    out = redact_html_tables(html, token)
    assert "C00042" not in out and TOKEN in out
    assert "<b>customer_id</b>" in out and "<td>5</td>" in out


def test_a_table_body_after_an_unclosed_head_is_redacted() -> None:
    """Guards against ``<tbody>`` not ending the header rows (HTML lets ``</thead>`` be left out; the body rows
    would then be read as headers and pass through)."""
    html = ("<table><thead><tr><th>first_name</th><th>amount</th></tr>"
            "<tbody><tr><td>Alice</td><td>5</td></tr></tbody></table>")
    out = redact_html_tables(html, token)
    assert "Alice" not in out and f"<td>{REMOVED}</td>" in out


# --------------------------------------------------------------------------- text tables
def test_one_digit_customer_ids_in_a_printed_frame_are_replaced() -> None:
    """Guards against the right-alignment check looking one character too far left: ids 1, 2, 3 are one
    character wide, right-aligned under ``customer_id``."""
    frame = pd.DataFrame({"customer_id": [1, 2, 3], "amount": [10.5, 3.0, 7.25]})
    for text in (frame.to_string(), frame.to_string(index=False)):
        out = redact_text_tables(text, token)
        rows = out.splitlines()[1:]
        assert all(TOKEN in row for row in rows), out
        assert [row.split()[-1] for row in rows] == ["10.50", "3.00", "7.25"]


def test_prose_that_only_looks_like_a_header_is_left_alone() -> None:
    """Guards against the header test checking no column or no rows (a blank line before the text made the
    row range empty): "name  comment" over a line that is not aligned under it is not a table."""
    text = "\nname  comment\n Bob  hi there friend\n"
    assert redact_text_tables(text, token) == text


def test_a_frame_printed_without_index_after_a_blank_line_is_redacted() -> None:
    """Guards against the header test reading its rows from the wrong line (a frame printed without its index,
    after a blank line or at the very start of an output ending in a newline, then has no rows and is skipped)."""
    frame = pd.DataFrame({"first_name": ["Alice", "Bob"], "amount": [10.5, 3.0]})
    for text in (frame.to_string(index=False) + "\n", "Top buyers:\n\n" + frame.to_string(index=False) + "\n"):
        out = redact_text_tables(text, token)
        assert "Alice" not in out and "Bob" not in out
        assert out.count(REMOVED) == 2 and "10.5" in out


# --------------------------------------------------------------------------- KPI changes
def test_a_share_that_was_below_minus_one_changes_in_percent_not_points() -> None:
    """Guards against widening the share band for the previous value (-1 <= before): a lift of -1.5 (below -100 %)
    is not a share, so the change to 0.5 is (0.5 + 1.5) / 1.5 = +133.3 %."""
    assert format_delta("kpi_lift", 0.5, -1.5) == ("up", "\u25b2 +133.3 % vs previous run (-1.50)")
    assert format_delta("kpi_lift", 0.5, -1.0) == ("up", "\u25b2 +150.0 points vs previous run (-100.0 %)")


def test_a_kpi_without_a_number_gets_no_arrow() -> None:
    """Regression (review rev5): a KPI that is NaN now or was NaN before (MLflow stores NaN metrics) was shown
    as a fall, "\u25bc +nan % vs previous run"; an infinite one as "+inf %" or "+nan %"."""
    nan, inf = float("nan"), float("inf")
    for current, previous in ((nan, 5.0), (5.0, nan), (0.2, nan), (inf, 5.0), (inf, inf)):
        kind, text = format_delta("kpi_churn_rate", current, previous)
        assert kind == "none" and "nan" not in text and "inf" not in text, (current, previous, text)
    assert "1,200" in format_delta("kpi_active_customers", nan, 1200.0)[1]
    assert format_delta("kpi_active_customers", 6.0, 5.0)[0] == "up"


# --------------------------------------------------------------------------- pre-flight of data files
def test_a_complete_tsv_without_a_final_newline_is_not_called_truncated(tmp_path) -> None:
    """Guards against splitting the last line on a different delimiter than the header (every TSV whose last
    line lacks a newline would be refused as cut short, exit code 3)."""
    path = tmp_path / "tx.tsv"
    path.write_text("customer_id\ttimestamp\tamount\nc1\t2024-01-01\t35.02")
    assert check_data_files([path]) == []
    cut = tmp_path / "cut.tsv"
    cut.write_text("customer_id\ttimestamp\tamount\nc1\t2024-01-01")
    problems = check_data_files([cut])
    assert len(problems) == 1 and "2 of 3 fields" in problems[0].reason


def test_the_fingerprint_of_a_notebook_covers_its_listed_data(tmp_path) -> None:
    """Guards against the listed ``data:`` files being dropped from the run's data fingerprint (it had no test):
    the fingerprint of one listed file is that file's, and changes when the file does."""
    from crm_models.reporting.runner import _data_paths, _fingerprint
    from crm_models.reporting.suite import NotebookSpec
    from crm_models.tracking.mlflow_helpers import data_fingerprint

    data = tmp_path / "tx.csv"
    data.write_text("customer_id,amount\nc1,1\n")
    spec = NotebookSpec(name="nb", path=tmp_path / "nb.ipynb", parameters={}, data=(data,))
    assert _data_paths(spec) == [data]
    before = _fingerprint(_data_paths(spec))
    assert before == data_fingerprint(data)
    data.write_text("customer_id,amount\nc1,2\n")
    assert _fingerprint(_data_paths(spec)) != before


# --------------------------------------------------------------------------- executive summary
def test_the_executive_summary_is_the_first_markdown_output_without_its_heading() -> None:
    """Guards against the heading filter or the Markdown rendering being skipped (no test gave a notebook with a
    summary): the box shows the prose, bold kept, the "### Executive summary" heading dropped."""
    from nbformat.v4 import new_code_cell, new_notebook, new_output

    from crm_models.reporting.export import executive_summary

    output = new_output("display_data", data={"text/markdown": "### Executive summary\nRevenue rose **5 %**."})
    nb = new_notebook(cells=[new_code_cell("", outputs=[output])])
    html = executive_summary(nb)
    assert "<strong>5 %</strong>" in html and "Revenue rose" in html
    assert "Executive summary" not in html


def test_a_corrupt_pq_file_is_named(tmp_path) -> None:
    """Guards against a changed suffix set for Parquet: ``.pq`` files are checked for the PAR1 markers too."""
    path = tmp_path / "tx.pq"
    path.write_bytes(b"not parquet at all")
    problems = check_data_files([path])
    assert len(problems) == 1 and "Parquet" in problems[0].reason


# --------------------------------------------------------------------------- models on the landing page
def test_the_models_of_a_run_say_which_version_is_champion(tmp_path, monkeypatch, mlflow_db) -> None:
    """Guards against the registry query losing the run id, an inverted "not yet compared" test, and a champion
    flag that is true for any version once a champion exists: v1 (AUC 0.70) is promoted and then beaten by v2
    (0.75); a third, never-compared version v3 of the run falls back to a fresh comparison with the champion."""
    import mlflow
    from mlflow.tracking import MlflowClient

    from crm_models.clv import BetaGeoModel
    from crm_models.reporting.runner import _models_of_run
    from crm_models.tracking import active_run, log_clv_model, log_metrics, track_champion

    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    while mlflow.active_run() is not None:
        mlflow.end_run()
    model = BetaGeoModel().with_params(r=0.25, alpha=4.0, a=0.8, b=2.5)
    name = "crm_test_models_of_run"
    runs = {}
    for key, auc, tracked in (("v1", 0.70, True), ("v2", 0.75, True), ("v3", 0.60, False)):
        with active_run(f"run-{key}"):
            log_metrics({"auc": auc})
            info = log_clv_model(model, 10.0, horizon=52, time_unit="W", discount_rate=0.1,
                                 registered_model_name=name)
        version = str(info.registered_model_version)
        if tracked:
            track_champion(name, version, {"auc": auc}, primary="auc")
        runs[key] = (info.run_id, version)
    client = MlflowClient(uri)

    [first] = _models_of_run(client, runs["v1"][0], {"auc": 0.70}, uri)
    assert (first["version"], first["champion_version"], first["is_champion"]) == (runs["v1"][1], runs["v2"][1],
                                                                                  False)
    [second] = _models_of_run(client, runs["v2"][0], {}, uri)
    assert second["is_champion"] is True
    # the comparison recorded when v2 was tracked: AUC 0.75 against the champion of that moment, v1 at 0.70
    assert [(row["metric"], row["current"], row["champion"]) for row in second["comparison"]] == [
        ("auc", 0.75, 0.70)]
    [third] = _models_of_run(client, runs["v3"][0], {"auc": 0.60}, uri)
    assert third["is_champion"] is False
    assert [(row["metric"], row["current"], row["champion"]) for row in third["comparison"]] == [
        ("auc", 0.60, 0.75)]


# --------------------------------------------------------------------------- what the runner records
def _run(folder, notebook_code: str, parameters: str, as_of: str | None = None, suite_parameters: str = "",
         store=None) -> dict:
    """Run a one-notebook suite with the ``crm`` command (``suite_parameters``: the YAML mapping of the suite's
    parameters for it; ``store``: the folder of the MLflow database, ``folder`` unless given, so that two runs can
    share one and pay for its creation once); return its run.json."""
    import json

    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from crm_models.cli import main

    cell = new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[cell, new_code_cell(notebook_code)],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, folder / "probe.ipynb")
    settings = f"    parameters: {suite_parameters}\n" if suite_parameters else ""
    (folder / "case.yaml").write_text(f"name: case\nnotebooks:\n  - path: {folder / 'probe.ipynb'}\n{settings}",
                                      encoding="utf-8")
    args = ["run", str(folder / "case.yaml"), "--reports-dir", str(folder / "reports"), "--no-progress",
            "--tracking-uri", f"sqlite:///{(store or folder) / 'mlflow.db'}"]
    main([*args, "--as-of", as_of] if as_of else args)
    return json.loads(next((folder / "reports").glob("*/run.json")).read_text())


def _mlflow_run(folder, manifest: dict):
    from mlflow.tracking import MlflowClient

    return MlflowClient(f"sqlite:///{folder / 'mlflow.db'}").get_run(manifest["notebooks"][0]["mlflow_run_id"])


def test_a_missing_file_and_a_broken_file_are_named_as_different_errors(tmp_path, mlflow_db) -> None:
    """Guards against every pre-flight failure being called a broken file: a file that does not exist is a
    ``DataMissingError``, an empty one a ``DataFileError`` (both exit with 3), and the MLflow run carries the
    error as its ``crm_error`` tag. Also guards the data window's fallback end (the notebook's
    ``observation_end``, else its ``report_as_of`` parameter) and the empty default currency."""
    parameters = "data_path = ''\nobservation_end = None\nreport_as_of = None"
    missing = _run(tmp_path, "x = 1", parameters,
                   suite_parameters=f"{{data_path: {tmp_path / 'nowhere.csv'}, observation_end: 2024-05-31}}")
    entry = missing["notebooks"][0]
    assert missing["exit_code"] == 3 and entry["error_name"] == "DataMissingError"
    assert entry["data_window"] == {"data_end": "2024-05-31"} and entry["currency"] == ""
    assert _mlflow_run(tmp_path, missing).data.tags["crm_error"].startswith("DataMissingError: data not found")

    (tmp_path / "empty.csv").write_bytes(b"")
    second = tmp_path / "second"
    second.mkdir()
    broken = _run(second, "x = 1", parameters,
                  suite_parameters=f"{{data_path: {tmp_path / 'empty.csv'}, report_as_of: 2024-04-30}}",
                  store=tmp_path)
    entry = broken["notebooks"][0]
    assert broken["exit_code"] == 3 and entry["error_name"] == "DataFileError"
    assert entry["data_window"] == {"data_end": "2024-04-30"}
    assert _mlflow_run(tmp_path, broken).data.tags["crm_error"].startswith("DataFileError")


def test_the_kernel_is_told_the_report_date_and_the_run_is_timed(tmp_path, mlflow_db) -> None:
    """Guards against ``CRM_REPORT_AS_OF`` being emptied (with ``--as-of 2024-06-30`` the notebook's environment
    carries that date) and against a renamed duration metric on the notebook's MLflow run."""
    probe = tmp_path / "as_of.txt"
    code = f"import os, pathlib\npathlib.Path({str(probe)!r}).write_text(os.environ.get('CRM_REPORT_AS_OF', '?'))"
    manifest = _run(tmp_path, code, "report_as_of = None", as_of="2024-06-30")
    assert manifest["exit_code"] == 0, manifest["notebooks"][0]["error_message"]
    assert probe.read_text() == "2024-06-30"
    metrics = _mlflow_run(tmp_path, manifest).data.metrics
    assert metrics["crm_duration_seconds"] > 0


def test_runs_a_killed_suite_run_left_running_are_marked_killed(tmp_path, mlflow_db) -> None:
    """Guards against the search for left-over runs losing its experiment (it had no test reaching it): only the
    RUNNING run tagged with the dead suite run is marked KILLED."""
    from mlflow.tracking import MlflowClient

    from crm_models.reporting.runner import mark_killed_runs

    client = MlflowClient(f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.create_experiment("crm-test")
    dead = client.create_run(experiment, tags={"crm_suite_run": "dead-run"}).info.run_id
    other = client.create_run(experiment, tags={"crm_suite_run": "live-run"}).info.run_id
    assert mark_killed_runs(client, experiment, {"pid": 1, "run_id": "dead-run"}) == [dead]
    assert client.get_run(dead).info.status == "KILLED"
    assert client.get_run(dead).data.tags["crm_status"] == "killed"
    assert client.get_run(other).info.status == "RUNNING"
    assert mark_killed_runs(client, experiment, None) == []


# --------------------------------------------------------------------------- data paths and retention
def test_a_relative_data_path_with_a_folder_is_checked() -> None:
    """Guards against requiring a data path to be absolute *and* contain a folder: ``data/tx.csv`` (relative to
    the notebook) is data, as is an absolute path; a bare name under an unnamed parameter is not."""
    from pathlib import Path

    from crm_models.reporting.preflight import data_paths_in_parameters

    found = data_paths_in_parameters({"source": "data/tx.csv", "other": "/srv/tx.parquet", "label": "tx.csv"})
    assert found == [Path("data/tx.csv"), Path("/srv/tx.parquet")]


def test_retention_removes_only_the_oldest_runs_of_the_suite(tmp_path) -> None:
    """Guards against retention reading the wrong key (no run matched and nothing was removed): of three runs of
    suite ``a`` the newest is kept, the run of suite ``b`` stays, and a crashed run's staging folder goes."""
    import json

    from crm_models.reporting.store import apply_retention

    for run_id, suite, started in (("r1", "a", "2024-01-01"), ("r2", "a", "2024-01-02"), ("r3", "a", "2024-01-03"),
                                   ("r0", "b", "2023-12-31")):
        (tmp_path / run_id).mkdir()
        (tmp_path / run_id / "run.json").write_text(json.dumps({"run_id": run_id, "suite": suite,
                                                                "started": started}))
    (tmp_path / ".staging-r4").mkdir()
    assert sorted(apply_retention(tmp_path, "a", keep=1)) == ["r1", "r2"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r0", "r3"]


def test_the_fingerprint_is_of_the_data_the_notebook_ran_on(tmp_path, mlflow_db) -> None:
    """Regression (review rev5): the run's ``crm.data_fingerprint`` was computed from the suite file's parameters,
    so a run given another data file (``crm run --param data_path=...``) recorded the fingerprint of the file
    it did not read."""
    import io

    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from crm_models.reporting.runner import run_suite
    from crm_models.tracking.mlflow_helpers import data_fingerprint

    default, used = tmp_path / "default.csv", tmp_path / "used.csv"
    default.write_text("customer_id,amount\nc1,1\n")
    used.write_text("customer_id,amount\nc1,2\nc2,3\n")
    cell = new_code_cell("data_path = ''")
    cell.metadata["tags"] = ["parameters"]
    nbformat.write(new_notebook(cells=[cell], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                       "language": "python"}}), tmp_path / "nb.ipynb")
    (tmp_path / "s.yaml").write_text(f"name: s\nnotebooks:\n  - path: {tmp_path / 'nb.ipynb'}\n"
                                     f"    parameters: {{data_path: {default}}}\n", encoding="utf-8")
    uri = f"sqlite:///{mlflow_db}"
    result = run_suite(tmp_path / "s.yaml", reports_dir=tmp_path / "reports", tracking_uri=uri, progress=False,
                       parameters={"data_path": str(used)}, stream=io.StringIO())
    assert result.exit_code == 0, result.notebooks[0].error_message
    params = _mlflow_run(tmp_path, {"notebooks": [{"mlflow_run_id": result.notebooks[0].mlflow_run_id}]}).data.params
    assert params["crm.data_fingerprint"] == data_fingerprint(used) != data_fingerprint(default)
