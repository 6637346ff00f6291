"""Dropping rows on purpose, and counting every dropped row by reason.

A :class:`QualityReport` records, per reason, how many rows were dropped and how much money they carried,
plus the rows and money kept, so that nothing disappears silently between the raw file and a model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from crm_models.data.contract import EXAMPLE_ROWS, check_unique_columns
from crm_models.data.timestamps import bound_like, end_exclusive
from crm_models.exceptions import DataContractError

REASON_MISSING_CUSTOMER = "missing customer id"
REASON_RETURN = "cancellation or return"
REASON_NON_POSITIVE = "non-positive amount"
REASON_DUPLICATE = "exact duplicate"
REASON_AFTER_END = "timestamp after observation end"


@dataclass
class QualityReport:
    """Rows in, rows kept, and rows dropped by reason (with the money they carried).

    ``stage`` names where rows were counted (``"lines"`` for raw line items, ``"transactions"`` after
    aggregation), since a loader may drop at both levels. A chained report (:meth:`merge`) keeps how many rows
    came in at each stage in ``stage_rows_in`` (stage -> rows, ``"result"`` for the kept row); a stage not
    listed there came in with ``rows_in``.
    """

    rows_in: int = 0
    rows_kept: int = 0
    amount_in: float = 0.0
    amount_kept: float = 0.0
    unit: str = "rows"
    drops: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stage_rows_in: dict[str, int] = field(default_factory=dict)

    def add_drop(self, reason: str, rows: int, amount: float = 0.0, stage: str = "transactions") -> None:
        """Record that ``rows`` rows carrying ``amount`` were dropped for ``reason``."""
        self.drops.append({"stage": stage, "reason": reason, "rows": int(rows), "amount": float(amount)})

    @property
    def rows_dropped(self) -> int:
        """Total rows dropped over every reason and stage."""
        return sum(d["rows"] for d in self.drops)

    def dropped(self, reason: str, stage: str | None = None) -> int:
        """Rows dropped for ``reason`` (optionally at one ``stage``)."""
        return sum(d["rows"] for d in self.drops if d["reason"] == reason and (stage is None or d["stage"] == stage))

    def rows_in_at(self, stage: str) -> int:
        """The rows that came in at ``stage`` (``"result"``: at the last stage, whose rows were kept or not)."""
        return int(self.stage_rows_in.get(stage, self.rows_in))

    def to_frame(self) -> pd.DataFrame:
        """One row per (stage, reason) plus the kept totals; shares are of the rows that came in at that stage.

        A drop's ``share_of_input`` is its rows over the rows that came in at its stage, and the kept row's is
        over the rows that came in at the last stage: in a chained report (lines, then the invoices they made)
        invoices are never divided by lines.
        """
        rows = [dict(d) for d in self.drops]
        rows.append({"stage": "result", "reason": "kept", "rows": self.rows_kept, "amount": self.amount_kept})
        frame = pd.DataFrame(rows, columns=["stage", "reason", "rows", "amount"])
        came_in = frame["stage"].map(lambda stage: max(self.rows_in_at(stage), 1))
        frame["share_of_input"] = frame["rows"] / came_in.astype("float64")
        return frame

    def merge(self, later: QualityReport) -> QualityReport:
        """Chain two reports: this one's input, both reports' drops, the later one's kept totals, and the rows
        that came in at each stage (:meth:`rows_in_at`; ``later.rows_in`` for the later report's stages).

        Raises ``ValueError`` when both reports drop rows at a stage of the same name (its share would have two
        inputs); give the stages different names.
        """
        earlier_stages = {d["stage"] for d in self.drops}
        later_stages = {d["stage"] for d in later.drops}
        shared = sorted(earlier_stages & later_stages)
        if shared:
            raise ValueError(f"both reports drop rows at the stage(s) {shared}; chained stages need their own names")
        stage_rows_in = {stage: self.rows_in_at(stage) for stage in earlier_stages}
        stage_rows_in.update({stage: later.rows_in_at(stage) for stage in later_stages})
        stage_rows_in["result"] = later.rows_in_at("result")
        return QualityReport(
            rows_in=self.rows_in,
            rows_kept=later.rows_kept,
            amount_in=self.amount_in,
            amount_kept=later.amount_kept,
            unit=self.unit,
            drops=self.drops + later.drops,
            notes=self.notes + later.notes,
            stage_rows_in=stage_rows_in,
        )

    def __str__(self) -> str:
        lines = [f"{self.rows_in:,} {self.unit} in, {self.rows_kept:,} kept"]
        for d in self.drops:
            lines.append(f"  dropped {d['rows']:>9,} ({d['stage']}): {d['reason']}")
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])


class RowDropper:
    """Drops rows on purpose, one rule at a time, and counts each rule's rows in a :class:`QualityReport`.

    ``frame`` is the table still kept. :meth:`drop` removes the rows where a mask over ``frame`` is true and
    records how many there were under the reason (with the sum of the ``amount`` column they carried, when one
    is named) at ``stage``; a rule that drops nothing is not recorded.
    """

    def __init__(self, frame: pd.DataFrame, report: QualityReport, *, amount: str | None = "amount",
                 stage: str = "transactions") -> None:
        self.frame = frame
        self.report = report
        self.amount = amount
        self.stage = stage

    def drop(self, mask: pd.Series, reason: str) -> None:
        """Drop the rows of :attr:`frame` where ``mask`` is true and count them under ``reason``."""
        if mask.any():
            money = float(self.frame.loc[mask, self.amount].sum()) if self.amount is not None else 0.0
            self.report.add_drop(reason, int(mask.sum()), money, stage=self.stage)
            self.frame = self.frame.loc[~mask]

    def drop_after(self, bound: pd.Timestamp, column: str = "timestamp") -> None:
        """Drop rows at or after the exclusive naive-UTC ``bound`` (:func:`~crm_models.data.timestamps.end_exclusive`),
        comparing in UTC when ``column`` carries a zone."""
        stamps = self.frame[column]
        self.drop(stamps >= bound_like(bound, stamps), REASON_AFTER_END)

    def result(self) -> tuple[pd.DataFrame, QualityReport]:
        """The kept rows (index reset) and the report, with the kept rows (and amount, when named) filled in."""
        frame = self.frame.reset_index(drop=True)
        self.report.rows_kept = len(frame)
        if self.amount is not None:
            self.report.amount_kept = float(frame[self.amount].sum())
        return frame, self.report


def require_columns(frame: pd.DataFrame, columns: tuple[str, ...], *, table: str, reader: str) -> None:
    """A ``DataContractError`` naming the first of ``columns`` that ``frame`` lacks and the ``reader`` to use."""
    for column in columns:
        if column not in frame.columns:
            raise DataContractError(
                f"{table} lack the column {column!r}; read them with {reader} first",
                column=column, rule="required column",
            )


def clean_transactions(
    transactions: pd.DataFrame,
    *,
    returns: Literal["drop", "keep"] = "drop",
    observation_end: str | pd.Timestamp | None = None,
    drop_duplicates: bool = True,
) -> tuple[pd.DataFrame, QualityReport]:
    """Apply the dropping rules to canonical transactions and count each dropped row by reason.

    Rules, in order: missing customer id; cancellation or return (negative amount, when ``returns="drop"``);
    zero amount (and negative amounts when returns are dropped) as non-positive; exact duplicate rows;
    timestamp after ``observation_end`` (inclusive end of the observation window). ``observation_end`` follows
    the one rule for end dates (:func:`crm_models.data.timestamps.end_exclusive`): a date without a time, as a
    string or a midnight timestamp, keeps the whole day; a value with a time keeps rows up to that instant.

    Raises ``DataContractError`` when a required column is missing or duplicated, when ``amount`` is not numeric
    or ``timestamp`` is not a datetime column (read raw data with :func:`crm_models.data.read_transactions`),
    and ``ConfigurationError`` when ``observation_end`` is not a date.

    Returns the kept rows and the :class:`QualityReport`.
    """
    if returns not in ("drop", "keep"):
        raise DataContractError(f"returns must be 'drop' or 'keep', got {returns!r}", rule="returns in {drop, keep}")
    check_clean_input(transactions, ("customer_id", "timestamp", "amount"), table="transactions",
                      reader="crm_models.data.read_transactions", numerics=("amount",), timestamps=("timestamp",))
    bound = end_exclusive(observation_end, "observation_end") if observation_end is not None else None
    report = QualityReport(rows_in=len(transactions), amount_in=float(transactions["amount"].sum()),
                           unit="transactions")
    rows = RowDropper(transactions, report)
    rows.drop(rows.frame["customer_id"].isna(), REASON_MISSING_CUSTOMER)
    if returns == "drop":
        rows.drop(rows.frame["amount"] < 0, REASON_RETURN)
    rows.drop(rows.frame["amount"] == 0, REASON_NON_POSITIVE)
    if drop_duplicates:
        rows.drop(rows.frame.duplicated(keep="first"), REASON_DUPLICATE)
    if bound is not None:
        rows.drop_after(bound)
    return rows.result()


def quality_report(
    transactions: pd.DataFrame,
    *,
    returns: Literal["drop", "keep"] = "drop",
    observation_end: str | pd.Timestamp | None = None,
    drop_duplicates: bool = True,
) -> QualityReport:
    """The :class:`QualityReport` that :func:`clean_transactions` would produce, without keeping the rows."""
    return clean_transactions(transactions, returns=returns, observation_end=observation_end,
                              drop_duplicates=drop_duplicates)[1]


def check_clean_input(frame: pd.DataFrame, required: tuple[str, ...], *, table: str, reader: str,
                      numerics: tuple[str, ...] = (), timestamps: tuple[str, ...] = ()) -> None:
    """The checks every ``clean_*`` function makes before it drops rows, in one place.

    A ``DataContractError`` naming the column, the rule and example rows when ``frame`` has a duplicated column
    name, lacks one of ``required``, has a column of ``numerics`` that is not numeric (booleans are not amounts)
    or a column of ``timestamps`` that is not a datetime column; the message points at ``reader``, which parses
    raw data.
    """
    check_unique_columns(frame, table)
    require_columns(frame, required, table=table, reader=reader)
    for column in numerics:
        values = frame[column]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            bad = values.notna() & pd.to_numeric(values, errors="coerce").isna()
            examples = frame.loc[bad] if bad.any() else frame.head(EXAMPLE_ROWS)
            raise DataContractError(
                f"{column} has dtype {values.dtype}, not a number; read the table with {reader}, which parses "
                "numbers and names the rows that are not numbers",
                column=column, rule=f"{column} must be numeric", examples=examples,
            )
    for column in timestamps:
        values = frame[column]
        if not pd.api.types.is_datetime64_any_dtype(values):
            raise DataContractError(
                f"{column} has dtype {values.dtype}, not a datetime; read the table with {reader}",
                column=column, rule=f"{column} must be a datetime column", examples=frame.head(EXAMPLE_ROWS),
            )
