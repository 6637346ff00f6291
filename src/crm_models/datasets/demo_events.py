"""Synthetic web events for the demo brand's shopping path, with known stage conversion (demo data for funnels).

Each customer starts one visit with a ``browse`` event at a uniformly drawn time. From there the path runs
``browse -> product_view -> add_to_cart -> checkout -> payment``; a customer at stage ``k`` moves on to stage
``k + 1`` with probability ``conversion[device][k]`` (a Markov chain that stops at the first drop-off), after
an exponential pause with stage-specific mean. Devices (``mobile``, ``desktop``) differ in their conversion,
so drop-off by segment has a known answer too.

Noise that a correct closed funnel must ignore: repeated events of stages already reached (more product views,
a second browse), unrelated events (``search``, ``login``), and exact duplicate tracking calls (which
:func:`crm_models.data.clean_events` drops and counts). None of it happens before the stage it repeats, so the
truth of the ordered funnel is exact: ``truth["conversion_from_previous"]`` is the probability of reaching a
stage given the previous one, mixed over devices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crm_models.units import SECONDS_PER_DAY

STAGES = ("browse", "product_view", "add_to_cart", "checkout", "payment")
#: P(next stage | this stage) per device, for the four steps after ``browse``
DEFAULT_CONVERSION: dict[str, tuple[float, ...]] = {
    "mobile": (0.55, 0.25, 0.50, 0.70),
    "desktop": (0.70, 0.40, 0.65, 0.85),
}
DEFAULT_DEVICE_SHARE: dict[str, float] = {"mobile": 0.6, "desktop": 0.4}
#: mean pause in minutes before reaching each stage after ``browse``
MEAN_PAUSE_MINUTES = (2.0, 6.0, 4.0, 3.0)


@dataclass
class DemoEvents:
    """Web events (``customer_id, event, timestamp, session_id, device``) and the truth that generated them."""

    events: pd.DataFrame
    truth: dict[str, Any]


def expected_conversion(conversion: Mapping[str, Sequence[float]], device_share: Mapping[str, float]) -> list[float]:
    """P(reach stage k | reached stage k - 1) for k = 2..K, mixed over devices by their share."""
    devices = list(conversion)
    weights = np.array([device_share[d] for d in devices], dtype="float64")
    weights = weights / weights.sum()
    probs = np.array([conversion[d] for d in devices], dtype="float64")
    reach = np.concatenate([np.ones((len(devices), 1)), np.cumprod(probs, axis=1)], axis=1)
    mixed = weights @ reach
    return [float(x) for x in mixed[1:] / mixed[:-1]]


def simulate_web_events(
    n_customers: int = 5_000,
    *,
    seed: int = 0,
    start: str | pd.Timestamp = "2024-01-01",
    days: int = 90,
    conversion: Mapping[str, Sequence[float]] | None = None,
    device_share: Mapping[str, float] | None = None,
    customer_ids: Sequence[str] | None = None,
    duplicate_share: float = 0.01,
) -> DemoEvents:
    """Simulate one visit per customer along the shopping path; see the module docstring.

    ``customer_ids`` ties the events to the demo brand's customers (``make_demo(...).customers.customer_id``);
    by default ids are ``C00001 ...`` like the demo brand's. Deterministic for a given ``seed``.
    """
    conversion = dict(conversion or DEFAULT_CONVERSION)
    device_share = dict(device_share or DEFAULT_DEVICE_SHARE)
    steps = len(STAGES) - 1
    for device, probs in conversion.items():
        if len(probs) != steps or not all(0.0 <= p <= 1.0 for p in probs):
            raise ValueError(f"conversion[{device!r}] must hold {steps} probabilities in [0, 1], got {probs!r}")
    if set(device_share) != set(conversion):
        raise ValueError("device_share and conversion must name the same devices")
    if customer_ids is None:
        ids = np.array([f"C{i + 1:05d}" for i in range(n_customers)], dtype=object)
    else:
        ids = np.asarray(list(customer_ids), dtype=object)
        n_customers = len(ids)
    if n_customers <= 0:
        raise ValueError("n_customers must be positive")

    rng = np.random.default_rng(seed)
    devices = list(conversion)
    share = np.array([device_share[d] for d in devices], dtype="float64")
    device_index = rng.choice(len(devices), size=n_customers, p=share / share.sum())
    probs = np.array([conversion[d] for d in devices], dtype="float64")[device_index]  # (n, steps)
    advance = rng.random((n_customers, steps)) < probs
    depth = 1 + np.cumprod(advance, axis=1).sum(axis=1)  # stages reached, 1..K
    pauses = rng.exponential(np.array(MEAN_PAUSE_MINUTES) * 60.0, size=(n_customers, steps))
    offsets = np.concatenate([np.zeros((n_customers, 1)), np.cumsum(pauses, axis=1)], axis=1)
    begin = pd.Timestamp(start)
    visit = rng.uniform(0.0, days * SECONDS_PER_DAY - offsets[:, -1].max() - 3600.0, size=n_customers)
    stage_seconds = np.floor(visit[:, None] + offsets)

    customer_rows, event_rows, second_rows = [], [], []
    for k, name in enumerate(STAGES):
        reached = depth > k
        customer_rows.append(np.flatnonzero(reached))
        event_rows.append(np.full(reached.sum(), name, dtype=object))
        second_rows.append(stage_seconds[reached, k])
    # repeats of a reached stage, after it was reached (never before: the ordered truth stays exact)
    repeat = rng.random(n_customers) < 0.5
    who = np.flatnonzero(repeat)
    stage_of_repeat = np.floor(rng.random(len(who)) * depth[who]).astype(int)
    customer_rows.append(who)
    event_rows.append(np.array(STAGES, dtype=object)[stage_of_repeat])
    second_rows.append(stage_seconds[who, stage_of_repeat] + rng.integers(1, 600, size=len(who)))
    # unrelated events anywhere in the visit
    other = np.flatnonzero(rng.random(n_customers) < 0.3)
    customer_rows.append(other)
    event_rows.append(rng.choice(np.array(["search", "login"], dtype=object), size=len(other)))
    second_rows.append(stage_seconds[other, 0] + rng.integers(-300, 900, size=len(other)))

    rows = np.concatenate(customer_rows)
    frame = pd.DataFrame({
        "customer_id": pd.array(ids[rows], dtype="string"),
        "event": pd.array(np.concatenate(event_rows), dtype="string"),
        "timestamp": begin + pd.to_timedelta(np.concatenate(second_rows), unit="s"),
        "session_id": pd.array([f"S{r + 1:06d}" for r in rows], dtype="string"),
        "device": pd.array(np.array(devices, dtype=object)[device_index[rows]], dtype="string"),
    })
    n_duplicates = round(duplicate_share * len(frame))
    if n_duplicates:
        frame = pd.concat([frame, frame.iloc[rng.choice(len(frame), n_duplicates, replace=False)]])
    frame = frame.sort_values(["timestamp", "customer_id", "event"], kind="stable").reset_index(drop=True)
    truth = {
        "stages": list(STAGES),
        "conversion": {d: list(conversion[d]) for d in devices},
        "device_share": {d: float(device_share[d]) for d in devices},
        "conversion_from_previous": expected_conversion(conversion, device_share),
        "duplicates": n_duplicates,
        "max_visit_minutes": float(offsets[:, -1].max() / 60.0),
    }
    return DemoEvents(events=frame, truth=truth)
