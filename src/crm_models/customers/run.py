"""A notebook's inputs for one run: its transactions and the run's customer table, from its parameters.

Every notebook that reports shared quantities (segments, CLV, P(alive), churn risk, value at risk) starts with
``run = load_run(globals())``: the same parameters give the same transactions and the same table, so a customer's
numbers agree across reports. Under a suite run (``crm run``) the suite's ``customer_table`` folder is set and the
first notebook builds and writes the table there, the others read it back; in JupyterLab ``customer_table`` is
``None`` and the table is built in memory.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from crm_models.customers.build import CustomerTable
from crm_models.customers.settings import CustomerTableSettings
from crm_models.customers.store import load_or_build_customer_table
from crm_models.customers.value import purchases_only
from crm_models.datasets.sources import LoadedTransactions, load_transactions_source
from crm_models.exceptions import ConfigurationError

#: The notebook parameters :func:`load_run` reads (besides the fields of :class:`CustomerTableSettings`).
RUN_PARAMETERS = ("data_source", "source_format", "column_mapping", "observation_end", "report_as_of", "seed",
                  "n_customers", "customer_table", "segment_rules")


@dataclass
class RunInputs:
    """What a notebook of a run works from: ``loaded`` (clean transactions, returns kept, and the quality report),
    ``table`` (the run's customer table) and the suite's ``segment_rules`` and ``currency``."""

    loaded: LoadedTransactions
    table: CustomerTable
    segment_rules: Any
    currency: str

    @property
    def transactions(self) -> pd.DataFrame:
        """All clean transactions up to the as-of date, returns included."""
        return self.loaded.transactions

    @property
    def purchases(self) -> pd.DataFrame:
        """The transactions that count as purchases (positive amounts), as the table's RFM and value use them."""
        return purchases_only(self.loaded.transactions)

    @property
    def value_kwargs(self) -> dict[str, Any]:
        """The table's valuation settings as keywords of :func:`crm_models.clv.customer_lifetime_value`."""
        s = self.table.settings
        return {"horizon": s.horizon, "time_unit": s.time_unit, "discount_rate": s.discount_rate, "margin": s.margin}

    @property
    def as_of(self) -> pd.Timestamp:
        """The last day included."""
        return self.table.as_of


def _inside_reports(folder: Path) -> bool:
    """True when ``folder`` lies in a project's ``reports/`` folder (beside its ``pyproject.toml``)."""
    resolved = folder.resolve()
    return any(part.name == "reports" and (part.parent / "pyproject.toml").exists()
               for part in (resolved, *resolved.parents))


def check_table_folder(folder: str | os.PathLike[str] | None) -> Path | None:
    """The customer table's folder as a path; refused under a project's ``reports/`` (the table and the
    activation export carry real customer ids, and reports are shared)."""
    if folder is None or str(folder) == "":
        return None
    path = Path(folder)
    if _inside_reports(path):
        raise ConfigurationError(
            f"customer_table={str(folder)!r} is inside the project's reports/ folder: the customer table and the "
            "activation export hold real customer ids; use data/processed/<suite>/ instead")
    return path


def load_run(parameters: Mapping[str, Any]) -> RunInputs:
    """Load the transactions named by a notebook's ``parameters`` and the run's customer table.

    ``parameters`` is a mapping of the notebook's parameter names to values (``globals()`` in a notebook):
    :data:`RUN_PARAMETERS` and the :class:`CustomerTableSettings` fields (``purchase_model``, ``horizon``,
    ``currency``, ...) are read, everything else is ignored. ``report_as_of`` (set by ``crm run --as-of``)
    overrides ``observation_end``. Returns are always kept: the table's RFM scores and value count purchases
    only, while churn features use returns, so every notebook hands the table the same transactions.
    """
    p = dict(parameters)
    folder = check_table_folder(p.get("customer_table"))
    loaded = load_transactions_source(
        p.get("data_source", "demo"), source_format=p.get("source_format") or "auto",
        columns=p.get("column_mapping") or None, observation_end=p.get("report_as_of") or p.get("observation_end"),
        returns="keep", seed=int(p.get("seed", 42)), n_customers=int(p.get("n_customers", 5_000)))
    settings = CustomerTableSettings.from_parameters(p)
    rules = p.get("segment_rules")
    table = load_or_build_customer_table(loaded.transactions, observation_end=loaded.observation_end,
                                         settings=settings, folder=folder, segment_rules=rules)
    return RunInputs(loaded, table, rules, settings.currency)
