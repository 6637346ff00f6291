"""Loaders for public formats (against ../shared/data) and the demo brand's determinism and truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.datasets import load_cdnow, load_online_retail, make_demo


@pytest.fixture(scope="module")
def online_retail(shared_data):
    return load_online_retail(shared_data / "online_retail.csv.gz", return_report=True)


def test_online_retail_quality_report_counts(online_retail) -> None:
    transactions, report = online_retail
    assert report.rows_in == 541_909
    assert report.dropped("missing customer id") == 135_080
    assert report.dropped("exact duplicate") == 5_225
    assert report.dropped("non-positive amount") == 40
    assert report.rows_in == report.rows_kept + report.rows_dropped
    assert transactions["customer_id"].nunique() == 4_371
    assert transactions["order_id"].is_unique, "one transaction per invoice"
    assert transactions["customer_id"].notna().all()


def test_online_retail_amount_is_sum_of_lines(shared_data, online_retail) -> None:
    transactions, _ = online_retail
    first = transactions.loc[transactions["order_id"] == "536365"].iloc[0]
    # Invoice 536365 (customer 17850): 7 lines, quantity x price summed.
    assert first["customer_id"] == "17850"
    assert first["amount"] == pytest.approx(139.12)
    returns = transactions.loc[transactions["is_return"]]
    assert (returns["amount"] < 0).all() and len(returns) == 3_654


def test_online_retail_can_exclude_cancellations(shared_data, online_retail) -> None:
    _, with_returns = online_retail
    transactions, report = load_online_retail(shared_data / "online_retail.csv.gz", cancellations="exclude",
                                              return_report=True)
    assert not transactions["is_return"].any()
    assert report.dropped("cancellation or return") == 8_872  # 9,288 cancellation lines, less ids/duplicates
    assert report.rows_kept == with_returns.rows_kept - 8_872


def test_cdnow_both_formats(shared_data) -> None:
    sample = load_cdnow(shared_data / "cdnow_sample.txt")
    master = load_cdnow(shared_data / "cdnow_master.txt")
    assert len(sample) == 6_919 and sample["customer_id"].nunique() == 2_357
    assert len(master) == 69_659 and master["customer_id"].nunique() == 23_570
    assert sample["timestamp"].min() == pd.Timestamp("1997-01-01")
    assert master["timestamp"].max() == pd.Timestamp("1998-06-30")
    # The sample's master ids point into the master file with the same purchases.
    master_keys = master.drop_duplicates(["customer_id", "timestamp", "amount"])
    joined = sample.merge(master_keys, left_on=["master_id", "timestamp", "amount"],
                          right_on=["customer_id", "timestamp", "amount"])
    assert len(joined) == len(sample)


def test_make_demo_is_deterministic_per_seed() -> None:
    first = make_demo(seed=7, n_customers=300)
    second = make_demo(seed=7, n_customers=300)
    other = make_demo(seed=8, n_customers=300)
    pd.testing.assert_frame_equal(first.transactions, second.transactions)
    pd.testing.assert_frame_equal(first.touchpoints, second.touchpoints)
    pd.testing.assert_frame_equal(first.experiment, second.experiment)
    assert not first.transactions["amount"].equals(other.transactions["amount"])


def test_make_demo_tables_follow_the_contract() -> None:
    from crm_models.data import read_touchpoints, read_transactions

    demo = make_demo(seed=1, n_customers=500)
    transactions = read_transactions(demo.transactions)
    assert len(transactions) == len(demo.transactions)
    assert transactions["timestamp"].max() <= demo.observation_end + pd.Timedelta(days=1)
    assert (transactions["amount"] < 0).any(), "the demo has a few returns for the quality report"
    read_touchpoints(demo.touchpoints)
    assert set(demo.truth) == {"clv", "attribution", "experiment"}
    assert set(demo.customers["customer_id"]) >= set(demo.transactions["customer_id"])


def test_make_demo_purchase_process_matches_truth() -> None:
    """With the BG/NBD truth, the mean number of purchases in the first 26 weeks after signup is known:
    E[X(t)] = (a+b-1)/(a-1) * (1 - hyp2f1(...)) (Fader, Hardie & Lee 2005, eq. 9), checked by simulation
    of the same process through the demo generator."""
    from scipy.special import hyp2f1

    demo = make_demo(seed=3, n_customers=20_000)
    truth = demo.truth["clv"]
    r, alpha, a, b = truth["r"], truth["alpha"], truth["a"], truth["b"]
    t = 26.0
    expected = (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, t / (alpha + t)))
    tx = demo.transactions.loc[demo.transactions["amount"] > 0].merge(demo.customers[["customer_id", "signup"]])
    weeks = (tx["timestamp"] - tx["signup"]).dt.total_seconds() / (7 * 86400)
    repeats = tx.loc[(weeks > 0) & (weeks <= t)].groupby("customer_id").size()
    cutoff = demo.observation_end - pd.Timedelta(weeks=t)
    eligible = demo.customers.loc[demo.customers["signup"] <= cutoff, "customer_id"]
    observed = repeats.reindex(eligible, fill_value=0).mean()
    assert observed == pytest.approx(expected, rel=0.05)


def test_demo_write_creates_parquet_and_truth(tmp_path) -> None:
    demo = make_demo(seed=2, n_customers=200)
    paths = demo.write(tmp_path / "demo")
    assert {"transactions", "customers", "touchpoints", "experiment", "truth"} <= set(paths)
    back = pd.read_parquet(paths["transactions"])
    assert len(back) == len(demo.transactions)
    assert np.isclose(back["amount"].sum(), demo.transactions["amount"].sum())


def test_make_demo_carries_the_coupon_experiments_transaction_log(tmp_path) -> None:
    from crm_models.datasets.demo_repurchase import coupon_transactions

    demo = make_demo(seed=5, n_customers=400)
    tables = ("transactions", "customers", "touchpoints", "experiment")
    before = {name: getattr(demo, name).copy() for name in tables}
    log = demo.coupon_transactions
    assert log is demo.coupon_transactions  # computed once, on first use
    expected, truth = coupon_transactions(make_demo(seed=5, n_customers=400))
    pd.testing.assert_frame_equal(log, expected)
    assert demo.coupon_truth["repurchase_effect"] == truth["repurchase_effect"]
    enrolled = demo.experiment.assign(unit_id=demo.experiment["unit_id"].astype(str)).set_index("unit_id")
    assigned = pd.to_datetime(enrolled.loc[log["customer_id"].astype(str), "enrolled_at"]).to_numpy()
    after = log["timestamp"].to_numpy() >= assigned
    assert after.sum() > 50 and (~after).sum() > 50  # post-assignment purchases and the pre-period ones
    assert log.loc[after, "coupon_cost"].gt(0).any() and log.loc[~after, "coupon_cost"].eq(0).all()
    for name, frame in before.items():  # the demo's other tables are unchanged
        pd.testing.assert_frame_equal(getattr(demo, name), frame)
    assert "coupon_transactions" not in demo.write(tmp_path / "demo")  # the published tables stay as they were


# Issue 11 item 7: one rule for end dates in the loaders.
def _retail_lines(tmp_path):
    lines = pd.DataFrame({
        "InvoiceNo": ["1", "2", "3", "4"], "StockCode": ["A"] * 4, "Description": ["x"] * 4,
        "Quantity": [1, 1, 1, 1],
        "InvoiceDate": ["2011-01-01 08:00:00", "2011-01-10 12:00:00", "2011-01-10 23:59:00", "2011-01-11 00:00:00"],
        "UnitPrice": [1.0, 2.0, 4.0, 8.0], "CustomerID": ["17850.0"] * 4, "Country": ["United Kingdom"] * 4,
    })
    path = tmp_path / "online_retail_tiny.csv"
    lines.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("end", ["2011-01-10", pd.Timestamp("2011-01-10")], ids=["string", "midnight-timestamp"])
def test_online_retail_end_date_keeps_the_whole_day(tmp_path, end) -> None:
    transactions, report = load_online_retail(_retail_lines(tmp_path), observation_end=end, return_report=True)
    assert transactions["amount"].tolist() == [1.0, 2.0, 4.0]
    assert report.dropped("timestamp after observation end") == 1


def test_online_retail_end_with_a_time_keeps_that_instant(tmp_path) -> None:
    transactions = load_online_retail(_retail_lines(tmp_path), observation_end="2011-01-10 12:00")
    assert transactions["amount"].tolist() == [1.0, 2.0]


@pytest.mark.parametrize("end", ["2011-01-10", pd.Timestamp("2011-01-10")], ids=["string", "midnight-timestamp"])
def test_transactions_source_end_date_keeps_the_whole_day(tmp_path, end) -> None:
    from crm_models.datasets.sources import load_transactions_source

    loaded = load_transactions_source(_retail_lines(tmp_path), observation_end=end)
    assert loaded.transactions["amount"].tolist() == [1.0, 2.0, 4.0]
    assert loaded.observation_end == pd.Timestamp("2011-01-10")


def test_transactions_source_end_with_a_time_keeps_that_instant(tmp_path) -> None:
    from crm_models.datasets.sources import load_transactions_source

    loaded = load_transactions_source(_retail_lines(tmp_path), observation_end="2011-01-10 12:00")
    assert loaded.transactions["amount"].tolist() == [1.0, 2.0]
    assert loaded.report.dropped("timestamp after observation end") == 2
    assert loaded.observation_end == pd.Timestamp("2011-01-10"), "the window's last day"


# Loaders for touchpoints and experiments beside the transactions loader (issue 13 item 1, data part).
def test_touchpoints_loader_reads_the_public_sample(shared_data) -> None:
    from crm_models.datasets.sources import load_touchpoints_source

    loaded = load_touchpoints_source(shared_data / "attribution_touchpoints.csv")
    tp = loaded.touchpoints
    # The published counts in ../shared/data/README.md.
    assert len(tp) == 62_483 and tp["customer_id"].nunique() == 7_896
    assert tp["channel"].nunique() == 5 and int(tp["conversion"].sum()) == 1_838
    assert list(tp.columns[:5]) == ["customer_id", "timestamp", "channel", "conversion", "value"]
    assert str(tp["timestamp"].dt.tz) == "UTC", "the file's Z offsets are kept as UTC"
    assert loaded.truth is None


def test_touchpoints_loader_demo_carries_the_truth() -> None:
    from crm_models.datasets.sources import load_touchpoints_source

    loaded = load_touchpoints_source("demo", n_customers=300, seed=3)
    assert loaded.source_format == "demo" and loaded.truth is not None
    assert set(loaded.touchpoints["conversion"].unique()) <= {0, 1}


def test_touchpoints_loader_refuses_integer_timestamps(tmp_path) -> None:
    from crm_models.datasets.sources import load_touchpoints_source
    from crm_models.exceptions import DataContractError

    path = tmp_path / "tp.csv"
    pd.DataFrame({"customer_id": ["a", "b"], "timestamp": [1718000000, 1718000100], "channel": ["Email", "Search"],
                  "conversion": [0, 1]}).to_csv(path, index=False)
    with pytest.raises(DataContractError, match="timestamp_unit"):
        load_touchpoints_source(path)
    loaded = load_touchpoints_source(path, timestamp_unit="s")
    assert loaded.touchpoints["timestamp"].iloc[0] == pd.Timestamp("2024-06-10 06:13:20")


def test_experiment_loader_maps_and_checks_a_file(tmp_path) -> None:
    from crm_models.datasets.sources import load_experiment_source
    from crm_models.exceptions import DataContractError

    demo = load_experiment_source(None, n_customers=1_000, seed=5)
    assert demo.truth is not None and demo.experiment["unit_id"].is_unique
    path = tmp_path / "experiment.csv"
    demo.experiment.rename(columns={"unit_id": "id", "variant": "arm"}).to_csv(path, index=False)
    loaded = load_experiment_source(path, unit_id="id", variant="arm", covariates=["pre_orders"])
    assert {"unit_id", "variant", "converted", "revenue", "pre_orders"} <= set(loaded.experiment.columns)
    assert len(loaded.experiment) == len(demo.experiment) and loaded.truth is None
    duplicated = demo.experiment.rename(columns={"unit_id": "id", "variant": "arm"})
    duplicated.loc[1, "id"] = duplicated.loc[0, "id"]
    with pytest.raises(DataContractError, match="one row per unit"):
        load_experiment_source(duplicated, unit_id="id", variant="arm")
