"""Data contract, readers and the quality report.

``read_transactions``/``read_touchpoints``/``read_experiment`` map user columns onto the canonical tables
and raise :class:`~crm_models.exceptions.DataContractError` on broken rules; ``clean_transactions`` drops
rows on purpose and ``quality_report`` counts them by reason. ``as_canonical_table`` is the one way in for the
engine: any source -> a canonical ibis table on a given backend, with the contract checked there.
"""

from crm_models.data.adapter import as_canonical_table
from crm_models.data.contract import read_experiment, read_touchpoints, read_transactions
from crm_models.data.engine import as_ibis_table, duckdb_backend
from crm_models.data.events import clean_events, events_quality_report, read_events
from crm_models.data.order_lines import (
    ORDER_LINES,
    clean_order_lines,
    order_lines_quality_report,
    read_order_lines,
)
from crm_models.data.quality import QualityReport, clean_transactions, quality_report

__all__ = [
    "ORDER_LINES",
    "QualityReport",
    "as_canonical_table",
    "as_ibis_table",
    "clean_events",
    "clean_order_lines",
    "clean_transactions",
    "duckdb_backend",
    "events_quality_report",
    "order_lines_quality_report",
    "quality_report",
    "read_events",
    "read_experiment",
    "read_order_lines",
    "read_touchpoints",
    "read_transactions",
]
