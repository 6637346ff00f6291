"""A notebook's run inputs from a file with its own column names: the mapping, the as-of date and the settings
reach the customer table.

Guards (issue 21, mutation score of the ``customers`` family): the notebook's ``column_mapping`` not handed to the
reader, ``report_as_of`` not overriding ``observation_end``, the table folder parameter ignored."""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.customers.run import load_run
from crm_models.customers.store import TABLE_FILE
from crm_models.datasets.sources import load_transactions_source

MAPPING = {"customer_id": "Kunde", "timestamp": "Zeitpunkt", "amount": "Betrag"}


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """The demo brand's transactions (300 customers) written with German column names."""
    loaded = load_transactions_source("demo", n_customers=300, seed=7, returns="keep")
    tx = loaded.transactions[["customer_id", "timestamp", "amount"]].rename(columns=MAPPING)
    path = tmp_path_factory.mktemp("run") / "shop_transactions.csv"
    tx.to_csv(path, index=False)
    return path, loaded.transactions


def test_load_run_reads_a_file_through_the_column_mapping(source, tmp_path) -> None:
    path, original = source
    folder = tmp_path / "data" / "processed" / "shop"
    run = load_run({"data_source": str(path), "column_mapping": MAPPING, "observation_end": "2024-12-31",
                    "report_as_of": "2024-06-30", "n_estimators": 20, "capacity": 20, "n_training_cutoffs": 1,
                    "customer_table": str(folder), "currency": "EUR"})
    kept = original[original["timestamp"] < pd.Timestamp("2024-07-01")]
    assert len(run.transactions) == len(kept), "report_as_of (2024-06-30) overrides observation_end"
    assert run.transactions["amount"].sum() == pytest.approx(kept["amount"].sum())
    assert run.as_of == pd.Timestamp("2024-06-30")
    assert set(run.table.frame.index) == set(kept.loc[kept["amount"] > 0, "customer_id"].astype(str))
    assert (folder / TABLE_FILE).exists(), "the table is written into the run's folder"
    assert run.currency == "EUR" and run.table.settings.n_estimators == 20
    frame = run.table.frame
    assert run.table.metadata["purchase_model"] == "BetaGeoModel", "the metadata names the fitted purchase model"
    # segment_change says in words how previous_segment and segment relate (guards: the column left unset)
    new = frame["segment_change"] == "new customer"
    same = frame["segment_change"] == "unchanged"
    assert frame.loc[new, "previous_segment"].isna().all() and frame.loc[~new, "previous_segment"].notna().all()
    assert (frame.loc[same, "previous_segment"] == frame.loc[same, "segment"]).all()
    moved = frame[~new & ~same]
    assert (moved["segment_change"] == moved["previous_segment"] + " -> " + moved["segment"]).all()
    assert new.any() and same.any() and len(moved) > 0


def test_age_and_days_since_last_purchase_count_days_alike(source) -> None:
    """With date-only timestamps (midnight, as most exports have them) a customer's age is the days from the first
    purchase day to the as-of day, the same count as ``days_since_last_purchase`` (so they are equal for a
    one-time buyer). Regression (review rev4): the age ran to the exclusive end (the day after the as-of date),
    one day too many for a midnight timestamp, so a customer who first bought 89 days ago was not 'new'."""
    from crm_models.customers import CustomerTableSettings, build_customer_table

    _, original = source
    tx = original.assign(timestamp=original["timestamp"].dt.normalize())
    tx = tx[tx["timestamp"] < pd.Timestamp("2024-07-01")]
    table = build_customer_table(tx, observation_end="2024-06-30",
                                 settings=CustomerTableSettings(n_estimators=20, capacity=20, n_training_cutoffs=1))
    frame = table.frame
    first_day = tx[tx["amount"] > 0].groupby(tx["customer_id"].astype(str))["timestamp"].min()
    expected = (pd.Timestamp("2024-06-30") - first_day.reindex(frame.index.astype(str))).dt.days.astype(float)
    assert frame["age_days"].tolist() == expected.tolist()
    once = frame[frame["frequency"] == 0]
    assert len(once) > 0 and (once["age_days"] == once["days_since_last_purchase"]).all()
