"""The ``crm`` command: documented exit codes, configuration errors, and the lock between two runs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from crm_models.cli import main
from crm_models.reporting.lock import RunLock

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"


@pytest.fixture
def hello_suite(tmp_path) -> Path:
    suite = tmp_path / "hello.yaml"
    suite.write_text(f"name: hello\nnotebooks:\n  - path: {FIXTURES / 'hello.ipynb'}\n", encoding="utf-8")
    return suite


def test_help_documents_the_exit_codes(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["run", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for line in ("0  success", "1  a notebook failed", "2  bad configuration", "3  bad data", "4  busy"):
        assert line in text
    import crm_models.cli

    assert "Exit codes" in crm_models.cli.__doc__


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        (None, [], "suite file not found"),
        ("name: x\nnotebooks: []\n", [], "'notebooks' must be a non-empty list"),
        ("name: x\nnotebook: [a.ipynb]\n", [], "unknown keys ['notebook']"),
        ("name: x\nnotebooks: [missing.ipynb]\n", [], "notebook not found"),
        ("HELLO", ["--as-of", "2024-02-30"], "--as-of must be a date"),
        ("HELLO", ["--only", "nope"], "--only names ['nope']"),
        ("HELLO", ["--kernel", "no-such-kernel"], "Jupyter kernel 'no-such-kernel' is not installed"),
        ("HELLO", ["--set", "not a name=1"], "--set expects name=value"),
    ],
)
def test_bad_configuration_exits_2_with_a_clear_message(tmp_path, capsys, content, extra, message):
    suite = tmp_path / "suite.yaml"
    if content is not None:
        content = content.replace("HELLO", f"name: hello\nnotebooks: [{FIXTURES / 'hello.ipynb'}]\n")
        suite.write_text(content, encoding="utf-8")
    code = main(["run", str(suite), "--reports-dir", str(tmp_path / "reports"), "--no-progress", *extra])
    assert code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "reports" / "index.html").exists()


def test_second_run_refuses_while_the_first_holds_the_lock(tmp_path, hello_suite, capsys):
    reports = tmp_path / "reports"
    with RunLock(reports, label="first"):
        code = main(["run", str(hello_suite), "--reports-dir", str(reports), "--no-wait", "--no-progress"])
    assert code == 4
    err = capsys.readouterr().err
    assert "another run is writing to" in err and "suite 'first'" in err
    assert not [p for p in reports.iterdir() if p.is_dir()]


@pytest.mark.notebook
def test_two_runs_at_once_the_second_waits_and_both_publish(tmp_path, hello_suite):
    """Two real ``crm run`` processes on the same reports folder: one queues behind the other."""
    import json
    import os
    import subprocess
    import sys

    reports = tmp_path / "reports"
    env = {**os.environ, "MLFLOW_ALLOW_FILE_STORE": "true"}  # a file store starts at once; sqlite is tested elsewhere
    args = [sys.executable, "-m", "crm_models.cli", "run", str(hello_suite), "--reports-dir", str(reports),
            "--wait", "120", "--no-progress", "--tracking-uri", (tmp_path / "mlruns").as_uri()]
    first = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lock_file = reports / ".crm-run.lock"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # start the second run once the first holds the lock
        try:
            if json.loads(lock_file.read_text() or "{}").get("pid") == first.pid:
                break
        except (OSError, ValueError):
            pass
        time.sleep(0.05)
    second = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, err1 = first.communicate(timeout=180)
    _, err2 = second.communicate(timeout=180)
    assert first.returncode == 0, err1[-2000:]
    assert second.returncode == 0, err2[-2000:]
    assert "waiting for the run that holds" in err2 and f"pid {first.pid}" in err2
    runs = sorted(p for p in reports.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(runs) == 2
    for run in runs:
        assert (run / "hello.html").stat().st_size > 1000 and json.loads((run / "run.json").read_text())["exit_code"] == 0
    index = (reports / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{run.name}/index.html"' in index for run in runs)
