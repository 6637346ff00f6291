"""RFM inputs and scores: recency, frequency and monetary value per customer, scored 1-5 and 0-100.

Scoring follows the classic RFM practice (Hughes 1994, "Strategic Database Marketing"): each dimension is ranked
across customers; a short recency (days since the last purchase) is good, high frequency and spend are good.

Tie rule (documented, deterministic): customers with equal values share their *mid-rank* (the average of the
ranks they occupy). The percentile score is ``100 * (midrank - 0.5) / n`` (in ``(0, 100)``) and the quantile
score is ``min(n_bins, floor(percentile * n_bins / 100) + 1)``, so equal values always get equal scores and no
customer's score depends on the order of the rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crm_models.data.adapter import as_canonical_table
from crm_models.data.engine import TableSource
from crm_models.data.timestamps import as_engine_bound, end_exclusive, end_inclusive_day
from crm_models.exceptions import DataContractError


def rfm_inputs(
    transactions: TableSource,
    *,
    observation_end: str | pd.Timestamp | None = None,
    backend: Any = None,
) -> pd.DataFrame:
    """Per customer: ``recency_days`` (days from the last purchase to the last day of the window),
    ``frequency`` (number of purchases: rows with a non-negative amount, the same rule as
    :func:`crm_models.summary.customer_summary`), ``monetary`` (net spend: purchases
    minus returns), ``first_purchase`` and ``last_purchase``; computed by the engine (ibis, DuckDB by default).

    ``observation_end`` follows the one rule for end dates (:func:`crm_models.data.timestamps.end_exclusive`): a
    date, as a string or a midnight timestamp, includes the whole day; a value with a time includes rows up to that
    instant (recency still counts from its day). Defaults to the day of the last transaction."""
    import ibis

    if observation_end is not None:  # a bad end is a configuration error before any data is read
        bound = end_exclusive(observation_end, "observation_end")
        end_day = end_inclusive_day(observation_end, "observation_end")
    table = as_canonical_table(transactions, "transactions", backend=backend, extra_columns=False)
    table = table.filter(table.customer_id.notnull())
    if observation_end is None:
        last = table.timestamp.max().execute()
        if last is None or pd.isna(last):
            raise DataContractError("the transactions table has no rows with a customer id: there is nothing "
                                    "to score", column="customer_id", rule="a table must have at least one row")
        end_day = pd.Timestamp(last).normalize()
        bound = end_day + pd.Timedelta(days=1)
    table = table.filter(table.timestamp.cast("timestamp") < ibis.literal(as_engine_bound(bound)))
    is_purchase = table.amount >= 0
    stats = table.group_by(customer_id=table.customer_id.cast("string")).aggregate(
        first_purchase=table.timestamp.min(where=is_purchase),
        last_purchase=table.timestamp.max(where=is_purchase),
        frequency=is_purchase.cast("int64").sum(),
        monetary=table.amount.sum(),
    )
    stats = stats.filter(stats.frequency > 0)
    out = stats.to_pandas().set_index("customer_id").sort_index()
    if out.empty:
        raise DataContractError("no customer has a purchase (a row with a non-negative amount) in the window",
                                column="amount", rule="at least one purchase")
    last_day = pd.to_datetime(out["last_purchase"]).dt.normalize()
    out["recency_days"] = (end_day - last_day).dt.days.astype("int64")
    out["frequency"] = out["frequency"].astype("int64")
    out["monetary"] = out["monetary"].astype("float64")
    out.index = out.index.astype("string")
    return out[["recency_days", "frequency", "monetary", "first_purchase", "last_purchase"]]


def percentile_scores(values: pd.Series | np.ndarray, *, higher_is_better: bool = True) -> np.ndarray:
    """Mid-rank percentile of each value in ``(0, 100)``; ties share a score (see the module docstring)."""
    array = np.asarray(values, dtype="float64")
    if array.size == 0:
        return array
    if np.isnan(array).any():
        raise DataContractError("RFM inputs contain missing values", rule="scores need complete values")
    ranks = pd.Series(array if higher_is_better else -array).rank(method="average").to_numpy()
    return 100.0 * (ranks - 0.5) / array.size


def quantile_scores(percentiles: np.ndarray, n_bins: int = 5) -> np.ndarray:
    """Turn percentile scores into ``1..n_bins`` quantile scores."""
    return np.minimum(n_bins, np.floor(np.asarray(percentiles) * n_bins / 100.0).astype(np.int64) + 1)


def rfm_scores(
    transactions: TableSource | None = None,
    *,
    inputs: pd.DataFrame | None = None,
    observation_end: str | pd.Timestamp | None = None,
    n_bins: int = 5,
    backend: Any = None,
) -> pd.DataFrame:
    """RFM scores per customer.

    Pass canonical ``transactions`` (aggregated by the engine with :func:`rfm_inputs`) or ready ``inputs`` with
    ``recency_days``, ``frequency`` and ``monetary`` columns indexed by customer.

    Returns the inputs plus ``R``, ``F``, ``M`` (quantile scores ``1..n_bins``, higher is better), ``R_pct``,
    ``F_pct``, ``M_pct`` (percentile scores 0-100), ``rfm_cell`` (e.g. ``"545"``) and ``rfm_total`` (R+F+M).
    """
    if n_bins < 2:
        raise ValueError(f"n_bins must be at least 2, got {n_bins}")
    if inputs is None:
        if transactions is None:
            raise ValueError("pass transactions or inputs")
        inputs = rfm_inputs(transactions, observation_end=observation_end, backend=backend)
    for column in ("recency_days", "frequency", "monetary"):
        if column not in inputs.columns:
            raise DataContractError(f"RFM inputs lack {column!r}", column=column, rule="required column")
    if len(inputs) == 0:
        raise DataContractError("the RFM inputs are empty: there are no customers to score",
                                rule="at least one customer")
    if (inputs["recency_days"] < 0).any():
        raise DataContractError(
            "recency is negative: a purchase falls after the observation end",
            column="recency_days", rule="recency_days >= 0", examples=inputs.loc[inputs["recency_days"] < 0],
        )
    out = inputs.copy()
    out["R_pct"] = percentile_scores(out["recency_days"], higher_is_better=False)
    out["F_pct"] = percentile_scores(out["frequency"])
    out["M_pct"] = percentile_scores(out["monetary"])
    for letter in "RFM":
        out[letter] = quantile_scores(out[f"{letter}_pct"].to_numpy(), n_bins)
    out["rfm_cell"] = out["R"].astype(str) + out["F"].astype(str) + out["M"].astype(str)
    out["rfm_total"] = out["R"] + out["F"] + out["M"]
    return out
