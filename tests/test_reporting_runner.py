"""Suite runner end to end on tiny fixture notebooks: MLflow run per notebook, offline reports, index,
failure handling, exit codes, --as-of, retention, privacy of the published outputs, and the model
registry (champion alias) and run history on the same MLflow store.

Two suite runs are shared by the module (each costs a few kernel starts): run A executes a notebook
that works, one that fails with a bug and one that fails on bad data; run B (back-dated, retention 1)
re-runs the good notebook and the bad-data one.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import json
import math
import re
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.notebook

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
SECRET_IDS = [f"CUST-SECRET-{i:04d}" for i in range(40)]
SECRET_EMAILS = [f"person{i}.secret@example.com" for i in range(40)]


def _write_suite(folder: Path, data: Path) -> Path:
    suite = folder / "suite.yaml"
    suite.write_text(
        "name: fixture\n"
        "title: Fixture suite\n"
        "retention: 5\n"
        f"data: [{data}]\n"
        "notebooks:\n"
        f"  - path: {FIXTURES / 'value.ipynb'}\n"
        f"    parameters: {{customers_path: {data}}}\n"
        f"  - path: {FIXTURES / 'fail.ipynb'}\n"
        f"  - path: {FIXTURES / 'fail.ipynb'}\n"
        "    name: bad_data\n"
        "    parameters: {fail_with: DataContractError}\n",
        encoding="utf-8",
    )
    return suite


@functools.lru_cache(maxsize=1)
def published_runs() -> dict:
    """Run the fixture suite twice into a temporary folder (once per test process; the browser test reuses it)."""
    from crm_models.reporting.runner import run_suite

    base = Path(tempfile.mkdtemp(prefix="crm-suite-"))
    atexit.register(shutil.rmtree, base, ignore_errors=True)
    rng = np.random.default_rng(7)
    customers = pd.DataFrame(
        {
            "customer_id": SECRET_IDS,
            "email": SECRET_EMAILS,
            "orders": rng.integers(0, 6, len(SECRET_IDS)),
            "revenue": rng.gamma(2.0, 60.0, len(SECRET_IDS)).round(2),
        }
    )
    data = base / "customers.csv"
    customers.to_csv(data, index=False)
    suite = _write_suite(base, data)
    uri = f"sqlite:///{base / 'mlruns' / 'mlflow.db'}"
    (base / "mlruns").mkdir()
    reports = base / "reports"
    first = run_suite(suite, reports_dir=reports, tracking_uri=uri, progress=False, only=["value", "fail"])
    first_index = (reports / "index.html").read_text(encoding="utf-8")
    second = run_suite(suite, reports_dir=reports, tracking_uri=uri, progress=False, keep=1, only=["value", "bad_data"])
    second_index = (reports / "index.html").read_text(encoding="utf-8")
    folders_after_second = sorted(p.name for p in reports.iterdir() if p.is_dir() and not p.name.startswith("."))
    third = run_suite(  # back-dated; a notebook that stops at once keeps it cheap
        suite, reports_dir=reports, tracking_uri=uri, progress=False, as_of="2024-06-30", only=["bad_data"]
    )
    return {"base": base, "data": data, "uri": uri, "reports": reports, "first": first, "second": second,
            "third": third, "first_index": first_index, "second_index": second_index,
            "folders_after_second": folders_after_second}


@pytest.fixture(scope="module")
def runs():
    return published_runs()


def _client(uri):
    from mlflow.tracking import MlflowClient

    return MlflowClient(uri)


def test_failing_notebook_does_not_stop_the_others_and_sets_the_exit_code(runs):
    first = runs["first"]
    assert first.exit_code == 1
    status = {nb.name: nb.status for nb in first.notebooks}
    assert status == {"value": "ok", "fail": "failed"}
    failed = {nb.name: nb for nb in first.notebooks}["fail"]
    assert failed.error_name == "ValueError"
    page = (runs["reports"] / first.run_id / "fail.html").read_text(encoding="utf-8") if (
        runs["reports"] / first.run_id).exists() else None
    # run A was removed by retention (keep=1) after run B; its MLflow artifacts keep the report
    artifact = Path(_client(runs["uri"]).download_artifacts(failed.mlflow_run_id, "report/fail.html"))
    page = page or artifact.read_text(encoding="utf-8")
    assert "the fixture fails on purpose" in page and "did not finish" in page
    assert "The analysis stopped here" in page and "Technical details" in page
    assert "first cell ran" in page and "never reached" not in page


def test_bad_data_and_as_of_and_retention(runs):
    second, third, reports = runs["second"], runs["third"], runs["reports"]
    assert second.exit_code == 3 and third.exit_code == 3  # the only failures are DataContractErrors
    assert runs["folders_after_second"] == [second.run_id]  # keep=1 removed the first run's folder
    assert not list(reports.glob(".staging-*")) and not list(reports.glob("*.tmp"))
    bad = third.notebooks[0]
    assert bad.error_name == "DataContractError"
    run = _client(runs["uri"]).get_run(bad.mlflow_run_id)
    assert run.data.params["nb.report_as_of"] == "2024-06-30"
    assert run.data.tags["crm_as_of"] == "2024-06-30"
    manifest = json.loads((reports / third.run_id / "run.json").read_text())
    assert manifest["as_of"] == "2024-06-30" and manifest["exit_code"] == 3
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert "as of 2024-06-30" in index and "Not part of the latest run" in index  # value.html from run B


def test_mlflow_run_holds_params_fingerprint_commit_metrics_and_report(runs):
    value = {nb.name: nb for nb in runs["first"].notebooks}["value"]
    client = _client(runs["uri"])
    run = client.get_run(value.mlflow_run_id)
    expected = hashlib.sha256(runs["data"].read_bytes()).hexdigest()
    assert run.data.params["crm.data_fingerprint"] == expected == value.data_fingerprint
    assert re.fullmatch(r"[0-9a-f]{40}|unknown", run.data.params["crm.git_commit"])
    assert run.data.params["nb.customers_path"] == str(runs["data"])
    assert run.data.params["rows"] == "40"  # logged by the notebook itself, into the same run
    assert run.data.metrics["kpi_active_customers"] == value.kpis["kpi_active_customers"] > 0
    assert run.data.tags["kpi_verdict"] == "keep going" and run.data.tags["crm_status"] == "ok"
    artifacts = {a.path for a in client.list_artifacts(value.mlflow_run_id, "report")}
    assert artifacts == {"report/value.html"}
    assert {a.path for a in client.list_artifacts(value.mlflow_run_id, "tables")} == {"tables/top_customers.csv"}


def test_report_is_offline_and_has_no_code(runs):
    html = (runs["reports"] / runs["second"].run_id / "value.html").read_text(encoding="utf-8")
    assert "Fixture: customer value" in html and "customers are active" in html
    assert "<script" not in html.lower()  # no require.js, MathJax, widget manager, CDN
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    assert not re.search(r'class="[^"]*(hl-ipython3|jp-InputPrompt|jp-CodeMirrorEditor)', html)
    assert "pseudonymize_frame" not in html and "log_kpis" not in html
    assert "analyst-only warning" not in html  # stderr is for the analyst
    assert re.search(r'<img[^>]+src="data:image/png;base64,', html)
    assert "Okabe-Ito" in html  # the shared style sheet is inlined


def test_landing_page_kpis_change_and_links(runs):
    reports, second = runs["reports"], runs["second"]
    index = runs["second_index"]
    assert "Active customers" in index and "Keep going" not in index and "keep going" in index
    assert "vs previous run" in index or "unchanged since the previous run" in index
    assert f'href="{second.run_id}/value.html"' in index and f'href="{second.run_id}/index.html"' in index
    assert "<script" not in index.lower()
    assert "no earlier run to compare" in runs["first_index"]  # the first run had no history
    run_page = (reports / second.run_id / "index.html").read_text(encoding="utf-8")
    assert 'href="value.html"' in run_page and 'href="../index.html"' in run_page


def test_privacy_no_identifier_or_email_in_reports_or_mlflow_artifacts(runs):
    base = runs["base"]
    published = [p for p in (base / "reports").rglob("*") if p.is_file()]
    artifacts = [p for p in (base / "mlruns").rglob("*") if p.is_file() and p.suffix != ".db"]
    assert any(p.name == "value.html" for p in artifacts) and any(p.suffix == ".csv" for p in artifacts)
    needles = [*SECRET_IDS, *SECRET_EMAILS, "CUST-SECRET", "secret@example.com", "x@y.org"]
    for path in published + artifacts:
        text = path.read_text(encoding="utf-8", errors="replace")
        leaked = [n for n in needles if n in text]
        assert not leaked, f"{path} contains {leaked[:3]}"


# Model registry and run history, on the same MLflow store (a new sqlite store costs seconds).


def _version(client, name, run_id):
    if not client.search_registered_models(f"name = '{name}'"):
        client.create_registered_model(name)
    return client.create_model_version(name, source=f"runs:/{run_id}/model", run_id=run_id)


def test_champion_alias_comparison_and_promotion(runs):
    store = runs
    from mlflow.tracking import MlflowClient

    from crm_models.tracking import compare_with_champion, get_champion, promote_if_better

    uri = store["uri"]
    client = MlflowClient(uri, registry_uri=uri)
    first = {nb.name: nb for nb in store["first"].notebooks}["value"].mlflow_run_id
    second = {nb.name: nb for nb in store["second"].notebooks}["value"].mlflow_run_id
    client.log_metric(first, "auc", 0.70)
    client.log_metric(second, "auc", 0.65)
    name = "crm_test_model"
    assert get_champion(name, tracking_uri=uri) is None
    table = compare_with_champion(name, {"auc": 0.7}, tracking_uri=uri)
    assert table.loc[0, "better"] is None and math.isnan(table.loc[0, "champion"])

    v1 = _version(client, name, first)
    assert promote_if_better(name, v1.version, "auc", tracking_uri=uri)  # no champion yet: v1 becomes it
    v2 = _version(client, name, second)
    assert not promote_if_better(name, v2.version, "auc", tracking_uri=uri)  # worse: champion stays
    assert str(get_champion(name, tracking_uri=uri).version) == str(v1.version)
    table = compare_with_champion(name, {"auc": 0.65, "brier": 0.2}, greater_is_better={"auc": True}, tracking_uri=uri)
    row = table.set_index("metric").loc["auc"]
    assert row["champion"] == pytest.approx(0.70) and row["difference"] == pytest.approx(-0.05)
    assert row["better"] is False and row["champion_version"] == str(v1.version)
    assert table.set_index("metric").loc["brier", "better"] is None
    client.log_metric(second, "logloss", 0.3)
    client.log_metric(first, "logloss", 0.4)
    assert promote_if_better(name, v2.version, "logloss", greater_is_better=False, tracking_uri=uri)
    assert str(get_champion(name, tracking_uri=uri).version) == str(v2.version)

    from crm_models.tracking import track_champion

    v3 = _version(client, name, first)  # logloss 0.4 > champion's 0.3: stays out
    table = track_champion(name, v3.version, {"logloss": 0.4, "auc": 0.7}, primary="logloss",
                           greater_is_better={"logloss": False}, tracking_uri=uri)
    assert table.attrs == {"promoted": False, "champion_version": str(v2.version)}
    assert table.set_index("metric").loc["logloss", "better"] is False

    # what the landing page shows for a run that registered a model
    from crm_models.reporting.index import _models
    from crm_models.reporting.runner import _models_of_run

    models = _models_of_run(client, first, dict(client.get_run(first).data.metrics), uri)
    found = sorted((m["name"], m["version"], m["is_champion"], m["champion_version"]) for m in models)
    assert found == sorted((name, str(v), False, str(v2.version)) for v in (v1.version, v3.version))
    table = " | ".join(f"{row['status']}: {row['details']}" for row in _models({"notebooks": [{"models": models}]}))
    assert "champion is version 2" in table and "auc: 0.7 (champion 0.65)" in table


def test_history_finds_the_previous_run(runs):
    store = runs
    from crm_models.tracking.history import notebook_runs, previous_run

    uri, first, second = store["uri"], store["first"], store["second"]
    runs = notebook_runs("fixture", "value", tracking_uri=uri)
    assert [r.suite_run for r in runs] == [second.run_id, first.run_id]
    prior = previous_run("fixture", "value", second.run_id, tracking_uri=uri)
    assert prior is not None and prior.suite_run == first.run_id and "kpi_active_customers" in prior.kpis
    assert previous_run("fixture", "value", first.run_id, tracking_uri=uri) is None
    assert previous_run("fixture", "fail", second.run_id, tracking_uri=uri) is None  # failures are not baselines


def test_mixed_failures_exit_1_and_only_data_failures_exit_3(runs):
    """Exit 3 means every failure was a data problem; one ordinary failure among data failures is exit 1
    (a scheduler that retries "bad data" after a fix must not hide a code failure)."""
    from crm_models.reporting.runner import EXIT_BAD_DATA, EXIT_NOTEBOOK_FAILED, run_suite

    base = runs["base"]
    mixed = run_suite(base / "suite.yaml", reports_dir=base / "reports-mixed", tracking_uri=runs["uri"],
                      progress=False, only=["fail", "bad_data"])
    assert {nb.name: nb.error_name for nb in mixed.notebooks} == {"fail": "ValueError",
                                                                  "bad_data": "DataContractError"}
    assert mixed.exit_code == EXIT_NOTEBOOK_FAILED
    assert runs["second"].exit_code == EXIT_BAD_DATA  # value ok + bad_data only
