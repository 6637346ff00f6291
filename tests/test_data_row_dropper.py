"""RowDropper: the one way rows are dropped on purpose and counted by reason (transactions, order lines, events,
Online Retail lines)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.data.quality import REASON_AFTER_END, QualityReport, RowDropper, require_columns
from crm_models.data.timestamps import end_exclusive
from crm_models.exceptions import DataContractError


@settings(max_examples=60, deadline=None)
@given(
    amounts=st.lists(st.integers(-50, 50), min_size=1, max_size=40),
    cuts=st.lists(st.integers(-50, 50), min_size=1, max_size=4),
)
def test_every_row_is_kept_or_counted_once_with_its_money(amounts, cuts):
    frame = pd.DataFrame({"amount": np.asarray(amounts, dtype="float64"), "row": np.arange(len(amounts))})
    report = QualityReport(rows_in=len(frame), amount_in=float(frame["amount"].sum()))
    rows = RowDropper(frame, report, stage="lines")
    for i, cut in enumerate(cuts):
        rows.drop(rows.frame["amount"] >= cut, f"rule {i}")
    kept, out = rows.result()

    assert out is report
    assert out.rows_kept + out.rows_dropped == len(frame)
    assert out.amount_kept + sum(d["amount"] for d in out.drops) == pytest.approx(frame["amount"].sum())
    # the rules drop in order: a row counts under the first rule that matches it, rules that match none
    # are not recorded
    expected: dict[str, int] = {}
    left = frame["amount"].to_numpy()
    for i, cut in enumerate(cuts):
        hit = left >= cut
        if hit.any():
            expected[f"rule {i}"] = int(hit.sum())
        left = left[~hit]
    assert {d["reason"]: d["rows"] for d in out.drops} == expected
    assert all(d["stage"] == "lines" for d in out.drops)
    assert list(kept.index) == list(range(len(kept)))
    assert kept["row"].tolist() == [r for r, a in zip(frame["row"], amounts, strict=True) if a < min(cuts)]


def test_without_an_amount_column_rows_are_counted_and_money_is_zero():
    frame = pd.DataFrame({"event": ["a", None, "b", None]})
    rows = RowDropper(frame, QualityReport(rows_in=4, unit="events"), amount=None, stage="events")
    rows.drop(rows.frame["event"].isna(), "missing event name")
    kept, report = rows.result()
    assert kept["event"].tolist() == ["a", "b"]
    assert report.drops == [{"stage": "events", "reason": "missing event name", "rows": 2, "amount": 0.0}]
    assert (report.rows_kept, report.amount_kept) == (2, 0.0)


def test_drop_after_keeps_the_whole_end_day_for_naive_and_aware_timestamps():
    naive = pd.to_datetime(["2024-01-10 23:59", "2024-01-11 00:00", "2024-01-09 12:00"])
    for stamps in (naive, naive.tz_localize("UTC").tz_convert("America/New_York")):
        frame = pd.DataFrame({"timestamp": stamps, "amount": [1.0, 2.0, 4.0]})
        rows = RowDropper(frame, QualityReport(rows_in=3))
        rows.drop_after(end_exclusive("2024-01-10"))
        kept, report = rows.result()
        assert kept["amount"].tolist() == [1.0, 4.0]
        assert report.drops == [{"stage": "transactions", "reason": REASON_AFTER_END, "rows": 1, "amount": 2.0}]


def test_require_columns_names_the_missing_column_and_the_reader():
    with pytest.raises(DataContractError, match="order lines lack the column 'product_id'; read them with "
                                                "read_order_lines first") as caught:
        require_columns(pd.DataFrame({"order_id": ["1"]}), ("order_id", "product_id"), table="order lines",
                        reader="read_order_lines")
    assert caught.value.column == "product_id"
