"""The coupon experiment's transaction log, with a known effect of each arm on repurchase.

:func:`simulate_coupon_transactions` turns the demo experiment (:mod:`crm_models.datasets.demo_experiment`) into
what a CRM team actually has: an assignment table (the experiment's ``unit_id``, ``variant``, ``enrolled_at``)
and a transaction log, so that outcomes are derived from transactions (:func:`crm_models.ab.experiment_outcomes`).

Known truth, per unit ``i`` and arm ``a``:

* the time from assignment to the first purchase is exponential with hazard
  ``lambda_ia = -log(1 - p_ia) / W`` per day, where ``p_ia`` is the experiment's true probability of buying
  within its window of ``W`` days (``truth["expected_outcome"]["converted"][a]``, heterogeneous by design), so
  ``P(first purchase within N days) = 1 - exp(-lambda_ia N)`` and the arm changes repurchase;
* later purchases follow a Poisson process at half the control hazard (the coupon is single-use, it moves the
  first purchase only);
* an order's list value is Gamma(4, spend/4) around the unit's pre-period spend per order; the first order after
  assignment redeems the coupon, paying ``value * (1 - discount)`` with ``coupon_cost = value * discount``;
* items per order are ``1 + Poisson(1)``.

Pre-period purchases (the experiment's ``pre_orders`` and ``pre_revenue``, spread over the 90 days before
assignment) are in the log too, so pre-period covariates come from the same log. Nothing after ``end`` is
written: units enrolled late are censored, as in an experiment still running.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["DISCOUNT", "coupon_transactions", "simulate_coupon_transactions"]

#: share of the first order's value each coupon gives away
DISCOUNT = {"coupon_10": 0.10, "coupon_20": 0.20}
_PRE_DAYS = 90.0
_REPEAT_SHARE = 0.5


def simulate_coupon_transactions(
    experiment: pd.DataFrame,
    truth: dict[str, Any],
    rng: np.random.Generator,
    *,
    end: pd.Timestamp | None = None,
    horizons: tuple[int, ...] = (30, 60, 90),
    discount: dict[str, float] | None = None,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Transactions of the experiment's units before and after assignment, and the truth behind them.

    Parameters
    ----------
    experiment, truth
        The output of :func:`~crm_models.datasets.demo_experiment.simulate_coupon_experiment` (rows aligned with
        the truth's per-unit arrays).
    rng
        Source of all randomness.
    end
        Last instant of the log (default: the experiment's ``truth["end"]``).
    horizons
        Days ``N`` for which the true ``N``-day repurchase rates are reported.
    discount
        Share of the first order's value each arm's coupon gives away (default :data:`DISCOUNT`).

    Returns
    -------
    transactions, truth
        Canonical transactions ``customer_id, timestamp, amount, order_id, quantity, coupon_cost``, sorted by
        time; ``truth`` holds ``hazard[arm]`` (per unit, per day), ``repurchase_rate[N][arm]`` (mean over units
        of ``1 - exp(-hazard N)``), ``repurchase_effect[N][arm]`` (against the control), ``unit_repurchase[N][arm]``
        (per-unit probabilities, aligned with ``experiment``'s rows, for truths by segment), ``discount`` and
        ``window_days``.
    """
    discount = dict(DISCOUNT if discount is None else discount)
    control = truth["control"]
    arms = list(truth["arms"])
    window_days = max((pd.Timestamp(truth["end"]) - pd.Timestamp(truth["start"])) / pd.Timedelta(days=1), 1.0)
    end = pd.Timestamp(truth["end"] if end is None else end)
    n = len(experiment)
    p_window = truth["expected_outcome"]["converted"]
    hazard = {a: -np.log1p(-np.clip(np.asarray(p_window[a], float), 0.0, 0.999)) / window_days for a in arms}
    variant = experiment["variant"].astype(str).to_numpy()
    arm_index = np.array([arms.index(v) for v in variant])
    rate_first = np.choose(arm_index, [hazard[a] for a in arms])
    rate_repeat = _REPEAT_SHARE * hazard[control]
    t0 = pd.to_datetime(experiment["enrolled_at"]).to_numpy()
    follow = (np.datetime64(end.to_datetime64()) - t0) / np.timedelta64(1, "D")
    pre_orders = experiment["pre_orders"].to_numpy(int)
    pre_revenue = experiment["pre_revenue"].to_numpy(float)
    spend = np.where(pre_orders > 0, pre_revenue / np.maximum(pre_orders, 1), rng.lognormal(3.5, 0.5, n))
    spend = np.clip(spend, 1.0, None)
    unit = experiment["unit_id"].astype(str).to_numpy()

    # post-assignment purchases: first at Exp(rate_first), then a Poisson process at rate_repeat, until `end`
    first = rng.exponential(1.0 / np.maximum(rate_first, 1e-12))
    buyer = first <= follow
    idx_first = np.flatnonzero(buyer)
    n_repeat = rng.poisson(rate_repeat[idx_first] * (follow[idx_first] - first[idx_first]))
    idx_repeat = np.repeat(idx_first, n_repeat)
    t_repeat = first[idx_repeat] + rng.uniform(0.0, 1.0, idx_repeat.size) * (follow[idx_repeat] - first[idx_repeat])
    post_idx = np.r_[idx_first, idx_repeat]
    post_days = np.r_[first[idx_first], t_repeat]
    value = rng.gamma(4.0, spend[post_idx] / 4.0)
    is_first = np.r_[np.ones(idx_first.size, bool), np.zeros(idx_repeat.size, bool)]
    share = np.array([discount.get(v, 0.0) for v in variant[post_idx]]) * is_first
    post = pd.DataFrame({
        "customer_id": unit[post_idx],
        "timestamp": t0[post_idx] + pd.to_timedelta(post_days, unit="D").to_numpy(),
        "amount": np.round(value * (1 - share), 2),
        "quantity": 1 + rng.poisson(1.0, post_idx.size),
        "coupon_cost": np.round(value * share, 2),
    })

    # pre-period purchases: the experiment's pre_orders, spread over the 90 days before assignment
    pre_idx = np.repeat(np.arange(n), pre_orders)
    weights = rng.gamma(4.0, 1.0, pre_idx.size)
    totals = np.bincount(pre_idx, weights=weights, minlength=n)
    pre = pd.DataFrame({
        "customer_id": unit[pre_idx],
        "timestamp": t0[pre_idx] - pd.to_timedelta(rng.uniform(1e-6, _PRE_DAYS, pre_idx.size), unit="D").to_numpy(),
        "amount": np.round(pre_revenue[pre_idx] * weights / np.where(totals[pre_idx] > 0, totals[pre_idx], 1), 2),
        "quantity": 1 + rng.poisson(1.0, pre_idx.size),
        "coupon_cost": 0.0,
    })
    log = pd.concat([pre, post], ignore_index=True).sort_values(["timestamp", "customer_id"], kind="stable")
    log = log.reset_index(drop=True)
    log.insert(3, "order_id", pd.array([f"X{i:08d}" for i in range(len(log))], dtype="string"))
    log["customer_id"] = log["customer_id"].astype("string")

    unit_rate = {int(h): {a: 1.0 - np.exp(-hazard[a] * h) for a in arms} for h in horizons}
    rate = {h: {a: float(v.mean()) for a, v in per.items()} for h, per in unit_rate.items()}
    effect = {h: {a: rate[h][a] - rate[h][control] for a in arms if a != control} for h in rate}
    return log, {"hazard": hazard, "repurchase_rate": rate, "repurchase_effect": effect,
                 "unit_repurchase": unit_rate, "discount": discount, "window_days": window_days,
                 "repeat_hazard_share": _REPEAT_SHARE, "end": end}


def coupon_transactions(demo: Any) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The demo brand's coupon-experiment transaction log, deterministic in ``demo.seed``.

    Uses a fifth child of the demo's seed sequence, so the demo's other tables are unchanged.
    """
    child = np.random.SeedSequence(demo.seed).spawn(5)[4]
    return simulate_coupon_transactions(demo.experiment, demo.truth["experiment"], np.random.default_rng(child))
