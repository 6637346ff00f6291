"""Synthetic purchases with a known truth: BG/NBD purchase process and Gamma-Gamma spend.

The generative model is exactly the one the CLV models assume, so tests can check parameter recovery:

* BG/NBD (Fader, Hardie & Lee 2005, section 3): while active, a customer buys as a Poisson process with rate
  ``lambda ~ Gamma(r, alpha)`` (shape ``r``, rate ``alpha`` per week); after every purchase, including the first,
  the customer becomes inactive with probability ``p ~ Beta(a, b)``
  (time 0 is the first purchase; dropout can only follow a repeat purchase).
* Gamma-Gamma spend (Fader, Hardie & Lee 2005b; Fader & Hardie 2013): each purchase's value is
  ``z ~ Gamma(p_spend, nu)`` with a per-customer ``nu ~ Gamma(q, gamma)``, so the mean spend ``p_spend / nu``
  varies across customers but not with the purchase rate.

Cohorts and seasonality enter through signups: customers sign up over the first part of the window with more
signups in November and December (the first purchase happens at signup), which leaves the per-customer process
untouched. A small share of orders is later partly returned (a negative-amount row with its own order id); the
returns sit outside the BG/NBD truth and are meant to be removed by ``clean_transactions``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from crm_models.units import DAYS_PER_WEEK

ACQUISITION_CHANNELS = ("paid_search", "paid_social", "display", "email", "organic", "referral")
# Mean cost of acquiring one customer through each channel, in currency units.
ACQUISITION_COST = {"paid_search": 32.0, "paid_social": 26.0, "display": 18.0, "email": 6.0, "organic": 2.0,
                    "referral": 12.0}
ACQUISITION_SHARE = (0.25, 0.2, 0.1, 0.1, 0.25, 0.1)
PRODUCT_CATEGORIES = ("apparel", "shoes", "accessories", "home", "beauty", "kids", "sport", "gifts")
# Relative signup intensity by calendar month (January .. December): a holiday peak.
SIGNUP_SEASONALITY = (0.8, 0.75, 0.9, 0.95, 1.0, 0.95, 0.9, 0.9, 1.0, 1.1, 1.5, 1.8)


@dataclass(frozen=True)
class PurchaseTruth:
    """The true parameters of the purchase and spend processes (time unit: weeks)."""

    r: float = 0.6
    alpha: float = 8.0
    a: float = 0.7
    b: float = 2.8
    p: float = 6.0
    q: float = 4.0
    gamma: float = 12.0
    return_rate: float = 0.03

    def as_dict(self) -> dict[str, float]:
        """The parameters as a plain dict (``r, alpha, a, b`` for BG/NBD; ``p, q, gamma`` for Gamma-Gamma)."""
        return {"r": self.r, "alpha": self.alpha, "a": self.a, "b": self.b, "p": self.p, "q": self.q,
                "gamma": self.gamma, "time_unit": "W", "return_rate": self.return_rate}


def simulate_customers(rng: np.random.Generator, n_customers: int, start: pd.Timestamp, signup_end: pd.Timestamp,
                       truth: PurchaseTruth) -> pd.DataFrame:
    """Customers with a signup date, cohort, acquisition channel and cost, and their latent BG/NBD/GG traits."""
    days = pd.date_range(start, signup_end, freq="D")
    weights = np.array([SIGNUP_SEASONALITY[d.month - 1] for d in days])
    day_index = rng.choice(len(days), size=n_customers, p=weights / weights.sum())
    seconds = rng.uniform(8 * 3600, 22 * 3600, size=n_customers)
    signup = days[day_index] + pd.to_timedelta(seconds.round(), unit="s")
    order = np.argsort(signup.to_numpy(), kind="stable")
    signup = signup[order]
    channel = rng.choice(len(ACQUISITION_CHANNELS), size=n_customers, p=ACQUISITION_SHARE)
    channels = np.array(ACQUISITION_CHANNELS, dtype=object)[channel]
    base_cost = np.array([ACQUISITION_COST[c] for c in channels])
    width = len(str(n_customers))
    customers = pd.DataFrame(
        {
            "customer_id": [f"C{i:0{width + 1}d}" for i in range(1, n_customers + 1)],
            "signup": signup,
            "cohort": signup.strftime("%Y-%m"),
            "acquisition_channel": pd.Series(channels, dtype="string"),
            "acquisition_cost": np.round(base_cost * rng.lognormal(0.0, 0.25, size=n_customers), 2),
            "purchase_rate": rng.gamma(truth.r, 1.0 / truth.alpha, size=n_customers) / DAYS_PER_WEEK,
            "dropout_prob": rng.beta(truth.a, truth.b, size=n_customers),
            "spend_rate": rng.gamma(truth.q, 1.0 / truth.gamma, size=n_customers),
        }
    )
    customers["mean_spend"] = truth.p / customers["spend_rate"]
    customers["customer_id"] = customers["customer_id"].astype("string")
    return customers


def simulate_purchases(rng: np.random.Generator, customers: pd.DataFrame, end: pd.Timestamp,
                       truth: PurchaseTruth) -> pd.DataFrame:
    """Draw each customer's purchases up to ``end`` from the BG/NBD process, with Gamma-Gamma order values.

    Vectorized over customers: each round draws the next inter-purchase time of every customer still active
    and still before ``end``; a repeat purchase is followed by a dropout draw with the customer's ``p``.
    """
    n = len(customers)
    signup_days = (customers["signup"] - customers["signup"].min()).dt.total_seconds().to_numpy() / 86400.0
    horizon = (end - customers["signup"].min()).total_seconds() / 86400.0
    rate = customers["purchase_rate"].to_numpy()
    dropout = customers["dropout_prob"].to_numpy()
    who = [np.arange(n)]
    when = [signup_days.copy()]
    current = signup_days.copy()
    # Everyone is active after the first purchase; dropout draws follow each *repeat* purchase (FHL 2005, eq. 3).
    index = np.arange(n)
    while index.size:
        current[index] += rng.exponential(1.0 / np.maximum(rate[index], 1e-12))
        index = index[current[index] <= horizon]
        if not index.size:
            break
        who.append(index.copy())
        when.append(current[index].copy())
        index = index[rng.random(index.size) >= dropout[index]]
    customer_index = np.concatenate(who)
    day = np.concatenate(when)
    spend_rate = customers["spend_rate"].to_numpy()[customer_index]
    amount = rng.gamma(truth.p, 1.0 / spend_rate)
    quantity = 1 + rng.poisson(np.clip(amount / 40.0, 0.2, 6.0))
    category = rng.integers(0, len(PRODUCT_CATEGORIES), size=day.size)
    origin = customers["signup"].min()
    timestamp = origin + pd.to_timedelta(np.round(day * 86400.0), unit="s")
    purchases = pd.DataFrame(
        {
            "customer_id": customers["customer_id"].to_numpy()[customer_index],
            "timestamp": timestamp,
            "amount": np.round(amount, 2),
            "quantity": quantity.astype(np.int64),
            "product_id": np.array(PRODUCT_CATEGORIES, dtype=object)[category],
        }
    )
    purchases = purchases.sort_values(["timestamp", "customer_id"], kind="stable").reset_index(drop=True)
    purchases["order_id"] = [f"O{i:08d}" for i in range(1, len(purchases) + 1)]
    returns = _simulate_returns(rng, purchases, end, truth.return_rate)
    out = pd.concat([purchases, returns], ignore_index=True)
    out = out.sort_values(["timestamp", "order_id"], kind="stable").reset_index(drop=True)
    for column in ("customer_id", "order_id", "product_id"):
        out[column] = out[column].astype("string")
    return out[["customer_id", "timestamp", "amount", "order_id", "quantity", "product_id"]]


def _simulate_returns(rng: np.random.Generator, purchases: pd.DataFrame, end: pd.Timestamp,
                      return_rate: float) -> pd.DataFrame:
    """Part of a few orders comes back 3-30 days later as a negative amount (dropped by cleaning rules)."""
    chosen = purchases.loc[rng.random(len(purchases)) < return_rate].copy()
    chosen["timestamp"] = chosen["timestamp"] + pd.to_timedelta(rng.integers(3, 31, size=len(chosen)), unit="D")
    chosen = chosen.loc[chosen["timestamp"] <= end]
    share = rng.uniform(0.2, 1.0, size=len(chosen))
    chosen["amount"] = -np.round(chosen["amount"].to_numpy() * share, 2)
    chosen["quantity"] = -np.maximum(1, np.round(chosen["quantity"].to_numpy() * share)).astype(np.int64)
    chosen["order_id"] = "R" + chosen["order_id"].str.slice(1)
    return chosen
