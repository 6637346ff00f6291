"""Points ledger: lots earned on purchases and bonus events, redeemed and expired first in, first out.

Every purchase (and bonus event) creates a *lot* of points that expires ``expiry_months`` calendar months
after the day it was earned (at the start of that day). Redemptions consume the oldest unexpired lots first.

The ledger is computed exactly without a per-customer loop. Lay a customer's lots end to end in the order
they were earned; ``C_j`` is the running total of points through lot ``j``. Because lots are consumed oldest
first and also expire oldest first (same expiry period for every lot), what has left the ledger is always a
prefix of that line, of length ``P = R + X`` (``R`` redeemed, ``X`` expired so far). A redemption moves ``P``
forward by its points; the expiry of lot ``j`` at time ``s`` moves it to at least ``C_j``. Hence

    X(t) = max(0, max over expiries s <= t of (C_j(s) - R(s))),

a running maximum per customer, and ``outstanding = earned - redeemed - expired`` by construction. A redemption
that needs more points than the customer holds at that instant is a data error (points never go negative).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crm_models.data.quality import QualityReport
from crm_models.data.timestamps import naive_utc_column
from crm_models.exceptions import ConfigurationError, DataContractError
from crm_models.loyalty._input import Purchases, prepare_purchases

EXPIRY, EARN, REDEEM = 0, 1, 2  # order of events at the same instant: a lot expires at the start of its day
_TOLERANCE = 1e-6


@dataclass
class PointsLedger:
    """The ledger at the end of ``as_of``.

    Attributes
    ----------
    customers : one row per customer: ``earned``, ``redeemed``, ``expired``, ``outstanding``,
        ``expiring_soon`` (points that will have expired by the end of day ``as_of + expiring_within_days``
        unless redeemed first: their last usable day is one of the next ``expiring_within_days`` days) and ``next_expiry`` (the day the oldest outstanding lot expires; NaT when none).
    lots : the outstanding lots: ``customer_id``, ``earned_on`` (day), ``expires_on`` (day; NaT: never),
        ``points`` (remaining in the lot).
    as_of : the last day counted.
    expiring_within_days : the reminder horizon of ``expiring_soon``.
    quality : rows left out (returns, zero amounts, rows after ``as_of``, ...), by reason.
    """

    customers: pd.DataFrame
    lots: pd.DataFrame
    as_of: pd.Timestamp
    expiring_within_days: int
    quality: QualityReport

    def totals(self) -> pd.Series:
        """Points earned, redeemed, expired, outstanding and expiring soon over all customers."""
        return self.customers[["earned", "redeemed", "expired", "outstanding", "expiring_soon"]].sum()


def points_ledger(transactions: Any, **options: Any) -> pd.DataFrame:
    """Per customer points ``earned, redeemed, expired, outstanding, expiring_soon, next_expiry`` at ``as_of``.

    The ``customers`` table of :func:`build_ledger`; ``options`` are its keyword arguments (``earn_rate``,
    ``expiry_months``, ``as_of``, ``multiplier``, ``rounding``, ``bonus``, ``bonus_points``, ``redemptions``,
    ``expiring_within_days``).
    """
    return build_ledger(transactions, **options).customers


def build_ledger(
    transactions: Any,
    *,
    earn_rate: float = 1.0,
    expiry_months: int | None = 12,
    as_of: Any = None,
    multiplier: Any = None,
    rounding: str = "floor",
    bonus: pd.DataFrame | None = None,
    bonus_points: dict[str, float] | None = None,
    redemptions: pd.DataFrame | None = None,
    expiring_within_days: int = 30,
) -> PointsLedger:
    """The :class:`PointsLedger` at ``as_of``: per-customer totals (:func:`points_ledger`) and outstanding lots.

    Parameters
    ----------
    transactions
        Canonical transactions; purchases (positive amounts) up to the end of ``as_of`` earn points.
    earn_rate
        Points per unit of money.
    expiry_months
        Calendar months after the day a lot was earned at whose start it expires; ``None``: never.
    as_of
        The last day counted (a date means the whole day); default: the day of the last transaction.
    multiplier
        Optional per-row earn multiplier aligned with ``transactions`` (e.g. from the tier held).
    rounding
        ``"floor"``: whole points per purchase, rounded down; ``"none"``: fractional points.
    bonus
        Optional bonus events: ``customer_id, timestamp`` and either ``points`` or ``event`` (looked up in
        ``bonus_points``, e.g. ``{"sign_in": 5, "review": 10}``).
    redemptions
        Optional ``customer_id, timestamp, points`` (positive) redeemed; they consume the oldest lots first.
    expiring_within_days
        The reminder horizon for ``expiring_soon``.
    """
    purchases = prepare_purchases(transactions, as_of)
    if multiplier is not None:
        multiplier = np.asarray(multiplier, dtype=float)
        if multiplier.shape != (purchases.report.rows_in,):
            raise ConfigurationError(f"multiplier has {multiplier.shape[0]} values; transactions have "
                                     f"{purchases.report.rows_in} rows (one multiplier per row)")
        multiplier = multiplier[purchases.row]
    points = purchase_points(purchases, earn_rate, multiplier, rounding)
    return ledger_from_points(purchases, points, expiry_months=expiry_months, bonus=bonus,
                              bonus_points=bonus_points, redemptions=redemptions,
                              expiring_within_days=expiring_within_days)


def purchase_points(purchases: Purchases, earn_rate: float, multiplier: np.ndarray | None = None,
                    rounding: str = "floor") -> np.ndarray:
    """Points earned on each purchase: amount x ``earn_rate`` x multiplier, rounded down when ``"floor"``."""
    if not np.isfinite(earn_rate) or earn_rate < 0:
        raise ConfigurationError(f"earn_rate must be a non-negative number, got {earn_rate!r}")
    if rounding not in ("floor", "none"):
        raise ConfigurationError(f"rounding must be 'floor' or 'none', got {rounding!r}")
    raw = purchases.amount * earn_rate * (1.0 if multiplier is None else multiplier)
    # 19.99 * 1.5 is 29.984999...: a relative nudge keeps whole results whole before flooring
    return np.floor(raw * (1 + 1e-12) + 1e-9) if rounding == "floor" else raw


def _events(frame: pd.DataFrame | None, kind: str, end: pd.Timestamp, points_of_event: dict[str, float] | None
            ) -> tuple[pd.DataFrame, int]:
    """Bonus or redemption rows up to ``end`` as ``customer_id, time, points``, and the rows after ``end``."""
    if frame is None or len(frame) == 0:
        return pd.DataFrame({"customer_id": pd.Series([], dtype="string"),
                             "time": pd.Series([], dtype="datetime64[ns]"), "points": []}), 0
    for column in ("customer_id", "timestamp"):
        if column not in frame.columns:
            raise DataContractError(f"the {kind} table lacks the column {column!r}", column=column,
                                    rule="required column")
    frame = naive_utc_column(frame)
    if "points" in frame.columns:
        points = pd.to_numeric(frame["points"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
        column = "points"
    elif "event" in frame.columns and kind == "bonus":
        mapping = points_of_event or {}
        unknown = ~frame["event"].isin(list(mapping))
        if unknown.any():
            raise DataContractError(
                f"{int(unknown.sum())} bonus events have no points in bonus_points {mapping}", column="event",
                rule="every bonus event is listed in the rules' bonus_points", examples=frame.loc[unknown])
        points = frame["event"].map(mapping).to_numpy(dtype=float)
        column = "event"
    else:
        raise DataContractError(f"the {kind} table needs a 'points' column" +
                                (" or an 'event' column" if kind == "bonus" else ""), column="points",
                                rule="required column")
    bad = ~np.isfinite(points) | (points < 0) | (frame["customer_id"].isna().to_numpy())
    if bad.any():
        raise DataContractError(f"{int(bad.sum())} {kind} rows have no customer or no non-negative points",
                                column=column, rule="points are a non-negative number per customer",
                                examples=frame.loc[bad])
    time = frame["timestamp"].to_numpy(dtype="datetime64[ns]")
    keep = time < end.to_datetime64()
    out = pd.DataFrame({"customer_id": frame["customer_id"].astype("string").to_numpy()[keep],
                        "time": time[keep], "points": points[keep]})
    return out, int((~keep).sum())


def ledger_from_points(
    purchases: Purchases,
    points: np.ndarray,
    *,
    expiry_months: int | None,
    bonus: pd.DataFrame | None = None,
    bonus_points: dict[str, float] | None = None,
    redemptions: pd.DataFrame | None = None,
    expiring_within_days: int = 30,
) -> PointsLedger:
    """Build the ledger from per-purchase ``points`` (aligned with ``purchases``), bonus events and redemptions."""
    if expiry_months is not None and (int(expiry_months) != expiry_months or expiry_months < 1):
        raise ConfigurationError(f"expiry_months must be a whole number of months >= 1 or None, got "
                                 f"{expiry_months!r}")
    if int(expiring_within_days) != expiring_within_days or expiring_within_days < 0:
        raise ConfigurationError(f"expiring_within_days must be a whole number >= 0, got {expiring_within_days!r}")
    end = purchases.end
    report = QualityReport(rows_in=purchases.report.rows_in, rows_kept=purchases.report.rows_kept,
                           amount_in=purchases.report.amount_in, amount_kept=purchases.report.amount_kept,
                           unit="transactions", drops=list(purchases.report.drops))
    bonus_rows, bonus_late = _events(bonus, "bonus", end, bonus_points)
    redeem_rows, redeem_late = _events(redemptions, "redemptions", end, None)
    for late, kind in ((bonus_late, "bonus events"), (redeem_late, "redemptions")):
        if late:
            report.notes.append(f"{late} {kind} after as_of left out")

    others = pd.Index(pd.concat([bonus_rows["customer_id"], redeem_rows["customer_id"]]).unique())
    customers = purchases.customers.union(others.difference(purchases.customers)) if len(others) else \
        purchases.customers
    remap = customers.get_indexer(purchases.customers)
    codes_all = np.r_[remap, customers.get_indexer(bonus_rows["customer_id"]),
                      customers.get_indexer(redeem_rows["customer_id"])].astype(np.int64)
    customers = customers.to_numpy()
    n_b = len(bonus_rows)
    lot_code = np.r_[remap[purchases.code], codes_all[len(purchases.customers): len(purchases.customers) + n_b]]
    lot_time = np.r_[purchases.time, bonus_rows["time"].to_numpy(dtype="datetime64[ns]")]
    lot_points = np.r_[points, bonus_rows["points"].to_numpy(dtype=float)]
    positive = lot_points > 0
    lot_code, lot_time, lot_points = lot_code[positive], lot_time[positive], lot_points[positive]
    order = np.lexsort((lot_time, lot_code))
    lot_code, lot_time, lot_points = lot_code[order], lot_time[order], lot_points[order]
    # C_j: points through lot j, within the customer (a per-customer sum keeps totals exact to the last point)
    lot_cum = pd.Series(lot_points).groupby(lot_code, sort=False).cumsum().to_numpy()
    lot_day = lot_time.astype("datetime64[D]").astype("datetime64[ns]")
    if expiry_months is None:
        lot_expiry = np.full(len(lot_time), np.datetime64("NaT"), dtype="datetime64[ns]")
    else:
        lot_expiry = (pd.DatetimeIndex(lot_day) + pd.DateOffset(months=int(expiry_months))).to_numpy(
            dtype="datetime64[ns]")

    red_code = codes_all[len(purchases.customers) + n_b:]
    red_time = redeem_rows["time"].to_numpy(dtype="datetime64[ns]")
    red_points = redeem_rows["points"].to_numpy(dtype=float)
    end64 = end.to_datetime64()
    expired_by_end = ~np.isnat(lot_expiry) & (lot_expiry < end64)

    # the event stream up to the end of as_of: expiries, earnings, redemptions
    ev_code = np.r_[lot_code[expired_by_end], lot_code, red_code].astype(np.int64)
    ev_time = np.r_[lot_expiry[expired_by_end], lot_time, red_time]
    ev_kind = np.r_[np.full(expired_by_end.sum(), EXPIRY), np.full(len(lot_code), EARN),
                    np.full(len(red_code), REDEEM)]
    ev_earn = np.r_[np.zeros(expired_by_end.sum()), lot_points, np.zeros(len(red_code))]
    ev_redeem = np.r_[np.zeros(expired_by_end.sum() + len(lot_code)), red_points]
    ev_candidate = np.r_[lot_cum[expired_by_end], np.full(len(lot_code) + len(red_code), -np.inf)]
    order = np.lexsort((ev_kind, ev_time, ev_code))
    ev_code, ev_time, ev_kind = ev_code[order], ev_time[order], ev_kind[order]
    ev_earn, ev_redeem, ev_candidate = ev_earn[order], ev_redeem[order], ev_candidate[order]
    grouped = pd.DataFrame({"code": ev_code, "earn": ev_earn, "redeem": ev_redeem}).groupby("code", sort=False)
    earned_so_far = grouped["earn"].cumsum().to_numpy()
    redeemed_so_far = grouped["redeem"].cumsum().to_numpy()
    candidate = pd.Series(ev_candidate - redeemed_so_far).groupby(ev_code, sort=False).cummax().to_numpy()
    expired_so_far = np.maximum(candidate, 0.0)
    balance = earned_so_far - redeemed_so_far - expired_so_far
    overdrawn = (ev_kind == REDEEM) & (balance < -_TOLERANCE)
    if overdrawn.any():
        rows = pd.DataFrame({"customer_id": customers[ev_code[overdrawn]], "timestamp": ev_time[overdrawn],
                             "points": ev_redeem[overdrawn],
                             "points_held_before": (balance + ev_redeem)[overdrawn]})
        raise DataContractError(
            f"{int(overdrawn.sum())} redemptions need more points than the customer holds at that moment "
            "(under these earn and expiry rules)", column="points",
            rule="a redemption cannot exceed the unexpired points earned before it (points never go negative)",
            examples=rows)

    n_customers = len(customers)
    last = np.r_[ev_code[1:] != ev_code[:-1], True] if len(ev_code) else np.zeros(0, bool)
    earned = np.zeros(n_customers)
    redeemed = np.zeros(n_customers)
    expired = np.zeros(n_customers)
    earned[ev_code[last]] = earned_so_far[last]
    redeemed[ev_code[last]] = redeemed_so_far[last]
    expired[ev_code[last]] = expired_so_far[last]
    consumed = redeemed + expired  # P: the prefix of each customer's lot line that has left the ledger

    # outstanding lots: what is left of each lot beyond the consumed prefix
    previous_cum = lot_cum - lot_points
    remaining = np.clip(lot_cum - np.maximum(consumed[lot_code], previous_cum), 0.0, lot_points)
    remaining[expired_by_end] = 0.0
    soon_end = end64 + np.timedelta64(int(expiring_within_days), "D")
    # gone by the end of day as_of + expiring_within_days: the expiry instant is at most that day's end
    soon = ~np.isnat(lot_expiry) & (lot_expiry >= end64) & (lot_expiry <= soon_end)
    expiring_soon = np.zeros(n_customers)
    np.add.at(expiring_soon, lot_code[soon], remaining[soon])
    holding = remaining > _TOLERANCE
    next_expiry = np.full(n_customers, np.datetime64("NaT"), dtype="datetime64[ns]")
    with_expiry = holding & ~np.isnat(lot_expiry)
    # lots are sorted by customer and time, so a customer's first outstanding lot expires first
    lead = np.flatnonzero(with_expiry)
    if len(lead):
        lead = lead[np.r_[True, lot_code[lead][1:] != lot_code[lead][:-1]]]
        next_expiry[lot_code[lead]] = lot_expiry[lead]
    outstanding = earned - redeemed - expired
    table = pd.DataFrame({
        "earned": earned, "redeemed": redeemed, "expired": expired,
        "outstanding": np.where(np.abs(outstanding) < _TOLERANCE, 0.0, outstanding),
        "expiring_soon": expiring_soon, "next_expiry": next_expiry,
    }, index=pd.Index(customers, name="customer_id", dtype="string"))
    lots = pd.DataFrame({
        "customer_id": pd.array(customers[lot_code[holding]], dtype="string"),
        "earned_on": lot_day[holding], "expires_on": lot_expiry[holding], "points": remaining[holding],
    })
    # the day of the last instant counted: an as_of with a time of day ends one nanosecond after it, not at midnight
    return PointsLedger(customers=table, lots=lots, as_of=(end - pd.Timedelta(1, "ns")).normalize(),
                        expiring_within_days=int(expiring_within_days), quality=report)
