"""Add columns to a run's customer table after it was built, and rewrite it where the run keeps it.

Some columns need a model that only one notebook fits (the next products of notebook 06, from the recommender
its temporal evaluation chose). That notebook computes them as an
:class:`~crm_models.customers.enrich.Enrichment` with a ``group`` name and hands it to
:func:`extend_customer_table`: the columns are joined onto the table, their meaning goes into the table's
metadata (``added_columns``, written to ``customers.schema.json`` with the other columns), and the table, its
schema and the activation export are rewritten in the run's folder. The later notebooks of the run read the
extended table back (the build settings, data fingerprint and as-of date are unchanged, so it is reused).
"""

from __future__ import annotations

import copy
import dataclasses
import os

import pandas as pd

from crm_models.customers.build import COLUMNS, CustomerTable
from crm_models.customers.enrich import NEXT_PRODUCTS_GROUP, Enrichment, check_next_product_columns
from crm_models.customers.run import check_table_folder
from crm_models.customers.store import write_customer_table
from crm_models.exceptions import ConfigurationError


def extend_customer_table(table: CustomerTable, enrichment: Enrichment, *,
                          folder: str | os.PathLike[str] | None = None) -> CustomerTable:
    """``table`` with the columns of ``enrichment`` joined on (a new table; ``table`` is left as it was).

    The enrichment's columns are matched to the table's customers by id (compared as strings); customers it
    lacks get missing values. Adding a group again (a notebook run twice on the same table) first drops the
    columns and notes the group added before. A column that the table already has from elsewhere is refused with a
    ``ConfigurationError`` naming it. With ``folder`` (the run's ``customer_table``; refused under
    ``reports/``) the extended table is written there by
    :func:`~crm_models.customers.store.write_customer_table`.
    """
    if not enrichment.group:
        raise ConfigurationError("columns added after the build need a group name (Enrichment.group)")
    if enrichment.group == NEXT_PRODUCTS_GROUP:
        check_next_product_columns(enrichment.columns)
    metadata = copy.deepcopy(table.metadata)
    groups = dict(metadata.get("column_groups") or {})
    before = groups.pop(enrichment.group, None) or {}
    previous, stale_notes = list(before.get("columns", [])), set(before.get("notes", []))
    frame = table.frame.drop(columns=[c for c in previous if c in table.frame.columns])
    clash = [c for c in enrichment.columns.columns if c in frame.columns or c in COLUMNS]
    if clash:
        raise ConfigurationError(f"column {clash[0]!r} of the {enrichment.group!r} group is already in the "
                                 "customer table; added columns must not replace the table's own")
    keys = pd.Index(frame.index.astype(str), name=frame.index.name)
    added = enrichment.columns.set_axis(enrichment.columns.index.astype(str)).reindex(keys).set_axis(frame.index)
    frame = frame.join(added)
    descriptions = {c: d for c, d in (metadata.get("added_columns") or {}).items() if c not in previous}
    descriptions.update({c: d for c, d in enrichment.descriptions.items() if c in added.columns})
    groups[enrichment.group] = {**enrichment.details, "columns": list(added.columns),
                                "activation": bool(enrichment.activation), "notes": list(enrichment.notes)}
    notes = list(dict.fromkeys([*(n for n in table.notes if n not in stale_notes), *enrichment.notes]))
    metadata.update(added_columns=descriptions, column_groups=groups, notes=notes)
    extended = dataclasses.replace(table, frame=frame, notes=notes, metadata=metadata)
    target = check_table_folder(folder)
    if target is not None:
        write_customer_table(extended, target)
    return extended
