"""``make_demo``: a synthetic brand whose truth is known, for the demo suite and for tests.

One call gives purchases (BG/NBD with Gamma-Gamma spend, signup cohorts and seasonality; see
:mod:`crm_models.datasets.demo_transactions`), ad touchpoint journeys with known channel effects
(:mod:`crm_models.datasets.demo_touchpoints`) and a coupon A/B experiment with a known heterogeneous effect and
pre-period covariates (:mod:`crm_models.datasets.demo_experiment`), each with the truth that generated it.
The result is deterministic for a given ``seed`` and ``n_customers``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from crm_models.datasets.demo_experiment import simulate_coupon_experiment
from crm_models.datasets.demo_touchpoints import simulate_touchpoints
from crm_models.datasets.demo_transactions import PurchaseTruth, simulate_customers, simulate_purchases

DEFAULT_START = "2023-01-01"
DEFAULT_END = "2024-12-31"


@dataclass
class DemoData:
    """The demo brand's tables and the truth behind them.

    Attributes
    ----------
    transactions : canonical transactions (``customer_id, timestamp, amount, order_id, quantity, product_id``),
        including a few returns (negative amounts).
    customers : one row per customer with signup, cohort, acquisition channel and cost, and the latent truth
        (``purchase_rate`` per day, ``dropout_prob``, ``mean_spend``).
    touchpoints : canonical ad touchpoints (``customer_id, timestamp, channel, conversion, value``).
    experiment : the coupon experiment, one row per unit.
    truth : ``{"clv": {...}, "attribution": {...}, "experiment": {...}}``.
    observation_end : the last day of the observation window (inclusive).
    coupon_transactions : the coupon experiment's transaction log (its units' purchases in the 90 days before
        and after assignment, up to the experiment's end), computed on first use; ``coupon_truth`` holds the
        truth behind it (:func:`crm_models.datasets.demo_repurchase.coupon_transactions`).
    """

    transactions: pd.DataFrame
    customers: pd.DataFrame
    touchpoints: pd.DataFrame
    experiment: pd.DataFrame
    truth: dict[str, Any]
    observation_start: pd.Timestamp
    observation_end: pd.Timestamp
    seed: int
    files: dict[str, Path] = field(default_factory=dict)

    @cached_property
    def _coupon_log(self) -> tuple[pd.DataFrame, dict[str, Any]]:
        from crm_models.datasets.demo_repurchase import coupon_transactions

        return coupon_transactions(self)

    @property
    def coupon_transactions(self) -> pd.DataFrame:
        """The coupon experiment's transaction log: canonical transactions ``customer_id, timestamp, amount,
        order_id, quantity, coupon_cost`` of the experiment's units (``customer_id`` is the ``unit_id``), the
        pre-period purchases and those after assignment with the true arm effects on repurchase, deterministic
        in ``seed``; the input of :func:`crm_models.ab.experiment_outcomes`. Computed once, on first use."""
        return self._coupon_log[0]

    @property
    def coupon_truth(self) -> dict[str, Any]:
        """The truth behind :attr:`coupon_transactions`: per-arm hazards and the true ``N``-day repurchase rates
        and effects (:func:`crm_models.datasets.demo_repurchase.simulate_coupon_transactions`)."""
        return self._coupon_log[1]

    def write(self, folder: str | os.PathLike[str]) -> dict[str, Path]:
        """Write every table as Parquet and the truth as JSON under ``folder``; return the paths."""
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        paths = {}
        for name in ("transactions", "customers", "touchpoints", "experiment"):
            path = target / f"{name}.parquet"
            tmp = path.with_suffix(".parquet.tmp")
            getattr(self, name).to_parquet(tmp, index=False)
            os.replace(tmp, path)
            paths[name] = path
        truth_path = target / "truth.json"
        meta = {"seed": self.seed, "observation_start": str(self.observation_start.date()),
                "observation_end": str(self.observation_end.date()), "truth": self.truth}
        truth_path.write_text(json.dumps(meta, indent=2, default=_json_default))
        paths["truth"] = truth_path
        self.files = paths
        return paths

    def publish(self, folder: str | os.PathLike[str]) -> dict[str, Path]:
        """Write the tables to a staging folder beside ``folder``, then swap it in by renaming.

        A reader never sees a mix of old and new tables: until the rename, ``folder`` holds the complete
        old data set; after it, the complete new one. (Callers that run suites hold the run lock around
        this, so no suite reads ``folder`` during the swap.) Returns the paths inside ``folder``.
        """
        import shutil
        import tempfile

        target = Path(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".staging-{target.name}-", dir=target.parent))
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp makes 0700; the data folder keeps the usual permissions
        old = None
        try:
            written = self.write(staging)
            if target.exists():
                old = Path(tempfile.mkdtemp(prefix=f".old-{target.name}-", dir=target.parent))
                os.rename(target, old / target.name)
            os.rename(staging, target)
        except BaseException:
            if old is not None and not target.exists():
                os.rename(old / target.name, target)  # put the old data back
            shutil.rmtree(staging, ignore_errors=True)
            raise
        finally:
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        self.files = {name: target / path.name for name, path in written.items()}
        return self.files


def make_demo(
    seed: int = 42,
    n_customers: int = 5_000,
    *,
    start: str | pd.Timestamp = DEFAULT_START,
    end: str | pd.Timestamp = DEFAULT_END,
    purchase_truth: PurchaseTruth | None = None,
    n_channels: int = 8,
) -> DemoData:
    """Generate the demo brand.

    Parameters
    ----------
    seed : seeds every random draw; the same seed and size give the same tables.
    n_customers : number of customers acquired over the window.
    start, end : observation window (inclusive dates). Customers sign up during its first two thirds.
    purchase_truth : BG/NBD and Gamma-Gamma parameters (weeks); defaults to :class:`PurchaseTruth`.
    n_channels : number of ad channels in the touchpoint journeys (6-10).
    """
    if n_customers < 10:
        raise ValueError(f"n_customers must be at least 10, got {n_customers}")
    truth_params = purchase_truth or PurchaseTruth()
    window_start = pd.Timestamp(start).normalize()
    window_end = pd.Timestamp(end).normalize()
    if window_end <= window_start + pd.Timedelta(days=60):
        raise ValueError(f"the window {window_start.date()}..{window_end.date()} must span more than 60 days")
    last_instant = window_end + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    signup_end = window_start + (window_end - window_start) * 2 / 3
    root = np.random.SeedSequence(seed)
    customer_seed, purchase_seed, touch_seed, experiment_seed = root.spawn(4)
    customers = simulate_customers(np.random.default_rng(customer_seed), n_customers, window_start, signup_end,
                                   truth_params)
    transactions = simulate_purchases(np.random.default_rng(purchase_seed), customers, last_instant, truth_params)
    touchpoints, attribution_truth = simulate_touchpoints(customers, np.random.default_rng(touch_seed),
                                                          window_start, last_instant, n_channels=n_channels)
    experiment_start = window_end - pd.Timedelta(days=60)
    experiment, experiment_truth = simulate_coupon_experiment(customers, np.random.default_rng(experiment_seed),
                                                              experiment_start, last_instant)
    truth = {"clv": truth_params.as_dict(), "attribution": attribution_truth, "experiment": experiment_truth}
    return DemoData(
        transactions=transactions,
        customers=customers,
        touchpoints=touchpoints,
        experiment=experiment,
        truth=truth,
        observation_start=window_start,
        observation_end=window_end,
        seed=seed,
    )


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray | pd.Series):
        return value.tolist()
    if isinstance(value, pd.DataFrame):
        return value.to_dict(orient="list")
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)
