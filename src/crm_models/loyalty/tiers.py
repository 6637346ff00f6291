"""Replay tier rules on purchase history: every member's tier at every evaluation, transitions, mix, progress.

The replay is exact and vectorised over customers: purchases are sorted by customer and time once, rolling
window sums come from cumulative sums and binary search on a ``(customer, second)`` key, and the tier rules
run as a loop over evaluation dates (a handful) with array operations over all customers inside. A million
purchases replay in seconds.

Conventions (also in :class:`~crm_models.loyalty.rules.LoyaltyRules`):

* A customer becomes a member (in the entry tier) with their first purchase.
* The window of an evaluation on day ``d`` holds the purchases from ``d + 1 day - window_months`` (calendar
  months, midnight) up to the end of ``d``; for an immediate upgrade the window of a purchase is the same
  window for the purchase's day, counting only purchases up to and including it.
* The purchase that meets a higher tier is earned at the tier held before it; later purchases see the new tier.
* A zero threshold is not used: with ``qualify_on="any"`` a tier with ``min_orders=0`` is met on spend alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crm_models.data.quality import QualityReport
from crm_models.exceptions import ConfigurationError, DataContractError
from crm_models.loyalty._input import Purchases, prepare_purchases
from crm_models.loyalty.rules import LoyaltyRules

NOT_MEMBER = -1
_SECOND = np.timedelta64(1, "s")


def met_tier(spend: np.ndarray, orders: np.ndarray, rules: LoyaltyRules) -> np.ndarray:
    """Index of the highest tier whose thresholds ``spend`` and ``orders`` (window totals) reach."""
    met = np.zeros(np.shape(spend), dtype=np.int8)
    for index, tier in enumerate(rules.tiers[1:], start=1):
        spend_ok = spend >= tier.min_spend - 1e-9 * max(1.0, tier.min_spend)  # cents summed in floating point
        orders_ok = orders >= tier.min_orders
        if rules.qualify_on == "all":
            ok = spend_ok & orders_ok
        else:
            ok = np.zeros(np.shape(spend), dtype=bool)
            if tier.min_spend > 0:
                ok |= spend_ok
            if tier.min_orders > 0:
                ok |= orders_ok
        met[ok] = index
    return met


class _WindowIndex:
    """Rolling sums of spend and counts of purchases per customer between two instants, by binary search."""

    def __init__(self, purchases: Purchases) -> None:
        # the earliest purchase of anyone (purchases are sorted by customer first, so not ``time[0]``)
        self.origin = purchases.time.min() if len(purchases.time) else np.datetime64("1970-01-01", "ns")
        seconds = (purchases.time - self.origin) // _SECOND
        self.span = int(seconds.max(initial=0)) + 2
        self.key = purchases.code.astype(np.int64) * self.span + seconds.astype(np.int64)
        self.cum_amount = np.r_[0.0, np.cumsum(purchases.amount)]

    def _position(self, code: np.ndarray, instant: np.ndarray) -> np.ndarray:
        """Index of the first purchase of customer ``code`` at or after ``instant`` (whole seconds)."""
        nanoseconds = (np.asarray(instant, dtype="datetime64[ns]") - self.origin).astype(np.int64)
        offset = -(-nanoseconds // 1_000_000_000)  # ceiling in integers: float division is inexact at 1e17 ns
        offset = np.clip(offset, 0, self.span - 1)
        return np.searchsorted(self.key, code.astype(np.int64) * self.span + offset, side="left")

    def totals(self, code: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Spend and number of purchases of customer ``code`` with ``start <= time < end``."""
        lo = self._position(code, start)
        hi = self._position(code, end)
        return self.cum_amount[hi] - self.cum_amount[lo], (hi - lo).astype(np.int64)


def _window_start(bound: pd.Timestamp | pd.DatetimeIndex, months: int) -> Any:
    return bound - pd.DateOffset(months=months)


@dataclass
class TierReplay:
    """The result of :func:`replay_tiers`.

    Attributes
    ----------
    rules : the replayed :class:`LoyaltyRules`.
    as_of : the last day replayed (purchases up to its end count).
    evaluation_dates : the evaluation days, in order.
    customers : customer ids (members: everyone with a purchase up to ``as_of``).
    tiers : ``(n_evaluations, n_customers)`` tier index after each evaluation, ``-1`` before a customer joined.
    met : the tier each customer met at each evaluation (same shape; ``-1`` before joining).
    spend, orders : window totals at each evaluation (same shape).
    current : one row per customer at ``as_of``: ``tier``, ``spend_window``, ``orders_window``, ``next_tier``,
        ``spend_to_next``, ``orders_to_next``, ``progress`` (0-1 share of the way to the next tier; 1 in the
        top tier or when the next tier is met and waits for the next evaluation).
    purchases : the replayed purchases (sorted) and ``purchase_tier``, the tier held at each of them.
    quality : rows left out of the replay, by reason.
    """

    rules: LoyaltyRules
    as_of: pd.Timestamp
    evaluation_dates: list[pd.Timestamp]
    customers: pd.Index
    tiers: np.ndarray
    met: np.ndarray
    spend: np.ndarray
    orders: np.ndarray
    current: pd.DataFrame
    purchases: Purchases = field(repr=False)
    purchase_tier: np.ndarray = field(repr=False)
    quality: QualityReport = field(repr=False)

    def _categorical(self, codes: np.ndarray) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, categories=self.rules.tier_names, ordered=True)

    def history(self) -> pd.DataFrame:
        """Long table: ``evaluation_date, customer_id, tier, met_tier, spend, orders`` for every member at every
        evaluation after they joined."""
        k, c = np.nonzero(self.tiers >= 0)
        dates = pd.DatetimeIndex(self.evaluation_dates)
        return pd.DataFrame({
            "evaluation_date": dates[k] if len(dates) else pd.DatetimeIndex([]),
            "customer_id": self.customers[c],
            "tier": self._categorical(self.tiers[k, c]),
            "met_tier": self._categorical(self.met[k, c]),
            "spend": self.spend[k, c],
            "orders": self.orders[k, c],
        })

    def tier_mix(self, share: bool = False) -> pd.DataFrame:
        """Members per tier (columns) at each evaluation date (rows); ``share=True`` for shares of members."""
        counts = np.stack([(self.tiers == i).sum(axis=1) for i in range(len(self.rules.tiers))], axis=1) \
            if len(self.evaluation_dates) else np.zeros((0, len(self.rules.tiers)), dtype=int)
        frame = pd.DataFrame(counts, index=pd.DatetimeIndex(self.evaluation_dates, name="evaluation_date"),
                             columns=pd.Index(self.rules.tier_names, name="tier"))
        if share:
            frame = frame.div(frame.sum(axis=1).replace(0, np.nan), axis=0)
        return frame

    def transition_matrix(self, start: Any = None, end: Any = None, normalize: bool = False) -> pd.DataFrame:
        """Members by tier at evaluation ``start`` (rows) and at ``end`` (columns), members at both dates only.

        Defaults: the last two evaluations. ``normalize=True`` gives each row's shares (the probability of
        moving from a tier to each tier). Without ``start``/``end`` and with fewer than two evaluations, an
        error says so.
        """
        dates = pd.DatetimeIndex(self.evaluation_dates)
        if len(dates) < 2 and (start is None or end is None):
            raise ConfigurationError("a transition matrix needs two evaluation dates; the replay has "
                                     f"{len(dates)} (extend the history or choose monthly evaluations)")
        i = len(dates) - 2 if start is None else self._evaluation_index(start, "start")
        j = len(dates) - 1 if end is None else self._evaluation_index(end, "end")
        both = (self.tiers[i] >= 0) & (self.tiers[j] >= 0)
        names = self.rules.tier_names
        table = pd.crosstab(self._categorical(self.tiers[i][both]), self._categorical(self.tiers[j][both]),
                            dropna=False).reindex(index=names, columns=names, fill_value=0)
        table.index.name, table.columns.name = f"tier on {dates[i].date()}", f"tier on {dates[j].date()}"
        if normalize:
            table = table.div(table.sum(axis=1).replace(0, np.nan), axis=0)
        return table

    def close_to_next(self, min_progress: float = 0.8) -> pd.DataFrame:
        """Members below the top tier who are at least ``min_progress`` of the way to the next one."""
        current = self.current
        mask = current["next_tier"].notna() & (current["progress"] >= min_progress)
        return current.loc[mask].sort_values("progress", ascending=False)

    def _evaluation_index(self, value: Any, parameter: str) -> int:
        day = pd.Timestamp(value).normalize()
        try:
            return self.evaluation_dates.index(day)
        except ValueError:
            raise ConfigurationError(
                f"{parameter}={value!r} is not an evaluation date; they are "
                f"{[str(d.date()) for d in self.evaluation_dates]}") from None


def replay_tiers(transactions: Any, rules: LoyaltyRules, *, as_of: Any = None) -> TierReplay:
    """Replay ``rules`` on purchase history up to the end of ``as_of`` (default: the last transaction's day).

    ``transactions`` are canonical (``customer_id, timestamp, amount``; see
    :func:`crm_models.data.read_transactions`). Purchases are rows with a positive amount; returns, zero
    amounts, missing customers and rows after ``as_of`` are left out and counted in ``quality``.
    """
    if not isinstance(rules, LoyaltyRules):
        raise ConfigurationError(f"rules must be LoyaltyRules (use LoyaltyRules.from_yaml), got {type(rules)}")
    purchases = prepare_purchases(transactions, as_of)
    if len(purchases.code) == 0:
        raise DataContractError("there are no purchases (rows with a positive amount) up to as_of",
                                column="amount", rule="at least one purchase to replay")
    # the day of the last instant counted (end - 1 day would be the day before for an as_of with a time of day,
    # and skip an evaluation on the as_of day itself)
    as_of_day = (purchases.end - pd.Timedelta(1, "ns")).normalize()
    first = purchases.first_purchase()
    dates = rules.evaluation_dates(pd.Timestamp(first.min()), as_of_day)
    bounds = np.array([(d + pd.Timedelta(days=1)).to_datetime64() for d in dates], dtype="datetime64[ns]")
    index = _WindowIndex(purchases)
    n_tiers, n_customers, n_eval = len(rules.tiers), purchases.n_customers, len(dates)

    # the tier each purchase meets on its own day's rolling window, counting purchases up to it
    day_end = (purchases.time.astype("datetime64[D]") + np.timedelta64(1, "D")).astype("datetime64[ns]")
    starts = _window_start(pd.DatetimeIndex(day_end), rules.window_months).to_numpy(dtype="datetime64[ns]")
    lo = index._position(purchases.code, starts)
    position = np.arange(len(purchases.code))
    spend_so_far = index.cum_amount[position + 1] - index.cum_amount[lo]
    purchase_met = met_tier(spend_so_far, position + 1 - lo, rules)
    period = np.searchsorted(bounds, purchases.time, side="right")  # purchases after evaluation period-1
    group = purchases.code.astype(np.int64) * (n_eval + 1) + period
    immediate = rules.upgrade == "immediate"
    if immediate:  # highest tier met by earlier purchases of the same customer in the same period
        shifted = group * n_tiers + purchase_met
        running = np.maximum.accumulate(shifted) - group * n_tiers
        earlier = np.r_[NOT_MEMBER, running[:-1]]
        earlier[np.r_[True, group[1:] != group[:-1]]] = NOT_MEMBER
        period_best = np.full((n_eval + 1) * n_customers, NOT_MEMBER, dtype=np.int8)
        np.maximum.at(period_best, group, purchase_met)
        period_best = period_best.reshape(n_customers, n_eval + 1)

    tiers = np.full((n_eval, n_customers), NOT_MEMBER, dtype=np.int8)
    met = np.full((n_eval, n_customers), NOT_MEMBER, dtype=np.int8)
    spend = np.zeros((n_eval, n_customers))
    orders = np.zeros((n_eval, n_customers), dtype=np.int64)
    tier = np.full(n_customers, NOT_MEMBER, dtype=np.int8)
    failing = np.zeros(n_customers, dtype=np.int64)
    codes = np.arange(n_customers)
    for k, bound in enumerate(bounds):
        joined = first < bound
        tier = np.where(joined & (tier == NOT_MEMBER), 0, tier).astype(np.int8)
        if immediate:
            tier = np.maximum(tier, np.where(joined, period_best[:, k], NOT_MEMBER)).astype(np.int8)
        start = np.full(n_customers, _window_start(pd.Timestamp(bound), rules.window_months).to_datetime64())
        spend[k], orders[k] = index.totals(codes, start, np.full(n_customers, bound))
        met_k = met_tier(spend[k], orders[k], rules)
        tier, failing = _evaluate(tier, met_k, orders[k], failing, rules)
        tier = np.where(joined, tier, NOT_MEMBER).astype(np.int8)
        tiers[k] = tier
        met[k] = np.where(joined, met_k, NOT_MEMBER)

    # the tier held at each purchase, and at as_of
    after_last = np.where(period > 0, tiers[np.maximum(period - 1, 0), purchases.code], 0) if n_eval else \
        np.zeros(len(period), dtype=np.int8)
    after_last = np.maximum(after_last, 0)
    purchase_tier = np.maximum(after_last, earlier) if immediate else after_last
    final = np.maximum(tier, 0)  # every customer has joined by as_of
    if immediate:
        final = np.maximum(final, period_best[:, n_eval])
    current = _current(index, codes, purchases, final.astype(np.int8), rules)
    return TierReplay(rules=rules, as_of=as_of_day, evaluation_dates=dates, customers=purchases.customers,
                      tiers=tiers, met=met, spend=spend, orders=orders, current=current, purchases=purchases,
                      purchase_tier=purchase_tier.astype(np.int8), quality=purchases.report)


def _evaluate(tier: np.ndarray, met: np.ndarray, orders: np.ndarray, failing: np.ndarray,
              rules: LoyaltyRules) -> tuple[np.ndarray, np.ndarray]:
    """One evaluation: upgrades to the tier met, downgrades after the grace period, failing counts updated."""
    up = met > tier
    new = np.where(up, met, tier)
    down = met < tier
    if rules.downgrade != "never":
        failing = np.where(down, failing + 1, 0)
        protected = failing <= rules.grace_evaluations
        if rules.grace_requires_purchase:
            protected &= orders > 0
        drop = down & ~protected
        target = tier - 1 if rules.downgrade == "one_level" else met
        new = np.where(drop, target, new)
        failing = np.where(met >= new, 0, failing)  # a member who now meets their tier starts afresh
    else:
        failing = np.zeros_like(failing)
    return new.astype(np.int8), failing


def _current(index: _WindowIndex, codes: np.ndarray, purchases: Purchases, tier: np.ndarray,
             rules: LoyaltyRules) -> pd.DataFrame:
    """Each customer's tier at as_of, window totals and the way to the next tier."""
    end = np.full(len(codes), purchases.end.to_datetime64())
    start = np.full(len(codes), _window_start(purchases.end, rules.window_months).to_datetime64())
    spend, orders = index.totals(codes, start, end)
    top = len(rules.tiers) - 1
    nxt = np.minimum(tier.astype(np.int64) + 1, top)
    need_spend = np.array([t.min_spend for t in rules.tiers])[nxt]
    need_orders = np.array([t.min_orders for t in rules.tiers], dtype=float)[nxt]
    with np.errstate(divide="ignore", invalid="ignore"):
        spend_share = np.where(need_spend > 0, np.minimum(spend / need_spend, 1.0), np.nan)
        orders_share = np.where(need_orders > 0, np.minimum(orders / need_orders, 1.0), np.nan)
    shares = np.stack([spend_share, orders_share])
    if rules.qualify_on == "all":
        progress = np.nanmin(np.where(np.isnan(shares), 1.0, shares), axis=0)
    else:
        progress = np.nanmax(np.where(np.isnan(shares), 0.0, shares), axis=0)
    at_top = tier >= top
    progress = np.where(at_top | (met_tier(spend, orders, rules) > tier), 1.0, progress)
    names = np.array(rules.tier_names, dtype=object)
    frame = pd.DataFrame({
        "tier": pd.Categorical.from_codes(tier, categories=rules.tier_names, ordered=True),
        "spend_window": spend,
        "orders_window": orders,
        "next_tier": pd.array(np.where(at_top, None, names[nxt]), dtype="string"),
        "spend_to_next": np.where(at_top, np.nan, np.maximum(need_spend - spend, 0.0)),
        "orders_to_next": np.where(at_top, np.nan, np.maximum(need_orders - orders, 0.0)),
        "progress": progress,
    }, index=purchases.customers)
    return frame
