"""Issue 21, mutation survivors of ``reporting/privacy``: error texts fit to publish. A ``DataContractError``'s
example rows come as a sequence of reprs, a ``Series`` print or a ``DataFrame`` print; identifier columns get
the report's token, personal columns are removed, other columns stay, and what cannot be parsed is withheld.
Expected texts are written out by hand; each test names the mutation class it guards against.
"""

from __future__ import annotations

import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from crm_models.exceptions import DataContractError
from crm_models.reporting.privacy import REMOVED, WITHHELD, pseudonymize, redact_error_text, redact_notebook

HEAD = "bad rows\ncolumn: {column!r}\nrule: r\nexample rows:\n"


def _error(column: str | None, examples: object) -> str:
    return str(DataContractError("bad rows", column=column, rule="r", examples=examples))


def _expect(column: str, block: str) -> str:
    return HEAD.format(column=column) + block


def test_sequence_examples_by_column_kind():
    """Guards against: the personal / id branches swapped or their joiner changed, the token length dropped."""
    assert redact_error_text(_error("first_name", ["Ann", "Bo"])) == _expect("first_name", f"{REMOVED}, {REMOVED}")
    ids = f"{pseudonymize('u1')!r}, {pseudonymize('u2')!r}"
    assert redact_error_text(_error("customer_id", ["u1", "u2"])) == _expect("customer_id", ids)
    assert redact_error_text(_error("amount", ["abc", "3x"])) == _expect("amount", "'abc', '3x'")


def test_unparsable_examples_are_withheld_only_for_personal_or_id_columns():
    """Guards against: the withheld branch taken for every column, or never."""
    odd = [object()]
    assert redact_error_text(_error("name", odd)) == _expect("name", WITHHELD)
    shown = redact_error_text(_error("amount", odd))
    assert shown.startswith(_expect("amount", "<object object at")) and WITHHELD not in shown


def test_examples_without_a_column_are_kept():
    """Guards against: a missing column treated as a kind (a crash on ``None`` or every value hashed)."""
    text = str(DataContractError("bad rows", examples=pd.Series(["x1", "x2"], index=[0, 1])))
    assert redact_error_text(text) == text
    assert redact_error_text(str(DataContractError("bad rows", examples=[object()]))).count("<object object") == 1


def test_series_examples_by_column_kind():
    """Guards against: the value split changed, the index label dropped, the token length dropped."""
    series = pd.Series(["Ann Lee", "Bo"], index=[3, 7])
    assert redact_error_text(_error("name", series)) == _expect("name", f"3    {REMOVED}\n7    {REMOVED}")
    tokens = f"3    {pseudonymize('Ann Lee')}\n7    {pseudonymize('Bo')}"
    assert redact_error_text(_error("customer_id", series)) == _expect("customer_id", tokens)
    assert redact_error_text(_error("amount", series)) == _expect("amount", "3    Ann Lee\n7         Bo")


def test_series_line_without_a_value_is_hashed_as_empty():
    """A row whose value is empty (only the index label): guards against reading a value that is not there."""
    text = HEAD.format(column="customer_id") + "3    u1\n7"
    assert redact_error_text(text) == _expect("customer_id", f"3    {pseudonymize('u1')}\n7    {pseudonymize('')}")


def test_frame_examples_drop_personal_columns_and_hash_ids_keeping_the_index():
    """Guards against: the index lost, a column name found at the wrong place (``a`` inside ``amount``),
    the token length dropped, personal columns kept."""
    frame = pd.DataFrame({"customer_id": ["u1", "u2"], "name": ["Ann", "Bo"], "amount": ["abc", "3x"],
                          "a": ["1", "2"]}, index=[10, 11])
    want = pd.DataFrame({"customer_id": [pseudonymize("u1"), pseudonymize("u2")], "amount": ["abc", "3x"],
                         "a": ["1", "2"]}, index=["10", "11"], dtype=object).to_string()
    assert redact_error_text(_error("amount", frame)) == _expect("amount", want)


def test_frame_with_a_one_space_header_and_a_blank_line_inside():
    """Guards against: the header test widened to two characters, a blank row ending the rows."""
    text = HEAD.format(column="amount") + " name amount\n0 Ann      x\n\n1  Bo      y"
    want = pd.DataFrame({"amount": ["x", "y"]}, index=["0", "1"], dtype=object).to_string()
    assert redact_error_text(text) == _expect("amount", want)


def test_frame_rows_wider_than_the_header_are_withheld():
    text = HEAD.format(column="amount") + "   name amount\n0   Ann      x   Smith"
    assert redact_error_text(text) == _expect("amount", WITHHELD)


@pytest.mark.parametrize(("text", "want"), [
    ("plain failure, call +44 20 7946 0958 or a.b@example.com",
     "plain failure, call [phone removed] or [email removed]"),
    ("column: 'x'\nno examples; a.b@example.com", "column: 'x'\nno examples; [email removed]"),
])
def test_error_text_without_examples_loses_contacts_only(text, want):
    assert redact_error_text(text) == want


def test_notebook_outputs_given_as_lists_of_lines():
    """nbformat allows ``text`` and mime values as lists of lines: guards against the join changed."""
    nb = new_notebook(cells=[new_code_cell("", outputs=[
        new_output("stream", name="stdout", text=["mail a.b@example.com", " now\n"]),
        new_output("display_data", data={"text/plain": ["a ", "b@example.com"]}),
        new_output("error", ename="E", evalue="a.b@example.com", traceback=["x a.b@example.com"]),
    ])])
    outputs = redact_notebook(nb).cells[0].outputs
    assert outputs[0]["text"] == "mail [email removed] now\n"
    assert outputs[1]["data"]["text/plain"] == "a [email removed]"
    assert outputs[2]["evalue"] == "[email removed]" and outputs[2]["traceback"] == ["x [email removed]"]


def test_frame_column_names_found_left_to_right():
    """A column name that also occurs inside a later column name (``a`` in ``amount``): guards against the
    header searched from the right."""
    frame = pd.DataFrame({"a": ["1", "2"], "amount": ["abc", "3x"], "name": ["Ann", "Bo"]}, index=[10, 11])
    want = pd.DataFrame({"a": ["1", "2"], "amount": ["abc", "3x"]}, index=["10", "11"], dtype=object).to_string()
    assert redact_error_text(_error("amount", frame)) == _expect("amount", want)


def test_series_block_with_a_blank_line():
    """Guards against: the index label read from a line that has none."""
    text = HEAD.format(column="customer_id") + "3    u1\n  \n7    u2"
    want = f"3    {pseudonymize('u1')}\n    {pseudonymize('')}\n7    {pseudonymize('u2')}"
    assert redact_error_text(text) == _expect("customer_id", want)


def test_stream_lines_are_joined_without_a_separator():
    nb = new_notebook(cells=[new_code_cell("", outputs=[
        new_output("stream", name="stdout", text=["line one\n", "line two\n"])])])
    assert redact_notebook(nb).cells[0].outputs[0]["text"] == "line one\nline two\n"


def test_error_text_tokens_use_the_given_salt():
    text = redact_error_text(_error("customer_id", ["u1"]), salt="another-salt")
    assert text == _expect("customer_id", repr(pseudonymize("u1", salt="another-salt")))


def test_traceback_lines_with_example_rows_are_redacted_without_colour_codes():
    """Guards against: the examples branch of traceback lines skipped, or taken for every line (other lines
    keep their colour codes), the ANSI codes not removed before the examples are parsed."""
    red, reset = "\x1b[0;31m", "\x1b[0m"
    frame_line = f"{red}DataContractError{reset}: " + _error("name", ["Ann", "Bo"])
    other = f"{red}Cell In[3], line 2{reset} call +44 20 7946 0958"
    nb = new_notebook(cells=[new_code_cell("", outputs=[
        new_output("error", ename="DataContractError", evalue="x", traceback=[frame_line, other])])])
    traceback = redact_notebook(nb).cells[0].outputs[0]["traceback"]
    assert traceback == ["DataContractError: " + _expect("name", f"{REMOVED}, {REMOVED}"),
                         f"{red}Cell In[3], line 2{reset} call [phone removed]"]


@pytest.mark.parametrize("column", ["customer_name", "Contact name", "billing_address", "email", "E-Mail", "mobile",
                                    "phone_number"])
def test_error_examples_and_displayed_tables_share_the_personal_columns(column):
    """Error texts and display outputs use one list of id, name and address columns (``column_kind``); error texts
    also drop e-mail and phone columns. ``customer_name`` and ``Contact name`` were shown in error texts when
    the two lists differed."""
    assert redact_error_text(_error(column, ["Ann", "Bo"])) == _expect(column, f"{REMOVED}, {REMOVED}")


@pytest.mark.parametrize("column", ["user", "customerid", "customer_number"])
def test_error_examples_of_every_id_column_get_the_report_token(column):
    ids = f"{pseudonymize('u1')!r}, {pseudonymize('u2')!r}"
    assert redact_error_text(_error(column, ["u1", "u2"])) == _expect(column, ids)
