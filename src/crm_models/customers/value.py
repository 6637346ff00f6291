"""Customer value for the customer table: the purchase model and Gamma-Gamma spend, fitted once per run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from crm_models.clv import BetaGeoModel, GammaGammaModel, ModifiedBetaGeoModel, ParetoNBDModel
from crm_models.clv.value import customer_lifetime_value
from crm_models.customers.settings import CustomerTableSettings
from crm_models.summary import customer_summary

PURCHASE_MODEL_CLASSES = {"bgnbd": BetaGeoModel, "mbgnbd": ModifiedBetaGeoModel, "pareto": ParetoNBDModel}


@dataclass
class CustomerValues:
    """Per-customer value and the fitted models it came from.

    ``summary`` is the per-customer summary (frequency, recency, T, monetary value in ``time_unit``);
    ``values`` holds ``probability_alive``, ``expected_purchases`` and ``expected_spend`` over the horizon and
    ``clv`` (discounted margin), both indexed by ``customer_id``.
    """

    summary: pd.DataFrame
    values: pd.DataFrame
    purchase_model: Any
    spend_model: GammaGammaModel


def purchases_only(transactions: pd.DataFrame) -> pd.DataFrame:
    """The rows that count as purchases for value and RFM: positive amounts (returns are kept for churn)."""
    return transactions[transactions["amount"] > 0]


def value_customers(
    transactions: pd.DataFrame, *, observation_end: Any, settings: CustomerTableSettings
) -> CustomerValues:
    """Fit the purchase and spend models on all purchases up to ``observation_end`` and value every customer.

    The purchase model (BG/NBD, Fader, Hardie & Lee 2005; MBG/NBD, Batislam et al. 2007; or Pareto/NBD,
    Schmittlein et al. 1987) gives P(alive) and expected purchases; Gamma-Gamma (Fader & Hardie 2013) the
    expected spend per purchase; :func:`crm_models.clv.customer_lifetime_value` discounts their product.
    """
    summary = customer_summary(purchases_only(transactions), observation_end=observation_end,
                               time_unit=settings.time_unit)
    purchase_model = PURCHASE_MODEL_CLASSES[settings.purchase_model]().fit_from_summary(summary)
    spend_model = GammaGammaModel().fit_from_summary(summary)
    values = customer_lifetime_value(
        purchase_model, spend_model, summary["frequency"], summary["recency"], summary["T"],
        summary["monetary_value"], horizon=settings.horizon, time_unit=settings.time_unit,
        discount_rate=settings.discount_rate, margin=settings.margin)
    return CustomerValues(summary=summary, values=values, purchase_model=purchase_model, spend_model=spend_model)
