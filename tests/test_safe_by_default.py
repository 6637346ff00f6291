"""Issue 12, "Safe by default": the careless-user and attacker catalogue, one test per case.

Security (items 1-4), run safety (items 5-8), and regression tests for what already worked (named errors,
counted drops, YAML safe-loaded, Papermill parameters escaped, SIGKILL mid-run leaves the landing page
intact, concurrent runs exit 4). The browser check of an injected script is
``tests/test_browser_reports.py::test_script_injected_through_data_does_not_run``.

Cheap cases never start a kernel (the data pre-flight and the parameter check refuse before one starts);
the few end-to-end cases share small generated notebooks. Every test isolates the pseudonymization key
(conftest) and writes only under ``tmp_path``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from crm_models.cli import main
from crm_models.exceptions import DataContractError
from crm_models.reporting.lock import RunLock

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
HELLO = FIXTURES / "hello.ipynb"


def _notebook(path: Path, parameters: str, *code: str, title: str = "Generated") -> Path:
    cell = new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    nb = new_notebook(
        cells=[new_markdown_cell(f"# {title}"), cell, *(new_code_cell(c) for c in code)],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    nbformat.write(nb, path)
    return path


def _suite(folder: Path, body: str, name: str = "case") -> Path:
    path = folder / f"{name}.yaml"
    path.write_text(f"name: {name}\n{body}", encoding="utf-8")
    return path


def _crm(folder: Path, *args: str) -> int:
    return main([*args, "--reports-dir", str(folder / "reports"), "--no-progress",
                 "--tracking-uri", f"sqlite:///{folder / 'mlflow.db'}"])


def _reader_suite(folder: Path, data: Path, listed: bool = False) -> Path:
    """A notebook that would read ``data``; the pre-flight must refuse before a kernel starts."""
    nb = _notebook(folder / "reader.ipynb", "data_path = ''\nreport_as_of = None",
                   "import pandas as pd\npd.read_csv(data_path)")
    listed_data = f"data: [{data}]\n" if listed else ""
    return _suite(folder, f"{listed_data}notebooks:\n  - path: {nb}\n    parameters: {{data_path: {data}}}\n")


# --------------------------------------------------------------------------- 1. stored script injection
SCRIPT = "<script>window.crmInjected=1</script>"
IMG = '<img src=x onerror="window.crmInjected=2">'


def _manifest(run_id: str = "20240101-000000-s", **notebook: object) -> dict:
    nb = {"name": "ab", "title": "A/B " + SCRIPT, "status": "ok", "report": "ab.html", "kpis": {"kpi_winner": IMG},
          "summary_html": f"<p>The arm <strong>coupon{SCRIPT}</strong> wins {IMG}</p>",
          "data_window": {"data_end": "2024-01-01"}, "models": []}
    nb.update(notebook)
    return {"suite": "s", "title": "Suite " + IMG, "run_id": run_id, "started": "2024-01-01T00:00:00+00:00",
            "finished": "2024-01-01T00:01:00+00:00", "duration_seconds": 60, "as_of": None, "git_commit": "abc",
            "notebooks": [nb]}


def _no_active_content(page: str) -> None:
    assert "<script" not in page.lower()
    assert not re.search(r"(?i)<[^>]*\son[a-z]+\s*=", page)
    assert "Content-Security-Policy" in page and "script-src 'none'" in page and "default-src 'none'" in page


def test_landing_page_escapes_and_sanitizes_what_comes_from_run_manifests(tmp_path):
    from crm_models.reporting.index import render_index

    run = tmp_path / "20240101-000000-s"
    run.mkdir()
    (run / "run.json").write_text(json.dumps(_manifest()), encoding="utf-8")  # run.json is data on disk
    page = render_index(tmp_path, tracking_uri=f"sqlite:///{tmp_path / 'none.db'}")
    _no_active_content(page)
    assert "The arm <strong>coupon</strong> wins" in page  # the summary's formatting survives
    assert "A/B &lt;script&gt;" in page and "Suite &lt;img" in page  # titles and KPI words are escaped text


def test_run_page_escapes_and_sanitizes(tmp_path):
    from crm_models.reporting.index import write_run_page

    page = write_run_page(tmp_path, _manifest(error_message=IMG, status="failed", error_name="X")).read_text()
    _no_active_content(page)
    assert "&lt;img src=x onerror=" in page  # the error text is shown, as text


def test_notebook_report_drops_script_and_event_handlers_and_has_csp():
    from crm_models.reporting.export import render_html

    outputs = [nbformat.v4.new_output("display_data", data={"text/markdown": f"Arm {SCRIPT} {IMG}"}),
               nbformat.v4.new_output("display_data", data={"text/html": f"<b>{IMG}</b><iframe src='x'></iframe>"})]
    page = render_html(new_notebook(cells=[new_markdown_cell("# T"), new_code_cell("", outputs=outputs)]))
    _no_active_content(page)
    assert "<iframe" not in page and "Arm" in page


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ('<a href="javascript:alert(1)">x</a>', "<a>x</a>"),
        ('<a href="JaVa&#115;cript:alert(1)">x</a>', "<a>x</a>"),
        ('<svg><a xlink:href="javascript:1">k</a></svg>', "<svg><a>k</a></svg>"),
        ("<scr<script>ipt>alert(1)</script>", "&lt;scr&lt;script&gt;ipt&gt;alert(1)"),
        ('<meta http-equiv="refresh" content="0;url=http://evil">ok', "ok"),
        ('<img src="data:image/png;base64,AAAA">', '<img src="data:image/png;base64,AAAA">'),
        ('<a href="../index.html">back</a>', '<a href="../index.html">back</a>'),
    ],
)
def test_sanitizer_cases(fragment, expected):
    from crm_models.reporting.html_safety import sanitize_html

    assert sanitize_html(fragment) == expected


# --------------------------------------------------------------------------- 2. reversible pseudonyms
def test_no_constant_salt_a_random_key_is_created_with_mode_0600(tmp_path, monkeypatch):
    from crm_models.reporting import privacy

    assert not hasattr(privacy, "DEFAULT_SALT")
    tokens = []
    for home in ("a", "b"):
        monkeypatch.delenv(privacy.KEY_FILE_ENV)
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / home))
        token = privacy.pseudonymize("alice@example.com")
        key = tmp_path / home / "crm_models" / "pseudonym.key"
        assert key.is_file() and stat.S_IMODE(key.stat().st_mode) == 0o600
        assert privacy.pseudonymize("alice@example.com") == token  # stable within an installation
        tokens.append(token)
        monkeypatch.setenv(privacy.KEY_FILE_ENV, str(key))
    assert tokens[0] != tokens[1]  # two installations: two random keys


def test_key_file_env_and_legacy_salt_env(tmp_path, monkeypatch):
    from crm_models.reporting import privacy

    key = tmp_path / "k"
    key.write_text("x" * 64)
    key.chmod(0o600)
    monkeypatch.setenv(privacy.KEY_FILE_ENV, str(key))
    assert privacy.pseudonymize("u1") == privacy.pseudonymize("u1", salt="x" * 64)
    monkeypatch.setenv(privacy.SALT_ENV, "legacy-secret")
    assert privacy.pseudonymize("u1") == privacy.pseudonymize("u1", salt="legacy-secret")


def test_key_readable_by_others_is_refused(tmp_path, monkeypatch):
    from crm_models.exceptions import ConfigurationError
    from crm_models.reporting import privacy

    key = tmp_path / "k"
    key.write_text("y" * 64)
    key.chmod(0o644)
    monkeypatch.setenv(privacy.KEY_FILE_ENV, str(key))
    with pytest.raises(ConfigurationError, match="readable by other users"):
        privacy.pseudonymize("u1")


def test_scheduled_run_without_a_key_exits_2_and_creates_none(tmp_path, monkeypatch, capsys):
    from crm_models.reporting.privacy import KEY_FILE_ENV

    missing = tmp_path / "nokey" / "pseudonym.key"
    monkeypatch.setenv(KEY_FILE_ENV, str(missing))
    suite = _suite(tmp_path, f"notebooks: [{HELLO}]\n")
    assert _crm(tmp_path, "run", str(suite)) == 2
    err = capsys.readouterr().err
    assert "no pseudonymization key" in err and str(missing) in err and "crm pseudonym-key" in err
    assert not missing.exists()
    assert main(["pseudonym-key"]) == 0 and stat.S_IMODE(missing.stat().st_mode) == 0o600
    assert "x" * 8 not in capsys.readouterr().out  # the command says where, never what


# --------------------------------------------------------------------------- 3. personal data in errors
FRAME = pd.DataFrame({"customer_id": ["Bob Smith 1", "Alice Jones 22"], "name": ["Bob Smith", "Alice Jones"],
                      "phone": ["+44 20 7946 0000", "+44 20 7946 0001"], "amount": ["abc", "3x"]})


def test_error_examples_identifiers_hashed_personal_columns_dropped():
    from crm_models.reporting.privacy import pseudonymize, redact_error_text

    text = redact_error_text(str(DataContractError("amount is not numeric", column="amount", rule="numeric",
                                                   examples=FRAME)))
    assert "Bob" not in text and "Alice" not in text and "7946" not in text
    assert "column: 'amount'" in text and "abc" in text and "3x" in text  # the useful part stays
    assert pseudonymize("Bob Smith 1") in text  # the same token as in the report tables


@pytest.mark.parametrize("examples", [["Bob Smith 1", "Carol"], FRAME["customer_id"]])
def test_error_examples_of_an_identifier_column_are_hashed(examples):
    from crm_models.reporting.privacy import redact_error_text

    text = redact_error_text(str(DataContractError("missing", column="customer_id", rule="r", examples=examples)))
    assert "Bob" not in text and "Carol" not in text and "c_" in text


@pytest.mark.notebook
def test_runner_publishes_data_errors_without_personal_data(tmp_path):
    """Report HTML, run.json, MLflow tags and artifacts of a failed run hold no name from the examples."""
    from mlflow.tracking import MlflowClient

    from crm_models.reporting.runner import run_suite

    data = tmp_path / "customers.csv"
    FRAME.to_csv(data, index=False)
    nb = _notebook(
        tmp_path / "bad.ipynb", "data_path = ''\nreport_as_of = None",
        "import pandas as pd\nfrom crm_models.exceptions import DataContractError\n"
        "frame = pd.read_csv(data_path)\n"
        "raise DataContractError('amount is not numeric', column='amount', rule='numeric', examples=frame)",
    )
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    suite = _suite(tmp_path, f"notebooks:\n  - path: {nb}\n    parameters: {{data_path: {data}}}\n")
    result = run_suite(suite, reports_dir=tmp_path / "reports", tracking_uri=uri, progress=False)
    assert result.exit_code == 3
    published = [p for p in (tmp_path / "reports").rglob("*") if p.is_file()]
    client = MlflowClient(uri)
    run_id = result.notebooks[0].mlflow_run_id
    folder = Path(client.download_artifacts(run_id, "", dst_path=str(tmp_path / "artifacts")))
    published += [p for p in folder.rglob("*") if p.is_file()]
    tags = json.dumps(client.get_run(run_id).data.tags)
    for path in published:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert "Bob Smith" not in text and "Alice Jones" not in text and "7946" not in text, path
    assert "Bob Smith" not in tags
    assert "abc" in (result.run_dir / "run.json").read_text()  # the offending value is still shown


# --------------------------------------------------------------------------- 4. executable model files
def test_churn_model_round_trips_as_json_without_pickle(tmp_path):
    pytest.importorskip("xgboost")
    from crm_models.churn import ChurnModel
    from crm_models.tracking.churn_model import load_churn_model, save_churn_model

    rng = np.random.default_rng(5)
    X = pd.DataFrame({"recency": rng.exponential(30, 600), "frequency": rng.poisson(3, 600).astype(float)})
    y = (rng.random(600) < 1 / (1 + np.exp(-(X["recency"] - 30) / 15))).astype(int)
    model = ChurnModel(n_estimators=40, random_state=0).fit(X, y)
    folder = save_churn_model(model, tmp_path / "churn")
    files = sorted(p.name for p in folder.iterdir())
    assert all(name.endswith(".json") for name in files), files
    for path in folder.iterdir():
        assert b"\x80\x04" not in path.read_bytes()[:2]  # no pickle protocol header
    loaded = load_churn_model(folder)
    np.testing.assert_allclose(loaded.predict_proba(X), model.predict_proba(X), rtol=1e-6, atol=1e-7)
    assert loaded.calibration_method_ == model.calibration_method_


# --------------------------------------------------------------------------- 5. crm demo and the lock
def test_demo_takes_the_lock_before_writing_data(tmp_path, monkeypatch, capsys):
    from crm_models import cli

    monkeypatch.setattr(cli, "_root", lambda: tmp_path)
    demo = tmp_path / "data" / "demo"
    demo.mkdir(parents=True)
    (demo / "transactions.parquet").write_bytes(b"old data")
    with RunLock(tmp_path / "reports", label="running suite"):
        code = main(["demo", "--data-only", "--no-wait", "--n-customers", "50", "--reports-dir",
                     str(tmp_path / "reports")])
    assert code == 4 and "busy" in capsys.readouterr().err
    assert (demo / "transactions.parquet").read_bytes() == b"old data"  # the running suite's data is untouched
    assert sorted(p.name for p in demo.iterdir()) == ["transactions.parquet"]


def test_demo_data_is_swapped_in_whole(tmp_path):
    from crm_models.datasets import make_demo

    target = tmp_path / "demo"
    target.mkdir()
    (target / "stale.parquet").write_bytes(b"old")
    paths = make_demo(seed=1, n_customers=30).publish(target)
    assert not (target / "stale.parquet").exists()  # the old set is gone as a whole, not overwritten file by file
    assert all(p.parent == target and p.stat().st_size > 0 for p in paths.values())
    assert [p.name for p in tmp_path.iterdir()] == ["demo"]  # no staging or old folder left behind
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o777 & ~umask  # not mkdtemp's 0700


# --------------------------------------------------------------------------- 6. parameters
def test_unknown_set_parameter_exits_2_naming_it_and_the_known_ones(tmp_path, capsys):
    suite = _suite(tmp_path, f"notebooks: [{HELLO}]\n")
    assert _crm(tmp_path, "run", str(suite), "--set", "nonsense=1") == 2
    err = capsys.readouterr().err
    assert "'nonsense'" in err and "greeting" in err and "report_as_of" in err
    assert not (tmp_path / "reports" / "index.html").exists()


def test_misspelt_suite_parameter_exits_2_with_a_suggestion(tmp_path, capsys):
    suite = _suite(tmp_path, f"notebooks:\n  - path: {HELLO}\n    parameters: {{report_as_fo: 2024-06-30}}\n")
    assert _crm(tmp_path, "run", str(suite)) == 2
    err = capsys.readouterr().err
    assert "'report_as_fo'" in err and "did you mean 'report_as_of'" in err


def test_misspelt_shared_parameter_exits_2(tmp_path, capsys):
    suite = _suite(tmp_path, f"parameters: {{obsevation_end: 2024-06-30}}\nnotebooks: [{HELLO}]\n")
    assert _crm(tmp_path, "run", str(suite)) == 2
    assert "'obsevation_end'" in capsys.readouterr().err


def test_dates_become_iso_strings():
    from crm_models.cli import _parse_set
    from crm_models.reporting.parameters import plain_parameters

    assert plain_parameters(_parse_set(["observation_end=2024-06-30"])) == {"observation_end": "2024-06-30"}
    import yaml

    assert plain_parameters(yaml.safe_load("a: 2024-06-30\nb: [2024-01-01]")) == {"a": "2024-06-30",
                                                                                 "b": ["2024-01-01"]}


@pytest.mark.notebook
def test_unquoted_yaml_date_and_hostile_parameter_text_run(tmp_path):
    """An unquoted YAML date reaches the notebook as a string (no 'date is not JSON serializable'), and a
    parameter value that looks like code stays a string (Papermill escapes it): regression."""
    hostile = "x'); raise SystemExit('injected') #"
    suite = _suite(tmp_path, f"notebooks:\n  - path: {HELLO}\n    parameters: {{report_as_of: 2024-06-30}}\n")
    assert _crm(tmp_path, "run", str(suite), "--set", f"greeting={hostile}") == 0
    report = next((tmp_path / "reports").glob("*/hello.html")).read_text(encoding="utf-8")
    assert "as of 2024-06-30" in report and "SystemExit" in report  # shown as text: the code did not run


# --------------------------------------------------------------------------- 7. bad data files
def _exit_3(tmp_path, data: Path, reason: str, capsys, listed: bool = False) -> None:
    assert _crm(tmp_path, "run", str(_reader_suite(tmp_path, data, listed=listed))) == 3
    captured = capsys.readouterr()
    assert data.name in captured.err and reason in captured.err
    manifest = json.loads(next((tmp_path / "reports").glob("*/run.json")).read_text())
    assert manifest["exit_code"] == 3 and reason in manifest["notebooks"][0]["error_message"]


def test_missing_file_not_listed_under_data_exits_3(tmp_path, capsys):
    _exit_3(tmp_path, tmp_path / "nowhere" / "tx.csv", "file not found", capsys)


def test_empty_csv_exits_3(tmp_path, capsys):
    data = tmp_path / "tx.csv"
    data.write_bytes(b"")
    _exit_3(tmp_path, data, "empty file (0 bytes)", capsys, listed=True)


def test_corrupt_parquet_exits_3(tmp_path, capsys):
    data = tmp_path / "tx.parquet"
    pd.DataFrame({"a": range(100)}).to_parquet(data)
    data.write_bytes(data.read_bytes()[:-20])  # cut: the footer is gone
    _exit_3(tmp_path, data, "Parquet", capsys)


def test_csv_cut_mid_row_exits_3(tmp_path, capsys):
    data = tmp_path / "tx.csv"
    data.write_text("customer_id,timestamp,amount,channel\nc1,2024-01-02,35.02,web\nc2,2024-01-03,3", encoding="utf-8")
    _exit_3(tmp_path, data, "cut in the middle of a row", capsys)


def test_csv_without_final_newline_but_whole_rows_is_accepted():
    from crm_models.reporting.preflight import check_data_files

    def problems(text: str, tmp: Path) -> list:
        tmp.write_text(text, encoding="utf-8")
        return check_data_files([tmp])

    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "x.csv"
        assert problems("a,b\n1,2", path) == []
        assert problems('a,b\n1,"x, y"\n', path) == []
        assert len(problems("a,b,c\n1,2,3\n4,5", path)) == 1


# --------------------------------------------------------------------------- 8 + regression: killed runs
def _slow_suite(folder: Path) -> Path:
    nb = _notebook(folder / "slow.ipynb", "report_as_of = None", "import time\ntime.sleep(120)")
    return _suite(folder, f"notebooks: [{nb}]\n", name="slow")


@pytest.mark.notebook
def test_sigkill_mid_run_keeps_the_landing_page_and_the_next_run_marks_it_killed(tmp_path):
    from mlflow.tracking import MlflowClient

    reports, uri = tmp_path / "reports", f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert _crm(tmp_path, "run", str(_suite(tmp_path, f"notebooks: [{HELLO}]\n", name="hello"))) == 0
    before = (reports / "index.html").read_bytes()
    args = [sys.executable, "-m", "crm_models.cli", "run", str(_slow_suite(tmp_path)), "--reports-dir", str(reports),
            "--no-progress", "--tracking-uri", uri]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    lock, deadline, killed_run = reports / ".crm-run.lock", time.monotonic() + 120, None
    try:
        while time.monotonic() < deadline and killed_run is None:
            try:
                killed_run = json.loads(lock.read_text() or "{}").get("run_id")
            except (OSError, ValueError):
                pass
            time.sleep(0.2)
        assert killed_run, "the slow run never recorded its run id in the lock"
        client = MlflowClient(uri)
        while time.monotonic() < deadline and not client.search_runs(
            [e.experiment_id for e in client.search_experiments()], f"tags.crm_suite_run = '{killed_run}'"
        ):
            time.sleep(0.2)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the runner and its kernel
        proc.wait(timeout=30)
    assert (reports / "index.html").read_bytes() == before  # the landing page is intact
    assert not (reports / killed_run).exists()  # nothing half-published
    assert _crm(tmp_path, "run", str(_suite(tmp_path, f"notebooks: [{HELLO}]\n", name="hello"))) == 0
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(experiments, f"tags.crm_suite_run = '{killed_run}'")
    assert runs and {r.info.status for r in runs} == {"KILLED"}
    assert not list(reports.glob(".staging-*"))


def test_stale_lock_record_is_reported_and_a_clean_release_leaves_none(tmp_path):
    with RunLock(tmp_path) as first:
        first.annotate(run_id="r1")
        assert first.stale is None
    with RunLock(tmp_path) as second:
        assert second.stale is None  # released cleanly: nothing to recover
    (tmp_path / ".crm-run.lock").write_text(json.dumps({"pid": 1, "run_id": "dead-run"}))
    with RunLock(tmp_path) as third:
        assert third.stale == {"pid": 1, "run_id": "dead-run"}


# --------------------------------------------------------------------------- regression: what already worked
def test_regression_data_contract_error_names_column_rule_and_rows():
    from crm_models.data import read_transactions

    frame = pd.DataFrame({"customer_id": ["a", "b"], "timestamp": ["2024-01-01", "2024-01-02"],
                          "amount": ["1.5", "lots"]})
    with pytest.raises(DataContractError) as info:
        read_transactions(frame)
    assert info.value.column == "amount" and "lots" in str(info.value) and info.value.rule


def test_regression_dropped_rows_are_counted_by_reason():
    from crm_models.data import read_transactions
    from crm_models.data.quality import clean_transactions

    tx = read_transactions(pd.DataFrame({"customer_id": ["a", "a", "b", "c"],
                                         "timestamp": ["2024-01-01", "2024-01-01", "2024-01-02", "2024-01-03"],
                                         "amount": [10.0, 10.0, -5.0, 0.0]}))
    clean, report = clean_transactions(tx)
    assert len(clean) == 1 and report.rows_dropped == 3
    assert sum(d["rows"] for d in report.drops) == 3 and len({d["reason"] for d in report.drops}) >= 2


def test_regression_suite_yaml_is_safe_loaded(tmp_path, capsys):
    marker = tmp_path / "pwned"
    suite = _suite(tmp_path, f"title: !!python/object/apply:os.system ['touch {marker}']\nnotebooks: [{HELLO}]\n")
    assert _crm(tmp_path, "run", str(suite)) == 2
    assert not marker.exists() and "not valid YAML" in capsys.readouterr().err


def test_regression_concurrent_run_exits_4(tmp_path, capsys):
    with RunLock(tmp_path / "reports", label="first"):
        assert _crm(tmp_path, "run", str(_suite(tmp_path, f"notebooks: [{HELLO}]\n")), "--no-wait") == 4
    assert "another run is writing" in capsys.readouterr().err


def test_only_one_notebook_keeps_suite_wide_settings_another_notebook_declares() -> None:
    """``crm run --only 01_rfm_segmentation`` must not refuse the suite-wide ``loyalty_rules`` that only 08
    declares (it shapes the shared customer table), while a misspelt suite-wide name is still refused."""
    from crm_models.exceptions import ConfigurationError
    from crm_models.reporting.parameters import check_parameters
    from crm_models.reporting.suite import load_suite

    suite = load_suite(Path(__file__).resolve().parents[1] / "experiments" / "demo.yaml")
    only = [nb for nb in suite.notebooks if nb.name == "01_rfm_segmentation"]
    shared = list(suite.raw.get("parameters") or {})
    assert "loyalty_rules" in shared
    check_parameters(only, shared=shared, suite_notebooks=suite.notebooks)
    with pytest.raises(ConfigurationError, match="loyalty_rulez"):
        check_parameters(only, shared=[*shared, "loyalty_rulez"], suite_notebooks=suite.notebooks)
