"""UCI "Online Retail" (Chen, Sain & Guo 2012) as canonical order lines, one row per invoice item.

The rules follow :func:`crm_models.datasets.load_online_retail` (which aggregates the same lines into invoices),
so that both loaders count the same lines for the same reasons.
"""

from __future__ import annotations

import os
from typing import Any, Literal

import pandas as pd

from crm_models.data.order_lines import read_order_lines
from crm_models.data.quality import QualityReport
from crm_models.datasets._online_retail import REASON_NOT_A_PRODUCT, check_cancellations, online_retail_lines
from crm_models.exceptions import DataContractError

__all__ = ["NON_PRODUCT_CODES", "REASON_NOT_A_PRODUCT", "load_online_retail_lines"]

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
    check_cancellations(cancellations)
    if non_products not in ("drop", "keep"):
        raise DataContractError(f"non_products must be 'drop' or 'keep', got {non_products!r}",
                                rule="non_products in {drop, keep}")
    lines, report = online_retail_lines(path, cancellations=cancellations, observation_end=observation_end,
                                        drop_codes=NON_PRODUCT_CODES if non_products == "drop" else ())
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
