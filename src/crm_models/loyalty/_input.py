"""Transactions -> the sorted purchase arrays every loyalty computation replays, with dropped rows counted."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crm_models.data.engine import is_ibis_table
from crm_models.data.quality import (
    REASON_AFTER_END,
    REASON_MISSING_CUSTOMER,
    REASON_NON_POSITIVE,
    QualityReport,
)
from crm_models.data.timestamps import end_exclusive, naive_utc_column
from crm_models.exceptions import DataContractError

REASON_RETURN_IGNORED = "return or refund (negative amount): earns no points, does not count towards a tier"


@dataclass(frozen=True)
class Purchases:
    """Purchases up to ``end`` (exclusive), sorted by customer then time.

    ``code`` indexes ``customers``; ``row`` is each purchase's position in the caller's frame (so per-purchase
    results can be put back); ``first`` is the first purchase of each customer.
    """

    customers: pd.Index
    code: np.ndarray
    time: np.ndarray  # datetime64[ns]
    amount: np.ndarray
    row: np.ndarray
    end: pd.Timestamp
    report: QualityReport

    @property
    def n_customers(self) -> int:
        return len(self.customers)

    def first_purchase(self) -> np.ndarray:
        """Time of each customer's first purchase (customers are all buyers, so every entry is set)."""
        starts = np.r_[0, np.flatnonzero(np.diff(self.code)) + 1]
        return self.time[starts]


def last_day(transactions: pd.DataFrame) -> pd.Timestamp:
    """The day of the last transaction (the default ``as_of``)."""
    return pd.Timestamp(naive_utc_column(transactions)["timestamp"].max()).normalize()


def as_frame(transactions: Any, columns: tuple[str, ...] = ("customer_id", "timestamp", "amount")) -> pd.DataFrame:
    """A pandas frame of the canonical ``columns`` (ibis tables are pulled), zones converted to naive UTC."""
    if is_ibis_table(transactions):
        transactions = transactions.select(*[c for c in columns if c in transactions.columns]).to_pandas()
    if not isinstance(transactions, pd.DataFrame):
        raise DataContractError(
            f"transactions must be a pandas DataFrame or an ibis table, got {type(transactions).__name__}",
            rule="read them with crm_models.data.read_transactions")
    for column in columns:
        if column not in transactions.columns:
            raise DataContractError(
                f"transactions lack the column {column!r}; read them with crm_models.data.read_transactions",
                column=column, rule="required column")
    if not pd.api.types.is_datetime64_any_dtype(transactions["timestamp"]):
        raise DataContractError("timestamp is not a date/time column", column="timestamp",
                                rule="read transactions with crm_models.data.read_transactions first",
                                examples=transactions.head())
    return naive_utc_column(transactions)


def prepare_purchases(transactions: Any, as_of: Any = None) -> Purchases:
    """Sorted purchases (amount > 0) up to the end of ``as_of`` (default: the last transaction's day).

    Rows left out are counted by reason in the returned report: a missing customer id, a zero amount, a
    negative amount (a return: loyalty is replayed on purchases; net returns into their orders beforehand if
    they should lower spend), and a timestamp after ``as_of``.
    """
    frame = as_frame(transactions)
    end = end_exclusive(as_of if as_of is not None else last_day(frame), "as_of")
    amount = frame["amount"].to_numpy(dtype="float64", na_value=np.nan)
    if np.isnan(amount).any():
        raise DataContractError("some rows have no amount", column="amount", rule="amount must not be missing",
                                examples=frame.loc[np.isnan(amount)])
    report = QualityReport(rows_in=len(frame), amount_in=float(amount.sum()), unit="transactions")
    keep = np.ones(len(frame), dtype=bool)
    time = frame["timestamp"].to_numpy(dtype="datetime64[ns]")
    for reason, mask in (
        (REASON_MISSING_CUSTOMER, frame["customer_id"].isna().to_numpy()),
        (REASON_AFTER_END, time >= end.to_datetime64()),
        (REASON_RETURN_IGNORED, amount < 0),
        (REASON_NON_POSITIVE, amount == 0),
    ):
        dropped = mask & keep
        if dropped.any():
            report.add_drop(reason, int(dropped.sum()), float(amount[dropped].sum()))
            keep &= ~mask
    rows = np.flatnonzero(keep)
    codes, customers = frame["customer_id"].iloc[rows].astype("string").factorize(sort=True)
    order = np.lexsort((time[rows], codes))
    report.rows_kept = len(rows)
    report.amount_kept = float(amount[rows].sum())
    return Purchases(customers=pd.Index(customers, name="customer_id").astype("string"), code=codes[order],
                     time=time[rows][order], amount=amount[rows][order], row=rows[order], end=end, report=report)
