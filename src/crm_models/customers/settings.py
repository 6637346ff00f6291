"""Settings of the per-run customer table: one object, so every notebook of a run values customers alike."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from crm_models.exceptions import ConfigurationError

PURCHASE_MODELS = ("bgnbd", "mbgnbd", "pareto")


@dataclass(frozen=True)
class CustomerTableSettings:
    """How the customer table values customers and scores their risk.

    Value (CLV) follows the purchase model named by ``purchase_model`` with Gamma-Gamma spend, over ``horizon``
    units of ``time_unit``, discounted at ``discount_rate`` a year and kept at ``margin`` of revenue. Churn is the
    probability of no purchase in the ``churn_horizon_days`` after the as-of date, for customers with a purchase
    in the ``lookback_days`` before it; the model is trained on ``n_training_cutoffs`` monthly snapshots and held
    out on the latest snapshot whose label window had closed by the as-of date, one horizon apart (the churn
    backtest's set-up, :func:`crm_models.customers.risk.training_cutoffs`). ``capacity`` customers (the team's
    contact capacity) form the *high* risk tier. ``segment_compare_days`` is how far back the table looks for each
    customer's previous segment (``previous_segment``, ``segment_change``). ``currency`` is the symbol or code shown
    on money in every report.

    Optional columns (:mod:`crm_models.customers.enrich`): ``lifecycle_columns`` adds each customer's usual
    purchase interval, next expected purchase and overdue flag; ``loyalty_rules`` (path of a YAML rule set, e.g.
    ``experiments/loyalty/demo_rules.yaml``) adds the tier held, points outstanding and points expiring within
    ``points_expiring_days`` days.
    """

    purchase_model: Literal["bgnbd", "mbgnbd", "pareto"] = "bgnbd"
    time_unit: Literal["W", "D"] = "W"
    horizon: float = 52.0
    discount_rate: float = 0.10
    margin: float = 0.30
    churn_horizon_days: int = 90
    lookback_days: int = 365
    n_training_cutoffs: int = 3
    capacity: int | None = 500
    n_estimators: int = 500
    seed: int = 42
    currency: str = "GBP"
    high_value_quantile: float = 0.8
    new_customer_days: int = 90
    segment_compare_days: int = 90
    lifecycle_columns: bool = False
    loyalty_rules: str | None = None
    points_expiring_days: int = 30
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.purchase_model not in PURCHASE_MODELS:
            raise ConfigurationError(
                f"purchase_model={self.purchase_model!r} is not one of {', '.join(PURCHASE_MODELS)}")
        if self.time_unit not in ("W", "D"):
            raise ConfigurationError(f"time_unit={self.time_unit!r} must be 'W' (weeks) or 'D' (days)")
        if self.horizon <= 0 or self.churn_horizon_days <= 0 or self.lookback_days <= 0:
            raise ConfigurationError("horizon, churn_horizon_days and lookback_days must be positive")
        if not 0.0 <= self.margin <= 1.0:
            raise ConfigurationError(f"margin={self.margin} is a share of revenue in [0, 1]")
        if not 0.0 < self.high_value_quantile < 1.0:
            raise ConfigurationError(f"high_value_quantile={self.high_value_quantile} must lie in (0, 1)")
        if self.n_training_cutoffs < 1:
            raise ConfigurationError("n_training_cutoffs must be at least 1")
        if self.points_expiring_days < 1:
            raise ConfigurationError(f"points_expiring_days={self.points_expiring_days} must be at least 1")
        if not (math.isfinite(self.discount_rate) and self.discount_rate >= 0.0):
            raise ConfigurationError(f"discount_rate={self.discount_rate} is a yearly rate: finite and >= 0")
        if self.capacity is not None and self.capacity < 0:
            raise ConfigurationError(f"capacity={self.capacity} is a number of customers: >= 0 (or None)")
        for name in ("new_customer_days", "segment_compare_days", "n_estimators"):
            if getattr(self, name) < 1:
                raise ConfigurationError(f"{name}={getattr(self, name)} must be at least 1")
        if self.loyalty_rules is not None and not isinstance(self.loyalty_rules, str):
            object.__setattr__(self, "loyalty_rules", str(self.loyalty_rules))

    def to_dict(self) -> dict[str, Any]:
        """Plain values (JSON-serialisable), e.g. for the table's metadata and MLflow params."""
        return asdict(self)

    @classmethod
    def from_parameters(cls, parameters: dict[str, Any]) -> CustomerTableSettings:
        """Settings from notebook parameters: known names are taken, everything else ignored."""
        names = {f for f in cls.__dataclass_fields__ if f != "extra"}
        return cls(**{k: v for k, v in parameters.items() if k in names and v is not None})
