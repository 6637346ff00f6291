"""Repurchase: the share of new customers who come back, and the time to the second purchase as a survival curve.

Time to second purchase is right-censored: a customer who has not bought again by the end of the observation
window might still do so. The Kaplan-Meier product-limit estimator handles that,

    S(t) = prod_{t_i <= t} (1 - d_i / n_i)

(Kaplan & Meier 1958, *JASA* 53, 457-481, eq. 3.2), with ``d_i`` second purchases on day ``t_i`` and ``n_i``
customers still at risk just before it (censored customers stay at risk on the day they are censored). Its
variance is Greenwood's formula ``Var S(t) = S(t)^2 sum_{t_i <= t} d_i / (n_i (n_i - d_i))`` (Greenwood 1926;
Klein & Moeschberger 2003, *Survival Analysis*, 2nd ed., eq. 4.2.2), and the pointwise interval is the
log(-log) ("exponential Greenwood") interval ``S(t)^exp(+-z sigma(t) / log S(t))`` with ``sigma(t)^2`` the sum
above (Klein & Moeschberger 2003, eq. 4.3.2; Kalbfleisch & Prentice 2002, section 1.4), which stays in [0, 1].
lifelines' ``KaplanMeierFitter`` gives the same numbers; the tests pin them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crm_models.data.engine import TableSource
from crm_models.exceptions import DataContractError, NotFittedError
from crm_models.lifecycle._common import check_alpha, period_unit, purchases, segment_table, wilson_interval

__all__ = ["KaplanMeier", "repurchase_curves", "repurchase_rate", "second_purchase_times"]


class KaplanMeier:
    """Kaplan-Meier survival curve with Greenwood variance and log(-log) intervals.

    Parameters
    ----------
    alpha : float
        One minus the confidence level of the pointwise intervals (0.05 gives 95% intervals).

    Attributes (after ``fit``)
    --------------------------
    survival_function_ : DataFrame indexed by ``time`` (0 and every distinct observed time) with ``at_risk``,
        ``events``, ``censored``, ``survival``, ``greenwood`` (the sum ``sum d/(n(n-d))``), ``lower``, ``upper``.
    median_ : the first time at which ``survival`` is 0.5 or less (``inf`` if it never gets there).
    n_ : number of subjects (sum of weights); ``n_events_`` the number of events.
    method_name : the estimator's name, for report sentences that name the method.
    """

    method_name = "Kaplan-Meier estimate"

    def __init__(self, alpha: float = 0.05) -> None:
        self.alpha = alpha

    def fit(self, durations: Any, event_observed: Any = None, weights: Any = None) -> KaplanMeier:
        """Fit on ``durations`` (>= 0), ``event_observed`` (1 = event, 0 = censored; all events by default) and
        optional integer ``weights`` (counts of identical rows, so that grouped data fit in one pass)."""
        alpha = check_alpha(self.alpha)
        t = np.asarray(durations, dtype="float64").ravel()
        e = np.ones_like(t) if event_observed is None else np.asarray(event_observed, dtype="float64").ravel()
        w = np.ones_like(t) if weights is None else np.asarray(weights, dtype="float64").ravel()
        if not (len(t) == len(e) == len(w)):
            raise ValueError(f"durations ({len(t)}), event_observed ({len(e)}) and weights ({len(w)}) differ in length")
        if len(t) == 0:
            raise ValueError("durations is empty: Kaplan-Meier needs at least one subject")
        if not np.isfinite(t).all() or (t < 0).any():
            raise ValueError("durations must be finite and non-negative")
        if not np.isin(e, (0.0, 1.0)).all():
            raise ValueError("event_observed must be 0 or 1")
        if not np.isfinite(w).all() or (w < 0).any():
            raise ValueError("weights must be finite and non-negative")
        times, inverse = np.unique(t, return_inverse=True)
        events = np.bincount(inverse, weights=w * e, minlength=len(times))
        removed = np.bincount(inverse, weights=w, minlength=len(times))
        at_risk = removed[::-1].cumsum()[::-1]
        if times[0] > 0:  # the curve starts at time 0 with everyone at risk, as lifelines' timeline does
            times = np.concatenate([[0.0], times])
            events = np.concatenate([[0.0], events])
            removed = np.concatenate([[0.0], removed])
            at_risk = np.concatenate([[at_risk[0]], at_risk])
        with np.errstate(divide="ignore", invalid="ignore"):
            hazard = np.where(at_risk > 0, events / at_risk, 0.0)
            survival = np.cumprod(1.0 - hazard)
            term = np.where(at_risk > events, events / (at_risk * (at_risk - events)), np.inf)
            term = np.where(events > 0, term, 0.0)
            greenwood = np.cumsum(term)
            z = float(stats.norm.ppf(1.0 - alpha / 2.0))
            log_s = np.log(survival)
            width = z * np.sqrt(greenwood) / log_s
            lower = np.exp(-np.exp(np.log(-log_s) - width))
            upper = np.exp(-np.exp(np.log(-log_s) + width))
        lower = np.where(survival >= 1.0, 1.0, np.where(survival <= 0.0, 0.0, lower))
        upper = np.where(survival >= 1.0, 1.0, np.where(survival <= 0.0, 0.0, upper))
        self.survival_function_ = pd.DataFrame(
            {"at_risk": at_risk, "events": events, "censored": removed - events, "survival": survival,
             "greenwood": greenwood, "lower": lower, "upper": upper},
            index=pd.Index(times, name="time"),
        )
        below = np.flatnonzero(survival <= 0.5)
        self.median_ = float(times[below[0]]) if len(below) else float("inf")
        self.n_ = float(w.sum())
        self.n_events_ = float((w * e).sum())
        return self

    def _check_fitted(self) -> None:
        if not hasattr(self, "survival_function_"):
            raise NotFittedError("this KaplanMeier is not fitted yet: call fit(durations, event_observed) first")

    def survival_at(self, times: Any) -> np.ndarray:
        """S(t) at ``times`` (a step function, right-continuous: the value after the events at ``t``)."""
        self._check_fitted()
        curve = self.survival_function_
        query = np.atleast_1d(np.asarray(times, dtype="float64"))
        position = np.searchsorted(curve.index.to_numpy(), query, side="right") - 1
        values = np.where(position >= 0, curve["survival"].to_numpy()[np.clip(position, 0, None)], 1.0)
        return values

    def interval_at(self, times: Any) -> pd.DataFrame:
        """``survival``, ``lower`` and ``upper`` at ``times`` (one row per time)."""
        self._check_fitted()
        curve = self.survival_function_
        query = np.atleast_1d(np.asarray(times, dtype="float64"))
        position = np.clip(np.searchsorted(curve.index.to_numpy(), query, side="right") - 1, 0, None)
        picked = curve.iloc[position][["survival", "lower", "upper"]]
        return picked.set_index(pd.Index(query, name="time"))

    @property
    def summary(self) -> pd.DataFrame:
        """The curve as a table (same as ``survival_function_``)."""
        self._check_fitted()
        return self.survival_function_.copy()


def second_purchase_times(
    transactions: TableSource,
    *,
    observation_end: Any = None,
    by: Any = None,
    cohort_period: str = "M",
    backend: Any = None,
) -> pd.DataFrame:
    """One row per customer: first purchase day, days to the second purchase day (or to the end, censored).

    Purchases are counted on distinct days (two orders on the first day are one visit, as in
    :func:`crm_models.summary.customer_summary`), so the time to the second purchase is at least one day. A
    customer without a second purchase is censored at ``observation end - first purchase day`` days.

    ``by`` splits customers: ``"cohort"`` (the calendar ``cohort_period`` of the first purchase), the name of a
    transactions column (its value on the first purchase day, e.g. ``"channel"`` or ``"product_id"``; the
    smallest value when the first day has several, so the result does not depend on row order), or a customer ->
    segment mapping (Series indexed by customer id).

    Returns a DataFrame indexed by ``customer_id`` with ``first_purchase``, ``duration`` (days, float),
    ``repurchased`` (bool), ``followup`` (days from the first purchase to the last observed day) and, with
    ``by``, ``group``.
    """
    import ibis

    keep = (by,) if isinstance(by, str) and by != "cohort" else ()
    rows, bound = purchases(transactions, backend=backend, observation_end=observation_end, keep=keep)
    if keep and keep[0] not in rows.columns:
        raise DataContractError(f"by={by!r} is not a column of the transactions", column=by,
                                rule="by is 'cohort', a transactions column or a customer -> segment mapping")
    last_day = bound - pd.Timedelta(days=1) if bound == bound.normalize() else bound.normalize()
    rows = rows.mutate(day=rows.timestamp.truncate("D"))
    days = rows.select("customer_id", "day").distinct()
    first = days.group_by("customer_id").aggregate(first_day=days.day.min())
    later = days.join(first, "customer_id")
    later = later.filter(later.day > later.first_day)
    second = later.group_by("customer_id").aggregate(second_day=later.day.min())
    per_customer = first.left_join(second, "customer_id").select(
        "customer_id", "first_day", "second_day")
    end = ibis.literal(last_day.to_pydatetime())
    stop = ibis.coalesce(per_customer.second_day, end)
    result = per_customer.select(
        "customer_id",
        first_purchase=per_customer.first_day,
        duration=((stop.epoch_seconds() - per_customer.first_day.epoch_seconds()) / 86_400.0).cast("float64"),
        repurchased=per_customer.second_day.notnull(),
        followup=((end.epoch_seconds() - per_customer.first_day.epoch_seconds()) / 86_400.0).cast("float64"),
    )
    if isinstance(by, str) and by == "cohort":
        unit = period_unit(cohort_period)
        result = result.mutate(group=result.first_purchase.truncate(unit).cast("date").cast("string"))
    elif isinstance(by, str):
        on_first = rows.join(first, "customer_id")
        on_first = on_first.filter(on_first.day == on_first.first_day)
        values = on_first.group_by("customer_id").aggregate(group=on_first[by].cast("string").min())
        result = result.left_join(values, "customer_id").drop("customer_id_right")
    elif by is not None:
        mapping = segment_table(by, rows, name="by")
        result = result.left_join(mapping, "customer_id").drop("customer_id_right").rename(group="segment")
    frame = result.order_by("customer_id").to_pandas()
    frame["customer_id"] = frame["customer_id"].astype("string")
    frame["repurchased"] = frame["repurchased"].astype(bool)
    if "group" in frame.columns:
        frame["group"] = frame["group"].astype("string").fillna("(none)")
    return frame.set_index("customer_id")


def repurchase_curves(times: pd.DataFrame, *, alpha: float = 0.05) -> dict[str, KaplanMeier]:
    """Kaplan-Meier curves of time to second purchase, one per ``group`` (``"all"`` without groups).

    ``times`` is the output of :func:`second_purchase_times`. Each curve is fitted on counts of identical
    ``(duration, repurchased)`` rows, so millions of customers cost a few thousand distinct rows.
    """
    groups = times.groupby("group", sort=True, observed=True) if "group" in times.columns else [("all", times)]
    curves: dict[str, KaplanMeier] = {}
    for name, part in groups:
        counts = part.groupby(["duration", "repurchased"], observed=True).size().reset_index(name="n")
        curves[str(name)] = KaplanMeier(alpha=alpha).fit(counts["duration"], counts["repurchased"], counts["n"])
    return curves


def repurchase_rate(times: pd.DataFrame, *, within_days: float = 90, alpha: float = 0.05) -> pd.DataFrame:
    """Share of new customers with a second purchase within ``within_days`` days, per ``group``.

    Two estimates side by side:

    * ``rate``: among customers observed for at least ``within_days`` days after their first purchase
      (``eligible``), the share whose second purchase came within ``within_days``; Wilson score interval
      (Wilson 1927) in ``rate_lower``/``rate_upper``. Recent customers are left out, not counted as failures.
    * ``km_rate``: ``1 - S(within_days)`` from the Kaplan-Meier curve over every customer (recent ones
      contribute while observed), with the log(-log) Greenwood interval in ``km_lower``/``km_upper``.

    Also ``median_days_to_second`` (Kaplan-Meier median; ``inf`` when fewer than half ever come back in the
    window) and ``new_customers``.
    """
    if within_days <= 0:
        raise ValueError(f"within_days must be positive, got {within_days!r}")
    curves = repurchase_curves(times, alpha=alpha)
    groups = times.groupby("group", sort=True, observed=True) if "group" in times.columns else [("all", times)]
    rows = []
    for name, part in groups:
        # Only customers whose whole window lies inside the observation count; a recent customer who already
        # came back would otherwise count while recent ones who have not yet cannot, biasing the rate upward.
        observed_full = part["followup"] >= within_days
        n = int(observed_full.sum())
        hits = int((observed_full & part["repurchased"] & (part["duration"] <= within_days)).sum())
        low, high = wilson_interval(hits, n, alpha)
        curve = curves[str(name)]
        at = curve.interval_at([within_days]).iloc[0]
        rows.append({
            "group": str(name), "new_customers": len(part), "eligible": n, "repurchased_within": hits,
            "rate": hits / n if n else np.nan, "rate_lower": float(low), "rate_upper": float(high),
            "km_rate": 1.0 - float(at["survival"]), "km_lower": 1.0 - float(at["upper"]),
            "km_upper": 1.0 - float(at["lower"]), "median_days_to_second": curve.median_,
        })
    return pd.DataFrame(rows).set_index("group")
