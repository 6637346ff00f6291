"""The campaign-plan notebook runs through Papermill with small parameters: it shows the policy comparison (the
oracle on top), states the plan in words, writes the activation rows and tags beside the customer table (never
under reports/), logs everything in one MLflow run and shows no raw customer id."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from conftest import PROJECT_ROOT
from notebook_outputs import isolate_tracking, outputs_of

pytestmark = pytest.mark.notebook

NOTEBOOK = "notebooks/09_campaign_plan.ipynb"
RFM = "notebooks/01_rfm_segmentation.ipynb"  # the suite's first notebook, which builds the customer table
RAW_ID = re.compile(r"\bC\d{4,}\b")  # the demo brand's customer ids


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    import papermill as pm

    tmp = tmp_path_factory.mktemp("plan")
    (tmp / "pyproject.toml").write_text("")  # a project root, so that its reports/ folder is recognised
    (tmp / "reports").mkdir()
    folder = tmp / "data" / "processed" / "demo"
    with pytest.MonkeyPatch.context() as mp:
        isolate_tracking(mp, tmp)
        mp.setenv("OMP_NUM_THREADS", "1")  # the boosted uplift models: one thread on a shared 2-core machine
        mp.setenv("CRM_SUITE_RUN_ID", "plan-test")  # as under `crm run`: a table with other settings is refused
        small = {"n_customers": 2000, "seed": 3, "n_estimators": 50, "customer_table": str(folder)}
        pm.execute_notebook(str(PROJECT_ROOT / RFM), str(tmp / "rfm.ipynb"), kernel_name="python3",
                            parameters=small, progress_bar=False, cwd=str(tmp))  # builds the run's table
        built = (folder / "customers.parquet").stat().st_mtime_ns
        nb = pm.execute_notebook(str(PROJECT_ROOT / NOTEBOOK), str(tmp / "plan.ipynb"), kernel_name="python3",
                                 parameters={**small, "n_bootstrap": 3}, progress_bar=False, cwd=str(tmp))
    assert (folder / "customers.parquet").stat().st_mtime_ns == built, "the plan reads the run's table"
    return nb, tmp, folder




def test_comparison_is_shown_and_the_oracle_is_the_ceiling(executed) -> None:
    nb, tmp, _ = executed
    html = "\n".join(outputs_of(nb, "text/html"))
    assert "True incremental profit" in html and "oracle (true effects)" in html
    assert "optimised plan (predicted uplift)" in html and "by churn risk" in html
    [logged] = list((tmp / "mlruns").glob("*/*/artifacts/plan/policy_comparison.csv"))
    table = pd.read_csv(logged, index_col=0)
    assert len(table) == 5
    oracle = table.loc["oracle (true effects)", "true_incremental_profit"]
    assert (table["true_incremental_profit"] <= oracle + 1e-6).all()
    assert sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", [])) >= 2


def test_summary_states_the_plan_in_words(executed) -> None:
    nb, _, _ = executed
    markdown = outputs_of(nb, "text/markdown")
    summary = next(m for m in markdown if m.startswith("## Executive summary"))
    assert re.search(r"\*\*[\d,]+ get a coupon\*\*", summary)
    assert re.search(r"90% interval -?EUR [\d,]+ to -?EUR [\d,]+ over 3 refits", summary)
    assert re.search(r"(better|worse) than sending coupon_\d+ to everyone within the same budget", summary)
    blocked = re.search(r"\*\*([\d,]+) of them would otherwise have got a profitable coupon\*\*", summary)
    assert blocked and int(blocked.group(1).replace(",", "")) > 0, "the simulated contact limit binds"
    assert any("Solved by the **exact** method" in m or "Solved by the **lagrangian** method" in m
               for m in markdown)
    assert any("contact limit reached:" in m for m in markdown)


def test_plan_files_are_beside_the_customer_table_only(executed) -> None:
    _, tmp, folder = executed
    activation = pd.read_csv(folder / "plan_activation.csv")
    assert list(activation.columns) == ["customer_id", "action", "channel", "expected_value", "holdout", "as_of"]
    assert len(activation) > 0 and activation["customer_id"].str.match(r"C\d+").all()
    assert activation["holdout"].any() and (~activation["holdout"]).any()
    assert (folder / "plan_tags.csv").exists() and (folder / "customers.parquet").exists()
    assert [p.parent for p in tmp.rglob("plan_*.csv")] == [folder, folder]
    assert not list((tmp / "reports").rglob("*"))


def test_no_raw_customer_id_in_outputs_or_tracking(executed) -> None:
    nb, tmp, _ = executed
    texts = [str(o) for c in nb.cells for o in c.get("outputs", [])]
    assert texts and not any(RAW_ID.search(t) for t in texts)
    for logged in (tmp / "mlruns").rglob("*.csv"):
        assert not RAW_ID.search(logged.read_text()), logged.name


def test_params_and_kpis_are_logged_in_one_run(executed) -> None:
    _, tmp, _ = executed
    store = tmp / "mlruns"
    runs = {p.parent.parent.name for p in store.glob("*/*/metrics/kpi_plan_expected_profit")}
    assert len(runs) == 1
    [run] = [p for p in store.glob("*/*") if p.name in runs]
    for name in ("kpi_customers_treated", "plan_optimality_gap", "contact_limit_excluded"):
        assert (run / "metrics" / name).exists(), name
    assert (run / "params" / "contact_limit").read_text().strip() == "2"
    words = (run / "tags" / "kpi_plan_vs_blanket").read_text()
    assert re.match(r"The plan does EUR [\d,]+ (better|worse) than sending coupon_\d+ to everyone", words)


def test_demo_suite_runs_the_plan_on_the_suite_data() -> None:
    from crm_models.reporting.parameters import check_parameters
    from crm_models.reporting.suite import load_suite

    suite = load_suite(PROJECT_ROOT / "experiments" / "demo.yaml")
    [entry] = [spec for spec in suite.notebooks if spec.path == PROJECT_ROOT / NOTEBOOK]
    assert entry.parameters["data_source"] == str(PROJECT_ROOT / "data" / "demo" / "transactions.parquet")
    assert "customer_table" in entry.parameters, "the plan's files go to the suite's customer-table folder"
    # the runner refuses a suite entry naming a parameter the notebook does not declare
    known = check_parameters(list(suite.notebooks), shared=list(suite.raw.get("parameters") or {}), as_of=True)
    own = {k for k in entry.parameters if k not in (suite.raw.get("parameters") or {})}
    assert own <= set(known[entry.name])
