"""Write and read the customer table of a run, and the activation export for the CRM platform.

Layout of a run's folder (``data/processed/<suite>/``, never ``reports/``): ``customers.parquet`` (the table,
real ids), ``customers.schema.json`` (columns, their meaning and the build metadata) and ``activation.csv``
(customer id, segment, action, priority, as-of date: the input of the seeds' "automatic intervention"; once
notebook 06 added them, also each customer's next products, ``next_product_1 .. next_product_<k>``,
``next_products`` and ``next_products_model``, see :data:`crm_models.customers.enrich.NEXT_PRODUCT_COLUMNS`).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd

from crm_models.customers.build import COLUMNS, CustomerTable, build_customer_table
from crm_models.customers.enrich import NEXT_PRODUCTS_GROUP, check_next_product_columns, rules_fingerprint
from crm_models.customers.settings import CustomerTableSettings
from crm_models.data.files import atomic_write, atomic_write_csv, atomic_write_text
from crm_models.exceptions import ConfigurationError, DataContractError

TABLE_FILE = "customers.parquet"
SCHEMA_FILE = "customers.schema.json"
ACTIVATION_FILE = "activation.csv"
ACTIVATION_COLUMNS = ["customer_id", "segment", "action", "priority", "as_of"]


def transactions_fingerprint(transactions: pd.DataFrame) -> str:
    """sha256 of the transactions' content (row order matters), to tell whether a stored table still fits."""
    hashed = pd.util.hash_pandas_object(transactions, index=False).to_numpy()
    return hashlib.sha256(hashed.tobytes()).hexdigest()


def activation_columns(table: CustomerTable) -> list[str]:
    """The activation export's columns: :data:`ACTIVATION_COLUMNS`, then the columns of every group added with
    ``activation=True`` (:func:`crm_models.customers.extend.extend_customer_table`), e.g. the next products."""
    groups = (table.metadata.get("column_groups") or {}).values()
    added = [c for g in groups if g.get("activation") for c in g.get("columns", []) if c in table.frame.columns]
    return ACTIVATION_COLUMNS + added


def activation_export(table: CustomerTable) -> pd.DataFrame:
    """The rows a CRM platform acts on: real customer id, segment, action, priority, the as-of date and the added
    activation columns (:func:`activation_columns`), in priority order."""
    frame = table.frame.reset_index()
    return frame.assign(as_of=str(table.as_of.date()))[activation_columns(table)].sort_values("priority")


def write_customer_table(table: CustomerTable, folder: str | os.PathLike[str]) -> Path:
    """Write the table, its schema and the activation export into ``folder``; returns the table's path."""
    folder = Path(folder)
    frame = table.frame.reset_index()
    atomic_write(folder / TABLE_FILE, lambda p: frame.to_parquet(p, index=False))
    described = {"customer_id": "customer identifier (as in the source data)", **COLUMNS,
                 **(table.metadata.get("added_columns") or {})}
    schema = {"columns": {c: described[c] for c in frame.columns if c in described},
              "dtypes": {c: str(t) for c, t in frame.dtypes.items()}, "metadata": table.metadata}
    atomic_write_text(folder / SCHEMA_FILE, json.dumps(schema, indent=2, default=str))
    atomic_write_csv(folder / ACTIVATION_FILE, activation_export(table))
    return folder / TABLE_FILE


def check_customer_table(frame: pd.DataFrame, metadata: dict[str, Any]) -> None:
    """A stored table holds every column of :data:`COLUMNS` and of the groups added after the build
    (``metadata["column_groups"]``), and its next products follow their rules
    (:func:`~crm_models.customers.enrich.check_next_product_columns`); else ``DataContractError`` names the
    first missing column."""
    groups = metadata.get("column_groups") or {}
    needed = [*COLUMNS, *(c for g in groups.values() for c in g.get("columns", []))]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataContractError(f"the stored customer table lacks {len(missing)} of its columns", column=missing[0],
                                rule="every column of crm_models.customers.COLUMNS and of the added groups")
    if NEXT_PRODUCTS_GROUP in groups:
        check_next_product_columns(frame[groups[NEXT_PRODUCTS_GROUP]["columns"]])


def read_customer_table(path: str | os.PathLike[str]) -> CustomerTable:
    """Read a table written by :func:`write_customer_table` (``path``: the Parquet file or its folder)."""
    path = Path(path)
    if path.is_dir():
        path = path / TABLE_FILE
    schema = json.loads((path.parent / SCHEMA_FILE).read_text(encoding="utf-8"))
    metadata = schema["metadata"]
    frame = pd.read_parquet(path).set_index("customer_id")
    check_customer_table(frame, metadata)
    settings = CustomerTableSettings(**metadata["settings"])
    return CustomerTable(frame, pd.Timestamp(metadata["as_of"]), settings, notes=list(metadata.get("notes", [])),
                         metadata=metadata)


def load_or_build_customer_table(
    transactions: pd.DataFrame, *, observation_end: Any, settings: CustomerTableSettings,
    folder: str | os.PathLike[str] | None = None, segment_rules: Any = None,
) -> CustomerTable:
    """The run's customer table: read from ``folder`` when it was built from the same transactions, as-of date
    and settings, else built (and written to ``folder`` when given).

    The first notebook of a suite run builds it; the others read it, so every report shows the same numbers.
    In JupyterLab without a folder the table is built in memory. Within one suite run (``CRM_SUITE_RUN_ID``, set
    by the runner) a notebook that asks for other settings than the table was built with is refused with a
    ``ConfigurationError`` naming them, instead of silently rebuilding the table under the earlier reports.
    """
    from crm_models.rfm.segments import DEFAULT_RULE_SET

    segment_rules = DEFAULT_RULE_SET if segment_rules is None else segment_rules  # None and the default are one set
    fingerprint = transactions_fingerprint(transactions)
    stored = _read_if_valid(folder) if folder is not None and (Path(folder) / TABLE_FILE).exists() else None
    if stored is not None:
        same = (stored.metadata.get("fingerprint") == fingerprint
                and stored.metadata.get("settings") == settings.to_dict()
                and stored.metadata.get("segment_rules") == repr(segment_rules)
                and stored.metadata.get("loyalty_rules_sha256") == rules_fingerprint(settings))
        if same and stored.metadata.get("observation_end") == str(observation_end):
            return stored
        run_id = os.environ.get("CRM_SUITE_RUN_ID")
        if run_id and stored.metadata.get("suite_run_id") == run_id:
            raise ConfigurationError(
                "this notebook asks for a different customer table than the one this run already built: "
                + _differences(stored.metadata, settings, segment_rules, observation_end, fingerprint)
                + ". Set the table's settings once, at suite level (parameters: at the top of the suite file).")
    table = build_customer_table(transactions, observation_end=observation_end, settings=settings,
                                 segment_rules=segment_rules)
    table.metadata.update(fingerprint=fingerprint, observation_end=str(observation_end),
                          segment_rules=repr(segment_rules), suite_run_id=os.environ.get("CRM_SUITE_RUN_ID"))
    if folder is not None:
        write_customer_table(table, folder)
    return table


def _read_if_valid(folder: str | os.PathLike[str]) -> CustomerTable | None:
    """The stored table, or ``None`` when it breaks the table's contract (e.g. written by an older version of the
    package without a column the table has now): such a table is rebuilt rather than reused."""
    try:
        return read_customer_table(folder)
    except DataContractError:
        return None


def _differences(metadata: dict[str, Any], settings: CustomerTableSettings, segment_rules: Any,
                 observation_end: Any, fingerprint: str) -> str:
    """What differs between a stored table's metadata and a request, in words."""
    parts = [f"{name}={value!r} (table: {metadata.get('settings', {}).get(name)!r})"
             for name, value in settings.to_dict().items() if metadata.get("settings", {}).get(name) != value]
    if metadata.get("segment_rules") != repr(segment_rules):
        parts.append(f"segment_rules={segment_rules!r} (table: {metadata.get('segment_rules')})")
    if metadata.get("observation_end") != str(observation_end):
        parts.append(f"observation_end={observation_end} (table: {metadata.get('observation_end')})")
    if metadata.get("fingerprint") != fingerprint:
        parts.append("other transactions (a different data source or cleaning)")
    if metadata.get("loyalty_rules_sha256") != rules_fingerprint(settings):
        parts.append(f"the content of the loyalty rule file {settings.loyalty_rules!r}")
    return "; ".join(parts) or "unknown difference"
