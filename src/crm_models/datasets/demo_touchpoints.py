"""Synthetic marketing touchpoints with known channel effects (demo data for attribution).

The generative model is a first-order absorbing Markov chain over channels, the model class of
Anderl, Becker, von Wangenheim & Schumann (2016), "Mapping the customer journey: lessons learned from
graph-based online attribution modeling", IJRM 33(3):

* a journey starts at channel ``c`` with probability ``initial[c]``;
* at every touch on channel ``c`` the customer converts with probability ``p_conversion[c]``, leaves
  for good with probability ``p_exit[c]``, and otherwise moves to another channel ``d != c`` with
  probability proportional to ``attractiveness[d]`` (no immediate repeats, so the observed chain of
  merged states is exactly the generative one);
* the value of a conversion is Gamma distributed with mean ``mean_value[c]`` of the converting channel.

Because the chain is known, the truth is exact: the probability that a journey converts,
``P = pi (I - Q)^-1 r`` (Q: channel-to-channel transitions, r: conversion probabilities), and for each
channel the probability ``P_-c`` when journeys that reach ``c`` are cut there (they end without a
conversion). ``P - P_-c`` is the channel's incremental conversion effect per journey; the removal
effect ``1 - P_-c / P`` normalized over channels and scaled to the realized conversions is the credit
an exact Markov attribution must recover from enough data.

Customers may start a second (third, ...) journey after a conversion; journeys are independent runs of
the chain, so the per-journey truth holds for all of them. Timestamps never change the path: a journey
that would run past ``end`` is compressed in time to fit, so that no path is truncated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from crm_models.exceptions import DataContractError
from crm_models.units import SECONDS_PER_DAY

# name, initial weight, attractiveness, P(convert | touch), P(exit | touch), mean conversion value
_CHANNEL_TABLE: tuple[tuple[str, float, float, float, float, float], ...] = (
    ("Paid Search", 3.0, 3.0, 0.10, 0.30, 60.0),
    ("Email", 1.0, 2.0, 0.14, 0.30, 45.0),
    ("Social", 3.0, 2.0, 0.03, 0.35, 40.0),
    ("Display", 2.0, 2.5, 0.01, 0.40, 50.0),
    ("Direct", 1.0, 3.0, 0.12, 0.25, 70.0),
    ("Organic Search", 2.0, 2.0, 0.08, 0.30, 55.0),
    ("Video", 1.5, 1.0, 0.02, 0.40, 50.0),
    ("Affiliate", 0.5, 1.0, 0.09, 0.30, 65.0),
    ("Referral", 0.5, 1.0, 0.06, 0.30, 50.0),
    ("Push", 0.3, 1.0, 0.05, 0.35, 30.0),
)
MIN_CHANNELS = 6
MAX_CHANNELS = len(_CHANNEL_TABLE)
REPEAT_JOURNEY_PROBABILITY = 0.3  # chance that a converted customer starts another journey
MEAN_GAP_DAYS = 2.0  # mean time between two touches of a journey
MEAN_START_DELAY_DAYS = 10.0  # mean time from signup (or previous conversion) to a journey's first touch
VALUE_SHAPE = 4.0  # Gamma shape of conversion values (coefficient of variation 0.5)


def channel_parameters(n_channels: int = 8) -> pd.DataFrame:
    """The generative parameters of the first ``n_channels`` demo channels (one row per channel)."""
    if not MIN_CHANNELS <= n_channels <= MAX_CHANNELS:
        raise ValueError(f"n_channels must be between {MIN_CHANNELS} and {MAX_CHANNELS}, got {n_channels}")
    rows = _CHANNEL_TABLE[:n_channels]
    frame = pd.DataFrame(
        rows, columns=["channel", "initial", "attractiveness", "p_conversion", "p_exit", "mean_value"]
    ).set_index("channel")
    frame["initial"] = frame["initial"] / frame["initial"].sum()
    return frame


def _transition_matrix(params: pd.DataFrame) -> np.ndarray:
    """Channel-to-channel move probabilities given that the journey continues (zero diagonal)."""
    weights = np.tile(params["attractiveness"].to_numpy(float), (len(params), 1))
    np.fill_diagonal(weights, 0.0)
    return weights / weights.sum(axis=1, keepdims=True)


def chain_truth(params: pd.DataFrame) -> dict:
    """Exact conversion probabilities, incremental effects and removal effects of the generative chain."""
    channels = list(params.index)
    n = len(channels)
    move = _transition_matrix(params)
    p_conv = params["p_conversion"].to_numpy(float)
    p_exit = params["p_exit"].to_numpy(float)
    q = (1.0 - p_conv - p_exit)[:, None] * move
    pi = params["initial"].to_numpy(float)
    mean_value = params["mean_value"].to_numpy(float)

    def absorbed(keep: np.ndarray, reward: np.ndarray) -> float:
        # x = Q x + reward on kept states, 0 on removed ones (journeys reaching them end without conversion)
        idx = np.flatnonzero(keep)
        sub = np.eye(len(idx)) - q[np.ix_(idx, idx)]
        x = np.linalg.solve(sub, reward[idx])
        return float(pi[idx] @ x)

    everything = np.ones(n, dtype=bool)
    p_full = absorbed(everything, p_conv)
    v_full = absorbed(everything, p_conv * mean_value)
    p_without = np.empty(n)
    v_without = np.empty(n)
    for c in range(n):
        keep = everything.copy()
        keep[c] = False
        p_without[c] = absorbed(keep, p_conv)
        v_without[c] = absorbed(keep, p_conv * mean_value)
    removal = 1.0 - p_without / p_full
    value_removal = 1.0 - v_without / v_full
    return {
        "channels": channels,
        "transition": pd.DataFrame(q, index=channels, columns=channels),
        "conversion_probability": p_full,
        "value_per_journey": v_full,
        "conversion_probability_without": pd.Series(p_without, index=channels),
        "incremental_effect": pd.Series(p_full - p_without, index=channels),
        "removal_effect": pd.Series(removal, index=channels),
        "value_removal_effect": pd.Series(value_removal, index=channels),
        "attribution_share": pd.Series(removal / removal.sum(), index=channels),
        "value_share": pd.Series(value_removal / value_removal.sum(), index=channels),
    }


def _simulate_paths(
    n: int, params: pd.DataFrame, rng: np.random.Generator
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Run ``n`` journeys of the chain; return channel-code paths, converted flags and values."""
    k = len(params)
    move = _transition_matrix(params)
    cum_move = np.cumsum(move, axis=1)
    p_conv = params["p_conversion"].to_numpy(float)
    p_exit = params["p_exit"].to_numpy(float)
    mean_value = params["mean_value"].to_numpy(float)
    state = rng.choice(k, size=n, p=params["initial"].to_numpy(float))
    paths: list[list[int]] = [[int(s)] for s in state]
    converted = np.zeros(n, dtype=bool)
    value = np.zeros(n)
    active = np.arange(n)
    while active.size:
        u = rng.random(active.size)
        s = state[active]
        conv = u < p_conv[s]
        leave = (~conv) & (u < p_conv[s] + p_exit[s])
        converted[active[conv]] = True
        value[active[conv]] = rng.gamma(VALUE_SHAPE, mean_value[s[conv]] / VALUE_SHAPE)
        go_on = ~(conv | leave)
        movers = active[go_on]
        draws = rng.random(movers.size)
        nxt = (draws[:, None] > cum_move[state[movers]]).sum(axis=1)
        nxt = np.minimum(nxt, k - 1)
        state[movers] = nxt
        for j, c in zip(movers.tolist(), nxt.tolist()):
            paths[j].append(c)
        active = movers
    return [np.asarray(p, dtype=np.int64) for p in paths], converted, value


def simulate_touchpoints(
    customers: pd.DataFrame,
    rng: np.random.Generator,
    start: pd.Timestamp,
    end: pd.Timestamp,
    n_channels: int = 8,
) -> tuple[pd.DataFrame, dict]:
    """Simulate canonical touchpoints with known channel effects for the given customers.

    Parameters
    ----------
    customers:
        One row per customer with ``customer_id`` (str) and ``signup`` (Timestamp); other columns are
        ignored. A customer's first journey starts after ``max(signup, start)``; customers who sign up
        after ``end`` get no touchpoints.
    rng:
        The random generator (the only source of randomness).
    start, end:
        The observation window; every touchpoint lies in ``[start, end]``.
    n_channels:
        Number of channels, 6 to 10 (always including ``Direct``).

    Returns
    -------
    touchpoints, truth
        ``touchpoints``: canonical columns ``customer_id``, ``timestamp``, ``channel``, ``conversion``
        (0/1, set on the touch at which the customer converted) and ``value`` (conversion value, 0 on
        other touches), sorted by customer and time. ``truth``: the generative parameters
        (``parameters``), the exact chain quantities of :func:`chain_truth` (``conversion_probability``,
        ``incremental_effect``, ``removal_effect``, ...), ``n_journeys``, and ``attribution``: a frame
        indexed by channel with the expected credit (``conversions``, ``value``) of an exact
        first-order Markov removal-effect attribution, scaled to the realized totals.
    """
    for column in ("customer_id", "signup"):
        if column not in customers.columns:
            raise DataContractError(
                "customers frame lacks a required column", column=column, rule="required column",
                examples=customers.head(3),
            )
    start = pd.Timestamp(start)
    end = pd.Timestamp(end)
    if not end > start:
        raise ValueError(f"end ({end}) must be after start ({start})")
    params = channel_parameters(n_channels)
    channels = np.asarray(params.index, dtype=object)
    truth = chain_truth(params)

    signup = pd.to_datetime(customers["signup"])
    if getattr(signup.dt, "tz", None) is not None and start.tz is None:
        start, end = start.tz_localize(signup.dt.tz), end.tz_localize(signup.dt.tz)
    span = (end - start).total_seconds()
    ids = customers["customer_id"].astype(str).to_numpy(dtype=object)
    # seconds since start when each customer becomes reachable
    ready = np.maximum((signup - start).dt.total_seconds().to_numpy(float), 0.0)
    ready = np.where(np.isnan(ready), 0.0, ready)

    rows_customer: list[np.ndarray] = []
    rows_time: list[np.ndarray] = []
    rows_channel: list[np.ndarray] = []
    rows_conv: list[np.ndarray] = []
    rows_value: list[np.ndarray] = []
    eligible = np.flatnonzero(ready < span - SECONDS_PER_DAY)
    n_journeys = 0
    while eligible.size:
        paths, converted, value = _simulate_paths(eligible.size, params, rng)
        n_journeys += eligible.size
        lengths = np.array([len(p) for p in paths])
        gaps = rng.exponential(MEAN_GAP_DAYS * SECONDS_PER_DAY, size=int(lengths.sum())) + 60.0
        first = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        delay = rng.exponential(MEAN_START_DELAY_DAYS * SECONDS_PER_DAY, size=eligible.size)
        t0 = np.minimum(ready[eligible] + delay, span - SECONDS_PER_DAY)
        t0 = np.maximum(t0, ready[eligible])
        gaps[first] = 0.0  # the first touch happens at t0
        offsets = np.cumsum(gaps)
        offsets -= np.repeat(offsets[first], lengths)
        # at least a minute between touches; only the time beyond that minute is squeezed to fit
        position = np.arange(int(lengths.sum())) - np.repeat(first, lengths)
        base = 60.0 * position
        extra = offsets - base
        room = span - t0 - base[first + lengths - 1]
        duration = extra[first + lengths - 1]
        squeeze = np.where(duration > room, room / np.maximum(duration, 1.0), 1.0)
        times = np.repeat(t0, lengths) + base + extra * np.repeat(squeeze, lengths)
        last = first + lengths - 1
        conv_flag = np.zeros(int(lengths.sum()), dtype=np.int64)
        conv_flag[last[converted]] = 1
        val = np.zeros(int(lengths.sum()))
        val[last[converted]] = np.round(value[converted], 2)
        rows_customer.append(np.repeat(ids[eligible], lengths))
        rows_time.append(times)
        rows_channel.append(channels[np.concatenate(paths)])
        rows_conv.append(conv_flag)
        rows_value.append(val)
        # converted customers may come back for another journey, starting after their conversion
        end_time = times[last]
        again = converted & (rng.random(eligible.size) < REPEAT_JOURNEY_PROBABILITY)
        again &= end_time < span - 2 * SECONDS_PER_DAY
        ready[eligible[again]] = end_time[again] + 3600.0
        eligible = eligible[again]

    if rows_customer:
        seconds = np.concatenate(rows_time)
        touchpoints = pd.DataFrame(
            {
                "customer_id": pd.array(np.concatenate(rows_customer), dtype="str"),
                "timestamp": start + pd.to_timedelta(np.round(seconds), unit="s"),
                "channel": pd.array(np.concatenate(rows_channel), dtype="str"),
                "conversion": np.concatenate(rows_conv),
                "value": np.concatenate(rows_value),
            }
        )
    else:
        touchpoints = pd.DataFrame(
            {
                "customer_id": pd.array([], dtype="str"),
                "timestamp": pd.to_datetime(pd.Series([], dtype="datetime64[ns]")),
                "channel": pd.array([], dtype="str"),
                "conversion": np.array([], dtype=np.int64),
                "value": np.array([], dtype=float),
            }
        )
    touchpoints = touchpoints.sort_values(["customer_id", "timestamp"], kind="stable").reset_index(drop=True)

    total_conversions = float(touchpoints["conversion"].sum())
    total_value = float(touchpoints["value"].sum())
    attribution = pd.DataFrame(
        {
            "conversions": truth["attribution_share"] * total_conversions,
            "value": truth["value_share"] * total_value,
        }
    )
    attribution.index.name = "channel"
    truth = {
        **truth,
        "parameters": params,
        "n_journeys": n_journeys,
        "expected_conversions": truth["conversion_probability"] * n_journeys,
        "attribution": attribution,
        "direct_channels": ["Direct"],
    }
    return touchpoints, truth


#: What the demo brand pays per touch on each channel (currency units). Owned channels (Direct, Organic
#: Search) cost nothing; Display and Video are bought dearly for the few conversions they start, Email
#: and Affiliate cheaply. Invented numbers of the demo brand, chosen so that the ROI section has
#: channels that clearly earn more, and clearly less, than they cost.
COST_PER_TOUCH: dict[str, float] = {
    "Paid Search": 1.8,
    "Email": 0.15,
    "Social": 0.9,
    "Display": 2.5,
    "Direct": 0.0,
    "Organic Search": 0.0,
    "Video": 3.0,
    "Affiliate": 0.6,
    "Referral": 0.5,
    "Push": 0.05,
}


def channel_spend(touchpoints: pd.DataFrame, freq: str = "MS") -> pd.DataFrame:
    """The demo brand's spend per period and channel: touches times :data:`COST_PER_TOUCH`.

    Returns a frame with ``period`` (start of the period, ``freq`` a pandas frequency: ``"MS"`` months),
    ``channel`` and ``spend``, one row per period and channel that had touches; deterministic.
    """
    for column in ("timestamp", "channel"):
        if column not in touchpoints.columns:
            raise DataContractError("touchpoints lack a required column", column=column, rule="required column",
                                    examples=touchpoints.head(3))
    unknown = sorted(set(touchpoints["channel"].astype(str)) - set(COST_PER_TOUCH))
    if unknown:
        raise DataContractError(f"no demo cost per touch for channel {unknown[0]!r}", column="channel",
                                rule=f"channel must be one of {sorted(COST_PER_TOUCH)}",
                                examples=touchpoints[touchpoints["channel"].astype(str) == unknown[0]].head(3))
    stamps = pd.to_datetime(touchpoints["timestamp"])
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    period = stamps.dt.to_period(pd.tseries.frequencies.to_offset(freq).rule_code.removesuffix("S")).dt.start_time
    counts = pd.DataFrame({"period": period, "channel": touchpoints["channel"].astype(str)}).value_counts()
    frame = counts.rename("touches").reset_index()
    frame["spend"] = (frame["touches"] * frame["channel"].map(COST_PER_TOUCH)).round(2)
    return frame.sort_values(["period", "channel"]).reset_index(drop=True)[["period", "channel", "spend"]]
