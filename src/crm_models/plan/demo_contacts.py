"""SIMULATED contact history for the demo brand, which has none: only for the demo and tests, never for real data.

A real run reads its contact history (one row per marketing contact sent) from the CRM platform and hands it to
:func:`crm_models.plan.remaining_contacts`. The demo brand's tables have no such history, so the campaign notebook
draws one here, seeded, so that the contact limit binds for some customers and the report can show its effect.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from crm_models.data.timestamps import end_exclusive
from crm_models.exceptions import ConfigurationError

SIMULATED_CHANNELS = ("email", "sms", "push")


def simulate_contact_history(customers: Iterable[Any], as_of: Any, *, period_days: int = 30,
                             mean_recent: float = 1.0, mean_older: float = 1.0, service_share: float = 0.2,
                             seed: int = 0) -> pd.DataFrame:
    """A SIMULATED contact history (demo only): ``customer_id``, ``timestamp``, ``channel``, ``proactive``.

    Each customer gets Poisson(``mean_recent``) contacts spread uniformly over the ``period_days`` up to ``as_of``
    (a date means the whole day) and Poisson(``mean_older``) contacts in the ``period_days`` before that, which a
    limit over ``period_days`` must ignore. A share ``service_share`` of all contacts are service messages
    (``proactive`` False), which do not count against a marketing contact limit. Seeded: the same arguments give
    the same history.
    """
    if period_days <= 0 or mean_recent < 0 or mean_older < 0 or not 0.0 <= service_share <= 1.0:
        raise ConfigurationError("period_days must be positive, the means non-negative and service_share in [0, 1]")
    ids = pd.Index(pd.Series(list(customers), dtype=object).astype(str))
    rng = np.random.default_rng(seed)
    end = end_exclusive(as_of, "as_of")
    recent = rng.poisson(mean_recent, len(ids))
    older = rng.poisson(mean_older, len(ids))
    who = np.concatenate([np.repeat(ids.to_numpy(), recent), np.repeat(ids.to_numpy(), older)])
    # seconds before the end of the as-of day: (0, period] for recent contacts, (period, 2 period] for older ones
    period = period_days * 86_400
    back = np.concatenate([rng.uniform(1, period, recent.sum()), rng.uniform(period + 1, 2 * period, older.sum())])
    frame = pd.DataFrame({
        "customer_id": who.astype(str),
        "timestamp": end - pd.to_timedelta(np.floor(back), unit="s"),
        "channel": rng.choice(np.array(SIMULATED_CHANNELS, dtype=object), len(who)),
        "proactive": rng.random(len(who)) >= service_share,
    })
    return frame.sort_values("timestamp", kind="stable").reset_index(drop=True)
