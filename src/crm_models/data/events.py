"""The ``events`` canonical table (web/app events for funnels): contract, reader and quality report.

Columns: ``customer_id``, ``event`` (the event name, e.g. ``"product_view"``), ``timestamp``; optional
``session_id`` and ``device``. The reader maps and checks columns with the machinery of
:mod:`crm_models.data.contract` and never drops rows; :func:`clean_events` drops rows on purpose (missing
customer id, missing event name, exact duplicates, events after the observation end) and counts each in a
:class:`~crm_models.data.quality.QualityReport`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from crm_models.data.contract import TableContract, read_table
from crm_models.data.engine import TableSource
from crm_models.data.quality import (
    REASON_DUPLICATE,
    REASON_MISSING_CUSTOMER,
    QualityReport,
    RowDropper,
    check_clean_input,
)
from crm_models.data.timestamps import end_exclusive
from crm_models.exceptions import DataContractError

REASON_MISSING_EVENT = "missing event name"

EVENTS = TableContract(
    name="events",
    required=("customer_id", "event", "timestamp"),
    optional=("session_id", "device"),
    timestamps=("timestamp",),
    numerics=(),
    identifiers=("customer_id", "session_id"),
    texts=("device",),
)


def read_events(
    source: TableSource,
    *,
    columns: Mapping[str, str] | None = None,
    timestamp_format: str | None = None,
    timestamp_unit: str | None = None,
    dayfirst: bool | None = None,
    csv_options: Mapping[str, Any] | None = None,
) -> Any:
    """Read web/app events into the canonical table ``customer_id, event, timestamp [, session_id, device]``.

    Parameters are those of :func:`crm_models.data.read_transactions`. Event names become strings with
    surrounding spaces removed (an empty name counts as missing; :func:`clean_events` drops and counts those).

    Raises
    ------
    DataContractError
        For a missing column, an empty table, a missing or unparseable timestamp, or a mix of time-zone-aware
        and naive timestamps; the message names the column, the rule and example rows. An ibis table is
        checked on its own backend (the ``event`` column must be a string there).
    """
    table = read_table(source, EVENTS, columns=columns, timestamp_format=timestamp_format,
                       timestamp_unit=timestamp_unit, dayfirst=dayfirst, csv_options=csv_options)
    if isinstance(table, pd.DataFrame):
        event = table["event"].astype("string").str.strip()
        table["event"] = event.mask(event == "", pd.NA)
        return table
    schema = table.schema()
    if not schema["event"].is_string():
        raise DataContractError(
            f"event has type {schema['event']}, not a string",
            column="event",
            rule="event names of an ibis table must be strings (cast them in the query)",
        )
    return table


def clean_events(
    events: pd.DataFrame,
    *,
    observation_end: Any = None,
    drop_duplicates: bool = True,
) -> tuple[pd.DataFrame, QualityReport]:
    """Drop event rows on purpose and count each dropped row by reason.

    Rules, in order: missing customer id; missing event name; exact duplicate rows (same customer, event,
    timestamp and every other column: a double-fired tracking call); timestamp after ``observation_end``
    (a date means the whole day, :func:`crm_models.data.timestamps.end_exclusive`).

    Returns the kept rows and the :class:`~crm_models.data.quality.QualityReport` (unit ``"events"``).

    Raises ``DataContractError`` when a required column is missing or duplicated or ``timestamp`` is not a
    datetime column (read raw data with :func:`read_events`); the checks are those of
    :func:`crm_models.data.quality.check_clean_input`.
    """
    check_clean_input(events, EVENTS.required, table="events", reader="crm_models.data.read_events",
                      numerics=EVENTS.numerics, timestamps=EVENTS.timestamps)
    rows = RowDropper(events, QualityReport(rows_in=len(events), unit="events"), amount=None, stage="events")
    rows.drop(rows.frame["customer_id"].isna(), REASON_MISSING_CUSTOMER)
    rows.drop(rows.frame["event"].isna(), REASON_MISSING_EVENT)
    if drop_duplicates:
        rows.drop(rows.frame.duplicated(keep="first"), REASON_DUPLICATE)
    if observation_end is not None:
        rows.drop_after(end_exclusive(observation_end, "observation_end"))
    return rows.result()


def events_quality_report(
    events: pd.DataFrame, *, observation_end: Any = None, drop_duplicates: bool = True
) -> QualityReport:
    """The :class:`~crm_models.data.quality.QualityReport` that :func:`clean_events` would produce."""
    return clean_events(events, observation_end=observation_end, drop_duplicates=drop_duplicates)[1]
