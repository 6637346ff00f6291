"""Churn labels and features: correctness on a hand-made table, no leakage, input kinds, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.churn import make_churn_dataset, make_training_set
from crm_models.churn._synthetic import rhythm_transactions as synthetic_transactions
from crm_models.data.timestamps import end_exclusive
from crm_models.exceptions import DataContractError


def _tiny() -> pd.DataFrame:
    rows = [
        # customer a: buys on days 0, 10, 20 (two lines in order a2), returns once, buys again after the cutoff
        ("a", "2024-01-01 10:00", 10.0, "a1", 1, "p1"),
        ("a", "2024-01-11 10:00", 20.0, "a2", 2, "p1"),
        ("a", "2024-01-11 10:00", 5.0, "a2", 1, "p2"),
        ("a", "2024-01-21 10:00", 30.0, "a3", 3, "p3"),
        ("e", "2024-01-02 10:00", 10.0, "e1", 1, "p1"),
        ("e", "2024-01-12 10:00", 10.0, "e2", 1, "p1"),
        ("e", "2024-01-17 10:00", 10.0, "e3", 1, "p1"),
        ("a", "2024-01-25 10:00", -6.0, "a4", 1, "p3"),
        ("a", "2024-02-15 10:00", 40.0, "a5", 1, "p1"),
        # customer b: one purchase, none after the cutoff -> churned
        ("b", "2024-01-05 12:00", 50.0, "b1", 5, "p2"),
        # customer c: only after the cutoff -> not in the population
        ("c", "2024-02-10 09:00", 15.0, "c1", 1, "p1"),
        # customer d: bought long before the look-back window -> not in the population
        ("d", "2023-01-02 09:00", 15.0, "d1", 1, "p1"),
        ("z", "2024-06-30 09:00", 1.0, "z1", 1, "p1"),
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "order_id", "quantity", "product_id"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    return frame


def test_features_on_a_hand_made_table():
    ds = make_churn_dataset(_tiny(), "2024-02-01", horizon=30, lookback=180)
    assert list(ds.X.index) == ["a", "b", "e"]
    assert ds.y.to_dict() == {"a": 0, "b": 1, "e": 1}
    e = ds.X.loc["e"]
    assert (e["ipt_last"], e["ipt_max"], e["ipt_min"], e["ipt_mean"]) == (5.0, 10.0, 5.0, 7.5)
    assert e["ipt_trend"] == pytest.approx(5.0 / 7.5)
    a = ds.X.loc["a"]
    assert a["n_orders"] == 3  # a4 is a return order
    # the cutoff date means the whole day: history ends at the next midnight, 2024-02-02
    assert a["recency_days"] == pytest.approx((pd.Timestamp("2024-02-02") - pd.Timestamp("2024-01-21 10:00")).days
                                              + 14 / 24)
    assert a["ipt_mean"] == pytest.approx(10.0)
    assert a["ipt_std"] == pytest.approx(0.0)
    assert a["spend_total"] == pytest.approx(65.0)
    assert a["returns_share"] == pytest.approx(6.0 / 65.0)
    assert a["n_return_orders"] == 1
    assert a["basket_products_mean"] == pytest.approx(4 / 3)
    assert a["n_distinct_products"] == 3
    assert a["recency_over_ipt"] == pytest.approx(a["recency_days"] / 10.0)
    assert a["bg_frequency"] == 2
    assert a["season_share"] == 0.0 and a["orders_same_season_last_year"] == 0  # January buyer, February window
    assert a["bg_recency_weeks"] == pytest.approx(20 / 7)
    b = ds.X.loc["b"]
    assert b["n_orders"] == 1 and np.isnan(b["ipt_mean"])
    assert b["returns_share"] == 0.0


def _with_b_purchase_at(moment: str) -> pd.DataFrame:
    extra = pd.DataFrame({"customer_id": ["b"], "timestamp": [pd.Timestamp(moment)], "amount": [9.0],
                          "order_id": ["b2"], "quantity": [1], "product_id": ["p1"]})
    return pd.concat([_tiny(), extra], ignore_index=True)


@pytest.mark.parametrize("cutoff", ["2024-02-01", pd.Timestamp("2024-02-01"), pd.Timestamp("2024-02-01", tz="UTC")])
def test_cutoff_date_means_the_whole_day(cutoff):
    # a purchase at the cutoff date's first instant is history (the whole day is known) ...
    ds = make_churn_dataset(_with_b_purchase_at("2024-02-01 00:00"), cutoff, horizon=30, lookback=180)
    assert ds.X.loc["b", "n_orders"] == 2 and ds.y["b"] == 1
    # ... as is one at its last instant; the label window starts at the next midnight (half-open)
    ds = make_churn_dataset(_with_b_purchase_at("2024-02-01 23:59:59"), cutoff, horizon=30, lookback=180)
    assert ds.X.loc["b", "n_orders"] == 2 and ds.y["b"] == 1
    ds = make_churn_dataset(_with_b_purchase_at("2024-02-02 00:00"), cutoff, horizon=30, lookback=180)
    assert ds.X.loc["b", "n_orders"] == 1 and ds.y["b"] == 0
    assert ds.cutoff == pd.Timestamp("2024-02-01")


def test_cutoff_with_a_time_includes_that_instant():
    ds = make_churn_dataset(_with_b_purchase_at("2024-02-01 12:00"), "2024-02-01 12:00", horizon=30, lookback=180)
    assert ds.X.loc["b", "n_orders"] == 2 and ds.y["b"] == 1
    ds = make_churn_dataset(_with_b_purchase_at("2024-02-01 12:00:01"), "2024-02-01 12:00", horizon=30,
                            lookback=180)
    assert ds.X.loc["b", "n_orders"] == 1 and ds.y["b"] == 0


def test_string_and_timestamp_cutoffs_and_ends_give_the_same_dataset():
    frame = synthetic_transactions(seed=6, n_customers=300)
    as_str = make_churn_dataset(frame, "2023-03-01", 60, data_end="2023-12-31", use_bgnbd=False)
    as_ts = make_churn_dataset(frame, pd.Timestamp("2023-03-01"), 60, data_end=pd.Timestamp("2023-12-31"),
                               use_bgnbd=False)
    pd.testing.assert_frame_equal(as_str.X, as_ts.X)
    pd.testing.assert_series_equal(as_str.y, as_ts.y)
    X_s, y_s, t_s = make_training_set(frame, ["2023-02-01", "2023-03-01"], 30, use_bgnbd=False)
    X_t, y_t, t_t = make_training_set(frame, [pd.Timestamp("2023-02-01"), pd.Timestamp("2023-03-01")], 30,
                                      use_bgnbd=False)
    pd.testing.assert_frame_equal(X_s, X_t)
    assert (y_s == y_t).all() and (t_s == t_t).all()


def test_data_end_date_means_the_whole_day():
    # the last purchase is 2024-06-30 09:00; a label window ending at the end of 2024-06-30 fits when
    # data_end="2024-06-30" (the whole day), whatever the form
    frame = _tiny()
    for end in ("2024-06-30", pd.Timestamp("2024-06-30")):
        ds = make_churn_dataset(frame, "2024-05-31", horizon=30, lookback=365, data_end=end)
        assert ds.horizon_days == 30


def test_not_a_date_raises_a_configuration_error():
    from crm_models.exceptions import ConfigurationError

    with pytest.raises(ConfigurationError, match="cutoff"):
        make_churn_dataset(_tiny(), "notadate", horizon=30)
    with pytest.raises(ConfigurationError, match="data_end"):
        make_churn_dataset(_tiny(), "2024-02-01", horizon=30, data_end="notadate")


@pytest.mark.parametrize("cutoff", ["2023-03-01", "2023-07-15 13:30", "2023-10-01"])
def test_no_leakage_features_ignore_everything_after_the_cutoff(cutoff):
    frame = synthetic_transactions(seed=3, n_customers=400)
    full = make_churn_dataset(frame, cutoff, horizon=60, use_bgnbd=False)
    bound = end_exclusive(cutoff)  # a date means the whole day
    before = frame[frame["timestamp"] < bound]
    cut = make_churn_dataset(before, cutoff, horizon=60, with_label=False, use_bgnbd=False, data_end=cutoff)
    pd.testing.assert_frame_equal(full.X, cut.X)
    # and scrambling the future (amounts, extra customers) changes the labels only
    after = frame[frame["timestamp"] >= bound].copy()
    after["amount"] = after["amount"] * 3
    scrambled = make_churn_dataset(pd.concat([before, after]), cutoff, horizon=60, use_bgnbd=False)
    pd.testing.assert_frame_equal(full.X, scrambled.X)


def test_no_leakage_with_bgnbd_features():
    pytest.importorskip("crm_models.clv")
    frame = synthetic_transactions(seed=4, n_customers=300)
    cutoff = "2023-05-01"
    full = make_churn_dataset(frame, cutoff, horizon=60, use_bgnbd=True)
    cut = make_churn_dataset(frame[frame["timestamp"] < end_exclusive(cutoff)], cutoff, horizon=60,
                             with_label=False, use_bgnbd=True, data_end=cutoff)
    assert full.bgnbd_used and {"bg_p_alive", "bg_expected_purchases"} <= set(full.X.columns)
    pd.testing.assert_frame_equal(full.X, cut.X)


def test_label_matches_a_direct_count():
    frame = synthetic_transactions(seed=5, n_customers=300)
    cutoff = pd.Timestamp("2023-04-02")  # history ends with the whole day 2023-04-01
    end = cutoff + pd.Timedelta(days=90)
    ds = make_churn_dataset(frame, "2023-04-01", horizon=90, use_bgnbd=False)
    window = frame[(frame["timestamp"] >= cutoff) & (frame["timestamp"] < end)]
    order_net = window.groupby(["customer_id", "order_id"])["amount"].sum()
    buyers = set(order_net[order_net > 0].index.get_level_values(0))
    expected = pd.Series([0 if c in buyers else 1 for c in ds.X.index], index=ds.X.index)
    assert (ds.y == expected).all()
    active = frame[(frame["timestamp"] < cutoff) & (frame["timestamp"] >= cutoff - pd.Timedelta(days=365))
                   & (frame["amount"] > 0)]
    assert set(ds.X.index) == set(active["customer_id"])


def test_pandas_parquet_ibis_and_timezones_agree(tmp_path):
    import ibis

    frame = synthetic_transactions(seed=6, n_customers=200)
    base = make_churn_dataset(frame, "2023-03-01", 60, use_bgnbd=False).X
    path = tmp_path / "tx.parquet"
    frame.to_parquet(path)
    from_path = make_churn_dataset(path, "2023-03-01", 60, use_bgnbd=False).X
    from_ibis = make_churn_dataset(ibis.memtable(frame), "2023-03-01", 60, use_bgnbd=False).X
    aware = frame.assign(timestamp=frame["timestamp"].dt.tz_localize("UTC").dt.tz_convert("Europe/Berlin"))
    from_aware = make_churn_dataset(aware, pd.Timestamp("2023-03-01", tz="UTC"), 60, use_bgnbd=False).X
    for other in (from_path, from_ibis, from_aware):
        pd.testing.assert_frame_equal(base, other, check_index_type=False)


def test_csv_path_and_backend_argument_go_through_the_one_adapter(tmp_path):
    # issue 13 item 1: make_churn_dataset("tx.csv") works like customer_summary("tx.csv"), and `backend=`
    # registers frames and paths on the given connection
    from crm_models.data import duckdb_backend

    frame = synthetic_transactions(seed=6, n_customers=200)
    base = make_churn_dataset(frame, "2023-03-01", 60, use_bgnbd=False)
    path = tmp_path / "tx.csv"
    frame.to_csv(path, index=False)
    from_csv = make_churn_dataset(str(path), "2023-03-01", 60, use_bgnbd=False)
    pd.testing.assert_frame_equal(base.X, from_csv.X, check_index_type=False)
    pd.testing.assert_series_equal(base.y, from_csv.y, check_index_type=False)
    con = duckdb_backend()
    on_con = make_churn_dataset(frame, "2023-03-01", 60, use_bgnbd=False, backend=con)
    pd.testing.assert_frame_equal(base.X, on_con.X)
    from crm_models.churn._input import prepare

    assert prepare(frame, con).table._find_backend() is con
    X, _, _ = make_training_set(str(path), ["2023-02-01", "2023-03-01"], 30, use_bgnbd=False, backend=con)
    assert len(X) > 0


def test_works_without_optional_columns():
    frame = synthetic_transactions(seed=6, n_customers=200)[["customer_id", "timestamp", "amount"]]
    ds = make_churn_dataset(frame, "2023-03-01", 60, use_bgnbd=False)
    assert "basket_quantity_mean" not in ds.X and "recency_over_ipt" in ds.X
    assert ds.y.isin([0, 1]).all()


def test_training_set_stacks_snapshots_with_their_cutoff():
    frame = synthetic_transactions(seed=6, n_customers=200)
    X, y, time = make_training_set(frame, ["2023-02-01", "2023-01-01"], 30, use_bgnbd=False)
    assert len(X) == len(y) == len(time)
    assert sorted(time.unique()) == [pd.Timestamp("2023-01-01"), pd.Timestamp("2023-02-01")]


@pytest.mark.parametrize(
    "cutoff, horizon, rule",
    [
        ("2021-06-01", 30, "first transaction < cutoff"),  # before the data
        ("2025-06-01", 30, "first transaction < cutoff"),  # after the data
        ("2023-12-15", 90, "cutoff + horizon <= end of data"),  # label window runs past the end
    ],
)
def test_cutoff_and_horizon_errors_name_the_rule(cutoff, horizon, rule):
    frame = synthetic_transactions(seed=6, n_customers=100)
    with pytest.raises(DataContractError) as info:
        make_churn_dataset(frame, cutoff, horizon, use_bgnbd=False)
    assert rule in str(info.value) and info.value.column == "timestamp"
    assert isinstance(info.value, ValueError)


def test_contract_errors_for_bad_columns():
    frame = synthetic_transactions(seed=6, n_customers=50)
    with pytest.raises(DataContractError, match="amount"):
        make_churn_dataset(frame.drop(columns="amount"), "2023-03-01", 30)
    broken = frame.copy()
    broken.loc[3, "customer_id"] = None
    with pytest.raises(DataContractError) as info:
        make_churn_dataset(broken, "2023-03-01", 30)
    assert info.value.column == "customer_id" and info.value.rule == "not null"
    # timestamps as text are parsed by the data contract (the one way in, as for customer_summary) ...
    as_text = make_churn_dataset(frame.assign(timestamp=frame["timestamp"].astype(str)), "2023-03-01", 30,
                                 use_bgnbd=False)
    pd.testing.assert_frame_equal(as_text.X, make_churn_dataset(frame, "2023-03-01", 30, use_bgnbd=False).X)
    # ... and text that is not a time is refused, naming the column
    with pytest.raises(DataContractError, match="timestamp"):
        make_churn_dataset(frame.assign(timestamp="not a time"), "2023-03-01", 30)
    with pytest.raises(ValueError, match="horizon"):
        make_churn_dataset(frame, "2023-03-01", -5)
    with pytest.raises(TypeError):
        make_churn_dataset([1, 2, 3], "2023-03-01", 30)
