"""The figures of the lifecycle report (``notebooks/07_lifecycle.ipynb``), one call each, so the notebook stays thin.

* :func:`repurchase_summary`: time to second purchase (Kaplan-Meier), the N-day rate overall and by quarter of
  the first purchase;
* :func:`cycle_overview`: overdue customers and usual intervals per segment, from the run's customer table (its
  lifecycle columns, :mod:`crm_models.customers.enrich`);
* :func:`load_web_events` and :func:`funnel_table`: the events behind the shopping-path funnel (the demo
  generator's or a file) and the funnel as one row per stage.

Their stakeholder labels and the funnel's sentence are in :mod:`crm_models.plotting.lifecycle_tables`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from crm_models.data.quality import QualityReport
from crm_models.exceptions import DataContractError
from crm_models.lifecycle.repurchase import (
    KaplanMeier,
    repurchase_curves,
    repurchase_rate,
    second_purchase_times,
)


@dataclass
class RepurchaseSummary:
    """Time to second purchase: per-customer ``times``, the fitted ``curve``, the ``rate`` within ``within_days``
    for all new customers (a row of :func:`~crm_models.lifecycle.repurchase_rate`) and ``by_quarter`` (one row
    per quarter of the first purchase, labelled ``"2024 Q1"``)."""

    times: pd.DataFrame
    curve: KaplanMeier
    rate: pd.Series
    by_quarter: pd.DataFrame
    within_days: float

    @property
    def median_days(self) -> float:
        """Kaplan-Meier median time to second purchase in days (``inf`` when fewer than half ever come back)."""
        return float(self.rate["median_days_to_second"])


def repurchase_summary(purchases: Any, *, observation_end: Any, within_days: float = 90,
                       alpha: float = 0.05) -> RepurchaseSummary:
    """Second purchases of new customers up to ``observation_end``: the Kaplan-Meier curve (Kaplan & Meier 1958,
    *JASA* 53, 457-481) and the share with a second purchase within ``within_days`` days, overall and by quarter
    of the first purchase (see :func:`~crm_models.lifecycle.repurchase_rate`)."""
    times = second_purchase_times(purchases, observation_end=observation_end)
    curve = repurchase_curves(times, alpha=alpha)["all"]
    rate = repurchase_rate(times, within_days=within_days, alpha=alpha).iloc[0]
    by_cohort = second_purchase_times(purchases, observation_end=observation_end, by="cohort", cohort_period="Q")
    by_quarter = repurchase_rate(by_cohort, within_days=within_days, alpha=alpha)
    by_quarter.index = pd.Index([f"{pd.Timestamp(g):%Y} Q{pd.Timestamp(g).quarter}" for g in by_quarter.index],
                                name="first purchase in")
    return RepurchaseSummary(times, curve, rate, by_quarter, float(within_days))


def cycle_overview(table: pd.DataFrame) -> pd.DataFrame:
    """Per segment of the customer table, among repeat customers (``frequency > 0``): ``repeat_customers``,
    ``overdue_customers``, ``overdue_share``, ``median_usual_interval_days`` and ``overdue_clv``, largest first.

    ``table`` needs ``segment``, ``frequency``, ``clv`` and the lifecycle columns ``usual_interval_days`` and
    ``overdue``; an overdue flag that could not be computed (missing) counts as not overdue.
    """
    missing = [c for c in ("segment", "frequency", "clv", "usual_interval_days", "overdue") if c not in table]
    if missing:
        raise DataContractError(f"the customer table lacks {missing}: build it with lifecycle_columns=True",
                                column=missing[0], rule="customer table with lifecycle columns")
    repeat = table.loc[table["frequency"] > 0]
    overdue = repeat["overdue"].fillna(False).astype(bool)
    grouped = repeat.assign(_overdue=overdue, _overdue_clv=repeat["clv"].where(overdue, 0.0)).groupby("segment")
    out = pd.DataFrame({
        "repeat_customers": grouped.size(),
        "overdue_customers": grouped["_overdue"].sum().astype(int),
        "median_usual_interval_days": grouped["usual_interval_days"].median(),
        "overdue_clv": grouped["_overdue_clv"].sum(),
    })
    out.insert(2, "overdue_share", out["overdue_customers"] / out["repeat_customers"])
    return out.sort_values("repeat_customers", ascending=False, kind="stable")


@dataclass
class WebEvents:
    """Clean web events, the report of rows left out, and the known stage conversion when they are simulated."""

    events: pd.DataFrame
    quality: QualityReport
    truth: dict[str, Any] | None
    description: str

    def describe(self, window: Any = None) -> str:
        """What the funnel counts, in words: the window, the events used and the rows left out."""
        within = "" if window is None else f" within {pd.Timedelta(window) / pd.Timedelta(hours=1):g} hours of the first"
        known = " The generator's stage conversion is known: the estimates should sit near it." if self.truth else ""
        return (f"Customers who reached each stage in order{within}; {len(self.events):,} events "
                f"{self.description}, {self.quality.rows_dropped:,} duplicate or unusable rows left out.{known}")


def load_web_events(source: Any, *, customer_ids: Sequence[str], as_of: pd.Timestamp, seed: int = 42,
                    columns: Mapping[str, str] | None = None, days: int = 90) -> WebEvents | None:
    """The events for the funnel: ``None`` when ``source`` is empty (the data has no events), ``"demo"`` for the
    demo generator's visits of ``customer_ids`` in the ``days`` up to ``as_of`` (known conversion, see
    :mod:`crm_models.datasets.demo_events`), else a file read by :func:`crm_models.data.read_events`. Rows after
    ``as_of`` and exact duplicates are dropped and counted (:func:`crm_models.data.clean_events`)."""
    from crm_models.data import clean_events, read_events
    from crm_models.datasets.demo_events import simulate_web_events

    if source is None or (isinstance(source, str) and source.strip() == ""):
        return None
    truth = None
    if isinstance(source, str) and source == "demo":
        simulated = simulate_web_events(seed=seed, start=pd.Timestamp(as_of) - pd.Timedelta(days=days - 1), days=days,
                                        customer_ids=list(customer_ids))
        raw, truth, description = simulated.events, simulated.truth, "simulated by the demo generator"
    else:
        raw, description = read_events(source, columns=columns or None), "read from the events file"
    events, quality = clean_events(raw, observation_end=as_of)
    return WebEvents(events, quality, truth, description)


def funnel_table(steps: pd.DataFrame, truth: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """A :func:`~crm_models.lifecycle.funnel` result (no segments) as one row per stage: ``customers``,
    ``conversion_from_previous`` with ``conversion_lower``/``conversion_upper``, ``conversion_from_start``,
    ``minutes_from_previous`` (median) and, with the generator's ``truth``, ``known_conversion``."""
    out = pd.DataFrame({
        "customers": steps["customers"].to_numpy(),
        "conversion_from_previous": steps["conversion_from_previous"].to_numpy(dtype=float),
        "conversion_lower": steps["conversion_from_previous_lower"].to_numpy(dtype=float),
        "conversion_upper": steps["conversion_from_previous_upper"].to_numpy(dtype=float),
        "conversion_from_start": steps["conversion_from_start"].to_numpy(dtype=float),
    }, index=pd.Index(steps["stage"].astype(str).str.replace("_", " ").to_numpy(), name="stage"))
    if "median_time_from_previous" in steps:
        out["minutes_from_previous"] = pd.to_timedelta(steps["median_time_from_previous"]).dt.total_seconds().to_numpy() / 60
    if truth is not None and len(truth.get("conversion_from_previous", ())) == len(out) - 1:
        out["known_conversion"] = [np.nan, *truth["conversion_from_previous"]]
    return out
