"""Shared pieces of the lifecycle family: input tables for the engine, proportion intervals, time units."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crm_models.data.engine import TableSource, as_ibis_table, purchase_rows
from crm_models.data.timestamps import end_exclusive, naive_utc_column
from crm_models.exceptions import DataContractError

#: ibis truncation units of the calendar periods a cohort or profile can use
PERIOD_UNITS = {"W": "W", "M": "M", "Q": "Q"}


def engine_table(source: TableSource, required: Sequence[str], *, table: str, backend: Any = None,
                 keep: Sequence[str] = ()) -> Any:
    """``source`` as an ibis table holding the ``required`` (and any present ``keep``) columns.

    pandas frames get naive-UTC timestamps first (the engine truncates to days and months in UTC); ibis tables
    stay on their own backend.
    """
    if isinstance(source, pd.DataFrame):
        missing = [c for c in required if c not in source.columns]
        if not missing:
            columns = [*required, *[c for c in keep if c in source.columns and c not in required]]
            source = naive_utc_column(source[columns])
    ibis_table = as_ibis_table(source, backend)
    for column in required:
        if column not in ibis_table.columns:
            raise DataContractError(
                f"the {table} table lacks the column {column!r}; available columns: {list(ibis_table.columns)}",
                column=column, rule="required column",
            )
    return ibis_table


def purchases(transactions: TableSource, *, backend: Any = None, observation_end: Any = None,
              keep: Sequence[str] = ()) -> tuple[Any, pd.Timestamp]:
    """Purchase rows (non-negative amount, known customer) up to the end, and the exclusive end bound.

    As in :func:`crm_models.summary.customer_summary`, a row with a non-negative amount is a purchase and
    returns (negative amounts) are ignored. Without ``observation_end`` the end is the day of the last purchase.
    """
    import ibis

    table = engine_table(transactions, ("customer_id", "timestamp", "amount"), table="transactions",
                         backend=backend, keep=keep)
    rows = purchase_rows(table)
    if observation_end is None:
        last = rows.timestamp.max().execute()
        if last is None or pd.isna(last):
            raise DataContractError("there are no purchases (rows with a non-negative amount)", column="amount",
                                    rule="at least one purchase")
        bound = end_exclusive(pd.Timestamp(last).normalize(), "observation_end")
    else:
        bound = end_exclusive(observation_end, "observation_end")
    rows = rows.filter(rows.timestamp < ibis.literal(bound.to_pydatetime()))
    return rows, bound


def period_unit(period: str) -> str:
    """The ibis truncation unit of a cohort ``period`` (``"W"``, ``"M"`` or ``"Q"``, any case), or a
    ``ValueError`` naming the choices."""
    key = str(period).upper()
    if key not in PERIOD_UNITS:
        raise ValueError(f"period must be one of {sorted(PERIOD_UNITS)} (week, month, quarter), got {period!r}")
    return PERIOD_UNITS[key]


def wilson_interval(successes: Any, n: Any, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for proportions, elementwise (NaN where ``n`` is 0).

    Wilson, E. B. (1927). Probable inference, the law of succession, and statistical inference. *JASA* 22,
    209-212 (the score interval solving ``|p - p_hat| = z sqrt(p (1 - p) / n)`` for ``p``); recommended over the
    Wald interval by Brown, Cai & DasGupta (2001), *Statistical Science* 16, 101-133, section 4.1.1.
    """
    x = np.asarray(successes, dtype="float64")
    m = np.asarray(n, dtype="float64")
    z = float(stats.norm.ppf(1.0 - alpha / 2.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / m
        denom = 1.0 + z**2 / m
        centre = (p + z**2 / (2.0 * m)) / denom
        half = z * np.sqrt(p * (1.0 - p) / m + z**2 / (4.0 * m**2)) / denom
    low = np.where(m > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
    high = np.where(m > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return low, high


def check_alpha(alpha: float) -> float:
    """``alpha`` in (0, 1), or a ``ValueError`` naming it."""
    if not 0.0 < float(alpha) < 1.0:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha!r}")
    return float(alpha)


def segment_table(segments: Any, backend_table: Any, *, name: str = "segment") -> Any:
    """A customer -> segment mapping as an ibis table ``customer_id, segment`` next to ``backend_table``.

    ``segments`` is a pandas Series indexed by customer id, or a DataFrame with ``customer_id`` and ``segment``
    columns, or an ibis table with those columns.
    """
    from crm_models.data.engine import is_ibis_table, register_frame

    if is_ibis_table(segments):
        frame = segments
    else:
        if isinstance(segments, pd.Series):
            frame = pd.DataFrame({"customer_id": segments.index.astype("string"),
                                  "segment": segments.astype("string").to_numpy()})
        elif isinstance(segments, pd.DataFrame) and {"customer_id", "segment"} <= set(segments.columns):
            frame = pd.DataFrame({"customer_id": segments["customer_id"].astype("string"),
                                  "segment": segments["segment"].astype("string")})
        else:
            raise DataContractError(
                f"{name} must be a Series indexed by customer id or a frame with customer_id and segment columns",
                column=name, rule="customer -> segment mapping")
        if frame["customer_id"].duplicated().any():
            raise DataContractError(
                f"{name} gives some customers more than one segment", column="customer_id",
                rule="one segment per customer",
                examples=frame.loc[frame["customer_id"].duplicated(keep=False)].drop(columns="customer_id"))
        con = backend_table._find_backend()
        frame = register_frame(con, frame)
    return frame.select(customer_id=frame.customer_id.cast("string"), segment=frame.segment.cast("string"))
