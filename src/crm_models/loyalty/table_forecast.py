"""The points forecast from the run's customer table: the CLV figures every report shares, not a second model fit.

:func:`~crm_models.loyalty.liability.forecast_points` needs, per customer, the probability of being alive and the
expected number of purchases over any time ``t`` (its assumption 2). The customer table holds ``probability_alive``
and ``expected_purchases`` over the table's horizon ``H`` (in its time unit), from the purchase model fitted once
per run (:mod:`crm_models.customers.value`). This module spreads those purchases evenly over the horizon:

    m(t) = E[Y(H)] / P(alive) * t / H,

the expected purchases of a customer who is alive, at a constant rate. For the BG/NBD and Pareto/NBD models the
exact ``E[Y(t)]`` is concave in ``t`` (customers drop out as time passes; Fader, Hardie & Lee 2005, eq. 10), so
the even spread puts slightly too few purchases before ``H`` and too many after it: lots that expire well
within the horizon are forecast as redeemed a little less often, i.e. breakage leans high, and the booked
liability low, by that much. Points that expire after the horizon extrapolate the same rate.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crm_models.exceptions import DataContractError
from crm_models.loyalty.ledger import PointsLedger
from crm_models.loyalty.liability import PointsForecast, forecast_points


class TablePurchaseRates:
    """Purchase expectations read from the customer table, shaped like a purchase model for
    :func:`~crm_models.loyalty.liability.forecast_points`.

    The model protocol passes three per-customer arrays named ``frequency, recency, T``; with the summary from
    :meth:`summary` they carry ``expected_purchases`` over the horizon, ``probability_alive`` and the horizon.
    """

    method_name = "expected purchases of the run's customer table, spread evenly over its horizon"

    def __init__(self, horizon: float) -> None:
        self.horizon = horizon

    @staticmethod
    def summary(table: pd.DataFrame, horizon: float) -> pd.DataFrame:
        """The per-customer inputs in the protocol's column names (see the class docstring)."""
        missing = [c for c in ("expected_purchases", "probability_alive") if c not in table]
        if missing:
            raise DataContractError(f"the customer table lacks {missing}", column=missing[0],
                                    rule="customer table from crm_models.customers.build_customer_table")
        return pd.DataFrame({"frequency": table["expected_purchases"].to_numpy(dtype=float),
                             "recency": table["probability_alive"].to_numpy(dtype=float),
                             "T": float(horizon)}, index=table.index)

    def probability_alive(self, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """P(alive), carried in ``recency``."""
        return np.clip(np.asarray(recency, dtype=float), 0.0, 1.0)

    def expected_purchases(self, t: Any, frequency: Any, recency: Any, T: Any) -> np.ndarray:
        """Expected purchases in the next ``t`` time units: the horizon's expectation times ``t / H``."""
        return np.asarray(frequency, dtype=float) * np.asarray(t, dtype=float) / float(self.horizon)


def forecast_points_from_table(
    ledger: PointsLedger, table: Any, *, redemption_share: float, point_value: float, horizon_days: int = 365,
) -> PointsForecast:
    """Forecast redemption and expiry of the points outstanding at ``ledger.as_of`` from the customer table.

    ``table`` is a :class:`~crm_models.customers.CustomerTable` of the same transactions and as-of date (its
    ``expected_purchases`` and ``probability_alive``, horizon and time unit from its settings); the rest is
    :func:`~crm_models.loyalty.liability.forecast_points` (module docstring for the even-spread assumption).
    """
    if pd.Timestamp(table.as_of).normalize() != pd.Timestamp(ledger.as_of).normalize():
        raise DataContractError(
            f"the customer table is as of {pd.Timestamp(table.as_of).date()} and the points ledger as of "
            f"{pd.Timestamp(ledger.as_of).date()}", column="as_of", rule="table and ledger share the as-of date")
    settings = table.settings
    model = TablePurchaseRates(settings.horizon)
    forecast = forecast_points(ledger, model, model.summary(table.frame, settings.horizon),
                               redemption_share=redemption_share, point_value=point_value,
                               time_unit=settings.time_unit, horizon_days=horizon_days)
    forecast.assumptions["model"] = model.method_name
    return forecast
