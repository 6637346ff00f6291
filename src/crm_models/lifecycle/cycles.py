"""Purchase cycle per customer: the usual interval between purchases, the expected next purchase, an overdue flag.

What the usual interval is, and why
-----------------------------------
Intervals between a customer's purchase days are skewed (many short gaps, a few very long ones), so they are
modelled on the log scale: ``log interval_ij ~ Normal(theta_i, sigma^2)``, i.e. lognormal, whose median is
``exp(theta_i)``. The *usual interval* is that median: the customer's typical rhythm, not pulled up by one long
break the way a mean would be.

A customer with two or three purchases gives one or two intervals: their own median is mostly noise. So
``theta_i`` is shrunk toward the population with the normal hierarchical model ``theta_i ~ Normal(mu, tau^2)``
(Gelman et al., *Bayesian Data Analysis*, 3rd ed., 2013, section 5.4, the posterior mean of each group as a
precision-weighted average; the empirical-Bayes form of James & Stein, Efron & Morris 1975, *JASA* 70,
311-319): with ``n_i`` intervals of mean log ``ybar_i``,

    theta_hat_i = w_i ybar_i + (1 - w_i) mu,    w_i = n_i / (n_i + sigma^2 / tau^2),
    Var(theta_i | data) = 1 / (n_i / sigma^2 + 1 / tau^2).

``sigma^2`` is the pooled within-customer variance of log intervals, ``mu`` and ``tau^2`` the mean and
between-customer variance of ``ybar_i`` less its average sampling variance (method of moments, floored).
Customers with one purchase get the population rhythm ``exp(mu)``; a customer with many regular intervals
keeps their own.

Overdue: the next interval is predicted as lognormal with log-mean ``theta_hat_i`` and variance
``sigma^2 + Var(theta_i | data)``. A customer is ``overdue`` when the silence since the last purchase exceeds
the ``overdue_quantile`` (0.9 by default) of that predictive distribution: silence that would be unusual for
*their own* rhythm, so a monthly buyer is overdue after a few weeks and a yearly buyer is not.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crm_models.data.engine import TableSource
from crm_models.exceptions import DataContractError
from crm_models.lifecycle._common import purchases

__all__ = ["purchase_cycles"]

#: floor on the between-customer variance of log intervals, so that shrinkage never divides by zero
_MIN_TAU2 = 1e-6


def purchase_cycles(
    transactions: TableSource,
    *,
    observation_end: Any = None,
    overdue_quantile: float = 0.9,
    backend: Any = None,
) -> pd.DataFrame:
    """One row per customer with their purchase rhythm, ready to join onto the per-run customer table.

    Parameters
    ----------
    transactions
        Canonical transactions (pandas, path or ibis table); purchases are counted on distinct days (rows with a
        non-negative amount), so every interval is at least one day.
    observation_end
        Last observed day (a date means the whole day); defaults to the day of the last purchase. Silence is
        measured from the last purchase day to this day.
    overdue_quantile
        Quantile of the customer's predictive next-interval distribution beyond which silence is ``overdue``.

    Returns
    -------
    A DataFrame indexed by ``customer_id`` with ``purchase_days``, ``first_purchase``, ``last_purchase``,
    ``median_interval`` (the customer's own, NaN with one purchase), ``usual_interval`` (shrunk, days),
    ``expected_next_purchase`` (last purchase + usual interval), ``days_since_last``, ``silence_ratio``
    (days since last / usual interval), ``overdue_after`` (days of silence that count as overdue),
    ``overdue`` (bool) and ``shrinkage_weight`` (``w_i``: 0 = population rhythm, 1 = own rhythm).
    The fitted population values are in ``frame.attrs["population"]`` (``mu``, ``sigma2``, ``tau2``).
    """
    import ibis

    if not 0.5 <= float(overdue_quantile) < 1.0:
        raise ValueError(f"overdue_quantile must lie in [0.5, 1), got {overdue_quantile!r}")
    rows, bound = purchases(transactions, backend=backend, observation_end=observation_end)
    days = rows.select("customer_id", day=rows.timestamp.truncate("D")).distinct()
    window = ibis.window(group_by="customer_id", order_by="day")
    days = days.mutate(previous=days.day.lag().over(window))
    gap = ((days.day.epoch_seconds() - days.previous.epoch_seconds()) / 86_400.0).cast("float64")
    days = days.mutate(gap=gap, log_gap=gap.log())
    stats_table = days.group_by("customer_id").aggregate(
        purchase_days=days.count(),
        first_purchase=days.day.min(),
        last_purchase=days.day.max(),
        n_intervals=days.gap.count(),
        sum_log=days.log_gap.sum(),
        sum_log2=(days.log_gap * days.log_gap).sum(),
        median_interval=days.gap.median(),
    )
    frame = stats_table.order_by("customer_id").to_pandas()
    frame["customer_id"] = frame["customer_id"].astype("string")
    frame = frame.set_index("customer_id")
    last_day = (bound - pd.Timedelta(1, "ns")).normalize()
    return _rhythm(frame, last_day, float(overdue_quantile))


def _rhythm(frame: pd.DataFrame, last_day: pd.Timestamp, quantile: float) -> pd.DataFrame:
    n = frame["n_intervals"].fillna(0).to_numpy(dtype="float64")
    sum_log = frame["sum_log"].fillna(0.0).to_numpy(dtype="float64")
    sum_log2 = frame["sum_log2"].fillna(0.0).to_numpy(dtype="float64")
    has = n > 0
    if has.sum() < 2:
        raise DataContractError(
            f"only {int(has.sum())} customers bought on more than one day: a purchase rhythm needs repeat buyers",
            column="customer_id", rule="at least two customers with two or more purchase days")
    ybar = np.where(has, sum_log / np.where(has, n, 1.0), np.nan)
    within_ss = np.where(has, sum_log2 - n * np.where(has, ybar, 0.0) ** 2, 0.0)
    dof = float(np.clip(n - 1.0, 0.0, None).sum())
    if dof > 0:
        sigma2 = float(np.clip(within_ss, 0.0, None).sum() / dof)
    else:  # nobody has two intervals: all spread is taken as within-customer noise
        sigma2 = float(np.var(ybar[has]))
    mu = float(np.mean(ybar[has]))
    tau2 = max(float(np.var(ybar[has], ddof=1)) - float(np.mean(sigma2 / n[has])), _MIN_TAU2)
    ratio = sigma2 / tau2
    weight = n / (n + ratio)
    theta = np.where(has, weight * np.nan_to_num(ybar) + (1.0 - weight) * mu, mu)
    posterior_var = 1.0 / (n / max(sigma2, 1e-12) + 1.0 / tau2)
    predictive_sd = np.sqrt(sigma2 + posterior_var)
    usual = np.exp(theta)
    overdue_after = np.exp(theta + stats.norm.ppf(quantile) * predictive_sd)
    last = pd.to_datetime(frame["last_purchase"])
    since = ((last_day - last).dt.days).to_numpy(dtype="float64")
    out = pd.DataFrame(
        {
            "purchase_days": frame["purchase_days"].astype("int64"),
            "first_purchase": pd.to_datetime(frame["first_purchase"]),
            "last_purchase": last,
            "median_interval": frame["median_interval"].astype("float64"),
            "usual_interval": usual,
            "expected_next_purchase": (last + pd.to_timedelta(np.round(usual), unit="D")).dt.normalize(),
            "days_since_last": since,
            "silence_ratio": since / usual,
            "overdue_after": overdue_after,
            "overdue": since > overdue_after,
            "shrinkage_weight": weight,
        },
        index=frame.index,
    )
    out.attrs["population"] = {"mu": mu, "sigma2": sigma2, "tau2": tau2, "usual_interval": float(np.exp(mu))}
    return out
