"""Loaders for public data formats used in examples, tests and benchmarks.

- UCI "Online Retail" (Chen, Sain & Guo 2012): one line per invoice item.
- CDNOW (Fader & Hardie): the master file and the 1-in-10 sample.
"""

from __future__ import annotations

import os
from typing import Literal

import numpy as np
import pandas as pd

from crm_models.data.contract import read_transactions
from crm_models.data.quality import QualityReport
from crm_models.datasets._online_retail import ONLINE_RETAIL_COLUMNS, online_retail_lines
from crm_models.exceptions import DataContractError

__all__ = ["ONLINE_RETAIL_COLUMNS", "load_cdnow", "load_online_retail"]


def load_online_retail(
    path: str | os.PathLike[str],
    *,
    cancellations: Literal["returns", "exclude"] = "returns",
    observation_end: str | pd.Timestamp | None = None,
    return_report: bool = False,
) -> pd.DataFrame | tuple[pd.DataFrame, QualityReport]:
    """Read the UCI Online Retail line items into canonical transactions, one row per invoice.

    Line-level rules, each counted in the quality report: lines without ``CustomerID`` are dropped
    (``missing customer id``); lines with a zero or negative ``UnitPrice`` are dropped (``non-positive
    amount``); exact duplicate lines are dropped (``exact duplicate``); cancellation lines (``InvoiceNo``
    starting with ``C``) are kept as returns with a negative amount when ``cancellations="returns"`` or
    dropped as ``cancellation or return`` when ``"exclude"``; lines after ``observation_end`` are dropped (a date,
    as a string or a midnight timestamp, keeps the whole day: :func:`crm_models.data.timestamps.end_exclusive`).

    Each invoice becomes one transaction: ``amount`` = sum of quantity x unit price, ``quantity`` = sum of
    quantities, ``n_items`` = distinct stock codes, ``timestamp`` = the invoice time, ``country`` kept.

    Returns the transactions, and the :class:`QualityReport` when ``return_report`` is true.
    """
    lines, report = online_retail_lines(path, cancellations=cancellations, observation_end=observation_end)
    invoices = (
        lines.groupby("InvoiceNo", sort=False)
        .agg(
            customer_id=("CustomerID", "first"),
            timestamp=("InvoiceDate", "min"),
            amount=("line_amount", "sum"),
            quantity=("Quantity", "sum"),
            n_items=("StockCode", "nunique"),
            country=("Country", "first"),
        )
        .reset_index()
        .rename(columns={"InvoiceNo": "order_id"})
    )
    invoices["is_return"] = invoices["order_id"].str.upper().str.startswith("C")
    invoices = invoices.sort_values(["timestamp", "order_id"], kind="stable").reset_index(drop=True)
    transactions = read_transactions(invoices)
    transactions["amount"] = transactions["amount"].round(2)
    report.rows_kept = len(lines)
    report.amount_kept = float(lines["line_amount"].sum())
    report.notes.append(f"{len(lines):,} lines kept became {len(transactions):,} invoices "
                        f"({int(transactions['is_return'].sum()):,} of them returns)")
    return (transactions, report) if return_report else transactions


def load_cdnow(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CDNOW file (Fader & Hardie) into canonical transactions.

    Both formats are recognized: the master file (header, ``customer_id date cds dollars``) and the 1-in-10
    sample (no header, ``master_id sample_id date cds dollars``). For the sample, ``customer_id`` is the
    sample id (the ``ID`` of the published 39-week summary) and ``master_id`` is kept.
    Returns ``customer_id, timestamp, amount, quantity`` (dates at midnight, naive).
    """
    with open(path, encoding="utf-8") as handle:
        first = handle.readline().split()
    has_header = bool(first) and not first[0].isdigit()
    n_fields = len(first)
    raw = pd.read_csv(path, sep=r"\s+", header=None, skiprows=1 if has_header else 0, dtype=str, engine="python"
                      if n_fields not in (4, 5) else "c")
    if raw.shape[1] == 4:
        raw.columns = ["customer_id", "date", "quantity", "amount"]
    elif raw.shape[1] == 5:
        raw.columns = ["master_id", "customer_id", "date", "quantity", "amount"]
    else:
        raise DataContractError(
            f"{path} has {raw.shape[1]} fields per line; CDNOW files have 4 (master) or 5 (sample)",
            rule="CDNOW format", examples=raw.head(),
        )
    raw["customer_id"] = raw["customer_id"].str.lstrip("0").replace("", "0")
    if "master_id" in raw.columns:
        raw["master_id"] = raw["master_id"].str.lstrip("0")
    raw["timestamp"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    raw = raw.drop(columns="date")
    out = read_transactions(raw)
    out["quantity"] = out["quantity"].astype(np.int64)
    return out
