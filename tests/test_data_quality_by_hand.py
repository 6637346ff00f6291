"""The quality report and the cleaning checks, with hand-counted rows.

Each test names the mutation class (issue 21) it guards against: a changed default or key in the report, a
field lost when two reports are chained, or an error that loses its example rows or the reader it points to.
"""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.data import QualityReport, clean_order_lines, clean_transactions
from crm_models.exceptions import DataContractError


def test_a_drop_without_a_stage_is_counted_at_the_transactions_stage() -> None:
    """Guards against a changed default stage (callers in loyalty and ab record drops without one)."""
    report = QualityReport(rows_in=10, rows_kept=7)
    report.add_drop("exact duplicate", 3, 12.5)
    assert report.drops == [{"stage": "transactions", "reason": "exact duplicate", "rows": 3, "amount": 12.5}]
    assert report.dropped("exact duplicate", stage="transactions") == 3


def test_to_frame_has_one_row_per_drop_and_a_kept_row_with_shares_of_the_input() -> None:
    """Guards against a changed key or column name in the table (the kept row would lose its stage): 10 rows
    in, 2 + 1 dropped, 7 kept gives shares 0.2, 0.1 and 0.7."""
    report = QualityReport(rows_in=10, rows_kept=7, amount_kept=70.0)
    report.add_drop("missing customer id", 2, 20.0, stage="lines")
    report.add_drop("exact duplicate", 1, 10.0)
    frame = report.to_frame()
    assert frame["stage"].tolist() == ["lines", "transactions", "result"]
    assert frame["reason"].tolist() == ["missing customer id", "exact duplicate", "kept"]
    assert frame["rows"].tolist() == [2, 1, 7]
    assert frame["share_of_input"].tolist() == pytest.approx([0.2, 0.1, 0.7])


def test_a_chained_report_gives_shares_of_the_rows_that_came_in_at_each_stage() -> None:
    """Guards against dividing every row by the first stage's input (and ``merge`` losing ``later.rows_in``): 10
    lines in, 2 dropped, 8 kept became 4 invoices, 1 dropped and 3 kept, so the shares are 2/10 of the lines
    and 1/4 and 3/4 of the invoices (not 1/10 and 3/10: invoices are not lines)."""
    lines = QualityReport(rows_in=10, rows_kept=8, unit="lines")
    lines.add_drop("missing customer id", 2, stage="lines")
    invoices = QualityReport(rows_in=4, rows_kept=3, unit="transactions")
    invoices.add_drop("exact duplicate", 1, stage="transactions")
    merged = lines.merge(invoices)
    frame = merged.to_frame()
    assert frame["stage"].tolist() == ["lines", "transactions", "result"]
    assert frame["share_of_input"].tolist() == pytest.approx([0.2, 0.25, 0.75])
    assert (merged.rows_in_at("lines"), merged.rows_in_at("transactions"), merged.rows_in_at("result")) == (10, 4, 4)
    # a third stage chained on keeps the inputs of the first two
    orders = QualityReport(rows_in=3, rows_kept=2, unit="orders")
    orders.add_drop("timestamp after observation end", 1, stage="orders")
    shares = merged.merge(orders).to_frame()["share_of_input"].tolist()
    assert shares == pytest.approx([0.2, 0.25, 1 / 3, 2 / 3])


def test_chaining_two_reports_that_drop_at_the_same_stage_is_refused() -> None:
    """A stage with two inputs has no single share; the error names the stage."""
    first, later = QualityReport(rows_in=5, rows_kept=4), QualityReport(rows_in=4, rows_kept=3)
    first.add_drop("exact duplicate", 1)
    later.add_drop("missing customer id", 1)
    with pytest.raises(ValueError, match=r"stage\(s\) \['transactions'\]"):
        first.merge(later)


def test_merging_two_reports_keeps_the_unit_of_the_first() -> None:
    """Guards against ``merge`` dropping a field: lines in, lines out."""
    first = QualityReport(rows_in=5, rows_kept=4, unit="lines", notes=["a"])
    first.add_drop("missing product id", 1, stage="lines")
    later = QualityReport(rows_in=4, rows_kept=3, amount_kept=9.0, unit="transactions", notes=["b"])
    later.add_drop("exact duplicate", 1)
    merged = first.merge(later)
    assert merged.unit == "lines"
    assert (merged.rows_in, merged.rows_kept, merged.amount_kept, merged.rows_dropped) == (5, 3, 9.0, 2)
    assert merged.notes == ["a", "b"]


def test_the_printed_report_names_each_drop_with_its_stage_and_reason() -> None:
    """Guards against the printed summary reading the wrong keys (it had no test at all)."""
    report = QualityReport(rows_in=1200, rows_kept=1000, unit="lines", notes=["demo data"])
    report.add_drop("missing product id", 200, stage="lines")
    text = str(report)
    assert text.splitlines()[0] == "1,200 lines in, 1,000 kept"
    assert "200 (lines): missing product id" in text
    assert "note: demo data" in text


def test_a_text_timestamp_is_refused_with_rows_and_the_reader_to_use() -> None:
    """Guards against the dtype error losing its example rows or the name of the reader that fixes it."""
    frame = pd.DataFrame({"customer_id": ["a"], "timestamp": ["2024-01-01"], "amount": [1.0]})
    with pytest.raises(DataContractError) as info:
        clean_transactions(frame)
    assert info.value.column == "timestamp"
    assert "read_transactions" in str(info.value)
    assert info.value.examples is not None and len(info.value.examples) == 1


def test_clean_order_lines_refuses_an_unknown_returns_rule_by_name() -> None:
    lines = pd.DataFrame({"order_id": ["o"], "customer_id": ["c"], "timestamp": pd.to_datetime(["2024-01-01"]),
                          "product_id": ["p"], "quantity": [1.0], "amount": [1.0]})
    with pytest.raises(DataContractError) as info:
        clean_order_lines(lines, returns="refund")
    assert "refund" in str(info.value) and "returns" in info.value.rule
