"""Customer lifetime value in money: expected purchases x expected spend x margin, discounted.

Every assumption is an argument: the ``horizon`` and the model's ``time_unit`` (so a model fitted in
weeks and a horizon in weeks agree), the yearly ``discount_rate``, the ``margin`` (share of revenue
kept) and the cash-flow step (``step``) at which money is discounted. There are no hidden month or
year constants: the only calendar facts used are the ones named below.

The discounted value of customer ``i`` is (Fader, Hardie & Lee 2005b, "RFM and CLV", eq. 2 in discrete
steps)::

    CLV_i = margin * E[spend_i] * sum_k (E[Y_i(t_k)] - E[Y_i(t_{k-1})]) * (1 + d)^(-t_k / year)

with ``t_k = min(k * step, horizon)`` and ``E[Y_i(t)]`` the purchase model's conditional expectation.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crm_models.clv._base import PurchaseModel
from crm_models.clv.gamma_gamma import GammaGammaModel
from crm_models.exceptions import DataContractError
from crm_models.units import DAYS_PER_YEAR, time_unit_days


def unit_in_days(time_unit: str | float) -> float:
    """Length of ``time_unit`` in days (see :func:`crm_models.units.time_unit_days`)."""
    return time_unit_days(time_unit)


def discount_factors(times: np.ndarray, *, time_unit: str | float, discount_rate: float) -> np.ndarray:
    """``(1 + discount_rate) ** (-t / year)`` for times ``t`` in ``time_unit`` (yearly rate, compounded exactly)."""
    if discount_rate <= -1:
        raise ValueError("discount_rate must be > -1 (it is a yearly rate such as 0.10)")
    years = np.asarray(times, dtype=float) * unit_in_days(time_unit) / DAYS_PER_YEAR
    return np.exp(-years * np.log1p(discount_rate))


def _expected_spend(spend_model: GammaGammaModel | float | None, frequency: Any, monetary_value: Any,
                    n: int) -> np.ndarray:
    if spend_model is None:
        if monetary_value is None:
            raise ValueError("pass a fitted spend model, a spend per purchase, or monetary_value")
        return np.asarray(monetary_value, dtype=float)
    if isinstance(spend_model, int | float):
        return np.full(n, float(spend_model))
    if monetary_value is None:
        raise ValueError("monetary_value is needed to compute the conditional expected spend")
    return np.asarray(spend_model.expected_spend(np.asarray(frequency, dtype=float),
                                                 np.asarray(monetary_value, dtype=float)), dtype=float)


def customer_lifetime_value(
    purchase_model: PurchaseModel,
    spend_model: GammaGammaModel | float | None,
    frequency: Any,
    recency: Any,
    T: Any,
    monetary_value: Any = None,
    *,
    horizon: float,
    time_unit: str | float,
    discount_rate: float,
    margin: float = 1.0,
    step: float | None = None,
) -> pd.DataFrame:
    """Expected discounted margin of each customer over the next ``horizon`` time units.

    Parameters
    ----------
    purchase_model
        A fitted :class:`~crm_models.clv.BetaGeoModel`, :class:`~crm_models.clv.ModifiedBetaGeoModel` or
        :class:`~crm_models.clv.ParetoNBDModel`.
    spend_model
        A fitted :class:`~crm_models.clv.GammaGammaModel` (conditional expected spend, FH13 eq. 5), a
        number (the same spend per purchase for everybody) or ``None`` (use ``monetary_value`` as is).
    frequency, recency, T, monetary_value
        Per-customer calibration summary in the model's time unit (Series keep their index).
    horizon
        How far ahead to value, in ``time_unit`` (e.g. 52 with weeks for one year).
    time_unit
        The unit the purchase model was fitted in: ``"D"``, ``"W"`` or a number of days.
    discount_rate
        Yearly discount rate (0.10 = 10% a year); applied at every cash-flow step.
    margin
        Share of revenue kept as profit (1.0 values revenue).
    step
        Cash-flow step in ``time_unit`` (default: one ``time_unit``, capped at 120 steps over the horizon).

    Returns
    -------
    DataFrame with ``probability_alive``, ``expected_purchases`` (undiscounted, over the horizon),
    ``expected_spend`` (per purchase) and ``clv`` (discounted margin), one row per customer.
    """
    if horizon <= 0:
        raise ValueError(f"horizon must be positive, got {horizon}")
    if not 0 <= margin <= 1:
        raise ValueError(f"margin is a share of revenue in [0, 1], got {margin}")
    x, tx, big_t = purchase_model._prepare(frequency, recency, T)
    index = frequency.index if isinstance(frequency, pd.Series) else pd.RangeIndex(len(x))
    spend = _expected_spend(spend_model, x, monetary_value, len(x))
    if len(spend) != len(x):
        raise DataContractError("monetary_value must have one value per customer", column="monetary_value",
                                rule="equal lengths")
    if step is None:
        step = max(1.0, horizon / 120)
    if step <= 0:
        raise ValueError("step must be positive")
    n_steps = int(np.ceil(horizon / step - 1e-9))
    times = np.minimum(np.arange(1, n_steps + 1) * step, horizon)
    factors = discount_factors(times, time_unit=time_unit, discount_rate=discount_rate)
    # distinct histories only: the expectation depends on (x, t_x, T)
    keys = pd.MultiIndex.from_arrays([x, tx, big_t])
    codes, uniques = keys.factorize()
    ux, utx, ut = (np.asarray(uniques.get_level_values(i), dtype=float) for i in range(3))
    # E[Y(t)] = P(alive) E[Y(t) | alive]: P(alive) does not depend on t, compute it once
    p_alive = np.asarray(purchase_model.probability_alive(ux, utx, ut), dtype=float)
    previous = np.zeros(len(ux))
    discounted = np.zeros(len(ux))
    for t_k, f_k in zip(times, factors, strict=True):
        current = np.maximum(purchase_model._expected_if_alive(t_k, ux, ut) * p_alive, 0.0)
        discounted += (current - previous) * f_k
        previous = current
    return pd.DataFrame(
        {
            "probability_alive": p_alive[codes],
            "expected_purchases": previous[codes],
            "expected_spend": spend,
            "clv": margin * spend * discounted[codes],
        },
        index=index,
    )


def ltv_cac(
    clv: pd.Series,
    acquisition_cost: pd.Series,
    by: pd.Series,
) -> pd.DataFrame:
    """Customer value against acquisition cost by acquisition cohort or channel.

    ``clv``, ``acquisition_cost`` and ``by`` (the group label of each customer: cohort or channel) are
    aligned on their index. Returns one row per group with ``customers``, ``total_clv``, ``mean_clv``,
    ``total_cac``, ``mean_cac`` and ``ltv_cac`` (total value / total cost; NaN when the cost is 0),
    sorted by ``ltv_cac`` (best first).
    """
    frame = pd.concat({"clv": clv, "cac": acquisition_cost, "group": by}, axis=1, join="inner")
    if len(frame) == 0:
        raise DataContractError("clv, acquisition_cost and by share no customer ids", rule="aligned indexes")
    if frame["cac"].isna().any() or (frame["cac"] < 0).any():
        bad = frame[frame["cac"].isna() | (frame["cac"] < 0)]
        raise DataContractError("acquisition cost must be present and >= 0", column="acquisition_cost",
                                rule="acquisition_cost >= 0", examples=bad)
    out = frame.groupby("group", observed=True, sort=True).agg(
        customers=("clv", "size"), total_clv=("clv", "sum"), mean_clv=("clv", "mean"),
        total_cac=("cac", "sum"), mean_cac=("cac", "mean"))
    out["ltv_cac"] = out["total_clv"] / out["total_cac"].where(out["total_cac"] > 0)
    out.index.name = by.name or "group"
    return out.sort_values("ltv_cac", ascending=False)
