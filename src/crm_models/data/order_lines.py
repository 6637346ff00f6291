"""The ``order_lines`` canonical table: one row per product on an order.

``read_order_lines`` maps user columns onto ``order_id, customer_id, timestamp, product_id, quantity, amount``
(optional ``description``, ``category``) and checks them with the shared contract machinery of
:mod:`crm_models.data.contract`; it never drops rows. ``clean_order_lines`` drops rows on purpose and counts
each dropped row by reason in a :class:`~crm_models.data.quality.QualityReport`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import pandas as pd

from crm_models.data.contract import TableContract, read_table
from crm_models.data.engine import TableSource
from crm_models.data.quality import (
    REASON_DUPLICATE,
    REASON_MISSING_CUSTOMER,
    REASON_NON_POSITIVE,
    REASON_RETURN,
    QualityReport,
    RowDropper,
    check_clean_input,
)
from crm_models.data.timestamps import end_exclusive
from crm_models.exceptions import DataContractError

REASON_MISSING_PRODUCT = "missing product id"
REASON_MISSING_ORDER = "missing order id"

ORDER_LINES = TableContract(
    name="order_lines",
    required=("order_id", "customer_id", "timestamp", "product_id", "quantity", "amount"),
    optional=("description", "category"),
    timestamps=("timestamp",),
    numerics=("quantity", "amount"),
    identifiers=("order_id", "customer_id", "product_id"),
    texts=("description", "category"),
)


def read_order_lines(
    source: TableSource,
    *,
    columns: Mapping[str, str] | None = None,
    timestamp_format: str | None = None,
    timestamp_unit: str | None = None,
    dayfirst: bool | None = None,
    csv_options: Mapping[str, Any] | None = None,
) -> Any:
    """Read order lines into the canonical ``order_lines`` table.

    Parameters
    ----------
    source
        A CSV or Parquet path, a pandas DataFrame, or an ibis table (checked on its own backend and returned as
        an ibis table).
    columns
        Mapping from canonical names to the user's names, e.g. ``{"order_id": "InvoiceNo",
        "product_id": "StockCode"}``.
    timestamp_format
        An explicit ``strftime`` format for the timestamp column.
    timestamp_unit, dayfirst, csv_options
        As in :func:`crm_models.data.read_transactions` (numbers as dates need a unit; dates like
        ``"02/06/2024"`` need ``dayfirst``).

    Returns
    -------
    A pandas DataFrame (ibis table for ibis input) with string identifiers (order, customer, product), datetime
    timestamps, float quantity and amount, and string ``description``/``category`` when present. Rows are
    never dropped here (see :func:`clean_order_lines`).

    Raises
    ------
    DataContractError
        For a missing column, an empty table, an unparseable timestamp or a non-numeric quantity or amount;
        the message names the column, the rule and example rows.
    """
    return read_table(source, ORDER_LINES, columns=columns, timestamp_format=timestamp_format,
                      timestamp_unit=timestamp_unit, dayfirst=dayfirst, csv_options=csv_options)


def clean_order_lines(
    lines: pd.DataFrame,
    *,
    returns: Literal["drop", "keep"] = "drop",
    observation_end: Any = None,
    drop_duplicates: bool = True,
) -> tuple[pd.DataFrame, QualityReport]:
    """Drop order lines on purpose and count each dropped line by reason.

    Rules, in order: missing order id; missing customer id; missing product id; cancellation or return
    (negative quantity or amount, when ``returns="drop"``); zero quantity or amount (``non-positive amount``);
    exact duplicate lines; timestamp after ``observation_end`` (a date means the whole day, as in
    :func:`crm_models.data.timestamps.end_exclusive`).

    Returns the kept lines and the :class:`QualityReport` (unit ``"lines"``, stage ``"lines"``).

    Raises ``DataContractError`` when a required column is missing or duplicated, when ``quantity`` or ``amount``
    is not numeric or ``timestamp`` is not a datetime column (read raw data with :func:`read_order_lines`); the
    checks are those of :func:`crm_models.data.quality.check_clean_input`.
    """
    if returns not in ("drop", "keep"):
        raise DataContractError(f"returns must be 'drop' or 'keep', got {returns!r}", rule="returns in {drop, keep}")
    check_clean_input(lines, ORDER_LINES.required, table="order lines", reader="crm_models.data.read_order_lines",
                      numerics=ORDER_LINES.numerics, timestamps=ORDER_LINES.timestamps)
    report = QualityReport(rows_in=len(lines), amount_in=float(lines["amount"].sum()), unit="lines")
    rows = RowDropper(lines, report, stage="lines")
    rows.drop(rows.frame["order_id"].isna(), REASON_MISSING_ORDER)
    rows.drop(rows.frame["customer_id"].isna(), REASON_MISSING_CUSTOMER)
    rows.drop(rows.frame["product_id"].isna(), REASON_MISSING_PRODUCT)
    if returns == "drop":
        rows.drop((rows.frame["quantity"] < 0) | (rows.frame["amount"] < 0), REASON_RETURN)
    rows.drop((rows.frame["quantity"] == 0) | (rows.frame["amount"] == 0), REASON_NON_POSITIVE)
    if drop_duplicates:
        rows.drop(rows.frame.duplicated(keep="first"), REASON_DUPLICATE)
    if observation_end is not None:
        rows.drop_after(end_exclusive(observation_end, "observation_end"))
    return rows.result()


def order_lines_quality_report(lines: pd.DataFrame, **options: Any) -> QualityReport:
    """The :class:`QualityReport` that :func:`clean_order_lines` would produce, without keeping the lines."""
    return clean_order_lines(lines, **options)[1]
