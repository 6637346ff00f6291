"""Real-browser check of the published reports: headless Chromium, offline.

Opens ``index.html``, every run page and every report, and asserts: no console errors, no uncaught
exceptions, no failed or remote requests, every image decoded, every chart drawn. Screenshots are saved
under ``$CRM_TEST_ARTIFACTS`` (default ``reports/_screenshots``), in ``fixture-reports/`` or
``given-reports/``, for a human to look at (CI can keep that folder as a build artifact).

By default the test checks the fixture suite published by ``test_reporting_runner.published_runs`` (a
working report with a chart, a failed one, the run page and the landing page). Set ``CRM_REPORTS_DIR`` to
check an existing reports folder instead (for example after ``crm demo``).

Chromium is Debian's ``chromium`` (``scripts/install-chromium.sh``); the test skips with the reason when
it is missing. It is driven over the DevTools protocol with ``websocket-client`` (no browser download).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
PROJECT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--remote-allow-origins=*",
    "--remote-debugging-port=0",
    "--window-size=1280,900",
]

CHECK_PAGE = """
(() => {
  const images = Array.from(document.images).map(img => ({
    src: img.src.slice(0, 60), complete: img.complete, width: img.naturalWidth, height: img.naturalHeight}));
  const svgs = Array.from(document.querySelectorAll('svg')).map(s => {
    const r = s.getBoundingClientRect(); return {width: r.width, height: r.height};});
  const plotly = Array.from(document.querySelectorAll('.plotly-graph-div')).map(d =>
    d.querySelectorAll('.main-svg').length);
  const scripts = Array.from(document.querySelectorAll('script[src]')).map(s => s.src);
  return JSON.stringify({title: document.title, images, svgs, plotly, scripts,
                         text: document.body ? document.body.innerText.length : 0});
})()
"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("Chromium is not installed: run scripts/install-chromium.sh (apt-get install -y chromium)")


class Browser:
    """The smallest DevTools-protocol client we need: one page, events collected per navigation."""

    def __init__(self, executable: str, profile: Path) -> None:
        websocket = pytest.importorskip("websocket", reason="websocket-client is needed to drive Chromium")
        self.proc = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("Chromium did not start (no DevToolsActivePort)")
            time.sleep(0.1)
        port, path = port_file.read_text().splitlines()[:2]
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=30, suppress_origin=True)
        self.ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Network", "Log"):
            self.call(f"{domain}.enable", session=True)
        self.call(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
            session=True,
        )

    def call(self, method: str, params: dict[str, Any] | None = None, session: bool = False) -> dict[str, Any]:
        message: dict[str, Any] = {"id": next(self.ids), "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        self.ws.send(json.dumps(message))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == message["id"]:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(e.get("method") == method for e in self.events):
                return
            self.ws.settimeout(max(0.1, deadline - time.monotonic()))
            self.events.append(json.loads(self.ws.recv()))
        raise TimeoutError(f"{method} did not arrive within {timeout} s")

    def open(self, url: str) -> tuple[dict[str, Any], list[str]]:
        """Load ``url``; return the page check and the problems seen while loading it."""
        self.events = []
        self.call("Page.navigate", {"url": url}, session=True)
        self.wait_for("Page.loadEventFired")
        time.sleep(0.3)  # late console messages and image decodes
        check = json.loads(self.call("Runtime.evaluate", {"expression": CHECK_PAGE, "returnByValue": True},
                                     session=True)["result"]["value"])
        problems = []
        for event in self.events:
            method, params = event.get("method"), event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
                problems.append(f"console error: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                problems.append(f"exception: {params.get('exceptionDetails', {}).get('text')}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
                problems.append(f"log error: {params['entry'].get('text')} {params['entry'].get('url', '')}")
            elif method == "Network.loadingFailed":
                problems.append(f"failed request: {params.get('errorText')} ({params.get('type')})")
            elif method == "Network.requestWillBeSent":
                requested = params.get("request", {}).get("url", "")
                if not requested.startswith(("file://", "data:", "about:")):
                    problems.append(f"remote request: {requested}")
        return check, problems

    def screenshot(self, path: Path) -> None:
        shot = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=True)
        path.write_bytes(base64.b64decode(shot["data"]))

    def close(self) -> None:
        with contextlib.suppress(Exception):  # the browser may already be gone
            self.call("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.ws.close()


@pytest.fixture(scope="module")
def reports_dir() -> Path:
    existing = os.environ.get("CRM_REPORTS_DIR")
    if existing:
        folder = Path(existing).resolve()
        if not (folder / "index.html").is_file():
            pytest.skip(f"CRM_REPORTS_DIR={folder} has no index.html")
        return folder
    from test_reporting_runner import published_runs  # same process: the runner tests' suite runs are reused

    return published_runs()["reports"]


@pytest.mark.notebook
def test_reports_render_offline_in_chromium(reports_dir, tmp_path):
    executable = _chromium()
    base = Path(os.environ.get("CRM_TEST_ARTIFACTS") or PROJECT / "reports" / "_screenshots")
    shots = base / ("given-reports" if os.environ.get("CRM_REPORTS_DIR") else "fixture-reports")
    shots.mkdir(parents=True, exist_ok=True)
    for old in shots.glob("*.png"):  # only this test's previous screenshots
        old.unlink()
    pages = [reports_dir / "index.html"] + sorted(
        p for p in reports_dir.glob("*/*.html") if not p.parent.name.startswith(("_", "."))
    )
    assert len(pages) >= 3
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    browser = Browser(executable, profile)
    failures = []
    try:
        for page in pages:
            check, problems = browser.open(page.as_uri())
            name = "index" if page.parent == reports_dir else f"{page.parent.name}__{page.stem}"
            browser.screenshot(shots / f"{name}.png")
            broken = [i for i in check["images"] if not i["complete"] or i["width"] == 0]
            empty_svg = [s for s in check["svgs"] if s["width"] == 0 or s["height"] == 0]
            if broken:
                problems.append(f"{len(broken)} image(s) not rendered: {broken[:2]}")
            if empty_svg:
                problems.append(f"{len(empty_svg)} empty svg chart(s)")
            if any(n == 0 for n in check["plotly"]):
                problems.append("a plotly chart was not drawn")
            if check["scripts"]:
                problems.append(f"external scripts: {check['scripts']}")
            if check["text"] < 50:
                problems.append("the page is (almost) empty")
            if problems:
                failures.append(f"{page.relative_to(reports_dir)}: {problems}")
            if page.stem == "value" and "CRM_REPORTS_DIR" not in os.environ:
                assert len(check["images"]) >= 1, "the value report should show its chart"
    finally:
        browser.close()
    assert not failures, "\n".join(failures)
    assert (shots / "index.png").stat().st_size > 1000


INJECTED_ARM = (
    "coupon<script>window.crmInjected = (window.crmInjected || 0) + 1</script>"
    "<img src=x onerror=\"document.documentElement.dataset.crmInjected = 'onerror'\">"
)
PROBE = """JSON.stringify({script: window.crmInjected || 0,
                      onerror: document.documentElement.dataset.crmInjected || '',
                      text: document.body ? document.body.innerText : ''})"""


def _injection_suite(folder: Path) -> Path:
    """A suite whose only notebook reads an experiment file and writes the winning arm's name into its summary."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    data = folder / "experiment.csv"
    data.write_text("variant,converted\ncontrol,0\n" + f'"{INJECTED_ARM.replace(chr(34), chr(34) * 2)}",1\n',
                    encoding="utf-8")
    parameters = new_code_cell("data_path = ''\nreport_as_of = None")
    parameters.metadata["tags"] = ["parameters"]
    nb = new_notebook(
        cells=[
            new_markdown_cell("# Experiment read-out"),
            parameters,
            new_code_cell(
                "import pandas as pd\nfrom IPython.display import Markdown, display\n"
                "arms = pd.read_csv(data_path)\nwinner = arms.loc[arms['converted'].idxmax(), 'variant']\n"
                "display(Markdown(f'The arm **{winner}** converts best.'))"
            ),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    notebook = folder / "readout.ipynb"
    nbformat.write(nb, notebook)
    suite = folder / "inject.yaml"
    suite.write_text(
        f"name: inject\ndata: [{data}]\nnotebooks:\n  - path: {notebook}\n    parameters: {{data_path: {data}}}\n",
        encoding="utf-8",
    )
    return suite


@pytest.mark.notebook
def test_script_injected_through_data_does_not_run(tmp_path):
    """An experiment arm named ``<script>...</script><img onerror=...>`` reaches the report, the run page and
    the landing page (executive summary) as text; neither the script nor the handler runs in Chromium."""
    executable = _chromium()
    from crm_models.reporting.runner import run_suite

    reports = tmp_path / "reports"
    (tmp_path / "mlruns").mkdir()
    result = run_suite(
        _injection_suite(tmp_path), reports_dir=reports, tracking_uri=f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}",
        progress=False,
    )
    assert result.exit_code == 0, result.notebooks[0].error_message
    pages = [reports / "index.html", result.run_dir / "index.html", result.run_dir / "readout.html"]
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    browser = Browser(executable, profile)
    ran = {}
    try:
        for page in pages:
            browser.open(page.as_uri())
            probe = json.loads(browser.call("Runtime.evaluate", {"expression": PROBE, "returnByValue": True},
                                            session=True)["result"]["value"])
            assert "converts best" in probe["text"], f"{page.name}: the summary is missing"
            ran[str(page.relative_to(reports))] = (probe["script"], probe["onerror"])
    finally:
        browser.close()
    assert ran == {name: (0, "") for name in ran}, f"injected code ran: {ran}"
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "Content-Security-Policy" in text and "script-src 'none'" in text, page.name
        assert "<script" not in text.lower() and not re.search(r"(?i)<[^>]*\sonerror\s*=", text), page.name
