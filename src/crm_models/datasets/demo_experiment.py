"""Simulated coupon experiment with known, heterogeneous treatment effects.

The demo experiment is a three-arm coupon test (``control``, ``coupon_10``, ``coupon_20``) run on an existing
customer base between ``start`` and ``end``. Every number that an analysis should recover is known:

* the probability that a customer buys during the test window without a coupon (``p0``) and with each coupon,
  so the per-customer true effect on conversion is ``p_arm - p0``;
* the expected revenue in the window under each arm, so the per-customer true effect on revenue is known too;
* the average treatment effects (the mean of the per-customer effects) per arm and outcome.

Heterogeneity is built to look like what CRM teams see: coupons move occasional and lapsing buyers, do almost
nothing for customers who do not read the e-mail, and slightly *reduce* purchases by the most frequent buyers
("sleeping dogs", who would have bought anyway and are nudged into waiting for the next deal). The bigger
coupon converts more but cuts the basket value, so its revenue effect is not simply larger.

Pre-period covariates (``pre_orders``, ``pre_revenue``, ``pre_converted``) are drawn from the same latent
purchase rate as the outcome, so they are informative for CUPED, as a real pre-period would be.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["ARMS", "CONTROL", "COVARIATES", "FEATURES", "OUTCOMES", "simulate_coupon_experiment"]

CONTROL = "control"
ARMS = ("control", "coupon_10", "coupon_20")
OUTCOMES = ("converted", "revenue")
#: numeric columns that a targeting model can use (all known before the experiment starts)
FEATURES = (
    "tenure_days",
    "pre_orders",
    "pre_revenue",
    "pre_recency_days",
    "email_engaged",
    "channel_paid",
)
#: pre-period covariates for CUPED, one per outcome
COVARIATES = {"converted": "pre_converted", "revenue": "pre_revenue"}

# Scale of each coupon's effect on the probability of buying in the window (multiplies the profile below).
_EFFECT_SCALE = {"coupon_10": 1.0, "coupon_20": 1.6}
# Basket value multiplier under each arm (a discount lowers the spend per order).
_BASKET = {"control": 1.0, "coupon_10": 0.97, "coupon_20": 0.90}
_PAID_CHANNELS = ("paid_search", "paid_social", "affiliate", "display", "paid")
_PRE_PERIOD_DAYS = 90
_BASE_CONVERSION = 0.15  # mean probability of buying in the window without a coupon (calibrated below)


def _column(customers: pd.DataFrame, name: str, default: np.ndarray) -> np.ndarray:
    """A latent column as floats, or ``default`` when the column is absent or unusable."""
    if name not in customers.columns:
        return default
    values = pd.to_numeric(customers[name], errors="coerce").to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.all():
        return default
    values = np.where(bad, default, values)
    return values


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _calibrate_intercept(score: np.ndarray, target: float) -> float:
    """Intercept ``a`` with ``mean(sigmoid(a + score)) == target`` (bisection; the mean is monotone in ``a``)."""
    lo, hi = -20.0, 20.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if _sigmoid(mid + score).mean() < target:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


def simulate_coupon_experiment(
    customers: pd.DataFrame,
    rng: np.random.Generator,
    start: pd.Timestamp,
    end: pd.Timestamp,
    *,
    arms: tuple[str, ...] = ARMS,
    allocation: tuple[float, ...] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Simulate a randomized coupon experiment on ``customers`` with known heterogeneous effects.

    Parameters
    ----------
    customers
        One row per customer. Used if present (all optional except ``customer_id``): ``signup``
        (Timestamp), ``cohort``, ``acquisition_channel``, ``purchase_rate``, ``dropout_prob``,
        ``mean_spend`` (latent truths from the demo customer base). Missing columns are drawn from
        plausible defaults, so any customer table works.
    rng
        Source of all randomness (the result is a pure function of the generator's state).
    start, end
        Experiment window. Customers who signed up after ``start`` are not eligible (unless that
        would leave fewer than 100 customers). Units enrol at uniformly random times in the first
        half of the window (``enrolled_at``), which lets a sequential test replay the experiment.
    arms
        Variant names, control first. Extra arms beyond two coupons reuse the ``coupon_20`` effect scale
        scaled by their position.
    allocation
        Assignment probabilities per arm (default: equal).

    Returns
    -------
    experiment, truth
        ``experiment`` follows the experiment contract: ``unit_id``, ``variant``, outcomes ``converted``
        (0/1) and ``revenue`` (money in the window), pre-period covariates ``pre_orders``,
        ``pre_revenue``, ``pre_converted``, features ``tenure_days``, ``pre_recency_days``,
        ``email_engaged``, ``channel_paid``, ``cohort``, ``acquisition_channel`` and ``enrolled_at``.

        ``truth`` holds ``control``, ``arms``, ``outcomes``, ``features``, ``covariates``,
        ``ate[outcome][arm]`` (mean per-unit effect, absolute), ``baseline[outcome]`` (mean expected
        outcome under control), ``relative_lift[outcome][arm]`` (``ate / baseline``) and
        ``unit_effect[outcome][arm]`` (per-unit true effect, an array aligned with the rows of
        ``experiment``).
    """
    if "customer_id" not in customers.columns:
        from crm_models.exceptions import DataContractError

        raise DataContractError(
            "customers table needs an id column", column="customer_id", rule="required column"
        )
    if len(arms) < 2:
        from crm_models.exceptions import DataContractError

        raise DataContractError(
            "an experiment needs a control and at least one treatment arm", column="variant", rule=">= 2 arms"
        )
    start = pd.Timestamp(start)
    end = pd.Timestamp(end)
    window_days = max((end - start) / pd.Timedelta(days=1), 1.0)

    frame = customers.reset_index(drop=True)
    if "signup" in frame.columns:
        signup = pd.to_datetime(frame["signup"], errors="coerce")
        if signup.dt.tz is not None and start.tz is None:
            start_cmp = start.tz_localize(signup.dt.tz)
        elif signup.dt.tz is None and start.tz is not None:
            start_cmp = start.tz_localize(None)
        else:
            start_cmp = start
        eligible = (signup <= start_cmp).fillna(True).to_numpy()
        if eligible.sum() >= 100:
            frame = frame.loc[eligible].reset_index(drop=True)
            signup = signup.loc[eligible].reset_index(drop=True)
        tenure = ((start_cmp - signup) / pd.Timedelta(days=1)).to_numpy(dtype=float)
        tenure = np.where(np.isfinite(tenure), np.clip(tenure, 0.0, None), np.nan)
    else:
        tenure = np.full(len(frame), np.nan)
    n = len(frame)
    if n == 0:
        from crm_models.exceptions import DataContractError

        raise DataContractError("no customers to run an experiment on", column="customer_id", rule="n > 0")
    tenure = np.where(np.isnan(tenure), rng.uniform(30, 720, n), tenure)

    rate = _column(frame, "purchase_rate", rng.gamma(2.0, 0.5, n))
    rate = np.clip(rate, 1e-6, None)
    dropout = np.clip(_column(frame, "dropout_prob", rng.beta(2.0, 6.0, n)), 0.0, 0.99)
    spend = np.clip(_column(frame, "mean_spend", rng.lognormal(3.5, 0.5, n)), 1.0, None)
    if "acquisition_channel" in frame.columns:
        channel = frame["acquisition_channel"].astype("string").fillna("unknown").to_numpy(dtype=object)
    else:
        channel = rng.choice(np.array(["organic", "paid_search", "email", "referral"], dtype=object), n)
    cohort = (
        frame["cohort"].astype("string").fillna("unknown").to_numpy(dtype=object)
        if "cohort" in frame.columns
        else np.array(["all"] * n, dtype=object)
    )
    channel_paid = np.array([str(c).lower().startswith(_PAID_CHANNELS) for c in channel], dtype=np.int64)

    # Purchase propensity, standardized so the simulation does not depend on the units of purchase_rate.
    log_rate = np.log(rate)
    sd = log_rate.std()
    z_rate = (log_rate - log_rate.mean()) / (sd if sd > 0 else 1.0)
    alive = 1.0 - dropout

    # Pre-period (90 days before start): orders, revenue and whether the customer bought in a window as
    # long as the experiment's, all driven by the same latent propensity as the outcome.
    pre_intensity = 2.0 * np.exp(1.2 * z_rate) * np.clip(alive + 0.2, 0.0, 1.0)
    pre_orders = rng.poisson(pre_intensity)
    order_value = spend * rng.lognormal(-0.08, 0.4, n)
    pre_revenue = np.round(pre_orders * order_value, 2)
    pre_window_mean = pre_intensity * min(window_days / _PRE_PERIOD_DAYS, 1.0)
    pre_converted = (rng.poisson(pre_window_mean) > 0).astype(np.int64)
    pre_converted = np.maximum(pre_converted, (pre_orders > 0) & (rng.uniform(size=n) < 0.1)).astype(np.int64)
    recency = np.where(
        pre_orders > 0,
        np.minimum(rng.exponential(_PRE_PERIOD_DAYS / (pre_orders + 1.0)), tenure),
        np.minimum(tenure, _PRE_PERIOD_DAYS + rng.exponential(60.0, n)),
    )
    recency = np.round(recency, 1)
    email_engaged = (rng.uniform(size=n) < _sigmoid(0.4 + 0.5 * z_rate - 0.8 * channel_paid)).astype(np.int64)

    # Baseline probability of buying during the window (control).
    score0 = 2.0 * z_rate + 1.2 * (alive - alive.mean()) - 0.15 * channel_paid
    intercept = _calibrate_intercept(score0, _BASE_CONVERSION)
    logit0 = intercept + score0

    # Heterogeneous coupon effect on the probability of buying (percentage points): large for occasional and
    # lapsing buyers who read the e-mail, close to zero for those who do not, a little larger for paid-channel
    # customers, and negative for the most frequent buyers ("sleeping dogs" who wait for the next deal).
    profile = (
        0.09 * email_engaged * _sigmoid(0.5 - 1.5 * z_rate)
        + 0.015 * channel_paid
        - 0.05 * _sigmoid(3.0 * (z_rate - 1.5))
    )
    effects = {}
    for k, arm in enumerate(arms[1:], start=1):
        effects[arm] = _EFFECT_SCALE.get(arm, _EFFECT_SCALE["coupon_20"] * k / 2.0)
    basket = {arm: _BASKET.get(arm, max(1.0 - 0.05 * i, 0.5)) for i, arm in enumerate(arms)}

    prob = {arms[0]: _sigmoid(logit0)}
    for arm in arms[1:]:
        prob[arm] = np.clip(prob[arms[0]] + effects[arm] * profile, 0.001, 0.999)
    # revenue in the window: buyers place 1 + Poisson(extra) orders of value order_value * basket
    extra_orders = 0.4 * np.exp(0.3 * z_rate)
    exp_rev = {arm: prob[arm] * (1.0 + extra_orders) * spend * basket[arm] for arm in arms}

    if allocation is None:
        allocation = tuple([1.0 / len(arms)] * len(arms))
    alloc = np.asarray(allocation, dtype=float)
    if alloc.shape != (len(arms),) or (alloc < 0).any() or alloc.sum() <= 0:
        raise ValueError("allocation needs one non-negative probability per arm")
    alloc = alloc / alloc.sum()
    arm_index = rng.choice(len(arms), size=n, p=alloc)
    variant = np.asarray(arms, dtype=object)[arm_index]

    p_obs = np.choose(arm_index, [prob[a] for a in arms])
    converted = (rng.uniform(size=n) < p_obs).astype(np.int64)
    n_orders = converted * (1 + rng.poisson(extra_orders))
    basket_obs = np.choose(arm_index, [np.full(n, basket[a]) for a in arms])
    # each order's value is gamma around the customer's spend (shape 4: cv 0.5), sum of n_orders orders
    order_sum = rng.gamma(4.0 * np.maximum(n_orders, 1), 1.0 / 4.0) * spend * basket_obs
    revenue = np.round(np.where(n_orders > 0, order_sum, 0.0), 2)

    enrolled_at = start + pd.to_timedelta(rng.uniform(0.0, window_days / 2.0, n), unit="D")

    experiment = pd.DataFrame(
        {
            "unit_id": frame["customer_id"].astype("string").to_numpy(dtype=object),
            "variant": variant,
            "enrolled_at": enrolled_at,
            "converted": converted,
            "revenue": revenue,
            "pre_orders": pre_orders.astype(np.int64),
            "pre_revenue": pre_revenue,
            "pre_converted": pre_converted,
            "tenure_days": np.round(tenure, 1),
            "pre_recency_days": recency,
            "email_engaged": email_engaged,
            "channel_paid": channel_paid,
            "cohort": cohort,
            "acquisition_channel": channel,
        }
    )
    # rows in enrolment order, so that a sequential test can replay the experiment as it happened
    sort_idx = np.argsort(enrolled_at.to_numpy(), kind="stable")
    experiment = experiment.iloc[sort_idx].reset_index(drop=True)
    experiment["unit_id"] = experiment["unit_id"].astype("string")
    experiment["variant"] = experiment["variant"].astype("string")

    unit_effect: dict[str, dict[str, np.ndarray]] = {"converted": {}, "revenue": {}}
    ate: dict[str, dict[str, float]] = {"converted": {}, "revenue": {}}
    rel: dict[str, dict[str, float]] = {"converted": {}, "revenue": {}}
    baseline = {
        "converted": float(prob[arms[0]].mean()),
        "revenue": float(exp_rev[arms[0]].mean()),
    }
    for arm in arms[1:]:
        tau_c = (prob[arm] - prob[arms[0]])[sort_idx]
        tau_r = (exp_rev[arm] - exp_rev[arms[0]])[sort_idx]
        unit_effect["converted"][arm] = tau_c
        unit_effect["revenue"][arm] = tau_r
        ate["converted"][arm] = float(tau_c.mean())
        ate["revenue"][arm] = float(tau_r.mean())
        rel["converted"][arm] = ate["converted"][arm] / baseline["converted"]
        rel["revenue"][arm] = ate["revenue"][arm] / baseline["revenue"]

    truth: dict[str, Any] = {
        "control": arms[0],
        "arms": list(arms),
        "allocation": dict(zip(arms, alloc.tolist(), strict=True)),
        "outcomes": list(OUTCOMES),
        "features": list(FEATURES),
        "covariates": dict(COVARIATES),
        "baseline": baseline,
        "ate": ate,
        "relative_lift": rel,
        "unit_effect": unit_effect,
        "expected_outcome": {
            "converted": {a: prob[a][sort_idx] for a in arms},
            "revenue": {a: exp_rev[a][sort_idx] for a in arms},
        },
        "start": start,
        "end": end,
    }
    return experiment, truth
