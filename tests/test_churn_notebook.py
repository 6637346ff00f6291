"""The churn notebook runs through Papermill with small parameters and states its finding in words."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.notebook

NOTEBOOK = "notebooks/03_churn.ipynb"


def test_churn_notebook_runs_logs_and_summarises(tmp_path, isolated_mlflow) -> None:
    import papermill as pm

    from conftest import PROJECT_ROOT

    out = tmp_path / "churn.ipynb"
    nb = pm.execute_notebook(str(PROJECT_ROOT / NOTEBOOK), str(out),
                             parameters={"n_customers": 600, "seed": 5, "n_backtest_cutoffs": 1, "capacity": 30,
                                         "n_estimators": 60},
                             kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    markdown = [o["data"]["text/markdown"] for c in nb.cells for o in c.get("outputs", [])
                if "text/markdown" in o.get("data", {})]
    summary = next(m for m in markdown if m.startswith("## Executive summary"))
    assert re.search(r"ROC AUC of [\d.]+", summary) and "days since last purchase" in summary
    assert "value at risk" in summary
    images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert images >= 6
    text = "\n".join(str(o.get("data", {}).get("text/html", "")) for c in nb.cells for o in c.get("outputs", []))
    assert not re.search(r"\bC\d{4,}\b", text), "demo customer ids are pseudonymized"
    for kpi in ("kpi_high_risk_customers", "kpi_high_risk_value_at_risk", "kpi_churn_auc"):
        assert list(isolated_mlflow.glob(f"*/*/metrics/{kpi}")), kpi
    runs = {p.parent.parent.name for p in isolated_mlflow.glob("*/*/metrics/kpi_churn_auc")}
    assert len(runs) == 1, "everything is logged into one run"
    assert len(list(isolated_mlflow.glob("*/models/*/meta.yaml"))) == 1, "the model is logged once"


def test_churn_report_shows_the_customer_tables_value_at_risk(tmp_path, isolated_mlflow) -> None:
    """As in a suite run: an earlier notebook built the run's customer table; the churn report reads it (does not
    rebuild it) and shows, per customer, the table's value at risk (so the CLV report's figure too)."""
    import papermill as pm
    from bs4 import BeautifulSoup

    from conftest import PROJECT_ROOT
    from crm_models.customers import read_customer_table
    from crm_models.customers.run import load_run
    from crm_models.plotting.tables import decimals_for, format_money
    from crm_models.reporting.privacy import pseudonymize

    folder = tmp_path / "data" / "processed" / "demo"
    parameters = {"n_customers": 600, "seed": 5, "n_backtest_cutoffs": 1, "capacity": 30, "n_estimators": 60,
                  "currency": "EUR", "segment_rules": "rfm_grid", "customer_table": str(folder)}
    load_run(parameters)  # what the suite's first notebook does
    built = (folder / "customers.parquet").stat().st_mtime_ns
    nb = pm.execute_notebook(str(PROJECT_ROOT / NOTEBOOK), str(tmp_path / "churn.ipynb"), parameters=parameters,
                             kernel_name="python3", progress_bar=False, cwd=str(tmp_path))
    assert (folder / "customers.parquet").stat().st_mtime_ns == built, "the report reads the run's table"

    frame = read_customer_table(folder).frame
    top = frame[frame["churn_probability"].notna()].head(15)
    places = decimals_for(top["value_at_risk"], money=True)
    tables = [[[c.get_text(strip=True) for c in row.find_all(["th", "td"])] for row in table.find_all("tr")]
              for cell in nb.cells for output in cell.get("outputs", [])
              for table in BeautifulSoup("".join(output.get("data", {}).get("text/html", "")),
                                         "html.parser").find_all("table")]
    shown = next(t for t in tables if "Main reason for the risk" in t[0] and "Value at risk" in t[0])
    column = shown[0].index("Value at risk")
    rows = {row[0]: row for row in shown[1:] if row and row[0].startswith("c_")}
    assert len(rows) == len(top) > 0
    for customer, value in top["value_at_risk"].items():
        assert rows[pseudonymize(customer)][column] == format_money(value, "EUR", places), customer
    summary = next(m for c in nb.cells for o in c.get("outputs", []) for m in [o.get("data", {}).get("text/markdown")]
                   if m and "".join(m).startswith("## Executive summary"))
    # the headline's value at risk of the high tier is the table's too
    assert format_money(frame.loc[frame["risk_tier"] == "high", "value_at_risk"].sum(), "EUR") in "".join(summary)
