"""UCI "Online Retail" (Chen, Sain & Guo 2012) as canonical order lines, one row per invoice item.

The rules follow :func:`crm_models.datasets.load_online_retail` (which aggregates the same lines into invoices),
so that both loaders count the same lines for the same reasons.
"""

from __future__ import annotations

import os
from typing import Any, Literal

import pandas as pd

from crm_models.data.order_lines import read_order_lines
from crm_models.data.quality import (
    REASON_AFTER_END,
    REASON_DUPLICATE,
    REASON_MISSING_CUSTOMER,
    REASON_NON_POSITIVE,
    REASON_RETURN,
    QualityReport,
)
from crm_models.data.timestamps import end_exclusive
from crm_models.datasets.public import ONLINE_RETAIL_COLUMNS
from crm_models.exceptions import DataContractError

REASON_NOT_A_PRODUCT = "not a product (postage, fee or manual adjustment)"

# Stock codes that are services or bookkeeping lines rather than products (postage, carriage, discounts,
# manual adjustments, bank and marketplace fees, charity, samples, pads, bad debt).
NON_PRODUCT_CODES = frozenset(
    {"POST", "DOT", "C2", "M", "D", "S", "B", "BANK CHARGES", "AMAZONFEE", "CRUK", "PADS"}
)


def load_online_retail_lines(
    path: str | os.PathLike[str],
    *,
    cancellations: Literal["returns", "exclude"] = "returns",
    non_products: Literal["drop", "keep"] = "drop",
    observation_end: Any = None,
    return_report: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, QualityReport]:
    """Read the UCI Online Retail file into canonical ``order_lines``.

    Line rules, in order, each counted in the quality report (stage ``"lines"``): lines without ``CustomerID``
    (``missing customer id``); lines with a zero or negative ``UnitPrice`` (``non-positive amount``); exact
    duplicate lines (``exact duplicate``); cancellation lines (``InvoiceNo`` starting with ``C``) are kept as
    returns with negative quantity and amount when ``cancellations="returns"`` or dropped as ``cancellation or
    return`` when ``"exclude"`` (as :func:`~crm_models.datasets.load_online_retail` does for invoices);
    postage, fee and adjustment codes (:data:`NON_PRODUCT_CODES`) when ``non_products="drop"``; lines after
    ``observation_end`` (a date means the whole day).

    Returns ``order_id, customer_id, timestamp, product_id, quantity, amount, description`` plus ``country`` and
    ``is_return``, sorted by time; and the :class:`QualityReport` when ``return_report`` is true.
    """
    if cancellations not in ("returns", "exclude"):
        raise DataContractError(
            f"cancellations must be 'returns' or 'exclude', got {cancellations!r}",
            rule="cancellations in {returns, exclude}",
        )
    if non_products not in ("drop", "keep"):
        raise DataContractError(f"non_products must be 'drop' or 'keep', got {non_products!r}",
                                rule="non_products in {drop, keep}")
    raw = pd.read_csv(
        path,
        dtype={"InvoiceNo": "string", "StockCode": "string", "Description": "string", "CustomerID": "string",
               "Country": "string"},
        encoding_errors="replace",
    )
    missing = [c for c in ONLINE_RETAIL_COLUMNS if c not in raw.columns]
    if missing:
        raise DataContractError(
            f"{path} is not in the Online Retail format: columns {missing} are missing; found {list(raw.columns)}",
            column=missing[0], rule="Online Retail columns InvoiceNo,StockCode,...,CustomerID,Country",
        )
    lines = raw
    lines["Quantity"] = pd.to_numeric(lines["Quantity"], errors="raise")
    lines["UnitPrice"] = pd.to_numeric(lines["UnitPrice"], errors="raise")
    lines["line_amount"] = lines["Quantity"] * lines["UnitPrice"]
    report = QualityReport(rows_in=len(lines), amount_in=float(lines["line_amount"].sum()), unit="lines")

    def drop(mask: pd.Series, reason: str) -> None:
        nonlocal lines
        if mask.any():
            report.add_drop(reason, int(mask.sum()), float(lines.loc[mask, "line_amount"].sum()), stage="lines")
            lines = lines.loc[~mask]

    customer = lines["CustomerID"].str.strip().str.replace(r"\.0$", "", regex=True)
    lines["CustomerID"] = customer.mask(customer == "", pd.NA)
    drop(lines["CustomerID"].isna(), REASON_MISSING_CUSTOMER)
    drop(lines["UnitPrice"] <= 0, REASON_NON_POSITIVE)
    drop(lines.duplicated(subset=list(ONLINE_RETAIL_COLUMNS), keep="first"), REASON_DUPLICATE)
    if cancellations == "exclude":
        drop(lines["InvoiceNo"].str.upper().str.startswith("C"), REASON_RETURN)
    if non_products == "drop":
        drop(lines["StockCode"].str.strip().str.upper().isin(NON_PRODUCT_CODES), REASON_NOT_A_PRODUCT)
    lines["InvoiceDate"] = pd.to_datetime(lines["InvoiceDate"], format="mixed")
    if observation_end is not None:
        drop(lines["InvoiceDate"] >= end_exclusive(observation_end, "observation_end"), REASON_AFTER_END)

    frame = pd.DataFrame({
        "order_id": lines["InvoiceNo"],
        "customer_id": lines["CustomerID"],
        "timestamp": lines["InvoiceDate"],
        "product_id": lines["StockCode"].str.strip().str.upper(),
        "quantity": lines["Quantity"],
        "amount": lines["line_amount"].round(2),
        "description": lines["Description"].str.strip(),
        "country": lines["Country"],
    })
    frame["is_return"] = frame["order_id"].str.upper().str.startswith("C")
    frame = frame.sort_values(["timestamp", "order_id"], kind="stable").reset_index(drop=True)
    out = read_order_lines(frame)
    report.rows_kept = len(out)
    report.amount_kept = float(lines["line_amount"].sum())
    report.notes.append(f"{len(out):,} lines kept on {out['order_id'].nunique():,} invoices, "
                        f"{out['product_id'].nunique():,} products, {int(out['is_return'].sum()):,} return lines")
    return (out, report) if return_report else out
