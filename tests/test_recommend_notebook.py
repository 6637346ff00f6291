"""Notebook 06 (issue 15 item 5) runs through Papermill on the demo brand: the rules in words, the evaluation
table with the chosen model named, next products for the top of the action list, next_products.csv beside the
customer table (never under reports/), one MLflow run, and no raw customer id in any output."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from conftest import PROJECT_ROOT
from notebook_outputs import isolate_tracking, outputs_of

pytestmark = pytest.mark.notebook

NOTEBOOK = "notebooks/06_recommendations.ipynb"




@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    import papermill as pm

    tmp = tmp_path_factory.mktemp("recommend")
    folder = tmp / "data" / "processed" / "demo"
    with pytest.MonkeyPatch.context() as mp:
        isolate_tracking(mp, tmp)
        nb = pm.execute_notebook(str(PROJECT_ROOT / NOTEBOOK), str(tmp / "06.ipynb"),
                                 parameters={"n_customers": 500, "seed": 7, "k": 5, "customer_table": str(folder)},
                                 kernel_name="python3", progress_bar=False, cwd=str(tmp))
    return {"nb": nb, "tmp": tmp, "folder": folder}


def test_rules_are_told_in_words_with_the_planted_pairs(demo_run) -> None:
    markdown = outputs_of(demo_run["nb"], "text/markdown")
    summary = next(m for m in markdown if m.startswith("## Executive summary"))
    assert re.search(r"customers who buy [A-Z][\w -]+ also buy [A-Z][\w -]+ \(lift \d+(\.\d)?\)", summary)
    rules = next(m for m in markdown if m.startswith("- Of the orders with"))
    pairs = {("Running shoes", "Sport socks"), ("Scented candle", "Candle holder"), ("Baby bodysuit", "Baby bib"),
             ("Face cream", "Cleansing gel"), ("Gift box", "Greeting card")}
    told = set(re.findall(r"Of the orders with ([\w -]+?), \d+% also had ([\w -]+?):", rules))
    assert len(told) == 5 and all(p in pairs or p[::-1] in pairs for p in told), told
    by_category = next(m for m in markdown if m.startswith("By category:"))
    assert re.search(r"Of the orders with (Shoes|Sport), \d+% also had (Sport|Shoes):", by_category)


def test_evaluation_table_names_the_chosen_model(demo_run) -> None:
    from bs4 import BeautifulSoup

    html = outputs_of(demo_run["nb"], "text/html")
    table = next(t for h in html for t in BeautifulSoup(h, "html.parser").find_all("table")
                 if "Precision@5" in t.get_text())
    models = [r.find("th").get_text(strip=True) for r in table.find_all("tr")[1:] if r.find("td")]
    assert {"popularity", "item cosine", "EASE"} <= set(models)
    chosen = models[0]  # best precision first
    markdown = outputs_of(demo_run["nb"], "text/markdown")
    assert any(f"The temporal evaluation chose **{chosen}**" in m for m in markdown)
    export = pd.read_csv(demo_run["folder"] / "next_products.csv", dtype=str)
    assert (export["model"] == chosen).all()


def test_next_products_file_sits_beside_the_customer_table_only(demo_run) -> None:
    folder, tmp = demo_run["folder"], demo_run["tmp"]
    assert [p for p in tmp.rglob("next_products.csv")] == [folder / "next_products.csv"]
    assert not list(tmp.rglob("reports")), "nothing is written under reports/"
    export = pd.read_csv(folder / "next_products.csv", dtype=str)
    customers = pd.read_parquet(folder / "customers.parquet")
    ids = customers["customer_id"] if "customer_id" in customers.columns else customers.index
    assert sorted(export["customer_id"]) == sorted(map(str, ids)), "one row per customer of the table, real ids"
    assert export["next_product_ids"].str.split("; ").map(len).eq(5).all()


def test_no_raw_customer_ids_and_one_mlflow_run(demo_run) -> None:
    nb, mlruns = demo_run["nb"], demo_run["tmp"] / "mlruns"
    text = "\n".join(outputs_of(nb, "text/html") + outputs_of(nb, "text/markdown") + outputs_of(nb, "text/plain"))
    assert not re.search(r"\bC\d{4,}\b", text), "demo customer ids are pseudonymized"
    assert re.search(r"\bc_[0-9a-f]{10}\b", text), "the top customers are shown by pseudonym"
    results = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "execute_result"]
    assert not results, f"no stray expression values (e.g. an Axes repr) in the report: {results[:1]}"
    runs = {p.parents[2] for p in mlruns.glob("*/*/artifacts/recommend/*.csv")}
    assert len(runs) == 1, "everything is logged into one run"
    run = runs.pop()
    for name in ("rules.csv", "evaluation.csv", "quality_report.csv"):
        assert (run / "artifacts" / "recommend" / name).is_file(), name
    assert "also buy" in (run / "tags" / "kpi_top_affinity").read_text()
    assert (run / "metrics" / "EASE_precision").is_file() and (run / "metrics" / "kpi_chosen_precision").is_file()
    assert not re.search(r"\bC\d{4,}\b", (run / "artifacts" / "recommend" / "rules.csv").read_text())


@pytest.mark.parametrize("suite", ["experiments/demo.yaml", "experiments/uci_retail.yaml"])
def test_suites_run_notebook_06_with_parameters_it_declares(suite) -> None:
    from crm_models.reporting.parameters import check_parameters
    from crm_models.reporting.suite import load_suite

    spec = load_suite(PROJECT_ROOT / suite)
    entry = next(nb for nb in spec.notebooks if nb.path.name == "06_recommendations.ipynb")
    # as `crm run` checks a suite before running it: every name is declared where it is sent
    known = check_parameters(list(spec.notebooks), shared=list(spec.raw.get("parameters") or {}))
    own = next(e.get("parameters") or {} for e in spec.raw["notebooks"] if e["path"].endswith("06_recommendations.ipynb"))
    assert own and set(own) <= set(known[entry.name])
    assert {"customer_table", "seed", "currency", "cutoff"} <= set(known[entry.name])
