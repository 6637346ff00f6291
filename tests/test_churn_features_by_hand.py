"""Every churn feature of a tiny transaction table, computed by hand (issue 21: mutants of churn/features).

Cutoff 2024-03-31 (a date: the whole day is history), so the exclusive bound is b = 2024-04-01 00:00 UTC and
a purchase's age is ``(b - timestamp)`` in days. Several purchases sit exactly on a window edge (age 30, 60,
90, 335, 365), so a ``<=`` turned into ``<`` (or the reverse) changes a count. Label window [b, b + 30 days).

Customers (``order_id``, ``quantity``, ``product_id``, ``channel`` given):

- A: five purchase orders at ages 111, 90, 60, 30 and 0.5 (the last one with two lines), one return order
  at age 22, and a purchase in the label window (two lines netting +20) -> not churned.
- B: purchases at ages 365 (same season last year, day of year of the cutoff), 335 (just outside that
  season) and 1.75; buys at b exactly -> not churned.
- C: one purchase at age 366 -> outside the 365-day look-back: not in the population.
- D: one purchase one second before b; in the label window only a return, and a purchase at b + 30 days
  exactly (outside the half-open window) -> churned.
- E: one purchase at age 365 exactly (inside the look-back) -> churned.
- F: purchases at ages 365.5 and 1, an order netting 0 at age 12; in the label window only an order netting
  0 -> churned.
- G: purchases 10 days apart (ages 31, 21, 11): the spread of its gaps is 0 -> churned.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from crm_models.churn import make_churn_dataset, make_training_set
from crm_models.churn.features import bgnbd_features, cutoff_bound
from crm_models.exceptions import DataContractError

CUTOFF = "2024-03-31"
ROWS = [
    # customer, timestamp, amount, order, quantity, product, channel
    ("A", "2023-12-12 00:00", 80.0, "a6", 1, "p4", "web"),  # age 111
    ("A", "2024-01-02 00:00", 60.0, "a3", 1, "p3", "web"),  # age 90
    ("A", "2024-02-01 00:00", 40.0, "a5", 2, "p2", "web"),  # age 60
    ("A", "2024-03-02 00:00", 100.0, "a2", 3, "p1", "shop"),  # age 30
    ("A", "2024-03-10 00:00", -25.0, "a4", -1, "p5", "app"),  # age 22, a return
    ("A", "2024-03-31 12:00", 30.0, "a1", 2, "p1", "web"),  # age 0.5, two lines of one order
    ("A", "2024-03-31 12:00", 20.0, "a1", 1, "p2", "web"),
    ("A", "2024-03-31 12:00", 0.0, "a1", 1, "p6", "web"),  # a free line: in the basket, not a bought product
    ("A", "2024-04-30 23:00", 30.0, "a7", 1, "p1", "web"),  # label window: net +20
    ("A", "2024-04-30 23:00", -10.0, "a7", 1, "p2", "web"),
    ("B", "2023-04-02 00:00", 40.0, "b1", 1, "p1", "web"),  # age 365
    ("B", "2023-05-02 00:00", 20.0, "b2", 1, "p1", "web"),  # age 335
    ("B", "2024-03-30 06:00", 10.0, "b3", 1, "p1", "web"),  # age 1.75
    ("B", "2024-04-01 00:00", 5.0, "b4", 1, "p1", "web"),  # label window, first instant
    ("C", "2023-04-01 00:00", 50.0, "c1", 1, "p1", "web"),  # age 366
    ("C", "2024-04-05 00:00", 50.0, "c2", 1, "p1", "web"),
    ("D", "2024-03-31 23:59:59", 15.0, "d1", 1, "p1", "web"),  # age 1 / 86400
    ("D", "2024-04-10 00:00", -15.0, "d2", -1, "p1", "web"),  # label window: a return only
    ("D", "2024-05-01 00:00", 15.0, "d3", 1, "p1", "web"),  # b + 30 days: after the label window
    ("E", "2023-04-02 00:00", 5.0, "e1", 1, "p1", "web"),  # age 365
    ("F", "2023-04-01 12:00", 20.0, "f1", 1, "p1", "web"),  # age 365.5
    ("F", "2024-03-20 00:00", 10.0, "f2", 1, "p1", "web"),  # an order netting 0: neither purchase nor return
    ("F", "2024-03-20 00:00", -10.0, "f2", -1, "p1", "web"),
    ("F", "2024-03-31 00:00", 30.0, "f3", 1, "p1", "web"),  # age 1
    ("F", "2024-04-15 00:00", 10.0, "f4", 1, "p1", "web"),  # label window: an order netting 0
    ("F", "2024-04-15 00:00", -10.0, "f4", -1, "p1", "web"),
    ("G", "2024-03-01 00:00", 10.0, "g1", 1, "p1", "web"),  # ages 31, 21, 11: two equal gaps of 10 days
    ("G", "2024-03-11 00:00", 10.0, "g2", 1, "p1", "web"),
    ("G", "2024-03-21 00:00", 10.0, "g3", 1, "p1", "web"),
]


def _transactions(optional: bool = True) -> pd.DataFrame:
    frame = pd.DataFrame(ROWS, columns=["customer_id", "timestamp", "amount", "order_id", "quantity",
                                        "product_id", "channel"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], format="ISO8601")
    return frame if optional else frame[["customer_id", "timestamp", "amount"]]


def _sample_std(values: list[float]) -> float:
    return float(np.std(values, ddof=1))


GAPS_A = [21.0, 30.0, 30.0, 29.0]  # purchase days Dec 12, Jan 2, Feb 1, Mar 2, Mar 31
GAPS_B = [30.0, 333.0]  # Apr 2 2023, May 2 2023, Mar 30 2024
TINY = 1.0 / 86_400  # D's purchase, one second before the bound


EXPECTED = {
    "A": {
        "recency_days": 0.5, "tenure_days": 111.0, "n_orders": 5.0, "n_purchase_days": 5.0,
        "spend_total": 330.0, "order_value_mean": 66.0, "order_value_max": 100.0,
        "order_value_cv": _sample_std([80, 60, 40, 100, 50]) / 66.0,
        "orders_per_30d": 5 / 111 * 30,
        "orders_30d": 2.0, "spend_30d": 150.0, "orders_90d": 4.0, "spend_90d": 250.0,
        # prior of 30: ages in (30, 60] = the order at 60; prior of 90: (90, 180] = the order at 111
        "orders_trend_30d": 2.0 - 1.0, "spend_trend_30d": math.log1p(150) - math.log1p(40),
        "orders_trend_90d": 4.0 - 1.0, "spend_trend_90d": math.log1p(250) - math.log1p(80),
        "ipt_mean": 27.5, "ipt_std": _sample_std(GAPS_A), "ipt_max": 30.0, "ipt_min": 21.0, "ipt_last": 29.0,
        "recency_over_ipt": 0.5 / 27.5, "recency_over_ipt_max": 0.5 / 30.0,
        "recency_z": (0.5 - 27.5) / _sample_std(GAPS_A), "ipt_trend": 29.0 / 27.5,
        "recency_over_tenure": 0.5 / 111.0,
        "returns_share": 25.0 / 330.0, "n_return_orders": 1.0,
        "basket_quantity_mean": (1 + 1 + 2 + 3 + 4) / 5, "basket_products_mean": (1 + 1 + 1 + 1 + 3) / 5,
        # p1..p4; neither the returned p5 nor the free p6 counts
        "n_distinct_products": 4.0, "product_diversity": 4 / 5,
        "n_channels": 3.0,  # web, shop and the return's app
        "orders_same_season_last_year": 0.0, "season_share": 0.0,
        "weekend_share": 2 / 5,  # Sat Mar 2 and Sun Mar 31
        "bg_frequency": 4.0, "bg_recency_weeks": 110 / 7, "bg_T_weeks": 111 / 7,
    },
    "B": {
        "recency_days": 1.75, "tenure_days": 365.0, "n_orders": 3.0, "n_purchase_days": 3.0,
        "spend_total": 70.0, "order_value_mean": 70 / 3, "order_value_max": 40.0,
        "order_value_cv": _sample_std([40, 20, 10]) / (70 / 3),
        "orders_per_30d": 3 / 365 * 30,
        "orders_30d": 1.0, "spend_30d": 10.0, "orders_90d": 1.0, "spend_90d": 10.0,
        "orders_trend_30d": 1.0, "spend_trend_30d": math.log1p(10),
        "orders_trend_90d": 1.0, "spend_trend_90d": math.log1p(10),
        "ipt_mean": 181.5, "ipt_std": _sample_std(GAPS_B), "ipt_max": 333.0, "ipt_min": 30.0, "ipt_last": 333.0,
        "recency_over_ipt": 1.75 / 181.5, "recency_over_ipt_max": 1.75 / 333.0,
        "recency_z": (1.75 - 181.5) / _sample_std(GAPS_B), "ipt_trend": 333.0 / 181.5,
        "recency_over_tenure": 1.75 / 365.0,
        "returns_share": 0.0, "n_return_orders": 0.0,
        "basket_quantity_mean": 1.0, "basket_products_mean": 1.0, "n_distinct_products": 1.0,
        "product_diversity": 1 / 3, "n_channels": 1.0,
        # same season last year: ages in (365 - 30, 365] -> the order at 365, not the one at 335
        "orders_same_season_last_year": 1.0,
        # day of year 92 (Apr 2 2023) is the cutoff's + 0 -> in; 122 (May 2) is + 30 -> out (< 30)
        "season_share": 1 / 3,
        "weekend_share": 2 / 3,  # Sun Apr 2 2023 and Sat Mar 30 2024
        "bg_frequency": 2.0, "bg_recency_weeks": 363 / 7, "bg_T_weeks": 365 / 7,
    },
    "D": {
        "recency_days": TINY, "tenure_days": TINY, "n_orders": 1.0, "n_purchase_days": 1.0,
        "spend_total": 15.0, "order_value_mean": 15.0, "order_value_max": 15.0, "order_value_cv": math.nan,
        "orders_per_30d": 30.0,  # active days at least 1
        "orders_30d": 1.0, "spend_30d": 15.0, "orders_90d": 1.0, "spend_90d": 15.0,
        "orders_trend_30d": 1.0, "spend_trend_30d": math.log1p(15),
        "orders_trend_90d": 1.0, "spend_trend_90d": math.log1p(15),
        "ipt_mean": math.nan, "ipt_std": math.nan, "ipt_max": math.nan, "ipt_min": math.nan,
        "ipt_last": math.nan, "recency_over_ipt": math.nan, "recency_over_ipt_max": math.nan,
        "recency_z": math.nan, "ipt_trend": math.nan, "recency_over_tenure": TINY / 1.0,
        "returns_share": 0.0, "n_return_orders": 0.0,
        "basket_quantity_mean": 1.0, "basket_products_mean": 1.0, "n_distinct_products": 1.0,
        "product_diversity": 1.0, "n_channels": 1.0,
        "orders_same_season_last_year": 0.0, "season_share": 0.0, "weekend_share": 1.0,  # Sunday
        "bg_frequency": 0.0, "bg_recency_weeks": 0.0, "bg_T_weeks": 1 / 7,
    },
}


@pytest.fixture(scope="module")
def dataset():
    return make_churn_dataset(_transactions(), CUTOFF, 30, 365, windows=(90, 30, 30), use_bgnbd=False)


def test_population_and_labels_at_the_edges(dataset):
    """C (last purchase 366 days back) is out, E (365 days back) in; A and B bought in [b, b + 30 d), D
    only returned goods there and bought at b + 30 d, E and G did nothing, F's only order there nets 0."""
    assert dataset.X.index.tolist() == ["A", "B", "D", "E", "F", "G"]
    assert dataset.y.to_dict() == {"A": 0, "B": 0, "D": 1, "E": 1, "F": 1, "G": 1}
    assert dataset.y.name == "churned" and dataset.y.dtype == "int64"
    assert dataset.churn_rate == pytest.approx(4 / 6) and dataset.n_customers == 6
    assert (dataset.horizon_days, dataset.lookback_days, dataset.bgnbd_used) == (30.0, 365.0, False)
    assert dataset.cutoff == pd.Timestamp(CUTOFF)


@pytest.mark.parametrize("customer", sorted(EXPECTED))
def test_every_feature_by_hand(dataset, customer):
    """Each feature of A, B and D against its hand value (guards the window edges, the prior windows
    (w, 2w], the same-season stretch (365 - horizon, 365], the weekday origin (+3: a Thursday), the day of
    year offset, the sample standard deviations, the NaN guards of the ratios and the max(., 1) floors)."""
    row = dataset.X.loc[customer]
    expected = EXPECTED[customer]
    assert set(expected) == set(dataset.X.columns)
    for name, value in expected.items():
        assert row[name] == pytest.approx(value, rel=1e-9, abs=1e-12, nan_ok=True), name
    assert (dataset.X.dtypes == "float64").all()


def test_e_bought_once_exactly_a_year_before(dataset):
    row = dataset.X.loc["E"]
    assert row["recency_days"] == 365.0 and row["orders_same_season_last_year"] == 1.0
    assert row["orders_90d"] == 0.0 and row["spend_trend_30d"] == 0.0 and row["season_share"] == 1.0
    assert row["weekend_share"] == 1.0 and row["bg_T_weeks"] == pytest.approx(365 / 7)


def test_an_order_netting_zero_and_a_purchase_just_over_a_year_back(dataset):
    """F: the order netting 0 is neither a purchase (``amount > 0``) nor a return (``amount < 0``), though its
    returned line counts in the returned share (rows); the purchase 365.5 days back is outside the same
    season last year (ages in (335, 365])."""
    row = dataset.X.loc["F"]
    assert row["n_orders"] == 2.0 and row["n_return_orders"] == 0.0 and row["n_purchase_days"] == 2.0
    assert row["recency_days"] == 1.0 and row["tenure_days"] == 365.5 and row["ipt_mean"] == 365.0
    assert row["orders_same_season_last_year"] == 0.0 and row["season_share"] == 0.0
    assert row["returns_share"] == pytest.approx(10 / 60)


def test_equal_gaps_have_no_spread(dataset):
    """G: gaps 10 and 10 -> ``ipt_std`` 0, so the z-score of the silence is undefined (NaN, not inf)."""
    row = dataset.X.loc["G"]
    assert row["ipt_mean"] == 10.0 and row["ipt_std"] == 0.0 and np.isnan(row["recency_z"])
    assert row["recency_over_ipt"] == pytest.approx(1.1) and row["ipt_trend"] == 1.0
    assert row["orders_30d"] == 2.0 and row["orders_trend_30d"] == 2.0 - 1.0  # age 31 is in (30, 60]


def test_without_optional_columns_an_order_is_a_customer_and_a_timestamp(dataset):
    """Without ``order_id`` the rows of one customer at one timestamp form one order (A's two lines at
    age 0.5); the order-level features agree with the frame that has order ids, the optional ones are
    absent."""
    plain = make_churn_dataset(_transactions(optional=False), CUTOFF, 30, 365, windows=(30, 90),
                               use_bgnbd=False)
    optional = {"basket_quantity_mean", "basket_products_mean", "n_distinct_products", "product_diversity",
                "n_channels"}
    assert set(dataset.X.columns) - set(plain.X.columns) == optional
    pd.testing.assert_frame_equal(plain.X, dataset.X[plain.X.columns])
    pd.testing.assert_series_equal(plain.y, dataset.y)


def test_windows_are_sorted_and_unique_and_must_be_positive(dataset):
    assert [c for c in dataset.X.columns if c.startswith("orders_") and c[7].isdigit()] == ["orders_30d",
                                                                                             "orders_90d"]
    for windows in [(), (0, 30), (-5,)]:
        with pytest.raises(ValueError, match="windows"):
            make_churn_dataset(_transactions(), CUTOFF, 30, windows=windows, use_bgnbd=False)


def test_windows_without_a_trend_window_and_a_window_of_one_week():
    """A 7-day window has no trend feature (trends are for 30, 90 and 180 days); A bought once in the
    last 7 days (age 0.5), B once (age 1.75)."""
    ds = make_churn_dataset(_transactions(), CUTOFF, 30, windows=(7,), use_bgnbd=False)
    assert not [c for c in ds.X.columns if "trend_" in c and c != "ipt_trend"]
    assert ds.X["orders_7d"].to_dict() == {"A": 1.0, "B": 1.0, "D": 1.0, "E": 0.0, "F": 1.0, "G": 0.0}
    assert ds.X.loc["A", "spend_7d"] == 50.0


def test_a_shorter_lookback_and_a_scoring_set():
    """Look-back 2 days: only A (0.5), B (1.75), D and F (1) qualify. A scoring set has no label and needs no
    label window: its cutoff may be the last day of the data."""
    short = make_churn_dataset(_transactions(), CUTOFF, 30, lookback=2, use_bgnbd=False)
    assert short.X.index.tolist() == ["A", "B", "D", "F"] and short.lookback_days == 2.0
    scoring = make_churn_dataset(_transactions(), "2024-05-01", 30, with_label=False, use_bgnbd=False)
    assert scoring.y is None and np.isnan(scoring.churn_rate)
    assert "churned" not in scoring.frame() and (scoring.frame()["cutoff"] == pd.Timestamp("2024-05-01")).all()
    assert scoring.X.loc["D", "recency_days"] == 1.0  # the purchase at 2024-05-01 00:00


def test_frame_holds_features_label_and_cutoff(dataset):
    frame = dataset.frame()
    assert list(frame.columns[-2:]) == ["churned", "cutoff"]
    assert frame["churned"].tolist() == [0, 0, 1, 1, 1, 1]
    assert "churned" not in dataset.X  # frame() copies


def test_the_label_window_must_end_by_the_end_of_the_data():
    """The horizon may end exactly at the last transaction (b + 30 d = D's last purchase), not later;
    ``data_end`` extends the end."""
    with pytest.raises(DataContractError) as err:
        make_churn_dataset(_transactions(), CUTOFF, 31, use_bgnbd=False)
    assert err.value.rule == "cutoff + horizon <= end of data" and err.value.column == "timestamp"
    longer = make_churn_dataset(_transactions(), CUTOFF, 31, data_end="2024-05-01", use_bgnbd=False)
    # D's purchase at b + 30 d now counts
    assert longer.y.to_dict() == {"A": 0, "B": 0, "D": 0, "E": 1, "F": 1, "G": 1}


def test_cutoff_range():
    """The cutoff's bound must be after the first transaction and at most the end of the last one's day."""
    first_day = make_churn_dataset(_transactions(), "2023-04-01", 30, use_bgnbd=False)
    assert first_day.X.index.tolist() == ["C", "F"]
    for cutoff in ["2023-03-31", "2024-05-02"]:
        with pytest.raises(DataContractError) as err:
            make_churn_dataset(_transactions(), cutoff, 30, with_label=False, use_bgnbd=False)
        assert err.value.rule == "first transaction < cutoff <= last transaction"
    last_day = make_churn_dataset(_transactions(), "2024-05-01", 30, with_label=False, use_bgnbd=False)
    assert last_day.X.index.tolist() == ["A", "B", "C", "D", "F", "G"]  # E's purchase is now 396 days back


def test_nobody_active_in_the_lookback_is_an_error():
    with pytest.raises(DataContractError) as err:
        make_churn_dataset(_transactions(), "2023-06-30", 30, lookback=10, use_bgnbd=False)
    assert err.value.column == "timestamp"
    assert err.value.rule == "at least one active customer in [cutoff - lookback, cutoff)"


def test_cutoff_bound_of_a_date_and_of_an_instant():
    """A date means the whole day (bound: the next midnight); an instant is kept, the next microsecond
    is not (bound: half a microsecond later)."""
    stamp, bound = cutoff_bound("2024-03-31")
    assert stamp == pd.Timestamp("2024-03-31") and bound == pd.Timestamp("2024-04-01").timestamp()
    stamp, bound = cutoff_bound(pd.Timestamp("2024-03-31 12:00"))
    instant = pd.Timestamp("2024-03-31 12:00").timestamp()
    assert stamp == pd.Timestamp("2024-03-31 12:00") and instant < bound < instant + 1e-6
    assert bound == pytest.approx(instant + 0.5e-6, abs=1e-7)


def test_training_set_stacks_snapshots_in_time_order():
    """Cutoffs are sorted; each snapshot keeps its customers and cutoff; the columns are the shared ones."""
    X, y, time = make_training_set(_transactions(), ["2024-03-31", "2024-03-15"], 30, windows=(30,),
                                   use_bgnbd=False)
    assert time.tolist() == [pd.Timestamp("2024-03-15")] * 6 + [pd.Timestamp("2024-03-31")] * 6
    # on Mar 15: D has not bought yet, C's purchase is 350 days back; all but E buy in [Mar 16, Apr 15)
    assert X.index.tolist() == ["A", "B", "C", "E", "F", "G", "A", "B", "D", "E", "F", "G"]
    assert y.tolist() == [0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 1]
    assert time.name == "cutoff" and time.index.equals(X.index)


def test_bgnbd_p_no_purchase_by_the_formula():
    """P(no purchase in t) = (1 - P(alive)) + P(alive) ((alpha + T) / (alpha + T + t))^(r + x) (Fader, Hardie
    & Lee 2005, eq. 8 is the Poisson-gamma mixture of the alive part), checked against the fitted model."""
    from crm_models.clv import BetaGeoModel

    rng = np.random.default_rng(5)
    n = 400
    x = rng.poisson(2.0, n).astype(float)
    T = rng.uniform(20, 52, n)
    t_x = np.where(x > 0, T * rng.uniform(0.2, 1.0, n), 0.0)
    X = pd.DataFrame({"bg_frequency": x, "bg_recency_weeks": t_x, "bg_T_weeks": T},
                     index=pd.Index([f"c{i}" for i in range(n)], name="customer_id"))
    out = bgnbd_features(X, 28.0)
    assert list(out.columns) == ["bg_p_alive", "bg_expected_purchases", "bg_p_no_purchase"]
    model = BetaGeoModel().fit(x, t_x, T)
    r, alpha = model.params_["r"], model.params_["alpha"]
    p_alive = np.clip(model.probability_alive(x, t_x, T), 0, 1)
    quiet = ((alpha + T) / (alpha + T + 4.0)) ** (r + x)
    np.testing.assert_allclose(out["bg_p_alive"], p_alive, rtol=1e-6)
    np.testing.assert_allclose(out["bg_expected_purchases"], model.expected_purchases(4.0, x, t_x, T), rtol=1e-6)
    np.testing.assert_allclose(out["bg_p_no_purchase"], (1 - p_alive) + p_alive * quiet, rtol=1e-6)
    # fewer than two repeat buyers: not identified, None (not an error) unless required
    assert bgnbd_features(X.assign(bg_frequency=0.0, bg_recency_weeks=0.0), 28.0) is None


def test_bgnbd_fit_weights_grouped_rows_by_their_customer_count():
    """``fit_on`` rows carry ``n_customers``: fitting the grouped table gives the fit on every customer
    (guards the weight column being ignored)."""
    rng = np.random.default_rng(5)
    n = 400
    x = rng.poisson(2.0, n).astype(float)
    T = rng.uniform(20, 52, n).round()
    t_x = np.where(x > 0, (T * rng.uniform(0.2, 1.0, n)).round(), 0.0)
    X = pd.DataFrame({"bg_frequency": x, "bg_recency_weeks": t_x, "bg_T_weeks": T})
    grouped = X.groupby(list(X.columns)).size().rename("n_customers").reset_index()
    assert len(grouped) < n
    np.testing.assert_allclose(bgnbd_features(X, 28.0, fit_on=grouped), bgnbd_features(X, 28.0), rtol=1e-3)


def test_bgnbd_needs_two_repeat_buyers():
    """Two repeat buyers are enough to fit (``< 2``, not ``<= 2``); one is not (None, no error)."""
    two = pd.DataFrame({"bg_frequency": [3.0, 1.0] + [0.0] * 10, "bg_recency_weeks": [10.0, 5.0] + [0.0] * 10,
                        "bg_T_weeks": [20.0] * 12})
    fitted = bgnbd_features(two, 28.0)
    assert fitted is not None and fitted.index.equals(two.index)
    assert bgnbd_features(two.assign(bg_frequency=[3.0] + [0.0] * 11), 28.0) is None
