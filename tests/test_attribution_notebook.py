"""The attribution notebook runs through Papermill on a small demo cut at a report date: a headline in business words
that matches the package's report, the budget move in words on the landing page, checks in the body, and no raw
customer id anywhere in the outputs or the logged tables."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.notebook

NOTEBOOK = "notebooks/04_attribution.ipynb"


AS_OF = "2024-03-31"
PARAMETERS = {"n_customers": 600, "seed": 5, "n_boot": 10, "max_order": 2, "report_as_of": AS_OF}


def _outputs_text(nb) -> list[str]:
    """Every text a reader of the report can see: markdown, HTML, plain text and streams."""
    texts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            texts += ["".join(data[k]) for k in ("text/markdown", "text/html", "text/plain") if k in data]
            if output.get("output_type") == "stream":
                texts.append(output["text"])
    return texts


def test_attribution_notebook_runs_on_the_demo(tmp_path, monkeypatch) -> None:
    import nbformat
    import papermill as pm
    from bs4 import BeautifulSoup

    from conftest import PROJECT_ROOT
    from crm_models.attribution import report as ar
    from crm_models.datasets.sources import load_spend_source, load_touchpoints_source

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    source = nbformat.read(PROJECT_ROOT / NOTEBOOK, as_version=4)
    assert source.cells[0].cell_type == "markdown" and source.cells[0].source.startswith("# ")
    assert "parameters" in source.cells[1].metadata.get("tags", [])
    assert "report_as_of = None" in source.cells[1].source, "the runner's --as-of has a parameter to land in"
    assert all(not c.get("outputs") for c in source.cells if c.cell_type == "code"), "no outputs committed"

    nb = pm.execute_notebook(
        str(PROJECT_ROOT / NOTEBOOK), str(tmp_path / "out.ipynb"), parameters=PARAMETERS,
        kernel_name="python3", progress_bar=False, cwd=str(tmp_path),
    )
    # the same analysis in-process: the report's numbers and words must be these
    loaded = load_touchpoints_source("demo", seed=5, n_customers=600)
    window = ar.cut_touchpoints(loaded.touchpoints, AS_OF)
    expected = ar.attribution_report(window, spend=load_spend_source(None, window.touchpoints, demo=True),
                                     truth=loaded.truth, max_order=2, n_boot=10, seed=5)
    cut_conversions = int(loaded.touchpoints.loc[loaded.touchpoints["timestamp"] < "2024-04-01", "conversion"].sum())
    assert window.dropped > 0 and expected.n_conversions == cut_conversions

    markdown = [o["data"]["text/markdown"] for c in nb.cells for o in c.get("outputs", [])
                if "text/markdown" in o.get("data", {})]
    summary = next(m for m in markdown if m.startswith("## Executive summary"))
    assert f"**{cut_conversions:,} conversions**" in summary, "report_as_of cuts the touches"
    assert "up to 31 March 2024" in summary and "later touches left out" in summary
    assert f"**{expected.top_channel}** earns the most credit" in summary
    assert "EUR " in summary and f"Recommendation: {ar.budget_move(expected.roi)}" in summary
    assert "true channel effects" not in summary and "Held-out" not in summary, "checks stay in the body"
    assert any(m.startswith("On this simulated brand the true channel effects are known") for m in markdown)
    assert any(m.startswith("Held-out journeys are predicted best by a Markov chain of order") for m in markdown)
    assert any("Return on ad spend by channel and method" in m for m in markdown)

    headers = [th.get_text(strip=True) for text in _outputs_text(nb) if "<table" in text
               for th in BeautifulSoup(text, "html.parser").find_all("th")]
    assert "Markov removal effects" in headers and "Value per EUR 1 spent (Markov removal effects)" in headers
    assert not [h for h in headers if "_" in h], "no raw column names in the tables"
    images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert images >= 7

    ids = set(loaded.touchpoints["customer_id"].astype(str))
    seen = set(re.findall(r"\bC\d{4,}\b", "\n".join(_outputs_text(nb))))
    assert not seen & ids, f"raw customer ids in the report: {sorted(seen & ids)[:3]}"
    artifacts = "\n".join(p.read_text() for p in (tmp_path / "mlruns").rglob("*.csv"))
    assert artifacts and not set(re.findall(r"\bC\d{4,}\b", artifacts)) & ids, "no raw ids in logged tables"

    run = next((tmp_path / "mlruns").glob("*/*/tags")).parent
    metrics = {p.name for p in (run / "metrics").iterdir()}
    assert {"kpi_conversions", "kpi_conversion_rate", "kpi_top_channel_share", "kpi_best_return_on_spend"} <= metrics
    assert not {"kpi_best_markov_order", "kpi_max_share_error_vs_truth", "kpi_budget_moves"} & metrics
    assert {"best_markov_order", "max_share_error_vs_truth"} <= metrics, "checks are logged, not as KPIs"
    tags = {p.name: p.read_text() for p in (run / "tags").iterdir()}
    assert tags["kpi_budget_move"] == ar.budget_move(expected.roi)
    assert re.fullmatch(r"shift budget from .+ to .+|no budget shift is supported by the intervals",
                        tags["kpi_budget_move"])
    assert tags["kpi_top_channel"] == expected.top_channel
    assert tags["kpi_best_return_on_spend_channel"] == ar.best_roas(expected.roi)[0]
    conversions = float((run / "metrics" / "kpi_conversions").read_text().split()[1])
    assert conversions == cut_conversions


def test_attribution_notebook_says_clearly_that_the_touchpoints_are_empty(tmp_path, monkeypatch) -> None:
    import papermill as pm

    from conftest import PROJECT_ROOT

    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    empty = tmp_path / "touchpoints.csv"
    empty.write_text("customer_id,timestamp,channel,conversion\n")
    with pytest.raises(pm.PapermillExecutionError) as info:
        pm.execute_notebook(
            str(PROJECT_ROOT / NOTEBOOK), str(tmp_path / "out.ipynb"),
            parameters={"data_source": str(empty), "n_boot": 5, "max_order": 1},
            kernel_name="python3", progress_bar=False, cwd=str(tmp_path),
        )
    assert info.value.ename == "DataContractError"
    assert "touchpoints table is empty" in info.value.evalue
