"""Points liability: what the outstanding points are worth, how many have historically lapsed (breakage),
and a forecast of how many will be redeemed or expire, from a fitted CLV purchase model.

The forecast (:func:`forecast_points`) rests on these assumptions, stated so finance can judge them:

1. Points are redeemed at purchases. At each future purchase a customer redeems a share ``redemption_share``
   of every outstanding lot (proportional, not first-in-first-out: FIFO spends the points closest to expiry
   first, so with the same share it loses fewer points; on this count the forecast's breakage leans high).
2. Future purchases come from the fitted purchase model (BG/NBD, Fader, Hardie & Lee 2005; or Pareto/NBD,
   Schmittlein, Morrison & Colombo 1987): a customer is alive with probability ``P(alive)`` (for BG/NBD: Fader,
   Hardie & Lee 2008, "Computing P(alive) using the BG/NBD model") and, if alive, makes
   ``m(t) = E[Y(t) | x, t_x, T] / P(alive)`` purchases on average in the next ``t`` (FHL 2005 eq. 10, the
   model's ``expected_purchases``, divided by its ``probability_alive``).
   Given alive, the count is taken as Poisson with that mean: the spread of the purchase rate and of future
   dropout around their mean effect is ignored, and a more spread-out count leaves more lots untouched, so on
   this count the forecast's breakage leans low. A lot thus survives redemption until ``t`` with
   probability ``S(t) = 1 - P(alive) + P(alive) exp(-redemption_share m(t))`` (the Poisson probability
   generating function at ``1 - redemption_share``).
3. A lot still held at its expiry date expires; lots that never expire are forecast up to ``horizon_days``
   and what is left then stays outstanding.
4. Only points already issued at ``as_of`` are forecast: a liability is booked on points earned, not on
   points that future purchases will earn.

The booked liability is the expected redemption value ``point_value x sum(points x (1 - S(expiry)))``, i.e.
outstanding points net of expected breakage.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crm_models.data.contract import coerce_identifier
from crm_models.exceptions import ConfigurationError, DataContractError
from crm_models.loyalty.ledger import PointsLedger
from crm_models.units import time_unit_days


def historical_breakage(ledger: PointsLedger | pd.DataFrame) -> float:
    """Share of resolved points that expired rather than being redeemed: ``expired / (redeemed + expired)``.

    ``nan`` when nothing has been redeemed: a history without redemptions (most purchase data sets carry none)
    cannot tell breakage from missing data, and would otherwise report 100%.
    """
    customers = ledger.customers if isinstance(ledger, PointsLedger) else ledger
    expired, redeemed = float(customers["expired"].sum()), float(customers["redeemed"].sum())
    return expired / (expired + redeemed) if redeemed > 0 else float("nan")


def points_liability(ledger: PointsLedger, point_value: float) -> pd.Series:
    """Outstanding points and their value at ``point_value`` per point, with the historical breakage.

    Returns ``points_outstanding``, ``liability_at_face_value`` (outstanding x point value),
    ``points_expiring_soon``, ``value_expiring_soon``, ``points_earned``, ``points_redeemed``,
    ``points_expired``, ``historical_breakage`` (see :func:`historical_breakage`) and
    ``liability_net_of_historical_breakage`` (face value x (1 - breakage); the face value when breakage is unknown
    because no redemptions are recorded).
    """
    _check_point_value(point_value)
    totals = ledger.totals()
    breakage = historical_breakage(ledger)
    face = float(totals["outstanding"]) * point_value
    net = face * (1 - breakage) if np.isfinite(breakage) else face
    return pd.Series({
        "points_outstanding": float(totals["outstanding"]),
        "liability_at_face_value": face,
        "points_expiring_soon": float(totals["expiring_soon"]),
        "value_expiring_soon": float(totals["expiring_soon"]) * point_value,
        "points_earned": float(totals["earned"]),
        "points_redeemed": float(totals["redeemed"]),
        "points_expired": float(totals["expired"]),
        "historical_breakage": breakage,
        "liability_net_of_historical_breakage": net,
    })


@dataclass
class PointsForecast:
    """The result of :func:`forecast_points`.

    Attributes
    ----------
    schedule : per calendar month after ``as_of``: ``expected_redeemed``, ``expected_expired`` (points) and
        ``redemption_cost`` (money).
    per_customer : ``points_outstanding``, ``expected_redeemed``, ``expected_expired``,
        ``expected_outstanding_at_horizon`` per customer holding points.
    totals : the sums, ``expected_breakage`` (expected expired share of outstanding points) and
        ``booked_liability`` (expected redemption value).
    assumptions : the parameters used, in words.
    """

    schedule: pd.DataFrame
    per_customer: pd.DataFrame
    totals: pd.Series
    assumptions: dict[str, Any]


def survival_of_points(model: Any, t: np.ndarray, frequency: np.ndarray, recency: np.ndarray, T: np.ndarray,
                       redemption_share: float) -> np.ndarray:
    """``S(t)``: probability that a point is not redeemed within ``t`` (assumption 2 of the module docstring)."""
    t = np.asarray(t, dtype=float)
    alive = np.clip(np.asarray(model.probability_alive(frequency, recency, T), dtype=float), 0.0, 1.0)
    expected = np.asarray(model.expected_purchases(np.maximum(t, 0.0), frequency, recency, T), dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if_alive = np.where(alive > 0, expected / alive, 0.0)
    return 1.0 - alive + alive * np.exp(-redemption_share * if_alive)


def forecast_points(
    ledger: PointsLedger,
    model: Any,
    summary: pd.DataFrame,
    *,
    redemption_share: float,
    point_value: float,
    time_unit: str | float = "D",
    horizon_days: int = 365,
) -> PointsForecast:
    """Forecast redemption and expiry of the points outstanding at ``ledger.as_of`` (module docstring).

    Parameters
    ----------
    ledger
        From :func:`~crm_models.loyalty.ledger.build_ledger` or ``run_programme(...).ledger``.
    model
        A fitted :class:`~crm_models.clv.BetaGeoModel` or :class:`~crm_models.clv.ParetoNBDModel` (anything
        with ``probability_alive`` and ``expected_purchases``).
    summary
        ``frequency, recency, T`` per customer (index ``customer_id``) at the same ``as_of``, in the model's
        time unit: ``crm_models.summary.customer_summary(transactions, observation_end=as_of)``.
    redemption_share
        Share of a customer's points redeemed at each purchase (0 < share <= 1).
    point_value
        Money per point.
    time_unit
        The model's time unit (``"D"``, ``"W"`` or days).
    horizon_days
        How far to forecast lots that never expire (lots with an expiry date run to it).
    """
    _check_point_value(point_value)
    if not 0 < redemption_share <= 1:
        raise ConfigurationError(f"redemption_share must be in (0, 1], got {redemption_share!r}")
    if int(horizon_days) != horizon_days or horizon_days < 1:
        raise ConfigurationError(f"horizon_days must be a whole number >= 1, got {horizon_days!r}")
    for column in ("frequency", "recency", "T"):
        if column not in summary.columns:
            raise DataContractError(f"the customer summary lacks {column!r}", column=column,
                                    rule="summary from crm_models.summary.customer_summary")
    lots = ledger.lots
    # ids on both sides follow the data contract's rule (17850.0 -> "17850"), so an integer or float summary
    # index matches the ledger's text ids
    lot_ids = coerce_identifier(lots["customer_id"])
    holders = pd.Index(lot_ids.unique(), name="customer_id")
    summary_ids = pd.Index(coerce_identifier(pd.Series(summary.index, dtype=summary.index.dtype)),
                           name="customer_id")
    if summary_ids.has_duplicates:
        repeated = int(summary_ids.duplicated().sum())
        raise DataContractError(
            f"{repeated} customer ids appear more than once in the customer summary once read as text",
            column="customer_id",
            rule="one summary row per customer; ids compare as text (data.contract.coerce_identifier: "
                 "17850, 17850.0 and '17850' are the same customer)")
    summary = summary.set_axis(summary_ids, axis=0)
    missing = holders.difference(summary.index)
    if len(missing):
        raise DataContractError(
            f"{len(missing)} customers hold points but are not in the customer summary", column="customer_id",
            rule="the summary covers every customer with outstanding points (same transactions and as_of)",
            examples=pd.DataFrame({"customers_missing": np.arange(1, min(len(missing), 5) + 1)}))
    unit = time_unit_days(time_unit)
    start = ledger.as_of + pd.Timedelta(days=1)  # the forecast starts at the end of as_of
    horizon_end = start + pd.Timedelta(days=int(horizon_days))
    expires = lots["expires_on"].to_numpy(dtype="datetime64[ns]")
    lot_end = np.where(np.isnat(expires), horizon_end.to_datetime64(), expires)
    last = pd.Timestamp(lot_end.max()) if len(lots) else start
    grid = pd.date_range(start, last, freq="MS", inclusive="both")
    grid = pd.DatetimeIndex([start]).append(grid[grid > start])
    grid = grid.append(pd.DatetimeIndex([last])) if last > grid[-1] else grid
    code = holders.get_indexer(lot_ids)
    rows = summary.reindex(holders)
    x, tx, big_t = (rows[c].to_numpy(dtype=float) for c in ("frequency", "recency", "T"))
    grid_days = ((grid - start) / pd.Timedelta(days=1)).to_numpy(dtype=float)
    survival = np.column_stack([
        survival_of_points(model, np.full(len(holders), d / unit), x, tx, big_t, redemption_share)
        for d in grid_days]) if len(holders) else np.zeros((0, len(grid)))
    points = lots["points"].to_numpy(dtype=float)
    lot_days = (lot_end - start.to_datetime64()) / np.timedelta64(1, "D")
    at_end = survival_of_points(model, lot_days / unit, x[code], tx[code], big_t[code], redemption_share) \
        if len(lots) else np.zeros(0)
    # redeemed in month i = points x (S(g_i) - S(min(g_{i+1}, end of lot))); expired at the lot's expiry
    n_months = len(grid) - 1
    redeemed = np.zeros(n_months)
    expired = np.zeros(n_months)
    end_month = np.clip(np.searchsorted(grid_days, lot_days, side="right") - 1, 0, max(n_months - 1, 0))
    for i in range(n_months):
        active = lot_days > grid_days[i]
        upper = np.where(lot_days >= grid_days[i + 1], survival[code, i + 1], at_end)
        redeemed[i] = np.sum(points[active] * (survival[code[active], i] - upper[active]))
    has_expiry = ~np.isnat(expires)
    if n_months:
        np.add.at(expired, end_month[has_expiry], points[has_expiry] * at_end[has_expiry])
    lot_redeemed = points * (1 - at_end)
    lot_expired = np.where(has_expiry, points * at_end, 0.0)
    per_customer = pd.DataFrame({
        "points_outstanding": np.bincount(code, points, len(holders)),
        "expected_redeemed": np.bincount(code, lot_redeemed, len(holders)),
        "expected_expired": np.bincount(code, lot_expired, len(holders)),
        "expected_outstanding_at_horizon": np.bincount(code, np.where(has_expiry, 0.0, points * at_end),
                                                       len(holders)),
    }, index=pd.Index(holders, name="customer_id"))
    schedule = pd.DataFrame({"expected_redeemed": redeemed, "expected_expired": expired,
                             "redemption_cost": redeemed * point_value},
                            index=pd.DatetimeIndex(grid[:-1], name="period_start"))
    schedule = schedule.groupby(schedule.index.to_period("M")).sum()
    schedule.index = schedule.index.to_timestamp().rename("month")
    outstanding = float(points.sum())
    totals = pd.Series({
        "points_outstanding": outstanding,
        "expected_redeemed": float(lot_redeemed.sum()),
        "expected_expired": float(lot_expired.sum()),
        "expected_outstanding_at_horizon": float(per_customer["expected_outstanding_at_horizon"].sum()),
        "expected_breakage": float(lot_expired.sum()) / outstanding if outstanding > 0 else float("nan"),
        "liability_at_face_value": outstanding * point_value,
        "booked_liability": float(lot_redeemed.sum()) * point_value,
    })
    assumptions = {"model": type(model).__name__, "redemption_share": redemption_share,
                   "point_value": point_value, "time_unit_days": unit, "horizon_days": int(horizon_days),
                   "as_of": ledger.as_of}
    return PointsForecast(schedule=schedule, per_customer=per_customer, totals=totals, assumptions=assumptions)


def _check_point_value(point_value: float) -> None:
    if isinstance(point_value, bool) or not np.isfinite(point_value) or point_value < 0:
        raise ConfigurationError(f"point_value must be a non-negative amount of money, got {point_value!r}")
