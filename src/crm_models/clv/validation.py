"""Validation of CLV models on a holdout period.

* :func:`holdout_comparison` -- expected vs actual holdout repeat purchases by calibration frequency
  (Fader, Hardie & Lee 2005, Figure 3: "conditional expectations");
* :func:`tracking_comparison` -- expected vs actual cumulative repeat purchases over calendar time
  (FHL 2005, Figure 2: "tracking plot");
* :func:`ranking_metrics` -- how well the predictions rank who buys again (AUC, Spearman, top-decile
  capture);
* :func:`clv_interval` -- parameter uncertainty carried into CLV by parametric bootstrap from the
  asymptotic normal distribution of the maximum-likelihood estimates (Krinsky & Robb 1986).

The calibration/holdout split itself is ``crm_models.summary.customer_summary(..., calibration_end=...)``,
which adds ``frequency_holdout`` and ``duration_holdout``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from crm_models.clv._base import PurchaseModel, check_summary_arrays
from crm_models.clv.gamma_gamma import GammaGammaModel
from crm_models.clv.value import customer_lifetime_value, unit_in_days
from crm_models.exceptions import DataContractError


def holdout_comparison(
    model: PurchaseModel,
    frequency: Any,
    recency: Any,
    T: Any,
    frequency_holdout: Any,
    duration_holdout: Any,
    *,
    max_frequency: int = 7,
) -> pd.DataFrame:
    """Mean actual vs expected repeat purchases in the holdout, grouped by calibration frequency.

    Customers with ``frequency >= max_frequency`` share the last group (labelled ``"7+"`` by default).
    ``duration_holdout`` is the holdout length in the model's time unit (a scalar or one per customer).
    Returns one row per group with ``customers``, ``actual``, ``expected`` and ``difference``, plus a
    final ``"all"`` row.
    """
    x, tx, big_t, _ = check_summary_arrays(frequency, recency, T, require_repeaters=False)
    actual = np.asarray(frequency_holdout, dtype=float)
    if actual.shape != x.shape:
        raise DataContractError("frequency_holdout needs one value per customer", column="frequency_holdout",
                                rule="equal lengths")
    bad = ~(actual >= 0)
    if bad.any():
        raise DataContractError("holdout purchases must be >= 0", column="frequency_holdout",
                                rule="frequency_holdout >= 0",
                                examples=pd.DataFrame({"frequency_holdout": actual[bad][:5]},
                                                      index=pd.Index(np.flatnonzero(bad)[:5], name="row")))
    given = np.asarray(duration_holdout, dtype=float)
    if given.ndim > 1 or (given.ndim == 1 and given.shape != x.shape):
        raise DataContractError("duration_holdout must be one number or one value per customer",
                                column="duration_holdout", rule="equal lengths")
    duration = np.broadcast_to(given, x.shape)
    if not np.all(duration >= 0):
        raise DataContractError("the holdout duration must be >= 0", column="duration_holdout",
                                rule="duration_holdout >= 0")
    expected = np.empty_like(x)
    # one call per distinct duration (usually one)
    for d in np.unique(duration):
        sel = duration == d
        expected[sel] = np.asarray(model.expected_purchases(d, x[sel], tx[sel], big_t[sel]), dtype=float)
    capped = np.minimum(x, max_frequency).astype(int)
    labels = [str(i) for i in range(max_frequency)] + [f"{max_frequency}+"]
    frame = pd.DataFrame({"group": pd.Categorical.from_codes(capped, labels), "actual": actual,
                          "expected": expected})
    out = frame.groupby("group", observed=False).agg(customers=("actual", "size"), actual=("actual", "mean"),
                                                     expected=("expected", "mean"))
    out.loc["all"] = [len(frame), actual.mean(), expected.mean()]
    out["customers"] = out["customers"].astype(int)
    out["difference"] = out["expected"] - out["actual"]
    out.index.name = "calibration_frequency"
    return out


def _purchase_days(transactions: pd.DataFrame, customer_col: str, timestamp_col: str,
                   amount_col: str | None) -> pd.DataFrame:
    missing = [c for c in (customer_col, timestamp_col) if c not in transactions.columns]
    if missing:
        raise DataContractError(f"transactions lack {missing}", column=missing[0], rule="required column present")
    frame = transactions
    if amount_col is not None and amount_col in frame.columns:
        frame = frame[frame[amount_col] >= 0]
    ts = pd.to_datetime(frame[timestamp_col])
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
    days = pd.DataFrame({"customer_id": frame[customer_col].to_numpy(), "day": ts.dt.floor("D").to_numpy()})
    return days.drop_duplicates()


def _period_edges(start: pd.Timestamp, end: pd.Timestamp, period: str) -> pd.DatetimeIndex:
    """The first day after each whole or partial ``period`` from ``start`` to ``end`` (exclusive bounds).

    pandas anchors some frequencies on the *last* day of their period (``"W"`` = weeks ending Sunday, ``"ME"``,
    ``"QE"``, ``"YE"``: the convention of ``pd.Period``) and others on the first (``"MS"``, ``"QS"``, ``"D"``):
    a period that ends on an anchor day includes it, so its bound is the next day.
    """
    offset = pd.tseries.frequencies.to_offset(period)
    ends_on_anchor = (isinstance(offset, pd.offsets.Week) and offset.weekday is not None) or type(
        offset).__name__.endswith("End")
    if ends_on_anchor:
        edges = pd.date_range(start, end, freq=period) + pd.Timedelta(days=1)
    else:
        edges = pd.date_range(start, end + pd.Timedelta(days=1), freq=period)
    return edges[(edges > start) & (edges <= end + pd.Timedelta(days=1))]


def tracking_comparison(
    model: PurchaseModel,
    transactions: pd.DataFrame,
    *,
    calibration_end: str | pd.Timestamp,
    observation_end: str | pd.Timestamp | None = None,
    time_unit: str | float = "W",
    period: str = "W",
    customer_col: str = "customer_id",
    timestamp_col: str = "timestamp",
    amount_col: str | None = "amount",
) -> pd.DataFrame:
    """Actual vs expected repeat purchases per calendar period, for customers acquired by ``calibration_end``.

    A repeat purchase is a purchase day after the customer's first purchase day (the convention of
    ``customer_summary`` with ``period="D"``). The expectation for period ending at calendar time
    ``tau`` is ``sum_i E[X(tau - s_i)]`` over customers with first purchase ``s_i``, using the model's
    unconditional ``expected_purchases_new_customer`` (FHL 2005, eq. 9) in ``time_unit``.

    Returns one row per period (``period`` is a pandas frequency such as ``"W"``, weeks ending Sunday, or
    ``"MS"``), indexed by the period's last day, with ``actual``, ``expected``, their cumulative sums and
    ``holdout`` (True after ``calibration_end``).
    """
    cal_end = pd.Timestamp(calibration_end).normalize()
    days = _purchase_days(transactions, customer_col, timestamp_col, amount_col)
    first = days.groupby("customer_id")["day"].transform("min")
    days = days.assign(first=first)
    days = days[days["first"] <= cal_end]
    end = pd.Timestamp(observation_end).normalize() if observation_end is not None else days["day"].max()
    days = days[days["day"] <= end]
    repeats = days[days["day"] > days["first"]]
    start = days["first"].min()
    edges = _period_edges(start, end, period)
    if len(edges) == 0 or edges[-1] < end + pd.Timedelta(days=1):
        edges = edges.append(pd.DatetimeIndex([end + pd.Timedelta(days=1)]))
    # actual repeat purchase days per period (period = [previous edge, edge))
    bins = np.searchsorted(edges.to_numpy(), repeats["day"].to_numpy(), side="right")
    actual = np.bincount(bins, minlength=len(edges))[: len(edges)].astype(float)
    # expected: cumulative E[X(tau - s_i)] at every edge; first purchases are grouped by day
    firsts = days.drop_duplicates("customer_id")["first"].value_counts()
    unit_days = unit_in_days(time_unit)
    cumulative = np.zeros(len(edges))
    first_days = pd.DatetimeIndex(firsts.index).to_numpy()
    counts = firsts.to_numpy(dtype=float)
    for k, edge in enumerate(edges):
        # purchases count up to the end of the first day; a day is a unit of 1/unit_days
        age = (edge.to_datetime64() - first_days) / np.timedelta64(1, "D") - 1.0
        keep = age > 0
        if keep.any():
            cumulative[k] = counts[keep] @ np.asarray(model.expected_purchases_new_customer(age[keep] / unit_days))
    expected = np.diff(np.concatenate([[0.0], cumulative]))
    out = pd.DataFrame(
        {
            "period_end": edges - pd.Timedelta(days=1),
            "actual": actual,
            "expected": expected,
            "actual_cumulative": np.cumsum(actual),
            "expected_cumulative": cumulative,
        }
    )
    out["holdout"] = out["period_end"] > cal_end
    return out.set_index("period_end")


def ranking_metrics(expected: Any, actual: Any, *, top_share: float = 0.1) -> pd.Series:
    """How well ``expected`` (e.g. predicted holdout purchases or CLV) ranks ``actual`` holdout outcomes.

    * ``auc``: probability that a random customer who bought again in the holdout is ranked above one who
      did not (Mann-Whitney; ties count 1/2); 0.5 is chance;
    * ``spearman``: rank correlation of ``expected`` and ``actual``;
    * ``top_capture``: share of all holdout ``actual`` that falls on the top ``top_share`` of customers by
      ``expected``; ``top_lift`` divides it by ``top_share``;
    * ``mae``, ``bias``: mean absolute error and mean (expected - actual), on the original scale.
    """
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    if e.shape != a.shape or e.ndim != 1 or len(e) < 2:
        raise DataContractError("expected and actual must be one-dimensional with the same length >= 2",
                                rule="equal lengths")
    if not (np.all(np.isfinite(e)) and np.all(np.isfinite(a))):
        raise DataContractError("expected and actual must be finite", rule="finite values")
    buyer = a > 0
    n_pos, n_neg = int(buyer.sum()), int((~buyer).sum())
    if n_pos and n_neg:
        ranks = stats.rankdata(e)
        auc = (ranks[buyer].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)
    else:
        auc = np.nan
    rho = stats.spearmanr(e, a).statistic if np.ptp(e) > 0 and np.ptp(a) > 0 else np.nan
    n_top = max(1, round(top_share * len(e)))
    order = np.argsort(-e, kind="stable")
    total = a.sum()
    capture = a[order[:n_top]].sum() / total if total > 0 else np.nan
    return pd.Series({"auc": float(auc), "spearman": float(rho), "top_capture": float(capture),
                      "top_lift": float(capture / (n_top / len(e))), "mae": float(np.mean(np.abs(e - a))),
                      "bias": float(np.mean(e - a)), "customers": float(len(e))})


def clv_interval(
    purchase_model: PurchaseModel,
    spend_model: GammaGammaModel | float | None,
    frequency: Any,
    recency: Any,
    T: Any,
    monetary_value: Any = None,
    *,
    n_draws: int = 200,
    level: float = 0.9,
    seed: int | np.random.Generator | None = None,
    **value_kwargs: Any,
) -> tuple[pd.DataFrame, pd.Series]:
    """CLV with intervals that carry the parameters' estimation uncertainty (parametric bootstrap).

    Draws ``n_draws`` parameter vectors of each model from the asymptotic normal distribution of the
    log-parameters (``MLEModel.sample_params``) and recomputes :func:`customer_lifetime_value` with each
    (``value_kwargs``: horizon, time_unit, discount_rate, margin, step). Returns

    * a per-customer frame with ``clv`` (at the point estimates), ``clv_lower`` and ``clv_upper``;
    * a Series for the total: ``total_clv``, ``total_lower``, ``total_upper``, ``n_draws``.

    The interval reflects parameter uncertainty only, not the customer's own randomness.
    """
    if not 0 < level < 1:
        raise ValueError("level must be in (0, 1)")
    rng = np.random.default_rng(seed)
    point = customer_lifetime_value(purchase_model, spend_model, frequency, recency, T, monetary_value,
                                    **value_kwargs)
    purchase_draws = purchase_model.sample_params(n_draws, rng)
    spend_draws = spend_model.sample_params(n_draws, rng) if isinstance(spend_model, GammaGammaModel) else None
    sims = np.empty((n_draws, len(point)))
    for i in range(n_draws):
        pm = purchase_model.with_params(**purchase_draws.iloc[i].to_dict())
        sm = spend_model
        if spend_draws is not None:
            params = spend_draws.iloc[i].to_dict()
            if params["q"] <= 1:  # infinite mean spend: keep the draw inside the model's domain
                params["q"] = 1 + 1e-6
            sm = spend_model.with_params(**params)
        sims[i] = customer_lifetime_value(pm, sm, frequency, recency, T, monetary_value, **value_kwargs)[
            "clv"].to_numpy()
    tail = (1 - level) / 2
    lower, upper = np.quantile(sims, [tail, 1 - tail], axis=0)
    totals = sims.sum(axis=1)
    frame = pd.DataFrame({"clv": point["clv"].to_numpy(), "clv_lower": lower, "clv_upper": upper},
                         index=point.index)
    total = pd.Series({"total_clv": float(point["clv"].sum()), "total_lower": float(np.quantile(totals, tail)),
                       "total_upper": float(np.quantile(totals, 1 - tail)), "n_draws": float(n_draws)})
    return frame, total
