"""Per-segment figures of the customer table, for the reports that show segments (RFM, CLV).

Both reports read segment sizes, value, P(alive) and value at risk from the same table, so they agree; the
segment's action comes from the suite's rule set (``crm_models.rfm``), the per-customer action from the table.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crm_models.customers.build import CustomerTable
from crm_models.customers.value import purchases_only
from crm_models.rfm.segments import parse_rules


def customer_revenue(table: CustomerTable, transactions: pd.DataFrame) -> pd.Series:
    """Each table customer's revenue to date: the sum of positive amounts in ``transactions`` (the run's
    transactions, already cut at the table's as-of date), 0 for none, on the table's index."""
    purchases = purchases_only(transactions)
    revenue = purchases.groupby(purchases["customer_id"].astype(str))["amount"].sum()  # ids compared as text
    keys = table.frame.index.astype(str)
    return pd.Series(revenue.reindex(keys, fill_value=0.0).to_numpy(), index=table.frame.index, name="revenue")


def segment_overview(table: CustomerTable, *, rules: Any = None, revenue: pd.Series | None = None) -> pd.DataFrame:
    """One row per segment of the table, in the rule set's order (``rules``: the suite's ``segment_rules``).

    Columns: ``customers``, ``customer_share``, (with ``revenue``, from :func:`customer_revenue`: ``revenue``,
    ``revenue_share``), ``mean_days_since_last_purchase``, ``total_clv``, ``clv_share``, ``mean_clv``,
    ``mean_probability_alive``, ``value_at_risk`` (sum over scored customers), ``high_risk_customers`` and
    ``segment_action`` (the rule set's action for the segment). Segments without customers are left out.
    """
    frame = table.frame
    if revenue is not None:
        frame = frame.assign(revenue=revenue.reindex(frame.index, fill_value=0.0))
    grouped = frame.groupby("segment", sort=False)
    overview = pd.DataFrame({"customers": grouped.size()})
    overview["customer_share"] = overview["customers"] / max(len(frame), 1)
    if revenue is not None:
        overview["revenue"] = grouped["revenue"].sum()
        total = float(overview["revenue"].sum())
        overview["revenue_share"] = overview["revenue"] / total if total else np.nan
    overview["mean_days_since_last_purchase"] = grouped["days_since_last_purchase"].mean()
    overview["total_clv"] = grouped["clv"].sum()
    total_clv = float(overview["total_clv"].sum())
    overview["clv_share"] = overview["total_clv"] / total_clv if total_clv else np.nan
    overview["mean_clv"] = grouped["clv"].mean()
    overview["mean_probability_alive"] = grouped["probability_alive"].mean()
    overview["value_at_risk"] = grouped["value_at_risk"].sum(min_count=0)
    overview["high_risk_customers"] = frame["risk_tier"].eq("high").groupby(frame["segment"], sort=False).sum()
    parsed = parse_rules(rules)
    actions = {rule.name: rule.action for rule in parsed}
    order = [r.name for r in parsed if r.name in overview.index]
    overview = overview.reindex(order + sorted(set(overview.index) - set(order)))
    overview["segment_action"] = [actions.get(str(name), "") for name in overview.index]
    overview.index.name = "segment"
    return overview
