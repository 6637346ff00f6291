"""The campaign planning problem: customers x actions, with values, costs, eligibility and limits.

One action per customer per period (or none). Action ``a`` for customer ``i`` is worth ``value[i, a]`` in expected
incremental money (e.g. uplift in conversion x margin x order value, or uplift in revenue x margin) and costs
``cost[i, a]`` (contact cost plus coupon face value x the probability the coupon is redeemed). The plan maximises
``sum(value - cost)`` over the chosen pairs subject to a total budget on cost, a capacity per channel, per-customer
contact limits and eligibility rules.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crm_models.data.timestamps import end_exclusive
from crm_models.exceptions import ConfigurationError, DataContractError


@dataclass(frozen=True)
class Action:
    """One thing the CRM team can do for a customer.

    ``contact_cost`` is paid whenever the action is sent; ``face_value`` (e.g. a coupon's discount in money) is
    paid only when redeemed, with probability ``redemption_probability`` unless a per-customer probability is given
    to :func:`action_costs`. ``contacts`` is how many proactive contacts the action uses (0 for a service action
    that is not a marketing contact).
    """

    name: str
    channel: str
    contact_cost: float = 0.0
    face_value: float = 0.0
    redemption_probability: float = 0.0
    contacts: int = 1
    discount: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.redemption_probability <= 1.0:
            raise ConfigurationError(f"action {self.name!r}: redemption_probability must lie in [0, 1]")
        if self.contact_cost < 0 or self.face_value < 0 or self.contacts < 0:
            raise ConfigurationError(f"action {self.name!r}: costs and contacts must be non-negative")


@dataclass
class PlanningProblem:
    """Arrays of one planning problem (``n`` customers x ``k`` actions), indexed by ``customers``/``actions``.

    ``eligible[i, a]`` is False where a rule or the contact limit forbids the action. ``capacities`` maps a
    channel to the most actions it can carry; ``budget`` bounds the total cost (``None``: no budget).
    """

    customers: pd.Index
    actions: tuple[Action, ...]
    value: np.ndarray
    cost: np.ndarray
    eligible: np.ndarray
    budget: float | None = None
    capacities: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        n, k = len(self.customers), len(self.actions)
        for name in ("value", "cost", "eligible"):
            array = getattr(self, name)
            if array.shape != (n, k):
                raise DataContractError(f"{name} must have one row per customer and one column per action",
                                        column=name, rule=f"shape ({n}, {k})", examples=[array.shape])
        if not np.isfinite(self.value[self.eligible]).all() or not np.isfinite(self.cost[self.eligible]).all():
            bad = np.argwhere(self.eligible & ~(np.isfinite(self.value) & np.isfinite(self.cost)))[:5]
            raise DataContractError("values and costs of eligible actions must be finite numbers",
                                    column="value/cost", rule="finite",
                                    examples=[(str(self.customers[i]), self.actions[a].name) for i, a in bad])
        if (self.cost < 0).any():
            raise DataContractError("action costs must be non-negative", column="cost", rule="cost >= 0")
        unknown = set(self.capacities) - {a.channel for a in self.actions}
        if unknown:
            raise ConfigurationError(f"capacities name channels no action uses: {sorted(unknown)}")

    @property
    def net(self) -> np.ndarray:
        """Expected incremental profit of each pair; ``-inf`` where not eligible."""
        return np.where(self.eligible, self.value - self.cost, -np.inf)

    def channel_matrix(self) -> tuple[list[str], np.ndarray]:
        """The channels with a capacity and a (channels x actions) 0/1 matrix of which action uses which."""
        channels = sorted(self.capacities)
        usage = np.array([[a.channel == c for a in self.actions] for c in channels], dtype=float)
        return channels, usage.reshape(len(channels), len(self.actions))


def action_costs(actions: Sequence[Action], n_customers: int,
                 redemption: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
    """Expected cost of each action per customer: contact cost + face value x redemption probability.

    ``redemption`` may give a per-customer redemption probability for an action (e.g. the predicted conversion
    under that coupon), replacing the action's flat ``redemption_probability``.
    """
    cost = np.zeros((n_customers, len(actions)))
    for j, action in enumerate(actions):
        p = np.full(n_customers, action.redemption_probability)
        if redemption is not None and action.name in redemption:
            p = np.clip(np.asarray(redemption[action.name], dtype=float), 0.0, 1.0)
        cost[:, j] = action.contact_cost + action.face_value * p
    return cost


def _flag(value: Any) -> bool | None:
    """``True``/``False`` for a clear flag (a boolean, the number 1 or 0, the text true/false/1/0 in any case),
    else ``None``."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, float, np.integer, np.floating)):
        return bool(value) if value in (0, 1) else None
    if isinstance(value, str):
        return {"true": True, "1": True, "false": False, "0": False}.get(value.strip().lower())
    return None


def _strict_flags(frame: pd.DataFrame, column: str) -> np.ndarray:
    """``frame[column]`` as booleans, refusing missing or unclear values (a plain truth conversion would count a
    missing value or the text "False" as true)."""
    values = frame[column]
    codes, uniques = pd.factorize(values, use_na_sentinel=False)
    parsed = [_flag(u) for u in uniques]
    bad = np.array([p is None for p in parsed], dtype=bool)[codes] if len(codes) else np.zeros(0, dtype=bool)
    if bad.any():
        raise DataContractError(f"{int(bad.sum())} contact row(s) have a missing or unclear proactive flag",
                                column=column, rule="True/False, 1/0 or the text true/false (any case)",
                                examples=frame.loc[bad].head(3))
    return np.array([bool(p) for p in parsed], dtype=bool)[codes]


def remaining_contacts(customers: pd.Index, contact_history: pd.DataFrame | None, *, limit: int,
                       period_days: int, as_of: Any) -> np.ndarray:
    """Contacts each customer may still receive: ``limit`` minus the proactive contacts in the ``period_days``
    up to ``as_of`` (a date means the whole day). ``contact_history`` has ``customer_id`` and ``timestamp``
    (and optionally ``proactive``: rows with ``proactive == False`` do not count, e.g. promotions the customer
    asked for; read strictly: True/False, 1/0 or the text true/false, anything else is refused)."""
    if limit < 0 or period_days <= 0:
        raise ConfigurationError("the contact limit must be >= 0 and the period positive")
    if contact_history is None or contact_history.empty:
        return np.full(len(customers), limit)
    for column in ("customer_id", "timestamp"):
        if column not in contact_history:
            raise DataContractError("the contact history lacks a column", column=column, rule="required column",
                                    examples=contact_history.head(3))
    end = end_exclusive(as_of, "as_of")
    stamps = pd.to_datetime(contact_history["timestamp"])
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    recent = (stamps < end) & (stamps >= end - pd.Timedelta(days=period_days))
    if "proactive" in contact_history:
        recent &= _strict_flags(contact_history, "proactive")
    counts = contact_history.loc[recent, "customer_id"].astype(str).value_counts()
    used = counts.reindex(customers.astype(str), fill_value=0).to_numpy()
    return np.maximum(limit - used, 0)


def build_problem(
    customers: pd.Index, actions: Sequence[Action], value: np.ndarray | pd.DataFrame, *,
    cost: np.ndarray | None = None, eligible: np.ndarray | pd.DataFrame | None = None,
    remaining: np.ndarray | None = None, budget: float | None = None,
    capacities: Mapping[str, int] | None = None,
) -> PlanningProblem:
    """Assemble a :class:`PlanningProblem`; an action that needs more contacts than a customer has left is not
    eligible for that customer. ``value`` (and ``eligible``) may be frames with one column per action name."""
    names = [a.name for a in actions]
    if len(set(names)) != len(names):
        raise ConfigurationError(f"action names repeat: {names}")

    def as_matrix(data: Any, label: str) -> np.ndarray:
        if isinstance(data, pd.DataFrame):
            missing = [n for n in names if n not in data.columns]
            if missing:
                raise DataContractError(f"{label} lacks a column per action", column=missing[0],
                                        rule="one column per action", examples=list(data.columns)[:5])
            frame = data.reindex(customers)[names]
            if label == "eligible" and frame.isna().any().any():
                # a missing flag would turn True under astype(bool): the customer would be eligible for everything
                column = next(n for n in names if frame[n].isna().any())
                raise DataContractError("eligible lacks a flag for some customers", column=column,
                                        rule="one True/False per customer and action",
                                        examples=[str(c) for c in frame.index[frame[column].isna()][:5]])
            return frame.to_numpy()
        return np.asarray(data)

    value_m = as_matrix(value, "value").astype(float)
    cost_m = action_costs(actions, len(customers)) if cost is None else np.asarray(cost, dtype=float)
    allowed = np.ones_like(value_m, dtype=bool) if eligible is None else as_matrix(eligible, "eligible").astype(bool)
    if remaining is not None:
        needs = np.array([a.contacts for a in actions])
        allowed = allowed & (np.asarray(remaining)[:, None] >= needs[None, :])
    return PlanningProblem(pd.Index(customers), tuple(actions), value_m, cost_m, allowed, budget,
                           dict(capacities or {}))
