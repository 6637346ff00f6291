"""Notebooks 01 (RFM) and 02 (CLV) run as one suite would run them: the same small parameters and one customer
table folder; the CLV report shows the table's value at risk, the table lands in its folder only, no raw
customer id reaches an output, and every converted notebook is at most 100 lines of code without definitions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT
from notebook_outputs import isolate_tracking, markdown_outputs

pytestmark = pytest.mark.notebook

RFM, CLV = "notebooks/01_rfm_segmentation.ipynb", "notebooks/02_clv.ipynb"
PARAMETERS = {"n_customers": 400, "seed": 3, "n_bootstrap": 10, "currency": "EUR"}
MAX_CODE_LINES = 100


def code_lines(path: Path) -> int:
    """Lines of code of a notebook: non-blank lines of its code cells that are not comments (the parameters
    cell included)."""
    notebook = json.loads(path.read_text(encoding="utf-8"))
    lines = [line.strip() for cell in notebook["cells"] if cell["cell_type"] == "code"
             for line in "".join(cell["source"]).splitlines()]
    return sum(1 for line in lines if line and not line.startswith("#"))


@pytest.mark.parametrize("path", sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb")), ids=lambda p: p.stem)
def test_notebooks_are_thin(path: Path) -> None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    code = "\n".join("".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code")
    assert code_lines(path) <= MAX_CODE_LINES, f"{path.name}: {code_lines(path)} lines of code"
    assert not re.search(r"^\s*(async\s+)?(def|class)\s", code, flags=re.MULTILINE), "no definitions: they go to the package"
    assert all(not c.get("outputs") for c in notebook["cells"] if c["cell_type"] == "code"), "no outputs committed"
    assert "parameters" in notebook["cells"][1]["metadata"].get("tags", [])


def test_code_lines_counts_code_only(tmp_path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("a\nb"),
                                         nbformat.v4.new_code_cell("x = 1\n\n# note\ny = 2  # two")])
    nbformat.write(nb, tmp_path / "n.ipynb")
    assert code_lines(tmp_path / "n.ipynb") == 2


@pytest.fixture(scope="module")
def suite_run(tmp_path_factory):
    """Run 01 then 02 with one customer-table folder, in a throw-away MLflow store (as ``crm run`` would)."""
    import papermill as pm

    tmp = tmp_path_factory.mktemp("suite")
    folder = tmp / "data" / "processed" / "demo"
    with pytest.MonkeyPatch.context() as mp:
        isolate_tracking(mp, tmp)
        run = {}
        for name, path in (("rfm", RFM), ("clv", CLV)):
            run[name] = pm.execute_notebook(str(PROJECT_ROOT / path), str(tmp / f"{name}.ipynb"),
                                            parameters={**PARAMETERS, "customer_table": str(folder)},
                                            kernel_name="python3", progress_bar=False, cwd=str(tmp))
            run[f"{name}_table_mtime"] = (folder / "customers.parquet").stat().st_mtime_ns
    run.update(tmp=tmp, folder=folder)
    return run




def _html_tables(nb) -> list[list[list[str]]]:
    """Every HTML table among the outputs, as rows of cell texts (header rows included)."""
    from bs4 import BeautifulSoup

    tables = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            html = output.get("data", {}).get("text/html")
            if not html:
                continue
            for table in BeautifulSoup("".join(html), "html.parser").find_all("table"):
                tables.append([[c.get_text(strip=True) for c in row.find_all(["th", "td"])]
                               for row in table.find_all("tr")])
    return tables


def test_table_files_are_written_under_the_given_folder_only(suite_run) -> None:
    folder, tmp = suite_run["folder"], suite_run["tmp"]
    for name in ("customers.parquet", "customers.schema.json", "activation.csv"):
        assert (folder / name).is_file(), name
        assert [p for p in tmp.rglob(name)] == [folder / name], f"{name} written outside {folder}"
    assert not list(tmp.rglob("reports")), "nothing is written under reports/"
    assert suite_run["rfm_table_mtime"] == suite_run["clv_table_mtime"], "02 reads the table 01 built"


def test_clv_report_shows_the_value_at_risk_of_the_customer_table(suite_run) -> None:
    from crm_models.customers import read_customer_table
    from crm_models.plotting.tables import decimals_for, format_money
    from crm_models.reporting.privacy import pseudonymize

    frame = read_customer_table(suite_run["folder"]).frame
    top = frame.nsmallest(10, "priority")
    places = decimals_for(top["value_at_risk"], money=True)
    shown = next(t for t in _html_tables(suite_run["clv"]) if "Value at risk" in t[0] and "Recommended action" in t[0])
    column = shown[0].index("Value at risk")
    rows = {row[0]: row for row in shown[1:] if row and row[0].startswith("c_")}
    assert len(rows) == len(top)
    for customer, value in top["value_at_risk"].items():
        row = rows[pseudonymize(customer)]
        assert row[column] == format_money(value, "EUR", places), customer
    first = top.index[0]
    assert top.loc[first, "value_at_risk"] > 0
    summary = next(m for m in markdown_outputs(suite_run["clv"]) if m.startswith("## Executive summary"))
    assert format_money(frame["value_at_risk"].sum(), "EUR") in summary, "the headline total is the table's"
    assert format_money(frame["clv"].sum(), "EUR") in summary


def test_rfm_report_reads_segments_and_migration(suite_run) -> None:
    from crm_models.customers import read_customer_table

    frame = read_customer_table(suite_run["folder"]).frame
    markdown = markdown_outputs(suite_run["rfm"])
    summary = next(m for m in markdown if m.startswith("## Executive summary"))
    assert re.search(r"\*\*[\d,]+ customers\*\*", summary) and f"{len(frame):,} customers" in summary
    assert any("since" in m and re.search(r"^- \d[\d,]* \w", m, flags=re.MULTILINE) for m in markdown), "moves in words"
    segments = next(t for t in _html_tables(suite_run["rfm"]) if "What to do with the segment" in t[0])
    counts = {row[0]: int(row[1].replace(",", "")) for row in segments[2:]}
    assert counts == frame["segment"].value_counts().to_dict(), "segment sizes come from the customer table"


def test_reports_are_offline_without_code_or_raw_ids(suite_run) -> None:
    from crm_models.customers import read_customer_table
    from crm_models.reporting.export import render_html

    ids = set(read_customer_table(suite_run["folder"]).frame.index.astype(str))
    for name, needle in (("rfm", "load_run("), ("clv", "holdout_check(")):
        nb = suite_run[name]
        html = render_html(nb)
        assert '<script src="http' not in html and "cdn." not in html.lower()
        assert needle not in html, "no code in the report"
        assert html.count("data:image/png;base64") >= 3, "charts are embedded"
        outputs = json.dumps([c.get("outputs", []) for c in nb.cells])
        for text in (html, outputs):
            leaked = {i for i in re.findall(r"\bC\d{4}\b", text) if i in ids}
            assert not leaked, f"raw customer ids in the {name} report: {sorted(leaked)[:3]}"
        assert "00:00:00" not in re.sub(r"data:image/png;base64,[^\"']+", "", html), "dates without times"


def test_notebooks_log_their_kpis(suite_run) -> None:
    runs = suite_run["tmp"] / "mlruns"
    for kpi in ("kpi_customers", "kpi_active_customers", "kpi_total_clv", "kpi_value_at_risk"):
        assert list(runs.glob(f"*/*/metrics/{kpi}")), f"a notebook logged {kpi}"
