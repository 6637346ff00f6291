"""Build the per-run customer table: one row per customer, the one place shared quantities come from.

Every report of a run reads segment, CLV, P(alive), churn probability, value at risk and the action from this
table instead of recomputing them, so a customer's numbers are the same in every report (ARCHITECTURE.md,
"customers (output)").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crm_models.churn.decisions import churn_decisions
from crm_models.customers.enrich import enrich, rules_fingerprint
from crm_models.customers.risk import ChurnScores, score_churn
from crm_models.customers.settings import CustomerTableSettings
from crm_models.customers.tags import customer_tags
from crm_models.customers.value import CustomerValues, purchases_only, value_customers
from crm_models.data.timestamps import end_exclusive, end_from_exclusive
from crm_models.rfm import rfm_scores, segment_customers, value_loyalty_matrix

TEXT_COLUMNS = ("segment", "previous_segment", "segment_change", "value_loyalty", "rfm_cell", "risk_tier", "top_reason", "action", "tags")
LAPSED_ACTION = "win-back campaign for lapsed customers"

#: Column order and meaning of the customer table (also written beside the Parquet file as its schema). Optional
#: columns follow these, documented in :mod:`crm_models.customers.enrich`: ``LIFECYCLE_COLUMNS`` and
#: ``LOYALTY_COLUMNS`` (added by the build when the settings ask) and ``NEXT_PRODUCT_COLUMNS`` (added by notebook 06).
COLUMNS: dict[str, str] = {
    "segment": "RFM segment (first matching rule of the suite's rule set)",
    "previous_segment": "RFM segment `segment_compare_days` earlier (scored on the data up to then); empty if new",
    "segment_change": "'unchanged', 'new customer' or 'previous -> current'",
    "value_loyalty": "value x loyalty quadrant (gold, potential, at risk, low value)",
    "R": "recency score 1-5 (5 = most recent)",
    "F": "frequency score 1-5",
    "M": "monetary score 1-5",
    "rfm_cell": "R, F and M scores as one code, e.g. 545",
    "frequency": "repeat purchases up to the as-of date",
    "recency": "time of the last repeat purchase since the first purchase, in the time unit",
    "T": "time since the first purchase, in the time unit",
    "monetary_value": "mean value of repeat purchases",
    "age_days": "days since the first purchase",
    "days_since_last_purchase": "days since the last purchase",
    "probability_alive": "probability that the customer is still active (purchase model)",
    "expected_purchases": "expected purchases over the value horizon",
    "expected_spend": "expected spend per purchase (Gamma-Gamma)",
    "clv": "discounted expected margin over the value horizon (money)",
    "churn_probability": "probability of no purchase in the churn horizon (active customers only)",
    "risk_tier": "high / medium / low churn risk; lapsed when not scored",
    "value_at_risk": "churn probability x CLV (money)",
    "top_reason": "the feature that raises this customer's churn risk most",
    "action": "recommended action",
    "priority": "order in which to act (1 = first): high, medium, low risk tier, each by value at risk; lapsed last",
    "tags": "profile tags ('; '-separated), see crm_models.customers.TAG_RULES",
}


@dataclass
class CustomerTable:
    """The customer table of one run and what it was built from.

    ``frame`` has one row per customer (index ``customer_id``) with the columns of :data:`COLUMNS`;
    ``as_of`` is the last day included; ``value`` and ``churn`` keep the fitted models (``None`` when read
    back from disk), ``notes`` says what could not be computed and why.
    """

    frame: pd.DataFrame
    as_of: pd.Timestamp
    settings: CustomerTableSettings
    value: CustomerValues | None = None
    churn: ChurnScores | None = None
    notes: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame)


def build_customer_table(
    transactions: pd.DataFrame, *, observation_end: Any, settings: CustomerTableSettings | None = None,
    segment_rules: Any = None,
) -> CustomerTable:
    """One row per customer with a purchase up to ``observation_end`` (a date means the whole day).

    ``transactions`` are clean canonical transactions (returns may be kept: they inform churn features, while
    value and RFM count positive amounts only). Steps: RFM scores and segment (``segment_rules`` or the default
    rule set), value x loyalty cell, CLV from :func:`~crm_models.customers.value.value_customers`, churn
    probability from :func:`~crm_models.customers.risk.score_churn`, then risk tier, value at risk (churn
    probability x CLV), action and priority from :func:`crm_models.churn.churn_decisions`, and tags.
    """
    settings = settings or CustomerTableSettings()
    data_end = end_exclusive(observation_end, "observation_end")
    as_of = end_from_exclusive(data_end)  # the day, or the instant for an end with a time of day
    purchases = purchases_only(transactions)
    scores = rfm_scores(purchases, observation_end=as_of)
    segments = segment_customers(scores, segment_rules)
    value = value_customers(transactions, observation_end=as_of, settings=settings)
    churn = score_churn(transactions, data_end=data_end, settings=settings)
    notes = [churn.note] if churn.note else []

    frame = value.summary[["frequency", "recency", "T", "monetary_value"]].join(value.values)
    frame = frame.join(scores[["R", "F", "M", "rfm_cell", "recency_days"]], how="left")
    frame["segment"] = segments.reindex(frame.index).astype(str)
    frame["previous_segment"] = _previous_segments(purchases, as_of, settings, segment_rules).reindex(frame.index)
    frame["segment_change"] = _segment_change(frame["previous_segment"], frame["segment"])
    frame["value_loyalty"] = value_loyalty_matrix(scores).reindex(frame.index).astype(str)
    first_purchase = purchases.groupby(purchases["customer_id"].astype(str))["timestamp"].min()  # ids as text
    # day to day, like days_since_last_purchase (a first purchase on the as-of day is 0 days old, at any time)
    first_day = first_purchase.reindex(frame.index.astype(str)).dt.normalize().to_numpy()
    frame["age_days"] = (as_of - pd.DatetimeIndex(first_day)).days.astype(float)
    frame["days_since_last_purchase"] = frame.pop("recency_days").astype(float)

    high_value_cut = float(frame["clv"].quantile(settings.high_value_quantile)) if len(frame) else 0.0
    decisions = _decisions(churn, frame, segments, settings, high_value_cut)
    frame = frame.join(decisions, how="left")
    frame["lapsed"] = frame["churn_probability"].isna()
    frame["risk_tier"] = frame["risk_tier"].astype(object).where(~frame["lapsed"], "lapsed")
    frame["action"] = frame["action"].where(~frame["lapsed"], LAPSED_ACTION)
    frame["priority"] = _priority(frame)
    frame["tags"] = customer_tags(frame, high_value_cut=high_value_cut,
                                  new_customer_days=settings.new_customer_days)
    frame = frame[list(COLUMNS)].sort_values("priority", kind="stable")
    for column in TEXT_COLUMNS:
        frame[column] = frame[column].astype("str")
    frame.index.name = "customer_id"
    extra = enrich(transactions, frame.index, as_of=as_of, settings=settings)  # optional columns, see enrich.py
    frame, notes = frame.join(extra.columns), notes + extra.notes
    metadata = {"as_of": str(as_of.date()), "settings": settings.to_dict(), "rows": len(frame),
                "purchase_model": type(value.purchase_model).__name__, "notes": notes,
                "added_columns": extra.descriptions, "loyalty_rules_sha256": rules_fingerprint(settings)}
    return CustomerTable(frame, as_of, settings, value, churn, notes, metadata)


def _previous_segments(purchases: pd.DataFrame, as_of: pd.Timestamp, settings: CustomerTableSettings,
                       segment_rules: Any) -> pd.Series:
    """Each customer's segment ``segment_compare_days`` before ``as_of``, scored only on purchases up to then
    (no leakage); empty when nobody had bought by then."""
    before = as_of - pd.Timedelta(days=settings.segment_compare_days)
    earlier = purchases[purchases["timestamp"] < end_exclusive(before)]
    if earlier.empty:
        return pd.Series(dtype=object)
    return segment_customers(rfm_scores(earlier, observation_end=before), segment_rules).astype(str)


def _segment_change(previous: pd.Series, current: pd.Series) -> pd.Series:
    """'unchanged', 'new customer' (no segment before) or 'previous -> current', for the CRM platform."""
    change = np.where(previous.isna(), "new customer",
                      np.where(previous == current, "unchanged", previous.astype(str) + " -> " + current))
    return pd.Series(change, index=current.index, dtype=object)


def _decisions(churn: ChurnScores, frame: pd.DataFrame, segments: pd.Series, settings: CustomerTableSettings,
               high_value_cut: float) -> pd.DataFrame:
    """Tier, value at risk, reason and action of the scored (active) customers."""
    columns = ["churn_probability", "risk_tier", "value_at_risk", "top_reason", "action"]
    if churn.probability.empty:
        return pd.DataFrame(columns=columns, index=pd.Index([], name="customer_id"), dtype=object)
    scored = churn.probability[churn.probability.index.isin(frame.index)]
    decided = churn_decisions(scored, clv=frame["clv"], segments=segments, reasons=churn.reasons["reason_1"],
                              capacity=settings.capacity, high_value_quantile=settings.high_value_quantile)
    return decided[columns]


def _priority(frame: pd.DataFrame) -> pd.Series:
    """1 = act first: the high churn-risk tier (the contact capacity), then medium, then low, each by value at
    risk (largest first); lapsed customers last, by CLV. So the first ``capacity`` priorities are exactly the
    high tier, and the action list agrees with the tiers the reports show."""
    tier_rank = frame["risk_tier"].astype(str).map({"high": 0, "medium": 1, "low": 2}).fillna(3)
    order = frame.assign(_tier=tier_rank, _var=frame["value_at_risk"].fillna(-np.inf), _clv=frame["clv"])
    order = order.sort_values(["_tier", "_var", "_clv"], ascending=[True, False, False], kind="stable")
    return pd.Series(np.arange(1, len(order) + 1), index=order.index, name="priority").reindex(frame.index)
