"""The loyalty notebook (08) runs through Papermill with small parameters: its headline figures are the run's
customer table (tiers, points) and the table-based points forecast, the what-if uses the second rule set, no raw
customer id reaches an output, and it logs into one MLflow run."""

from __future__ import annotations

import re

import pytest

from conftest import PROJECT_ROOT
from notebook_outputs import all_text, markdown_outputs

pytestmark = pytest.mark.notebook

NOTEBOOK = "notebooks/08_loyalty.ipynb"
RULES = PROJECT_ROOT / "experiments" / "loyalty" / "demo_rules.yaml"
EASIER = PROJECT_ROOT / "experiments" / "loyalty" / "demo_rules_easier.yaml"
PARAMETERS = {"n_customers": 400, "seed": 3, "currency": "EUR", "n_estimators": 40, "capacity": 40,
              "loyalty_rules": str(RULES), "compare_with": str(EASIER)}






def test_loyalty_notebook_headline_comes_from_the_customer_table(tmp_path, isolated_mlflow) -> None:
    import papermill as pm

    from crm_models.customers import read_customer_table
    from crm_models.customers.enrich import loyalty_columns
    from crm_models.datasets.sources import load_transactions_source
    from crm_models.loyalty import LoyaltyRules, run_programme
    from crm_models.loyalty.table_forecast import forecast_points_from_table
    from crm_models.plotting.tables import format_money
    from crm_models.reporting.export import render_html

    folder = tmp_path / "data" / "processed" / "demo"
    nb = pm.execute_notebook(str(PROJECT_ROOT / NOTEBOOK), str(tmp_path / "08.ipynb"),
                             parameters={**PARAMETERS, "customer_table": str(folder)}, kernel_name="python3",
                             progress_bar=False, cwd=str(tmp_path))
    summary = next(m for m in markdown_outputs(nb) if m.startswith("## Executive summary"))

    stored = read_customer_table(folder)  # written by this run with its loyalty columns
    frame = stored.frame
    members = frame["tier"].value_counts()
    upper = int(len(frame) - members.get("member", 0))
    assert 0 < upper < len(frame)
    assert f"**{upper:,} of {len(frame):,} members" in summary
    for tier in ("silver", "gold", "platinum"):
        assert f"{int(members.get(tier, 0)):,} {tier}" in summary
    assert f"**{frame['points_outstanding'].sum():,.0f} points are outstanding" in summary
    assert f"{frame['points_expiring_soon'].sum():,.0f} expire in the next 30 days" in summary
    # the booked liability is the forecast from the table read back from disk (no model refit anywhere)
    loaded = load_transactions_source("demo", n_customers=400, seed=3, returns="keep")
    rules = LoyaltyRules.from_yaml(RULES)
    ledger = run_programme(loaded.transactions, rules, as_of=stored.as_of).ledger
    forecast = forecast_points_from_table(ledger, stored, redemption_share=0.5, point_value=rules.points.point_value)
    assert f"**the liability to book is {format_money(forecast.totals['booked_liability'], 'EUR')}**" in summary
    # the what-if counts the customers whose tier differs under the second rule set
    easier = loyalty_columns(loaded.transactions, EASIER, as_of=stored.as_of)["tier"].reindex(frame.index)
    changed = int((easier != frame["tier"]).sum())
    assert changed > 0 and f"{changed:,} customers would hold a different tier" in summary

    text, html = all_text(nb), render_html(nb)
    ids = set(frame.index.astype(str))
    assert not [i for i in ids if re.search(rf"\b{re.escape(i)}\b", text)], "raw customer ids in the outputs"
    assert not re.search(r"\bC\d{4}\b", html), "demo customer ids are pseudonymized in the report"
    assert "run_programme(" not in html and '<script src="http' not in html
    assert html.count("data:image/png;base64") >= 5, "charts are embedded"
    runs = [p for p in isolated_mlflow.glob("*/*") if (p / "meta.yaml").exists()]
    assert len(runs) == 1, f"one MLflow run per notebook, got {len(runs)}"
    assert (runs[0] / "metrics" / "kpi_booked_liability").exists()


@pytest.mark.parametrize("suite", ["demo", "uci_retail"])
def test_suites_run_07_and_08_on_the_one_customer_table(suite) -> None:
    """07 and 08 ask for the same customer-table settings, with the suite-wide lifecycle and loyalty columns (so
    the suite builds one table, whichever notebook comes first); their rule sets exist."""
    import ast

    import papermill as pm

    from crm_models.customers import CustomerTableSettings
    from crm_models.loyalty import LoyaltyRules
    from crm_models.reporting.suite import load_suite

    loaded = load_suite(PROJECT_ROOT / "experiments" / f"{suite}.yaml")
    specs = {s.name: s for s in loaded.notebooks}
    assert {"07_lifecycle", "08_loyalty"} <= set(specs)
    shared = {k: v.replace("{root}", str(loaded.root)) if isinstance(v, str) else v
              for k, v in loaded.raw["parameters"].items()}
    assert shared["lifecycle_columns"] is True
    assert LoyaltyRules.from_yaml(shared["loyalty_rules"]).tier_names[0] == "member"
    assert LoyaltyRules.from_yaml(specs["08_loyalty"].parameters["compare_with"]).name != \
        LoyaltyRules.from_yaml(shared["loyalty_rules"]).name
    settings = {}
    for name in ("07_lifecycle", "08_loyalty"):
        declared = {k: ast.literal_eval(v["default"]) for k, v in pm.inspect_notebook(str(specs[name].path)).items()}
        settings[name] = CustomerTableSettings.from_parameters({**declared, **specs[name].parameters})
        for key, value in shared.items():  # what the suite sets for every notebook is what the table gets
            if key in CustomerTableSettings.__dataclass_fields__:
                assert getattr(settings[name], key) == value, (name, key)
    assert settings["07_lifecycle"] == settings["08_loyalty"]
