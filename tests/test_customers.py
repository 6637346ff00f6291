"""The per-run customer table: one row per customer, consistent columns, stored and reused once per run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.clv import BetaGeoModel, GammaGammaModel, customer_lifetime_value
from crm_models.customers import (
    COLUMNS,
    CustomerTableSettings,
    activation_export,
    build_customer_table,
    load_or_build_customer_table,
    read_customer_table,
)
from crm_models.datasets.sources import load_transactions_source
from crm_models.exceptions import ConfigurationError
from crm_models.summary import customer_summary

SETTINGS = CustomerTableSettings(n_estimators=60, capacity=50, seed=3)


@pytest.fixture(scope="module")
def loaded():
    return load_transactions_source("demo", n_customers=1200, seed=7, returns="keep")


@pytest.fixture(scope="module")
def table(loaded):
    return build_customer_table(loaded.transactions, observation_end=loaded.observation_end, settings=SETTINGS)


def test_one_row_per_customer_with_a_purchase(loaded, table):
    buyers = loaded.transactions.loc[loaded.transactions["amount"] > 0, "customer_id"].unique()
    assert table.frame.index.is_unique
    assert set(table.frame.index) == set(buyers)
    assert list(table.frame.columns) == list(COLUMNS)


def test_value_at_risk_is_churn_probability_times_clv(table):
    f = table.frame
    scored = f[~f["churn_probability"].isna()]
    assert len(scored) > 0
    np.testing.assert_allclose(scored["value_at_risk"], scored["churn_probability"] * scored["clv"], rtol=1e-12)
    assert ((scored["churn_probability"] >= 0) & (scored["churn_probability"] <= 1)).all()


def test_lapsed_customers_are_not_scored_and_come_last(table):
    f = table.frame
    lapsed = f["risk_tier"] == "lapsed"
    assert lapsed.any() and (~lapsed).any()
    assert f.loc[lapsed, "churn_probability"].isna().all()
    assert f.loc[lapsed, "days_since_last_purchase"].min() >= SETTINGS.lookback_days
    assert f.loc[lapsed, "priority"].min() > f.loc[~lapsed, "priority"].max()
    assert f.loc[lapsed, "tags"].str.contains("lapsed").all()


def test_priority_follows_the_tiers_then_value_at_risk(table):
    f = table.frame
    assert sorted(f["priority"]) == list(range(1, len(f) + 1))
    first = f.sort_values("priority").head(SETTINGS.capacity)
    assert (first["risk_tier"] == "high").all(), "the first priorities are the high tier (the contact capacity)"
    ranks = f["risk_tier"].map({"high": 0, "medium": 1, "low": 2, "lapsed": 3})
    ordered = f.assign(rank=ranks).sort_values("priority")
    assert ordered["rank"].is_monotonic_increasing
    for tier in ("high", "medium", "low"):
        assert ordered.loc[ordered["risk_tier"] == tier, "value_at_risk"].is_monotonic_decreasing


def test_high_tier_is_the_contact_capacity(table):
    assert (table.frame["risk_tier"] == "high").sum() == SETTINGS.capacity


def test_clv_equals_the_clv_model_fitted_alone(loaded, table):
    tx = loaded.transactions[loaded.transactions["amount"] > 0]
    summary = customer_summary(tx, observation_end=loaded.observation_end, time_unit="W")
    bg = BetaGeoModel().fit_from_summary(summary)
    gg = GammaGammaModel().fit_from_summary(summary)
    clv = customer_lifetime_value(bg, gg, summary["frequency"], summary["recency"], summary["T"],
                                  summary["monetary_value"], horizon=52, time_unit="W", discount_rate=0.10,
                                  margin=0.30)["clv"]
    pd.testing.assert_series_equal(table.frame["clv"].sort_index(), clv.sort_index(), check_names=False, rtol=1e-9)


def test_date_string_and_midnight_timestamp_give_the_same_table(loaded, table):
    again = build_customer_table(loaded.transactions, observation_end=str(loaded.observation_end.date()),
                                 settings=SETTINGS)
    pd.testing.assert_frame_equal(again.frame, table.frame)


def test_round_trip_and_activation_export(tmp_path, table):
    from crm_models.customers import write_customer_table

    path = write_customer_table(table, tmp_path / "run")
    back = read_customer_table(path)
    pd.testing.assert_frame_equal(back.frame, table.frame)
    assert back.as_of == table.as_of
    activation = pd.read_csv(tmp_path / "run" / "activation.csv")
    assert list(activation.columns) == ["customer_id", "segment", "action", "priority", "as_of"]
    assert set(activation["customer_id"]) == set(table.frame.index)  # real ids, for the CRM platform
    assert (activation["as_of"] == str(table.as_of.date())).all()
    pd.testing.assert_series_equal(activation_export(table)["priority"].reset_index(drop=True),
                                   activation["priority"], check_names=False)


def test_load_or_build_reuses_the_run_table_and_rebuilds_on_new_data(tmp_path, loaded, monkeypatch):
    from crm_models.customers import store

    calls = []
    real = store.build_customer_table

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "build_customer_table", counting)
    tx, end = loaded.transactions, loaded.observation_end
    first = load_or_build_customer_table(tx, observation_end=end, settings=SETTINGS, folder=tmp_path)
    second = load_or_build_customer_table(tx, observation_end=end, settings=SETTINGS, folder=tmp_path)
    assert len(calls) == 1
    pd.testing.assert_frame_equal(first.frame, second.frame)
    load_or_build_customer_table(tx.iloc[:-50], observation_end=end, settings=SETTINGS, folder=tmp_path)
    assert len(calls) == 2
    other = CustomerTableSettings(n_estimators=60, capacity=20, seed=3)
    load_or_build_customer_table(tx.iloc[:-50], observation_end=end, settings=other, folder=tmp_path)
    assert len(calls) == 3


@pytest.mark.parametrize("bad", [{"purchase_model": "bgnb"}, {"margin": 1.5}, {"time_unit": "M"},
                                 {"high_value_quantile": 1.0}])
def test_bad_settings_are_refused_by_name(bad):
    with pytest.raises(ConfigurationError, match=next(iter(bad))):
        CustomerTableSettings(**bad)


def test_previous_segment_is_scored_without_leakage(loaded, table):
    from crm_models.rfm import rfm_scores, segment_customers

    f = table.frame
    before = table.as_of - pd.Timedelta(days=SETTINGS.segment_compare_days)
    purchases = loaded.transactions[loaded.transactions["amount"] > 0]
    earlier = purchases[purchases["timestamp"] < before + pd.Timedelta(days=1)]
    expected = segment_customers(rfm_scores(earlier, observation_end=before)).astype(str)
    known = f["previous_segment"].notna()
    assert set(f.index[known]) == set(expected.index)
    pd.testing.assert_series_equal(f.loc[known, "previous_segment"].sort_index().astype(object),
                                   expected.sort_index().astype(object), check_names=False)
    assert (f.loc[~known, "segment_change"] == "new customer").all()
    same = known & (f["previous_segment"] == f["segment"])
    assert (f.loc[same, "segment_change"] == "unchanged").all()
    moved = known & ~same
    assert moved.any()
    assert (f.loc[moved, "segment_change"] == f.loc[moved, "previous_segment"] + " -> " + f.loc[moved, "segment"]).all()


def test_a_notebook_asking_for_other_settings_in_the_same_run_is_refused(tmp_path, loaded, monkeypatch):
    tx, end = loaded.transactions, loaded.observation_end
    monkeypatch.setenv("CRM_SUITE_RUN_ID", "run-1")
    load_or_build_customer_table(tx, observation_end=end, settings=SETTINGS, folder=tmp_path)
    other = CustomerTableSettings(n_estimators=60, capacity=20, seed=3)
    with pytest.raises(ConfigurationError, match="capacity=20 \\(table: 50\\)"):
        load_or_build_customer_table(tx, observation_end=end, settings=other, folder=tmp_path)
    # the default rule set by name and by None is the same table (no rebuild, no refusal)
    load_or_build_customer_table(tx, observation_end=end, settings=SETTINGS, folder=tmp_path, segment_rules="rfm_grid")
    monkeypatch.setenv("CRM_SUITE_RUN_ID", "run-2")  # the next run may change its settings
    rebuilt = load_or_build_customer_table(tx, observation_end=end, settings=other, folder=tmp_path)
    assert (rebuilt.frame["risk_tier"] == "high").sum() == 20
