"""Issue 21, "redaction inside HTML display outputs": what a notebook prints or displays reaches the report
without names, e-mails, phone numbers or raw customer ids, while ordinary numbers (amounts, dates, order ids)
stay as they are.

The outputs are built by hand in every form a kernel produces (a ``stream`` print, ``text/plain`` and
``text/html`` of a DataFrame, a Styler table with human labels, a Markdown table, a ``Series`` print, an
error) and go through :func:`redact_notebook` and the report export; one notebook test runs the same through
``crm run``. Every test isolates the pseudonymization key (conftest).
"""

from __future__ import annotations

import re

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from crm_models.plotting.tables import stakeholder_table
from crm_models.reporting.export import render_html
from crm_models.reporting.output_redaction import (
    column_kind,
    distinctive_ids,
    redact_html_tables,
    redact_known_ids,
    redact_phones,
    redact_text_tables,
)
from crm_models.reporting.privacy import pseudonymize, redact_notebook

PEOPLE = pd.DataFrame({
    "customer_id": ["C00042", "C00043"],
    "first_name": ["Alice", "Robert"],
    "customer_name": ["Alice Smith", "Robert Jones"],
    "amount": [1234.56, 87.5],
    "order_id": ["536365", "536366"],
    "order_date": ["2024-03-31", "2011-12-09"],
})
SECRETS = ("Alice", "Smith", "Robert", "Jones", "alice@example.com", "7946", "1234567", "123-4567", "C00042", "C00043")
KEPT = ("1234.56", "536365", "536366", "2024-03-31", "2011-12-09")
CONTACT = "Call +44 20 7946 0958 or (030) 1234567 or 555-123-4567, write to alice@example.com."


def _display_notebook() -> nbformat.NotebookNode:
    """One cell per output form, every one of them holding the same people."""
    people = PEOPLE.set_index("customer_id")
    styled = stakeholder_table(PEOPLE.set_index("customer_id")[["customer_name", "amount"]], index_label="customer")
    outputs = [
        new_output("stream", name="stdout", text=f"{PEOPLE}\n\n{CONTACT}\n"),
        new_output("execute_result", data={"text/plain": repr(people), "text/html": people.to_html()},
                   execution_count=1),
        new_output("display_data", data={"text/html": styled.to_html(), "text/plain": "<Styler>"}),
        new_output("display_data", data={"text/markdown": "| name | spend |\n|---|---:|\n| Alice Smith | 1,234.56 |\n"}),
        new_output("stream", name="stdout", text=repr(PEOPLE["first_name"]) + "\n"),
        new_output("stream", name="stdout", text="Best customer this month: C00042 (order 536365).\n"),
    ]
    cells = [new_markdown_cell("# Display outputs"), *(new_code_cell("", outputs=[o]) for o in outputs)]
    return new_notebook(cells=cells)


def _texts(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(str(output.get("text", "")))
            parts.extend(str(v) for v in output.get("data", {}).values())
            parts.append(str(output.get("evalue", "")) + "".join(output.get("traceback", [])))
    return "\n".join(parts)


def test_every_output_form_reaches_the_report_without_names_phones_emails_or_raw_ids():
    """Guards against: a mime type or output kind skipped, a table form not parsed, ids left raw."""
    nb = redact_notebook(_display_notebook(), known_ids=PEOPLE["customer_id"])
    page = render_html(nb)
    for published in (_texts(nb), page):
        for secret in SECRETS:
            assert secret not in published, secret
        for value in KEPT:
            assert value in published, value
        assert pseudonymize("C00042") in published and pseudonymize("C00043") in published
        assert "[removed]" in published and "[phone removed]" in published and "[email removed]" in published


def test_old_redaction_left_names_phones_and_ids_in_the_report():
    """The regression this issue item fixes, stated on the rendered page of the hand-built notebook."""
    page = render_html(redact_notebook(_display_notebook(), known_ids=PEOPLE["customer_id"]))
    assert "Alice" not in page and "+44 20 7946 0958" not in page and ">C00042<" not in page


def test_stakeholder_tables_keep_their_tokens_and_the_turned_off_setting_keeps_raw_ids():
    """A table whose ids are already pseudonymized is not hashed twice; ``ids=False`` (the notebook's
    ``pseudonymize_ids = False``) keeps raw ids but still removes names."""
    table = PEOPLE.set_index("customer_id")[["customer_name", "amount"]]
    styled = stakeholder_table(table, index_label="customer", ids=pseudonymize).to_html()
    nb = new_notebook(cells=[new_code_cell("", outputs=[new_output("display_data", data={"text/html": styled})])])
    html = _texts(redact_notebook(nb))
    assert pseudonymize("C00042") in html and pseudonymize(pseudonymize("C00042")) not in html
    raw = stakeholder_table(table, index_label="customer").to_html()
    nb = new_notebook(cells=[new_code_cell("", outputs=[new_output("display_data", data={"text/html": raw}),
                                                      new_output("stream", name="stdout", text="C00043\n")])])
    kept = _texts(redact_notebook(nb, ids=False, known_ids=["C00042", "C00043"]))
    assert ">C00042<" in kept and "C00043\n" in kept and "Alice" not in kept


def test_error_outputs_lose_phones_and_emails():
    nb = new_notebook(cells=[new_code_cell("", outputs=[new_output(
        "error", ename="ValueError", evalue=f"bad row: {CONTACT}", traceback=[f"ValueError: bad row: {CONTACT}"])])])
    text = _texts(redact_notebook(nb))
    assert "7946" not in text and "1234567" not in text and "alice@" not in text and "bad row" in text


@pytest.mark.parametrize("header", ["name", "Name", "first_name", "First name", "last_name", "customer_name",
                                    "Customer name", "full name", "surname", "username", "address", "Postcode",
                                    "zip_code", "date_of_birth", "ip_address"])
def test_personal_columns_by_header(header):
    assert column_kind(header) == "personal"


@pytest.mark.parametrize("header", ["customer_id", "Customer", "Customer ID", "unit_id", "user_id", "customer-id"])
def test_identifier_columns_by_header(header):
    assert column_kind(header) == "id"


@pytest.mark.parametrize("header", ["product_name", "segment_name", "campaign name", "Customers", "Email", "Phone",
                                    "amount", "order_id", "names", "rename", "channel"])
def test_ordinary_columns_by_header(header):
    """``Email`` and ``Phone`` are channel names in attribution tables; their values are caught by pattern."""
    assert column_kind(header) == ""


@pytest.mark.parametrize("phone", ["+44 20 7946 0958", "+49 30 1234567", "+1 (555) 123-4567", "+4915112345678",
                                   "+33 6 12 34 56 78", "030 12345678", "(030) 1234567", "020 7946 0958",
                                   "06 12 34 56 78", "0171-2345678", "(555) 123-4567", "555-123-4567",
                                   "555.123.4567"])
def test_phone_numbers_are_removed(phone):
    assert redact_phones(f"call {phone} today") == "call [phone removed] today"
    assert redact_phones(f"<td>{phone}</td>") == "<td>[phone removed]</td>"


@pytest.mark.parametrize("text", [
    "1,234.56", "12 345,67", "-1,234", "EUR 1,234,567.89", "4,338 customers", "+12.5 %", "+1,234", "+12 345",
    "2024-03-31", "31.03.2024", "03/31/2024", "2024-03-31 12:30:00", "2024-03-31T12:30:00+01:00",
    "2024-01-01/2024-12-31", "12:30:45", "536365", "INV-0012345", "ORD-2024-000123", "100234 100235 100236",
    "12345678901", "2010 2011", "3.11.2", "0.125 0.250", "0 1 2 3 4 5 6 7 8 9", "C00042",
    "+1234567", "+1234567890123456", "0123 45", "1234-567-8901",
])
def test_ordinary_numbers_are_not_phones(text):
    """Amounts, dates, times, order ids, counts and versions stay (too few or too many digits included)."""
    assert redact_phones(text) == text


def test_phone_inside_base64_is_left_alone():
    """A ``+`` followed by digits inside an embedded image's base64 is not a phone number."""
    image = '<img src="data:image/png;base64,iVBORw0KGgo+4915112345678/+12345678901AAAA">'
    assert redact_phones(image) == image


def test_text_frame_columns_are_redacted_in_place_and_stay_aligned():
    """Guards against: the wrong column span (the index label or the neighbour column eaten)."""
    text = redact_text_tables(repr(PEOPLE.set_index("customer_id")[["first_name", "amount"]]), pseudonymize)
    lines = text.splitlines()
    token = pseudonymize("C00042")
    assert lines[0].split() == ["first_name", "amount"] and lines[1].split() == ["customer_id"]
    assert lines[2].split() == [token, "[removed]", "1234.56"]
    assert lines[3].split() == [pseudonymize("C00043"), "[removed]", "87.50"]
    assert len({len(line.rstrip()) for line in (lines[0], lines[2], lines[3])}) == 1  # right edges line up


def test_frame_printed_without_its_index():
    text = redact_text_tables(PEOPLE[["customer_id", "first_name", "order_id"]].to_string(index=False), pseudonymize)
    rows = [line.split() for line in text.splitlines()]
    assert rows == [["customer_id", "first_name", "order_id"], [pseudonymize("C00042"), "[removed]", "536365"],
                    [pseudonymize("C00043"), "[removed]", "536366"]]


def test_series_and_markdown_tables():
    series = redact_text_tables(repr(PEOPLE["customer_name"]))
    assert "Alice" not in series and series.splitlines()[0].split() == ["0", "[removed]"]
    assert series.splitlines()[-1].startswith("Name: customer_name")
    markdown = redact_text_tables("| customer_id | name | spend |\n|---|---|--:|\n| C00042 | Alice | 12 |", pseudonymize)
    assert markdown.splitlines()[2] == f"| {pseudonymize('C00042')} | [removed] | 12 |"


def test_prose_that_names_a_column_word_is_not_a_table():
    text = "customer name list\nAlice Smith and Bob\n   name of the segment\nChampions are best"
    assert redact_text_tables(text) == text


def test_html_table_cells_by_header_with_colspan_rowspan_and_markup():
    """Guards against: column positions off by a rowspan or colspan, nested markup kept, escaping lost."""
    html = ("<table><thead><tr><th colspan='2'>Who</th><th>Spend</th></tr>"
            "<tr><th>customer_id</th><th>Name</th><th></th></tr></thead><tbody>"
            "<tr><th rowspan='2'>C00042</th><td><b>Alice</b> &amp; Co</td><td>1,234</td></tr>"
            "<tr><td>Alice &lt;script&gt;</td><td>&lt;b&gt;12</td></tr></tbody></table>")
    out = redact_html_tables(html, lambda v: f"<{v}>")
    assert "<td>[removed]</td><td>1,234</td>" in out and "<td>[removed]</td><td>&lt;b&gt;12</td>" in out
    assert "<th rowspan='2'>&lt;C00042&gt;</th>" in out and "Alice" not in out


def test_html_table_without_thead_and_missing_cells():
    html = "<table><tr><th>Name</th><th>Spend</th></tr><tr><td>Ann</td><td>1</td></tr><tr><td>NaN</td><td>2</td></tr></table>"
    assert redact_html_tables(html) == html.replace("Ann", "[removed]")


def test_raw_ids_by_value_only_when_they_cannot_be_a_number():
    """Letters-and-digits ids are recognised anywhere; ids made of digits only are not (counts, years)."""
    ids = distinctive_ids(["C00042", "12346", "ab", "x-1", "C00042-", 17850, "u7"])
    assert ids == {"C00042"}
    text = redact_known_ids("C00042, C000421 and 12346 (C00042.)", ids, lambda v: "T")
    assert text == "T, C000421 and 12346 (T.)"


@pytest.mark.notebook
def test_crm_run_publishes_display_outputs_without_personal_data(tmp_path):
    """The same outputs produced by a real kernel under ``crm run``: the report, the executed notebook
    artifact and the run folder hold no name, phone, e-mail or raw id of the run's customer table."""
    from crm_models.reporting.runner import run_suite

    table_dir = tmp_path / "table"
    table_dir.mkdir()
    PEOPLE[["customer_id"]].to_parquet(table_dir / "customers.parquet", index=False)
    code = (
        "import pandas as pd\nfrom IPython.display import display, Markdown\n"
        f"people = pd.DataFrame({PEOPLE.to_dict(orient='list')!r})\n"
        f"print(people)\nprint({CONTACT!r})\n"
        "display(people.set_index('customer_id'))\n"
        "display(Markdown('| name | spend |\\n|---|---:|\\n| Alice Smith | 1,234.56 |'))\n"
        "print('Best customer this month: C00042 (order 536365).')\n"
    )
    params = new_code_cell("customer_table = ''\nreport_as_of = None")
    params.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[new_markdown_cell("# Display outputs"), params, new_code_cell(code)],
                      metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, tmp_path / "people.ipynb")
    suite = tmp_path / "case.yaml"
    suite.write_text(f"name: case\nnotebooks:\n  - path: {tmp_path / 'people.ipynb'}\n"
                     f"    parameters: {{customer_table: {table_dir}}}\n", encoding="utf-8")
    result = run_suite(suite, reports_dir=tmp_path / "reports", tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}",
                       progress=False)
    assert result.exit_code == 0
    published = [p for p in (tmp_path / "reports").rglob("*") if p.is_file() and p.suffix in {".html", ".json"}]
    assert any(p.name == "people.html" for p in published)
    for path in published:
        text = path.read_text(encoding="utf-8")
        for secret in SECRETS:
            assert secret not in text, (path.name, secret)
    report = next(p for p in published if p.name == "people.html").read_text(encoding="utf-8")
    for value in KEPT:
        assert value in report, value
    assert pseudonymize("C00042") in report and not re.search(r"<script", report, re.IGNORECASE)


def test_html_table_inside_a_cell_is_judged_on_its_own_and_the_outer_table_goes_on():
    """Guards against: the rows after an inner table escaping the outer table's header rules."""
    html = ("<table><thead><tr><th>Name</th><th>x</th></tr></thead><tbody><tr><td>Ann<table><thead><tr>"
            "<th>first_name</th></tr></thead><tr><td>Bo</td></tr></table></td><td>1</td></tr>"
            "<tr><td>Cy</td><td>2</td></tr></tbody></table>")
    out = redact_html_tables(html)
    assert out.count("[removed]") == 3 and "<td>1</td>" in out and "<td>2</td>" in out
    assert not any(name in out for name in ("Ann", "Bo", "Cy"))


def test_notebook_tokens_are_exact_use_the_given_salt_and_cover_numeric_ids_under_an_id_header():
    """Guards against: the token length dropped (a 64-digit token contains the 10-digit one), the ``salt``
    argument ignored, the id-column rule skipped in tables (digits-only ids are not recognised by value)."""
    frame = pd.DataFrame({"customer_id": [12346, 17850], "amount": [10.5, 3.25]})
    nb = new_notebook(cells=[new_code_cell("", outputs=[
        new_output("stream", name="stdout", text="C00042\n"),
        new_output("stream", name="stdout", text=f"{frame}\n"),
    ])])
    outputs = redact_notebook(nb, known_ids=["C00042"], salt="another-salt").cells[0].outputs
    assert outputs[0]["text"] == pseudonymize("C00042", salt="another-salt") + "\n"
    rows = [line.split() for line in outputs[1]["text"].splitlines()]
    assert rows[1] == ["0", pseudonymize(12346, salt="another-salt"), "10.50"]
    assert rows[2] == ["1", pseudonymize(17850, salt="another-salt"), "3.25"]

