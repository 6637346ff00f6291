"""Leakage-free churn labels and features at a cutoff, computed with ibis (DuckDB by default).

Time convention (days are 86,400 s; naive timestamps are UTC). The cutoff is the last moment of known
history and follows the project's one rule for end dates (``crm_models.data.timestamps.end_exclusive``): a
date (a string without a time, or a midnight timestamp) means the *whole day*, so with ``cutoff="2024-01-10"``
every purchase made on Jan 10 is history. Call ``b = end_exclusive(cutoff)`` (the next midnight for a date,
the instant just after a cutoff with a time of day); then

- features use only transactions with ``timestamp < b``;
- the label window is ``[b, b + horizon)``: a customer *churned* when they place no purchase order in it
  (half-open, so consecutive windows tile time and no transaction falls between features and label);
- the population is every customer with at least one purchase in ``[b - lookback, b)``.

A purchase order is an order (rows sharing ``order_id``; without ``order_id``, rows sharing customer and
timestamp) with a positive net amount; an order with a negative net amount is a return.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from crm_models.churn._input import (
    TransactionSource,
    execute,
    from_epoch,
    prepare,
    to_days,
    to_epoch,
)
from crm_models.data.timestamps import end_exclusive, is_whole_day, utc_naive
from crm_models.exceptions import DataContractError
from crm_models.units import DAYS_PER_WEEK, SECONDS_PER_DAY

DEFAULT_WINDOWS = (30, 90, 180, 365)
TREND_WINDOWS = (30, 90, 180)
LABEL = "churned"


@dataclass
class ChurnDataset:
    """Features ``X`` (one row per customer, indexed by ``customer_id``) and label ``y`` at one cutoff.

    ``y`` is ``None`` for a scoring set (``with_label=False``). ``snapshot`` holds the per-customer
    quantities that the decisions and baselines use (recency, spend) in readable units.
    """

    X: pd.DataFrame
    y: pd.Series | None
    cutoff: pd.Timestamp
    horizon_days: float
    lookback_days: float
    bgnbd_used: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def n_customers(self) -> int:
        return len(self.X)

    @property
    def churn_rate(self) -> float:
        if self.y is None:
            return float("nan")
        return float(self.y.mean()) if len(self.y) else float("nan")

    def frame(self) -> pd.DataFrame:
        """Features and label in one frame (label column ``churned``), plus a ``cutoff`` column."""
        out = self.X.copy()
        if self.y is not None:
            out[LABEL] = self.y
        out["cutoff"] = self.cutoff
        return out


def make_churn_dataset(
    transactions: Any,
    cutoff: Any,
    horizon: Any = 90,
    lookback: Any = 365,
    *,
    windows: tuple[int, ...] = DEFAULT_WINDOWS,
    with_label: bool = True,
    use_bgnbd: bool | str = "auto",
    data_end: Any = None,
    backend: Any = None,
) -> ChurnDataset:
    """Build the churn features at ``cutoff`` and, when ``with_label``, the churn label.

    Parameters
    ----------
    transactions
        Canonical transactions (``customer_id``, ``timestamp``, ``amount``; optional ``order_id``,
        ``quantity``, ``product_id``, ``channel``) as a pandas DataFrame, a CSV or Parquet path or an ibis
        table, read through ``crm_models.data`` (the data contract and ``as_ibis_table``).
    cutoff
        The last moment of known history: a date (``"2024-01-10"`` or a midnight ``Timestamp``) means the
        whole day, a timestamp with a time of day includes that instant (see the module docstring). The
        label window starts right after it. Its day must lie after the first transaction's and not after
        the last one's.
    horizon
        Length of the label window in days (number, ``Timedelta`` or ``"90D"``).
    lookback
        Customers with a purchase in ``[cutoff - lookback, cutoff)`` form the population.
    windows
        Look-back windows (days) for the RFM-by-window features.
    with_label
        ``False`` builds a scoring set (no label, no horizon check), e.g. for "today".
    use_bgnbd
        ``"auto"`` adds BG/NBD P(alive) and expected purchases when ``crm_models.clv.BetaGeoModel`` is
        importable; ``True`` requires it; ``False`` skips it.
    data_end
        End of the observation period when it is later than the last transaction (default: the last
        transaction's timestamp); a date means the whole day. The label window must end by then.
    backend
        The ibis backend that frames and paths are registered with (a new DuckDB connection by default); an
        ibis table runs on its own backend.

    Raises
    ------
    DataContractError
        Missing/ill-typed columns, a cutoff outside the data's time range, a horizon that runs past the
        end of the data, or nobody active in the look-back window.
    """
    source = transactions if isinstance(transactions, TransactionSource) else prepare(transactions, backend)
    horizon_days = to_days(horizon)
    lookback_days = to_days(lookback)
    cutoff_ts, c = cutoff_bound(cutoff)
    end = (
        source.last_epoch
        if data_end is None
        else max(source.last_epoch, to_epoch(end_exclusive(data_end, "data_end")))
    )
    first, last = from_epoch(source.first_epoch), from_epoch(source.last_epoch)
    last_day_end = to_epoch(end_exclusive(last.normalize()))
    if not source.first_epoch < c <= max(end, last_day_end):
        raise DataContractError(
            f"cutoff {cutoff_ts} is outside the data's time range ({first} .. {from_epoch(end)})",
            column="timestamp",
            rule="first transaction < cutoff <= last transaction",
            examples=[str(first), str(last)],
        )
    if with_label and c + horizon_days * SECONDS_PER_DAY > end + 1e-6:
        raise DataContractError(
            f"the label window [{from_epoch(c)}, {from_epoch(c) + pd.Timedelta(days=horizon_days)}) runs past the "
            f"end of the data ({from_epoch(end)}); use an earlier cutoff or a shorter horizon",
            column="timestamp",
            rule="cutoff + horizon <= end of data",
            examples=[str(last)],
        )
    windows = tuple(sorted({int(w) for w in windows}))
    if not windows or windows[0] <= 0:
        raise ValueError(f"windows must be positive day counts, got {windows!r}")

    expr = _feature_expression(source, c, horizon_days, lookback_days, windows)
    if with_label:
        expr = _attach_label(source, expr, c, horizon_days)
    raw = execute(expr)
    if raw.empty:
        raise DataContractError(
            f"no customer bought in the {lookback_days:g} days before the cutoff {cutoff_ts}",
            column="timestamp",
            rule="at least one active customer in [cutoff - lookback, cutoff)",
        )
    raw = raw.sort_values("customer_id", kind="stable").set_index("customer_id")
    y = None
    if with_label:
        y = raw.pop(LABEL).astype("int64").rename(LABEL)
    X = _derived_features(raw, source, windows, c)
    notes: list[str] = []
    bgnbd_used = False
    if use_bgnbd:
        base = execute(_bgnbd_base_expression(source, c))
        bg = bgnbd_features(X, horizon_days, required=use_bgnbd is True, fit_on=base)
        if bg is not None:
            X = X.join(bg)
            bgnbd_used = True
        else:
            notes.append(
                "BG/NBD features skipped: BG/NBD is not identified on this snapshot or did not converge"
            )
    X = X.astype("float64")
    return ChurnDataset(
        X=X,
        y=y,
        cutoff=cutoff_ts,
        horizon_days=horizon_days,
        lookback_days=lookback_days,
        bgnbd_used=bgnbd_used,
        notes=notes,
    )


def cutoff_bound(cutoff: Any, parameter: str = "cutoff") -> tuple[pd.Timestamp, float]:
    """``(cutoff as a naive-UTC timestamp, the exclusive bound of its history in epoch seconds)``.

    The bound follows the one rule for end dates (:func:`crm_models.data.timestamps.end_exclusive`): the next
    midnight for a date, the instant just after a cutoff with a time of day. A value that is not a date raises
    ``ConfigurationError`` naming ``parameter``.

    The returned timestamp is a cutoff that gives the same bound again (the backtest passes it back to
    :func:`make_churn_dataset` and subtracts horizons from it): the day itself for a date whose bound is a UTC
    midnight; for an aware midnight in a zone off UTC (the whole *local* day, which ends at its next local
    midnight, e.g. 22:00 UTC for Berlin in summer) no naive-UTC day names that bound, so it is the last
    microsecond the day includes, an instant (its UTC day, not the day before, is the one it ends in).
    """
    bound = end_exclusive(cutoff, parameter)
    if is_whole_day(cutoff):
        if bound == bound.normalize():
            return bound - pd.Timedelta(days=1), to_epoch(bound)
        return bound - pd.Timedelta(1, "us"), to_epoch(bound)
    # an instant: the bound is one nanosecond later, which float epoch seconds (~2e-7 s apart today) cannot
    # hold; half a microsecond keeps the instant itself inside and the next microsecond (the contract's
    # resolution) outside
    stamp = utc_naive(cutoff)
    return stamp, to_epoch(stamp) + 0.5e-6


def _orders(source: TransactionSource, c: float) -> tuple[Any, Any]:
    """Rows before the cutoff and the per-order table (net amount, basket size, distinct products)."""
    t = source.table
    before = t.filter(t._epoch < c)
    before = before.mutate(age=(c - before._epoch) / SECONDS_PER_DAY)
    keys = ["customer_id", "order_id"] if source.has_order_id else ["customer_id", "_epoch"]
    metrics: dict[str, Any] = {
        "age": before.age.max(),  # the order's first line (largest age = earliest)
        "amount": before.amount.sum(),
        "epoch": before._epoch.min(),
        "ts": before.timestamp.min(),
    }
    if source.has_quantity:
        metrics["quantity"] = before.quantity.abs().sum().cast("float64")
    if source.has_product_id:
        # lines per order: the number of products when each line is one product (a distinct count per
        # order costs two extra hash aggregations over all rows and changes little)
        metrics["n_products"] = before.count()
    elif source.has_n_items:
        metrics["n_products"] = before.n_items.sum()
    orders = before.group_by(keys).aggregate(**metrics)
    return before, orders


def _feature_expression(
    source: TransactionSource, c: float, horizon_days: float, lookback_days: float, windows: tuple[int, ...]
) -> Any:
    import ibis

    before, orders = _orders(source, c)
    purchases = orders.filter(orders.amount > 0)
    trend_windows = [w for w in TREND_WINDOWS if w in windows] or [windows[0]]

    def count_if(cond: Any) -> Any:
        return ibis.ifelse(cond, 1, 0).sum()

    def sum_if(cond: Any, value: Any) -> Any:
        return ibis.ifelse(cond, value, 0.0).sum()

    p = purchases
    agg: dict[str, Any] = {
        "n_orders": p.count(),
        "recency_days": p.age.min(),
        "tenure_days": p.age.max(),
        "spend_total": p.amount.sum(),
        "order_value_mean": p.amount.mean(),
        "order_value_max": p.amount.max(),
        "order_value_std": p.amount.std(),
    }
    for w in windows:
        agg[f"orders_{w}d"] = count_if(p.age <= w)
        agg[f"spend_{w}d"] = sum_if(p.age <= w, p.amount)
    for w in trend_windows:
        prior = (p.age > w) & (p.age <= 2 * w)
        agg[f"orders_prev_{w}d"] = count_if(prior)
        agg[f"spend_prev_{w}d"] = sum_if(prior, p.amount)
    # seasonality: what the customer did in the same stretch of the calendar one year earlier
    year = 365.0  # calendar days: the same stretch of the calendar one year earlier
    same_season = (p.age <= year) & (p.age > year - horizon_days)
    agg["orders_same_season_last_year"] = count_if(same_season)
    # seasonal buyer: share of all past orders placed in the calendar stretch the horizon covers (any year)
    cutoff_doy = float(pd.Timestamp(from_epoch(c)).day_of_year)
    doy = p.ts.day_of_year().cast("float64")
    offset = (doy - cutoff_doy + 366.0) % 366.0
    agg["season_share"] = ibis.ifelse(offset < min(horizon_days, 366.0), 1.0, 0.0).mean()
    weekday = (p.epoch / SECONDS_PER_DAY + 3).floor() % 7  # 1970-01-01 was a Thursday -> Monday = 0
    agg["weekend_share"] = ibis.ifelse(weekday >= 5, 1.0, 0.0).mean()
    if source.has_quantity:
        agg["basket_quantity_mean"] = p.quantity.mean()
    if source.has_product_id or source.has_n_items:
        agg["basket_products_mean"] = p.n_products.cast("float64").mean()
    feats = p.group_by("customer_id").aggregate(**agg)
    feats = feats.filter(feats.recency_days <= lookback_days)

    # inter-purchase times on distinct purchase days
    days = _purchase_days(purchases)
    win = ibis.window(group_by="customer_id", order_by="day")
    gaps = days.mutate(gap=days.day - days.day.lag().over(win))
    gap_stats = gaps.group_by("customer_id").aggregate(
        n_purchase_days=gaps.count(),
        ipt_mean=gaps.gap.mean(),
        ipt_std=gaps.gap.std(),
        ipt_max=gaps.gap.max(),
        ipt_min=gaps.gap.min(),
        first_day=gaps.day.min(),
        last_day=gaps.day.max(),
        ipt_last=gaps.gap.argmax(gaps.day),
    )

    # returns and diversity over all rows before the cutoff
    r = before
    rows_agg: dict[str, Any] = {
        "gross_spend": sum_if(r.amount > 0, r.amount),
        "returned_amount": sum_if(r.amount < 0, -r.amount),
    }
    if source.has_product_id:
        rows_agg["n_distinct_products"] = r.product_id.nunique(where=r.amount > 0)
    if source.has_channel:
        rows_agg["n_channels"] = r.channel.nunique()
    row_stats = r.group_by("customer_id").aggregate(**rows_agg)
    returns = orders.filter(orders.amount < 0)
    return_stats = returns.group_by("customer_id").aggregate(n_return_orders=returns.count())

    out = feats.left_join(gap_stats, "customer_id").select(~ibis.selectors.endswith("_right"))
    out = out.left_join(row_stats, "customer_id").select(~ibis.selectors.endswith("_right"))
    out = out.left_join(return_stats, "customer_id").select(~ibis.selectors.endswith("_right"))
    return out


def _purchase_days(purchases: Any) -> Any:
    """Distinct ``(customer_id, day)`` pairs of purchase orders (day = whole days since 1970-01-01 UTC)."""
    p = purchases
    return p.mutate(day=(p.epoch / SECONDS_PER_DAY).floor()).select("customer_id", "day").distinct()


def _bgnbd_base_expression(source: TransactionSource, c: float) -> Any:
    """BG/NBD inputs of *every* customer acquired before the cutoff, grouped: ``(x, t_x, T, n_customers)``.

    The fitting sample of the BG/NBD features. Customers who bought before the cutoff but not in the look-back
    window are the ones who most likely dropped out; leaving them out (fitting on the active population only)
    truncates the sample on the dropout process and pushes ``a, b`` to the boundary (Fader, Hardie & Lee 2005,
    "Counting your customers the easy way", section 3: the likelihood is over the whole cohort). Same units and
    day rounding as the ``bg_*`` features, so the scored customers' rows are among the fitted ones.
    """
    _, orders = _orders(source, c)
    days = _purchase_days(orders.filter(orders.amount > 0))
    per = days.group_by("customer_id").aggregate(n=days.count(), first_day=days.day.min(), last_day=days.day.max())
    cutoff_day = c / SECONDS_PER_DAY
    per = per.mutate(
        bg_frequency=(per.n - 1).cast("float64"),
        bg_recency_weeks=(per.last_day - per.first_day) / DAYS_PER_WEEK,
        bg_T_weeks=(cutoff_day - per.first_day) / DAYS_PER_WEEK,
    )
    return per.group_by(["bg_frequency", "bg_recency_weeks", "bg_T_weeks"]).aggregate(n_customers=per.count())


def _attach_label(source: TransactionSource, feats: Any, c: float, horizon_days: float) -> Any:
    import ibis

    t = source.table
    end = c + horizon_days * SECONDS_PER_DAY
    window = t.filter((t._epoch >= c) & (t._epoch < end))
    keys = ["customer_id", "order_id"] if source.has_order_id else ["customer_id", "_epoch"]
    orders = window.group_by(keys).aggregate(amount=window.amount.sum())
    buyers = orders.filter(orders.amount > 0).select("customer_id").distinct().mutate(_bought=ibis.literal(1))
    joined = feats.left_join(buyers, "customer_id").select(~ibis.selectors.endswith("_right"))
    return joined.mutate(**{LABEL: ibis.ifelse(joined._bought.isnull(), 1, 0)}).drop("_bought")


def _derived_features(
    raw: pd.DataFrame, source: TransactionSource, windows: tuple[int, ...], c: float
) -> pd.DataFrame:
    """Ratios and rhythm features from the engine's aggregates (vectorised, per customer)."""
    X = pd.DataFrame(index=raw.index)
    num = raw.astype("float64")
    X["recency_days"] = num["recency_days"]
    X["tenure_days"] = num["tenure_days"]
    X["n_orders"] = num["n_orders"]
    X["n_purchase_days"] = num["n_purchase_days"]
    X["spend_total"] = num["spend_total"]
    X["order_value_mean"] = num["order_value_mean"]
    X["order_value_max"] = num["order_value_max"]
    X["order_value_cv"] = num["order_value_std"] / num["order_value_mean"].where(num["order_value_mean"] > 0)
    active_days = np.maximum(num["tenure_days"], 1.0)
    X["orders_per_30d"] = num["n_orders"] / active_days * 30.0
    for w in windows:
        X[f"orders_{w}d"] = num[f"orders_{w}d"]
        X[f"spend_{w}d"] = num[f"spend_{w}d"]
    for w in [w for w in TREND_WINDOWS if f"orders_prev_{w}d" in num]:
        X[f"orders_trend_{w}d"] = num[f"orders_{w}d"] - num[f"orders_prev_{w}d"]
        X[f"spend_trend_{w}d"] = np.log1p(num[f"spend_{w}d"].clip(lower=0)) - np.log1p(
            num[f"spend_prev_{w}d"].clip(lower=0)
        )
    # rhythm: inter-purchase times (days between distinct purchase days)
    X["ipt_mean"] = num["ipt_mean"]
    X["ipt_std"] = num["ipt_std"]
    X["ipt_max"] = num["ipt_max"]
    X["ipt_min"] = num["ipt_min"]
    X["ipt_last"] = num["ipt_last"]
    rhythm = num["ipt_mean"].where(num["ipt_mean"] > 0)
    X["recency_over_ipt"] = num["recency_days"] / rhythm
    X["recency_over_ipt_max"] = num["recency_days"] / num["ipt_max"].where(num["ipt_max"] > 0)
    spread = num["ipt_std"].where(num["ipt_std"] > 0)
    X["recency_z"] = (num["recency_days"] - num["ipt_mean"]) / spread
    X["ipt_trend"] = num["ipt_last"] / rhythm
    X["recency_over_tenure"] = num["recency_days"] / np.maximum(num["tenure_days"], 1.0)
    # returns
    gross = num["gross_spend"].where(num["gross_spend"] > 0)
    X["returns_share"] = (num["returned_amount"] / gross).fillna(0.0)
    X["n_return_orders"] = num["n_return_orders"].fillna(0.0)
    # basket size and diversity
    if "basket_quantity_mean" in num:
        X["basket_quantity_mean"] = num["basket_quantity_mean"]
    if "basket_products_mean" in num:
        X["basket_products_mean"] = num["basket_products_mean"]
    if "n_distinct_products" in num:
        X["n_distinct_products"] = num["n_distinct_products"]
        X["product_diversity"] = num["n_distinct_products"] / np.maximum(num["n_orders"], 1.0)
    if "n_channels" in num:
        X["n_channels"] = num["n_channels"]
    # seasonality
    X["orders_same_season_last_year"] = num["orders_same_season_last_year"]
    X["season_share"] = num["season_share"]
    X["weekend_share"] = num["weekend_share"]
    # BG/NBD inputs (weeks): repeat purchase days, time of last repeat, age
    X["bg_frequency"] = num["n_purchase_days"] - 1.0
    X["bg_recency_weeks"] = (num["last_day"] - num["first_day"]) / DAYS_PER_WEEK
    # age counted from the first purchase *day*: identical (x, t_x, T) rows then group in the BG/NBD fit
    cutoff_day = c / SECONDS_PER_DAY
    X["bg_T_weeks"] = np.maximum(cutoff_day - num["first_day"], num["last_day"] - num["first_day"]) / DAYS_PER_WEEK
    return X


def _bg_arrays(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    frequency = frame["bg_frequency"].to_numpy(dtype="float64")
    recency = frame["bg_recency_weeks"].to_numpy(dtype="float64")
    T = np.maximum(frame["bg_T_weeks"].to_numpy(dtype="float64"), recency)
    T = np.where(T <= 0, 1.0 / DAYS_PER_WEEK, T)
    return frequency, recency, T


def bgnbd_features(
    X: pd.DataFrame, horizon_days: float, *, required: bool = False, fit_on: pd.DataFrame | None = None
) -> pd.DataFrame | None:
    """BG/NBD P(alive), expected purchases and P(no purchase) in the horizon for the rows of ``X``.

    The model is fitted on ``fit_on`` (columns ``bg_frequency``, ``bg_recency_weeks``, ``bg_T_weeks`` and an
    optional ``n_customers`` weight per row): :func:`make_churn_dataset` passes every customer acquired before
    the cutoff, not only the scored (active) ones, because the active population is a sample truncated on
    the dropout process. Without ``fit_on`` the rows of ``X`` are used (only right when ``X`` is the whole
    base). Uses only pre-cutoff quantities, so it leaks nothing. Returns ``None`` when the model is not
    identified (fewer than two repeat buyers) or does not converge even with a small penalizer (with
    ``required``, the ``ConvergenceError`` is raised instead).
    """
    from crm_models.clv import BetaGeoModel
    from crm_models.exceptions import ConvergenceError

    frequency, recency, T = _bg_arrays(X)
    base = X if fit_on is None else fit_on
    fit_x, fit_tx, fit_T = _bg_arrays(base)
    weights = (
        base["n_customers"].to_numpy(dtype="float64") if "n_customers" in base else np.ones(len(fit_x))
    )
    if not required and weights[fit_x > 0].sum() < 2:
        return None  # nobody (or one customer) bought twice: BG/NBD is not identified
    model = None
    for penalizer in (0.0, 0.01):
        try:
            model = BetaGeoModel(penalizer=penalizer).fit(fit_x, fit_tx, fit_T, weights=weights)
            break
        except (ConvergenceError, ValueError):  # ValueError covers DataContractError
            if required and penalizer > 0:
                raise
    if model is None:
        return None
    p_alive = np.clip(np.asarray(model.probability_alive(frequency, recency, T), dtype="float64"), 0.0, 1.0)
    expected = np.asarray(
        model.expected_purchases(horizon_days / DAYS_PER_WEEK, frequency, recency, T), dtype="float64"
    )
    # P(no purchase in the horizon t): dead, or alive with no Poisson event in t (BG/NBD customers only
    # drop out right after a purchase, so an alive customer without purchases stays alive). With
    # lambda | x, T ~ Gamma(r + x, alpha + T): E[exp(-lambda t)] = ((alpha + T) / (alpha + T + t))^(r + x).
    r, alpha = float(model.params_["r"]), float(model.params_["alpha"])
    t = horizon_days / DAYS_PER_WEEK
    quiet = np.exp((r + frequency) * (np.log(alpha + T) - np.log(alpha + T + t)))
    p_none = (1.0 - p_alive) + p_alive * quiet
    return pd.DataFrame(
        {
            "bg_p_alive": p_alive,
            "bg_expected_purchases": expected,
            "bg_p_no_purchase": np.clip(p_none, 0.0, 1.0),
        },
        index=X.index,
    )


def make_training_set(
    transactions: Any,
    cutoffs: Any,
    horizon: Any = 90,
    lookback: Any = 365,
    **kwargs: Any,
) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """Stack labelled snapshots at several cutoffs: ``(X, y, time)`` for ``ChurnModel.fit(X, y, time=time)``.

    A customer appears once per snapshot. ``time`` holds each row's cutoff, so the model's validation
    split is time-ordered (the latest snapshot is held out). ``kwargs`` go to :func:`make_churn_dataset`
    (``backend=`` included).
    """
    source = prepare(transactions, kwargs.pop("backend", None))
    sets = [
        make_churn_dataset(source, c, horizon, lookback, **kwargs)
        for c in sorted(pd.to_datetime(list(cutoffs)))
    ]
    columns = [c for c in sets[0].X.columns if all(c in s.X for s in sets)]
    X = pd.concat([s.X[columns] for s in sets])
    y = pd.concat([s.y for s in sets])
    time = pd.Series(
        np.concatenate([np.full(len(s.X), s.cutoff) for s in sets]), index=X.index, name="cutoff"
    )
    return X, y, time
