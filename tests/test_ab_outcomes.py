"""Outcomes from the transaction log: windows after assignment, boundaries, censoring, quality report, engines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.ab import analyze_experiment
from crm_models.ab.outcomes import (
    REASON_BEFORE_ASSIGNMENT,
    REASON_RETURN,
    REASON_UNKNOWN_UNIT,
    experiment_outcomes,
)
from crm_models.exceptions import DataContractError

T0 = pd.Timestamp("2024-01-01 10:00")


def assignments() -> pd.DataFrame:
    return pd.DataFrame({
        "unit_id": ["u1", "u2", "u3", "u4"],
        "variant": ["control", "coupon", "coupon", "control"],
        "assigned_at": [T0, T0, pd.Timestamp("2024-03-20 00:00"), T0],
        "segment": ["a", "b", "a", "b"],
    })


def transactions() -> pd.DataFrame:
    rows = [
        ("u1", T0, 10.0, "o1", 1),                                   # exactly at assignment: counts (day 0)
        ("u1", T0 + pd.Timedelta(days=30), 20.0, "o2", 2),           # exactly at 30 days: 60-day window only
        ("u1", T0 - pd.Timedelta(seconds=1), 5.0, "o0", 1),          # one second before: pre-period only
        ("u1", T0 + pd.Timedelta(days=9), -4.0, "r1", 1),            # a return: dropped and counted
        ("u2", T0 + pd.Timedelta(days=4), 7.0, "o3", 1),             # two lines of one order
        ("u2", T0 + pd.Timedelta(days=4), 8.0, "o3", 3),
        ("zz", T0 + pd.Timedelta(days=1), 3.0, "o4", 1),             # a customer not in the experiment
        ("u1", T0 - pd.Timedelta(days=200), 50.0, "o9", 1),          # before the 90-day pre-period
    ]
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "order_id", "quantity"])


@pytest.fixture(scope="module")
def result():
    return experiment_outcomes(assignments(), transactions(), windows=(30, 60), observation_end="2024-04-01")


def test_boundaries_land_on_the_documented_side(result):
    u1 = result.table.set_index("unit_id").loc["u1"]
    assert u1["orders_30d"] == 1 and u1["revenue_30d"] == 10.0  # the purchase at the assignment instant
    assert u1["orders_60d"] == 2 and u1["revenue_60d"] == 30.0  # the one at exactly 30 days joins at 60
    assert u1["items_60d"] == 3
    assert u1["purchase_days"] == 0.0 and u1["purchase_observed"] == 1
    assert u1["pre_orders"] == 1 and u1["pre_revenue"] == 5.0  # a second before, not 200 days before


def test_lines_of_one_order_count_once(result):
    u2 = result.table.set_index("unit_id").loc["u2"]
    assert u2["orders_30d"] == 1 and u2["revenue_30d"] == 15.0 and u2["items_30d"] == 4
    assert u2["purchase_days"] == pytest.approx(4.0)


def test_incomplete_windows_are_missing_not_zero(result):
    u3 = result.table.set_index("unit_id").loc["u3"]
    assert u3["followup_days"] == pytest.approx(13.0)  # 2024-03-20 to the end of 2024-04-01
    assert np.isnan(u3["purchased_30d"]) and np.isnan(u3["revenue_60d"])
    assert u3["purchase_observed"] == 0 and u3["purchase_days"] == pytest.approx(13.0)  # censored
    u4 = result.table.set_index("unit_id").loc["u4"]
    assert u4["purchased_30d"] == 0 and u4["revenue_60d"] == 0  # complete window, no purchase: a real zero
    assert list(result.complete(30)["unit_id"]) == ["u1", "u2", "u4"]
    assert result.units_incomplete == {30: 1, 60: 1}


def test_quality_report_counts_unknown_units_and_units_without_transactions(result):
    q = result.quality
    assert q.rows_in == 8
    assert q.dropped(REASON_UNKNOWN_UNIT) == 1
    assert q.dropped(REASON_BEFORE_ASSIGNMENT) == 2
    assert q.dropped(REASON_RETURN) == 1
    assert q.rows_kept == 4
    assert result.units_without_transactions == 2  # u3, u4
    assert any(n.startswith("2 of 4 units without any transaction") for n in q.notes)
    frame = q.to_frame()
    assert frame.loc[frame["reason"] == REASON_UNKNOWN_UNIT, "amount"].iloc[0] == 3.0


def test_returns_can_be_netted_and_coupon_cost_subtracted():
    tx = transactions().assign(coupon_cost=[1.0, 0, 0, 0, 2.0, 0, 0, 0])
    out = experiment_outcomes(assignments(), tx, windows=(30,), observation_end="2024-04-01", returns="net")
    u1 = out.table.set_index("unit_id").loc["u1"]
    assert u1["revenue_30d"] == 6.0 and u1["orders_30d"] == 1  # 10 - 4, the return is not an order
    assert u1["net_revenue_30d"] == 5.0
    per_arm = experiment_outcomes(assignments(), transactions(), windows=(30,), observation_end="2024-04-01",
                                  coupon_cost={"coupon": 2.5})
    u2 = per_arm.table.set_index("unit_id").loc["u2"]
    assert u2["net_revenue_30d"] == 12.5  # one single-use coupon per purchasing unit
    assert per_arm.table.set_index("unit_id").loc["u1", "net_revenue_30d"] == 10.0


def test_time_zones_and_default_observation_end():
    a = assignments().drop(index=2)  # u3 is assigned after the default end
    a = a.assign(assigned_at=a["assigned_at"].dt.tz_localize("Europe/Paris"))
    tx = transactions().assign(timestamp=lambda f: f["timestamp"].dt.tz_localize("Europe/Paris"))
    out = experiment_outcomes(a, tx, windows=(30,))
    u1 = out.table.set_index("unit_id").loc["u1"]
    assert u1["orders_30d"] == 1 and u1["purchase_days"] == 0.0
    # default end: the last transaction (u1's at 30 days), so u1's 30-day window is exactly complete
    assert out.observation_end == pd.Timestamp("2024-01-31 09:00")
    assert out.table.set_index("unit_id").loc["u1", "followup_days"] == pytest.approx(30.0)


def test_ibis_table_input_gives_the_same_outcomes(result):
    from crm_models.data import as_ibis_table, duckdb_backend

    table = as_ibis_table(transactions(), duckdb_backend())
    out = experiment_outcomes(assignments(), table, windows=(30, 60), observation_end="2024-04-01")
    pd.testing.assert_frame_equal(out.table, result.table)


def test_bad_assignments_are_refused():
    dup = pd.concat([assignments(), assignments().iloc[[0]]], ignore_index=True)
    with pytest.raises(DataContractError, match="one row per unit"):
        experiment_outcomes(dup, transactions())
    late = assignments().assign(assigned_at=pd.Timestamp("2025-01-01"))
    with pytest.raises(DataContractError, match="assigned after the observation end"):
        experiment_outcomes(late, transactions(), observation_end="2024-04-01")
    ints = assignments().assign(assigned_at=1)
    with pytest.raises(DataContractError, match="datetime"):
        experiment_outcomes(ints, transactions())
    with pytest.raises(DataContractError, match="'variant'"):
        experiment_outcomes(assignments().drop(columns="variant"), transactions())


def test_outcomes_feed_analyze_experiment():
    """End to end on simulated data: per-unit outcomes from a log go into analyze_experiment unchanged."""
    rng = np.random.default_rng(0)
    n = 600
    units = pd.DataFrame({"unit_id": [f"c{i}" for i in range(n)], "variant": rng.choice(["control", "coupon"], n),
                          "assigned_at": T0 + pd.to_timedelta(rng.uniform(0, 10, n), unit="D")})
    buys = rng.uniform(size=n) < np.where(units["variant"] == "coupon", 0.5, 0.3)
    log = pd.DataFrame({"customer_id": units["unit_id"][buys].to_numpy(),
                        "timestamp": (units["assigned_at"][buys] + pd.to_timedelta(rng.uniform(0, 25, buys.sum()),
                                                                                   unit="D")).to_numpy(),
                        "amount": rng.gamma(2, 20, buys.sum())})
    out = experiment_outcomes(units, log, windows=(30,), observation_end="2024-03-01")
    readout = analyze_experiment(out.complete(30), outcomes=["purchased_30d", "revenue_30d"], bayes_draws=2000)
    assert readout.table.loc[0, "mean_arm"] == pytest.approx(buys[units["variant"] == "coupon"].mean())
    assert readout.table.loc[0, "significant"]


def test_last_transaction_with_nanoseconds_is_inside_the_default_end():
    """Regression: the default end is the last transaction's instant; rounding it down to microseconds (Python
    datetimes) dropped that transaction as 'after the observation end'."""
    tx = transactions().astype({"timestamp": "datetime64[ns]"})
    tx.loc[1, "timestamp"] = pd.Timestamp("2024-01-31 10:00:00.000000500")
    out = experiment_outcomes(assignments().drop(index=2), tx, windows=(60,))
    assert out.quality.dropped("transaction after the observation end") == 0
    assert out.quality.rows_kept == 4  # u1's two orders and u2's two lines
    assert out.observation_end == pd.Timestamp("2024-01-31 10:00:00.000000500")


def reference_outcomes(units: pd.DataFrame, log: pd.DataFrame, window: int, end: pd.Timestamp) -> pd.DataFrame:
    """Row-by-row definition: orders and revenue in [t0, t0 + window) up to ``end`` (exclusive), positive rows."""
    rows = []
    for u in units.itertuples(index=False):
        mine = log[(log["customer_id"] == u.unit_id) & (log["timestamp"] < end) & (log["amount"] >= 0)]
        inside = mine[(mine["timestamp"] >= u.assigned_at)
                      & (mine["timestamp"] < u.assigned_at + pd.Timedelta(days=window))]
        rows.append({"unit_id": u.unit_id, "orders": float(len(inside)), "revenue": float(inside["amount"].sum())})
    return pd.DataFrame(rows)


@settings(max_examples=12, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(-40, 80), st.sampled_from([0, -1, 3600]),
                          st.floats(-20, 100)), min_size=1, max_size=30))
def test_outcomes_match_a_row_by_row_reference(rows):
    """Property: for any log around the assignment (purchases before, at, inside, at the edge of and after the
    window, returns), the engine's outcomes equal a row-by-row computation of the documented definition."""
    units = pd.DataFrame({"unit_id": [f"u{i}" for i in range(4)], "variant": ["control", "coupon"] * 2,
                          "assigned_at": [T0, T0 + pd.Timedelta(days=3), T0, T0 + pd.Timedelta(hours=5)]})
    starts = dict(zip(units["unit_id"], units["assigned_at"], strict=True))
    log = pd.DataFrame({
        "customer_id": [f"u{r[0]}" for r in rows],
        "timestamp": [starts.get(f"u{r[0]}", T0) + pd.Timedelta(days=r[1], seconds=r[2]) for r in rows],
        "amount": [round(r[3], 2) for r in rows],
    })
    end = T0 + pd.Timedelta(days=100)
    out = experiment_outcomes(units, log, windows=(30,), observation_end=end.strftime("%Y-%m-%d"))
    ref = reference_outcomes(units, log, 30, end + pd.Timedelta(days=1))
    got = out.table.set_index("unit_id")
    for r in ref.itertuples(index=False):
        assert got.loc[r.unit_id, "orders_30d"] == r.orders
        assert got.loc[r.unit_id, "revenue_30d"] == pytest.approx(r.revenue, abs=1e-6)
        assert got.loc[r.unit_id, "purchased_30d"] == float(r.orders > 0)
    assert out.quality.dropped(REASON_UNKNOWN_UNIT) == int((log["customer_id"] == "u4").sum())
