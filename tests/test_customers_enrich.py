"""Optional lifecycle and loyalty columns of the customer table (crm_models.customers.enrich)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.customers import (
    COLUMNS,
    CustomerTableSettings,
    build_customer_table,
    load_or_build_customer_table,
    read_customer_table,
)
from crm_models.customers.enrich import LIFECYCLE_COLUMNS, LOYALTY_COLUMNS, enrich
from crm_models.datasets.sources import load_transactions_source
from crm_models.exceptions import ConfigurationError

AS_OF = pd.Timestamp("2025-03-01")
RULES = {
    "name": "test rules",
    "window_months": 12,
    "evaluation": "quarterly",
    "upgrade": "immediate",
    "downgrade": "one_level",
    "tiers": [{"name": "member"}, {"name": "silver", "min_spend": 140}],
    "points": {"per_currency_unit": 1, "expiry_months": 12, "point_value": 0.01},
}


@pytest.fixture()
def rules_path(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(RULES), encoding="utf-8")
    return str(path)


def _rows(customer, days, amounts):
    return pd.DataFrame({"customer_id": customer, "timestamp": pd.to_datetime(days), "amount": amounts})


def _rhythm_history():
    """A buys every 7 days and has been silent 60 days; B buys every 60 days and has been silent 20 days."""
    a_last, b_last = AS_OF - pd.Timedelta(days=60), AS_OF - pd.Timedelta(days=20)
    a = _rows("A", [a_last - pd.Timedelta(days=7 * k) for k in range(10)][::-1], 20.0)
    b = _rows("B", [b_last - pd.Timedelta(days=60 * k) for k in range(6)][::-1], 50.0)
    return pd.concat([a, b], ignore_index=True)


def test_usual_interval_next_purchase_and_overdue_follow_each_customers_rhythm():
    history = _rhythm_history()
    out = enrich(history, pd.Index(["A", "B"], name="customer_id"), as_of=AS_OF,
                 settings=CustomerTableSettings(lifecycle_columns=True)).columns
    assert list(out.columns) == list(LIFECYCLE_COLUMNS)
    # perfectly regular customers keep their own rhythm (no within-customer noise: shrinkage weight 1)
    assert out.loc["A", "usual_interval_days"] == pytest.approx(7.0, rel=1e-6)
    assert out.loc["B", "usual_interval_days"] == pytest.approx(60.0, rel=1e-6)
    assert out.loc["A", "next_expected_purchase"] == AS_OF - pd.Timedelta(days=53)
    assert out.loc["B", "next_expected_purchase"] == AS_OF + pd.Timedelta(days=40)
    # 60 days of silence is overdue for a weekly buyer; 20 days is not for a bimonthly one
    assert bool(out.loc["A", "overdue"]) and not bool(out.loc["B", "overdue"])


def test_tier_and_points_from_the_rule_set_hand_computed(rules_path):
    # issue 17's case: 100 points on 2024-01-15 and 50 on 2024-06-01, 12-month expiry; on 2025-03-01 the
    # first lot has expired and 50 points are outstanding, expiring on 2025-06-01 (92 days later)
    history = _rows("A", ["2024-01-15", "2024-06-01"], [100.0, 50.0])
    index = pd.Index(["A"], name="customer_id")
    soon = enrich(history, index, as_of=AS_OF,
                  settings=CustomerTableSettings(loyalty_rules=rules_path)).columns
    assert list(soon.columns) == list(LOYALTY_COLUMNS)
    assert soon.loc["A", "points_outstanding"] == 50.0
    assert soon.loc["A", "points_expiring_soon"] == 0.0  # not within the default 30 days
    late = enrich(history, index, as_of=AS_OF,
                  settings=CustomerTableSettings(loyalty_rules=rules_path, points_expiring_days=92)).columns
    assert late.loc["A", "points_expiring_soon"] == 50.0
    # 150 spent within 12 months on 2024-06-01 reaches silver (140) immediately, and the reviews of 2024-09-30 and
    # 2024-12-31 still see 150 in their windows; the review of 2025-03-31 sees only 50 and moves it down one level
    assert soon.loc["A", "tier"] == "silver"
    later = enrich(history, index, as_of="2025-04-01", settings=CustomerTableSettings(loyalty_rules=rules_path))
    assert later.columns.loc["A", "tier"] == "member"
    before = enrich(history, index, as_of="2024-05-31", settings=CustomerTableSettings(loyalty_rules=rules_path))
    assert before.columns.loc["A", "tier"] == "member"


def test_nothing_is_added_unless_the_settings_ask():
    out = enrich(_rhythm_history(), pd.Index(["A", "B"]), as_of=AS_OF, settings=CustomerTableSettings())
    assert out.columns.shape == (2, 0) and out.descriptions == {} and out.notes == []


def test_data_without_repeat_buyers_leaves_the_rhythm_empty_with_a_note():
    history = _rows(["A", "B", "C"], ["2024-01-01", "2024-02-01", "2024-03-01"], 10.0)
    out = enrich(history, pd.Index(["A", "B", "C"]), as_of=AS_OF,
                 settings=CustomerTableSettings(lifecycle_columns=True))
    assert out.columns["usual_interval_days"].isna().all() and out.columns["overdue"].isna().all()
    assert len(out.notes) == 1 and "rhythm" in out.notes[0] and "repeat buyers" in out.notes[0]


def test_bad_enrichment_settings_are_refused_by_name():
    with pytest.raises(ConfigurationError, match="points_expiring_days"):
        CustomerTableSettings(points_expiring_days=0)


histories = st.lists(
    st.tuples(st.sampled_from(["A", "B", "C"]), st.integers(0, 700), st.floats(1.0, 200.0)),
    min_size=1, max_size=25)


@settings(max_examples=15, deadline=None)
@given(rows=histories)
def test_expiring_points_are_part_of_the_outstanding_points(tmp_path_factory, rows):
    path = tmp_path_factory.mktemp("rules") / "rules.yaml"
    path.write_text(yaml.safe_dump(RULES), encoding="utf-8")
    customer, day, amount = zip(*rows, strict=True)
    history = pd.DataFrame({"customer_id": list(customer),
                            "timestamp": pd.Timestamp("2023-01-01") + pd.to_timedelta(list(day), unit="D"),
                            "amount": list(amount)})
    buyers = pd.Index(sorted(set(customer)), name="customer_id")
    out = enrich(history, buyers, as_of="2024-12-31",
                 settings=CustomerTableSettings(loyalty_rules=str(path), points_expiring_days=60)).columns
    assert out.notna().all().all()
    assert (out["points_expiring_soon"] >= 0).all()
    assert (out["points_expiring_soon"] <= out["points_outstanding"] + 1e-9).all()
    # points are whole (floor rounding) and never more than a year of spend can earn at multiplier 1
    recent = history[history["timestamp"] >= pd.Timestamp("2024-01-01")].groupby("customer_id")["amount"].sum()
    assert np.all(out["points_outstanding"].to_numpy() == np.floor(out["points_outstanding"].to_numpy()))
    assert (out["points_outstanding"] <= recent.reindex(buyers, fill_value=0.0) + 1e-9).all()
    assert set(out["tier"]) <= {"member", "silver"}


SMALL = {"n_estimators": 20, "capacity": 30, "seed": 3}


@pytest.fixture(scope="module")
def loaded():
    return load_transactions_source("demo", n_customers=300, seed=7, returns="keep")


def test_customer_table_carries_the_columns_and_keeps_them_on_disk(tmp_path, loaded):
    settings_ = CustomerTableSettings(lifecycle_columns=True, loyalty_rules="experiments/loyalty/demo_rules.yaml",
                                      **SMALL)
    table = load_or_build_customer_table(loaded.transactions, observation_end=loaded.observation_end,
                                         settings=settings_, folder=tmp_path)
    frame = table.frame
    assert list(frame.columns) == [*COLUMNS, *LIFECYCLE_COLUMNS, *LOYALTY_COLUMNS]
    assert frame[list(LIFECYCLE_COLUMNS) + list(LOYALTY_COLUMNS)].notna().all().all()
    assert set(table.metadata["added_columns"]) == set(LIFECYCLE_COLUMNS) | set(LOYALTY_COLUMNS)
    # the next expected purchase is the last purchase day plus the usual interval, for every customer
    last = loaded.transactions[loaded.transactions["amount"] > 0].groupby("customer_id")["timestamp"].max()
    gap = (frame["next_expected_purchase"] - last.reindex(frame.index).dt.normalize()).dt.days
    assert np.allclose(gap, frame["usual_interval_days"].round(), atol=0.51)
    stored = read_customer_table(tmp_path)
    assert stored.settings == settings_
    pd.testing.assert_frame_equal(stored.frame, frame, check_dtype=False, check_index_type=False)
    # the same settings reuse the stored table; without the columns the run's table is rebuilt without them
    again = load_or_build_customer_table(loaded.transactions, observation_end=loaded.observation_end,
                                         settings=settings_, folder=tmp_path)
    assert again.value is None  # read back from disk, not rebuilt
    plain = build_customer_table(loaded.transactions, observation_end=loaded.observation_end,
                                 settings=CustomerTableSettings(**SMALL))
    assert list(plain.frame.columns) == list(COLUMNS)


def test_a_stored_table_is_rebuilt_when_its_rule_file_changes(tmp_path, loaded, rules_path):
    settings_ = CustomerTableSettings(loyalty_rules=rules_path, **SMALL)
    folder = tmp_path / "table"
    first = load_or_build_customer_table(loaded.transactions, observation_end=loaded.observation_end,
                                         settings=settings_, folder=folder)
    assert set(first.frame["tier"]) <= {"member", "silver"}
    same = load_or_build_customer_table(loaded.transactions, observation_end=loaded.observation_end,
                                        settings=settings_, folder=folder)
    assert same.value is None  # unchanged rule file: read back
    edited = {**RULES, "tiers": [{"name": "member"}, {"name": "gold", "min_spend": 140}]}
    Path(rules_path).write_text(yaml.safe_dump(edited), encoding="utf-8")  # same path, new content
    again = load_or_build_customer_table(loaded.transactions, observation_end=loaded.observation_end,
                                         settings=settings_, folder=folder)
    assert again.value is not None, "rebuilt, not the stale table"
    assert "gold" in set(again.frame["tier"]) and "silver" not in set(again.frame["tier"])
