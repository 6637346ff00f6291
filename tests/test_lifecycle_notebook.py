"""The lifecycle notebook (07) runs through Papermill with small parameters: its headline figures are the run's
(customer table and lifecycle package), the funnel runs on the demo brand's web events or is skipped in words, no raw
customer id reaches an output, and it logs into one MLflow run."""

from __future__ import annotations

import re

import pytest

from conftest import PROJECT_ROOT
from notebook_outputs import all_text, markdown_outputs

pytestmark = pytest.mark.notebook

NOTEBOOK = "notebooks/07_lifecycle.ipynb"
PARAMETERS = {"n_customers": 400, "seed": 3, "currency": "EUR", "n_estimators": 40, "capacity": 40}


def _execute(tmp_path, **parameters):
    import papermill as pm

    return pm.execute_notebook(str(PROJECT_ROOT / NOTEBOOK), str(tmp_path / "07.ipynb"),
                               parameters={**PARAMETERS, **parameters}, kernel_name="python3", progress_bar=False,
                               cwd=str(tmp_path))






def _runs(mlruns) -> list:
    return [p for p in mlruns.glob("*/*") if (p / "meta.yaml").exists() and p.parent.name != ".trash"]


def test_lifecycle_notebook_headline_comes_from_the_run(tmp_path, isolated_mlflow) -> None:
    from crm_models.customers import read_customer_table
    from crm_models.datasets.sources import load_transactions_source
    from crm_models.lifecycle.report import repurchase_summary
    from crm_models.plotting.tables import format_money, format_share
    from crm_models.reporting.export import render_html

    folder = tmp_path / "data" / "processed" / "demo"
    nb = _execute(tmp_path, customer_table=str(folder))
    summary = next(m for m in markdown_outputs(nb) if m.startswith("## Executive summary"))

    # the repurchase share is the Kaplan-Meier figure of the same purchases, recomputed here
    loaded = load_transactions_source("demo", n_customers=400, seed=3, returns="keep")
    purchases = loaded.transactions[loaded.transactions["amount"] > 0]
    rate = repurchase_summary(purchases, observation_end=loaded.observation_end, within_days=90).rate
    assert f"**{format_share(rate['km_rate'])} buy a second time within 90 days**" in summary
    assert "Kaplan-Meier" in summary
    # the overdue customers and their value are the customer table's (written by this run, with its lifecycle columns)
    frame = read_customer_table(folder).frame
    repeat = frame[frame["frequency"] > 0]
    overdue = repeat[repeat["overdue"].astype(bool)]
    assert 0 < len(overdue) < len(repeat)
    assert f"**{len(overdue):,} of {len(repeat):,} repeat customers" in summary
    assert format_money(overdue["clv"].sum(), "EUR") in summary
    # the funnel runs on the demo generator's events: its biggest drop-off is named, its known conversion shown
    assert "biggest drop-off is before" in summary
    assert "Known conversion (simulated data)" in all_text(nb)

    text, html = all_text(nb), render_html(nb)
    ids = set(frame.index.astype(str))
    assert not [i for i in ids if re.search(rf"\b{re.escape(i)}\b", text)], "raw customer ids in the outputs"
    assert not re.search(r"\bC\d{4}\b", html), "demo customer ids are pseudonymized in the report"
    assert "load_run(" not in html and '<script src="http' not in html
    assert html.count("data:image/png;base64") >= 6, "charts are embedded"
    runs = _runs(isolated_mlflow)
    assert len(runs) == 1, f"one MLflow run per notebook, got {len(runs)}"
    assert (runs[0] / "metrics" / "kpi_repurchase_rate").exists()


def test_lifecycle_notebook_without_events_or_table_columns_says_so(tmp_path, isolated_mlflow) -> None:
    nb = _execute(tmp_path, events_source=None, lifecycle_columns=False)
    summary = next(m for m in markdown_outputs(nb) if m.startswith("## Executive summary"))
    assert "no web events" in summary and "biggest drop-off" not in summary
    assert re.search(r"\*\*[\d,]+ of [\d,]+ repeat customers", summary), "cycles computed for the report"
    assert not re.search(r"\bC\d{4}\b", all_text(nb))
