"""A small seeded generator of canonical transactions with purchase rhythms (tests and examples).

Customers buy in a rhythm of their own (a period between a week and four months, with jitter) from their
arrival until they drop out. Recency alone is then misleading: 60 silent days are alarming for a weekly
buyer and normal for a quarterly one, which is what the model's rhythm features should pick up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def rhythm_transactions(
    seed: int = 7, n_customers: int = 2_000, days: int = 730, start: str = "2022-01-01"
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    period = np.exp(rng.uniform(np.log(7), np.log(120), n_customers))
    birth = rng.uniform(0, days * 0.6, n_customers)
    death = np.minimum(birth + rng.exponential(300, n_customers), days)
    k = int(np.ceil(days / 7 * 1.6)) + 1
    gaps = period[:, None] * rng.lognormal(0.0, 0.25, (n_customers, k))
    gaps[:, 0] = 0.0
    times = birth[:, None] + np.cumsum(gaps, axis=1)
    keep = times < death[:, None]
    keep[:, 0] = True
    owner = np.broadcast_to(np.arange(n_customers)[:, None], times.shape)[keep]
    times = times[keep]
    spend = rng.lognormal(3.5, 0.4, n_customers)
    amount = np.round(spend[owner] * rng.lognormal(0, 0.3, owner.size), 2)
    returned = rng.random(owner.size) < 0.03
    amount = np.where(returned, -0.5 * amount, amount)
    frame = pd.DataFrame(
        {
            "customer_id": [f"c{i:05d}" for i in owner],
            "timestamp": pd.Timestamp(start) + pd.to_timedelta(np.round(times * 86_400), unit="s"),
            "amount": amount,
            "quantity": rng.integers(1, 6, owner.size).astype(float),
            "product_id": rng.integers(0, 50, owner.size).astype(str),
        }
    )
    frame = frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
    frame["order_id"] = [f"o{i}" for i in range(len(frame))]
    return frame
