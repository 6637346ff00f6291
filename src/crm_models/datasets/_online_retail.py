"""The line rules shared by both UCI "Online Retail" (Chen, Sain & Guo 2012) loaders.

:func:`crm_models.datasets.load_online_retail` (invoices) and
:func:`crm_models.datasets.order_lines.load_online_retail_lines` (order lines) read the file and drop lines by
the same rules, in the same order, through :func:`online_retail_lines`, so that both count the same lines for
the same reasons.
"""

from __future__ import annotations

import os
from collections.abc import Collection
from typing import Any

import pandas as pd

from crm_models.data.quality import (
    REASON_DUPLICATE,
    REASON_MISSING_CUSTOMER,
    REASON_NON_POSITIVE,
    REASON_RETURN,
    QualityReport,
    RowDropper,
)
from crm_models.data.timestamps import end_exclusive
from crm_models.exceptions import DataContractError

ONLINE_RETAIL_COLUMNS = ("InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
                         "CustomerID", "Country")

REASON_NOT_A_PRODUCT = "not a product (postage, fee or manual adjustment)"


def check_cancellations(cancellations: str) -> None:
    """A ``DataContractError`` unless ``cancellations`` is ``"returns"`` or ``"exclude"``."""
    if cancellations not in ("returns", "exclude"):
        raise DataContractError(
            f"cancellations must be 'returns' or 'exclude', got {cancellations!r}",
            rule="cancellations in {returns, exclude}",
        )


def online_retail_lines(
    path: str | os.PathLike[str],
    *,
    cancellations: str = "returns",
    observation_end: Any = None,
    drop_codes: Collection[str] = (),
) -> tuple[pd.DataFrame, QualityReport]:
    """The file's lines after the line rules, with ``line_amount`` (quantity x unit price), and the report.

    Rules, in order, each counted in the report (unit and stage ``"lines"``, money as ``line_amount``): no
    ``CustomerID`` (``missing customer id``; ``17850.0`` is read as ``17850``, blanks as missing); zero or
    negative ``UnitPrice`` (``non-positive amount``); exact duplicate lines (``exact duplicate``); cancellation
    lines (``InvoiceNo`` starting with ``C``) when ``cancellations="exclude"`` (``cancellation or return``;
    ``"returns"`` keeps them); stock codes in ``drop_codes`` (upper case, ``not a product ...``); lines at or
    after the end of ``observation_end`` (a date means the whole day,
    :func:`crm_models.data.timestamps.end_exclusive`). ``InvoiceDate`` is parsed month first, as the UCI file
    writes it. ``rows_kept`` and ``amount_kept`` are left to the caller.

    Raises ``DataContractError`` for an unknown ``cancellations`` or a file without the Online Retail columns.
    """
    check_cancellations(cancellations)
    lines = pd.read_csv(
        path,
        dtype={"InvoiceNo": "string", "StockCode": "string", "Description": "string", "CustomerID": "string",
               "Country": "string"},
        encoding_errors="replace",
    )
    missing = [c for c in ONLINE_RETAIL_COLUMNS if c not in lines.columns]
    if missing:
        raise DataContractError(
            f"{path} is not in the Online Retail format: columns {missing} are missing; found {list(lines.columns)}",
            column=missing[0], rule="Online Retail columns InvoiceNo,StockCode,...,CustomerID,Country",
        )
    lines["Quantity"] = pd.to_numeric(lines["Quantity"], errors="raise")
    lines["UnitPrice"] = pd.to_numeric(lines["UnitPrice"], errors="raise")
    lines["line_amount"] = lines["Quantity"] * lines["UnitPrice"]
    report = QualityReport(rows_in=len(lines), amount_in=float(lines["line_amount"].sum()), unit="lines")
    customer = lines["CustomerID"].str.strip().str.replace(r"\.0$", "", regex=True)
    lines["CustomerID"] = customer.mask(customer == "", pd.NA)

    rows = RowDropper(lines, report, amount="line_amount", stage="lines")
    rows.drop(rows.frame["CustomerID"].isna(), REASON_MISSING_CUSTOMER)
    rows.drop(rows.frame["UnitPrice"] <= 0, REASON_NON_POSITIVE)
    rows.drop(rows.frame.duplicated(subset=list(ONLINE_RETAIL_COLUMNS), keep="first"), REASON_DUPLICATE)
    if cancellations == "exclude":
        rows.drop(rows.frame["InvoiceNo"].str.upper().str.startswith("C"), REASON_RETURN)
    if drop_codes:
        rows.drop(rows.frame["StockCode"].str.strip().str.upper().isin(drop_codes), REASON_NOT_A_PRODUCT)
    bound = end_exclusive(observation_end, "observation_end") if observation_end is not None else None
    # The UCI file writes month-first dates ("12/1/2010 8:26") or ISO dates, never day-first.
    rows.frame["InvoiceDate"] = pd.to_datetime(rows.frame["InvoiceDate"], format="mixed", dayfirst=False)
    if bound is not None:
        rows.drop_after(bound, "InvoiceDate")
    return rows.frame, report
