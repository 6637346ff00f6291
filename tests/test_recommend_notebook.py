"""Notebook 06 (issue 15 item 5) runs through Papermill on the demo brand and, with small parameters, on Online
Retail: the rules in words, the evaluation table with the chosen model named, next products in the run's customer
table and its activation export (never under reports/), one MLflow run, and no raw customer id in any output."""

from __future__ import annotations

import json
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
    customers = pd.read_parquet(demo_run["folder"] / "customers.parquet")
    assert (customers["next_products_model"] == chosen).all()


def test_next_products_are_in_the_customer_table_and_its_activation_export(demo_run) -> None:
    folder, tmp = demo_run["folder"], demo_run["tmp"]
    assert not list(tmp.rglob("next_products.csv")), "no separate file: the products are columns of the table"
    assert not list(tmp.rglob("reports")), "nothing is written under reports/"
    customers = pd.read_parquet(folder / "customers.parquet")
    ranked = [f"next_product_{n}" for n in range(1, 6)]  # k=5
    assert customers[ranked].notna().all().all(), "every customer of the demo gets k products"
    assert "next_product_6" not in customers.columns
    activation = pd.read_csv(folder / "activation.csv", dtype=str)
    assert list(activation.columns[-7:]) == [*ranked, "next_products", "next_products_model"]
    assert sorted(activation["customer_id"]) == sorted(customers["customer_id"]), "real ids, for the CRM platform"
    schema = json.loads((folder / "customers.schema.json").read_text(encoding="utf-8"))
    assert {*ranked, "next_products", "next_products_model"} <= set(schema["columns"])
    summary = next(m for m in outputs_of(demo_run["nb"], "text/markdown") if m.startswith("## Executive summary"))
    assert f"{len(customers):,} of {len(customers):,} customers get their top 5 next products" in summary
    assert "customer table and its activation export" in summary


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


#: Small parameters for Online Retail (the full run takes minutes): two models (item cosine is cheap to fit),
#: next products for the first 200 customers of the action list, a small churn forest on one training cutoff.
RETAIL = {"source_format": "online_retail", "observation_end": "2011-12-09", "cutoff": "2011-09-01", "k": 10,
          "models": ["popularity", "item cosine"], "recommend_customers": 200, "show_top_customers": 5,
          "currency": "GBP", "n_estimators": 30, "n_training_cutoffs": 1}


@pytest.fixture(scope="module")
def retail_run(tmp_path_factory, shared_data):
    import time

    import papermill as pm

    tmp = tmp_path_factory.mktemp("recommend_retail")
    folder = tmp / "data" / "processed" / "online_retail"
    parameters = {**RETAIL, "data_source": str(shared_data / "online_retail.csv.gz"), "customer_table": str(folder)}
    with pytest.MonkeyPatch.context() as mp:
        isolate_tracking(mp, tmp)
        started = time.perf_counter()
        nb = pm.execute_notebook(str(PROJECT_ROOT / NOTEBOOK), str(tmp / "06.ipynb"), parameters=parameters,
                                 kernel_name="python3", progress_bar=False, cwd=str(tmp))
    return {"nb": nb, "folder": folder, "seconds": time.perf_counter() - started}


@pytest.mark.realdata
def test_online_retail_run_reproduces_the_evaluation_and_fills_the_table(retail_run, shared_data) -> None:
    from bs4 import BeautifulSoup

    from crm_models.datasets import load_online_retail_lines

    nb, folder = retail_run["nb"], retail_run["folder"]
    html = outputs_of(nb, "text/html")
    table = next(t for h in html for t in BeautifulSoup(h, "html.parser").find_all("table")
                 if "Precision@10" in t.get_text())
    rows = {r.find("th").get_text(strip=True): [td.get_text(strip=True) for td in r.find_all("td")]
            for r in table.find_all("tr")[1:] if r.find("td")}
    # the closing note's figures on the reference split (cutoff 2011-09-01, the next 90 days)
    assert list(rows) == ["item cosine", "popularity"]
    assert rows["item cosine"][0] == "0.088" and rows["popularity"][0] == "0.047"
    markdown = outputs_of(nb, "text/markdown")
    assert any("The temporal evaluation chose **item cosine**" in m for m in markdown)

    customers = pd.read_parquet(folder / "customers.parquet").set_index("customer_id")
    served = customers["next_product_1"].notna()
    assert served.sum() == 200 and set(customers.index[served]) == set(customers.nsmallest(200, "priority").index)
    assert customers.loc[served, [f"next_product_{n}" for n in range(1, 11)]].notna().all().all()
    assert customers.loc[~served, ["next_products", "next_products_model"]].isna().all().all()
    assert (customers.loc[served, "next_products_model"] == "item cosine").all()
    lines = load_online_retail_lines(shared_data / "online_retail.csv.gz")
    bought = lines.loc[lines["quantity"] > 0].groupby("customer_id")["product_id"].agg(frozenset)
    ranked = customers.loc[served, [f"next_product_{n}" for n in range(1, 11)]]
    assert not any(set(row) & bought.get(c, frozenset()) for c, row in ranked.iterrows()), "none bought before"
    activation = pd.read_csv(folder / "activation.csv", dtype=str)
    assert activation["next_product_10"].notna().sum() == 200
    summary = next(m for m in markdown if m.startswith("## Executive summary"))
    assert f"200 of {len(customers):,} customers get their top 10 next products" in summary

    top = customers.nsmallest(5, "priority").index
    text = "\n".join(outputs_of(nb, "text/html") + outputs_of(nb, "text/markdown") + outputs_of(nb, "text/plain"))
    assert not [c for c in top if re.search(rf"\b{re.escape(str(c))}\b", text)], "ids are pseudonymized"
    assert re.search(r"\bc_[0-9a-f]{10}\b", text)
