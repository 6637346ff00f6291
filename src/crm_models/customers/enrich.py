"""Optional columns of the customer table: each customer's purchase rhythm and their loyalty standing.

Two groups, each switched on by a :class:`~crm_models.customers.settings.CustomerTableSettings` field so that
every notebook of a run builds the same table:

* ``lifecycle_columns=True``: the usual interval between purchases, the next expected purchase and the overdue
  flag, from :func:`crm_models.lifecycle.purchase_cycles` (a lognormal rhythm per customer shrunk toward the
  population, Gelman et al. 2013, *Bayesian Data Analysis*, section 5.4; see that module);
* ``loyalty_rules="<path to a YAML rule set>"``: the tier held, points outstanding and points expiring within
  ``points_expiring_days`` days, from the rule set replayed on the run's history
  (:func:`crm_models.loyalty.customer_loyalty`).

Both are computed on the same transactions and as-of date as the rest of the table. When the data cannot give
them (e.g. fewer than two repeat buyers for a rhythm), the columns are left empty and the reason is returned as
a note, like the churn model's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crm_models.customers.settings import CustomerTableSettings
from crm_models.exceptions import DataContractError

#: The lifecycle columns and their meaning (added when ``settings.lifecycle_columns`` is true).
LIFECYCLE_COLUMNS: dict[str, str] = {
    "usual_interval_days": "usual days between the customer's purchases (median of their rhythm, shrunk toward "
                           "the population for customers with few purchases)",
    "next_expected_purchase": "day of the last purchase plus the usual interval",
    "overdue": "silence since the last purchase is longer than 90% of the customer's own next intervals",
}
#: The loyalty columns and their meaning (added when ``settings.loyalty_rules`` names a rule set).
LOYALTY_COLUMNS: dict[str, str] = {
    "tier": "loyalty tier held at the as-of date under the suite's rule set",
    "points_outstanding": "loyalty points earned and neither redeemed nor expired",
    "points_expiring_soon": "outstanding points that expire within `points_expiring_days` days unless redeemed",
}


@dataclass
class Enrichment:
    """Columns to join onto the customer table (index ``customer_id``), their meaning, and notes on what was
    left empty and why."""

    columns: pd.DataFrame
    descriptions: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def rules_fingerprint(settings: CustomerTableSettings) -> str | None:
    """sha256 of the loyalty rule file named by ``settings.loyalty_rules`` (``None`` without one), so that a stored
    table built under an edited rule file is not reused (the settings hold only its path)."""
    if not settings.loyalty_rules:
        return None
    path = Path(settings.loyalty_rules)
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


def lifecycle_columns(transactions: pd.DataFrame, *, as_of: pd.Timestamp,
                      overdue_quantile: float = 0.9) -> pd.DataFrame:
    """``usual_interval_days``, ``next_expected_purchase`` and ``overdue`` per customer up to the end of
    ``as_of`` (see :func:`crm_models.lifecycle.purchase_cycles`)."""
    from crm_models.lifecycle import purchase_cycles

    cycles = purchase_cycles(transactions[["customer_id", "timestamp", "amount"]], observation_end=as_of,
                             overdue_quantile=overdue_quantile)
    return pd.DataFrame({"usual_interval_days": cycles["usual_interval"].astype(float),
                         "next_expected_purchase": cycles["expected_next_purchase"],
                         "overdue": cycles["overdue"].astype(bool)}, index=cycles.index)


def loyalty_columns(transactions: pd.DataFrame, rules: Any, *, as_of: pd.Timestamp,
                    expiring_within_days: int = 30) -> pd.DataFrame:
    """``tier``, ``points_outstanding`` and ``points_expiring_soon`` per customer at the end of ``as_of``.

    ``rules`` is a :class:`~crm_models.loyalty.LoyaltyRules` or the path of a YAML rule set.
    """
    from crm_models.loyalty import LoyaltyRules, customer_loyalty

    if not isinstance(rules, LoyaltyRules):
        rules = LoyaltyRules.from_yaml(rules)
    loyalty = customer_loyalty(transactions[["customer_id", "timestamp", "amount"]], rules, as_of=as_of,
                               expiring_within_days=expiring_within_days)
    return pd.DataFrame({"tier": loyalty["tier"].astype(str),
                         "points_outstanding": loyalty["points_outstanding"].astype(float),
                         "points_expiring_soon": loyalty["points_expiring_soon"].astype(float)},
                        index=loyalty.index)


def _empty(index: pd.Index, columns: dict[str, str]) -> pd.DataFrame:
    kinds = {"next_expected_purchase": "datetime64[ns]", "overdue": "boolean", "tier": "str"}
    return pd.DataFrame({c: pd.Series(np.nan if kinds.get(c) is None else None, index=index,
                                      dtype=kinds.get(c, "float64")) for c in columns})


def enrich(transactions: pd.DataFrame, customers: pd.Index, *, as_of: pd.Timestamp,
           settings: CustomerTableSettings) -> Enrichment:
    """The optional columns the ``settings`` ask for, for the table's ``customers`` (empty when none is asked).

    Customers missing from a computation (none are expected: both use the table's purchases) get missing values
    in its columns; a group the data cannot give is left empty with a note naming the reason.
    """
    parts: list[pd.DataFrame] = []
    descriptions: dict[str, str] = {}
    notes: list[str] = []
    if settings.lifecycle_columns:
        try:
            part = lifecycle_columns(transactions, as_of=as_of)
        except DataContractError as error:
            part = _empty(customers, LIFECYCLE_COLUMNS)
            notes.append(f"no purchase rhythm: {str(error).splitlines()[0]}")
        parts.append(part)
        descriptions.update(LIFECYCLE_COLUMNS)
    if settings.loyalty_rules:
        try:
            part = loyalty_columns(transactions, settings.loyalty_rules, as_of=as_of,
                                   expiring_within_days=settings.points_expiring_days)
        except DataContractError as error:
            part = _empty(customers, LOYALTY_COLUMNS)
            notes.append(f"no loyalty columns: {str(error).splitlines()[0]}")
        parts.append(part)
        descriptions.update(LOYALTY_COLUMNS)
    keys = pd.Index(customers.astype(str), name=customers.name)
    frames = [p.set_axis(p.index.astype(str)).reindex(keys).set_axis(customers) for p in parts]
    columns = pd.concat(frames, axis=1) if frames else pd.DataFrame(index=customers)
    if "overdue" in columns:
        columns["overdue"] = columns["overdue"].astype("boolean")
    return Enrichment(columns, descriptions, notes)
