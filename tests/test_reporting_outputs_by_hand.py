"""Issue 21, survivors of the reporting mutation sample (session 3): redaction of tables a notebook prints or
displays, the landing page's KPI changes, the data-file pre-flight and the run's data fingerprint.

Expected outputs are written by hand; each test names the mutation class it guards against.
"""

from __future__ import annotations

import pandas as pd

from crm_models.reporting.index import format_delta
from crm_models.reporting.output_redaction import REMOVED, redact_html_tables, redact_text_tables
from crm_models.reporting.preflight import check_data_files

TOKEN = "c_abababab"


def token(value: str) -> str:
    return TOKEN


# --------------------------------------------------------------------------- HTML tables
def test_a_header_wrapped_in_markup_still_names_its_column() -> None:
    """Guards against tags inside a cell adding text to it: ``<th><b>customer_id</b></th>`` is the
    ``customer_id`` column, so the id below it is replaced."""
    html = ("<table><thead><tr><th><b>customer_id</b></th><th>amount</th></tr></thead>"
            "<tbody><tr><td><span>C00042</span></td><td>5</td></tr></tbody></table>")
    out = redact_html_tables(html, token)
    assert "C00042" not in out and TOKEN in out
    assert "<b>customer_id</b>" in out and "<td>5</td>" in out


def test_a_table_body_after_an_unclosed_head_is_redacted() -> None:
    """Guards against ``<tbody>`` not ending the header rows (HTML lets ``</thead>`` be left out; the body rows
    would then be read as headers and pass through)."""
    html = ("<table><thead><tr><th>first_name</th><th>amount</th></tr>"
            "<tbody><tr><td>Alice</td><td>5</td></tr></tbody></table>")
    out = redact_html_tables(html, token)
    assert "Alice" not in out and f"<td>{REMOVED}</td>" in out


# --------------------------------------------------------------------------- text tables
def test_one_digit_customer_ids_in_a_printed_frame_are_replaced() -> None:
    """Guards against the right-alignment check looking one character too far left: ids 1, 2, 3 are one
    character wide, right-aligned under ``customer_id``."""
    frame = pd.DataFrame({"customer_id": [1, 2, 3], "amount": [10.5, 3.0, 7.25]})
    for text in (frame.to_string(), frame.to_string(index=False)):
        out = redact_text_tables(text, token)
        rows = out.splitlines()[1:]
        assert all(TOKEN in row for row in rows), out
        assert [row.split()[-1] for row in rows] == ["10.50", "3.00", "7.25"]


def test_prose_that_only_looks_like_a_header_is_left_alone() -> None:
    """Guards against the header test checking no column or no rows (a blank line before the text made the
    row range empty): "name  comment" over a line that is not aligned under it is not a table."""
    text = "\nname  comment\n Bob  hi there friend\n"
    assert redact_text_tables(text, token) == text


# --------------------------------------------------------------------------- KPI changes
def test_a_share_that_was_below_minus_one_changes_in_percent_not_points() -> None:
    """Guards against widening the share band for the previous value (-1 <= before): a lift of -1.5 (below -100 %)
    is not a share, so the change to 0.5 is (0.5 + 1.5) / 1.5 = +133.3 %."""
    assert format_delta("kpi_lift", 0.5, -1.5) == ("up", "\u25b2 +133.3 % vs previous run (-1.50)")
    assert format_delta("kpi_lift", 0.5, -1.0) == ("up", "\u25b2 +150.0 points vs previous run (-100.0 %)")


# --------------------------------------------------------------------------- pre-flight of data files
def test_a_complete_tsv_without_a_final_newline_is_not_called_truncated(tmp_path) -> None:
    """Guards against splitting the last line on a different delimiter than the header (every TSV whose last
    line lacks a newline would be refused as cut short, exit code 3)."""
    path = tmp_path / "tx.tsv"
    path.write_text("customer_id\ttimestamp\tamount\nc1\t2024-01-01\t35.02")
    assert check_data_files([path]) == []
    cut = tmp_path / "cut.tsv"
    cut.write_text("customer_id\ttimestamp\tamount\nc1\t2024-01-01")
    problems = check_data_files([cut])
    assert len(problems) == 1 and "2 of 3 fields" in problems[0].reason


def test_the_fingerprint_of_a_notebook_covers_its_listed_data(tmp_path) -> None:
    """Guards against the listed ``data:`` files being dropped from the run's data fingerprint (it had no test):
    the fingerprint of one listed file is that file's, and changes when the file does."""
    from crm_models.reporting.runner import _data_paths, _fingerprint
    from crm_models.reporting.suite import NotebookSpec
    from crm_models.tracking.mlflow_helpers import data_fingerprint

    data = tmp_path / "tx.csv"
    data.write_text("customer_id,amount\nc1,1\n")
    spec = NotebookSpec(name="nb", path=tmp_path / "nb.ipynb", parameters={}, data=(data,))
    assert _data_paths(spec) == [data]
    before = _fingerprint(_data_paths(spec))
    assert before == data_fingerprint(data)
    data.write_text("customer_id,amount\nc1,2\n")
    assert _fingerprint(_data_paths(spec)) != before
