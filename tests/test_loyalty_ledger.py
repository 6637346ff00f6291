"""Points ledger: the issue's expiry example, FIFO redemptions, bonus events, errors, and a lot-by-lot
simulation on random histories (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_models.exceptions import ConfigurationError, DataContractError
from crm_models.loyalty import build_ledger, points_ledger


def frame(*rows, value: str = "amount") -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": pd.array([r[0] for r in rows], dtype="string"),
        "timestamp": pd.to_datetime([r[1] for r in rows], format="ISO8601"),
        value: [float(r[2]) for r in rows],
    })


ISSUE = frame(("a", "2024-01-15 10:00", 100), ("a", "2024-06-01 12:00", 50))


def test_the_issue_example_100_expired_and_50_outstanding():
    ledger = points_ledger(ISSUE, earn_rate=1.0, expiry_months=12, as_of="2025-03-01")
    row = ledger.loc["a"]
    assert (row["earned"], row["redeemed"], row["expired"], row["outstanding"]) == (150, 0, 100, 50)
    assert row["next_expiry"] == pd.Timestamp("2025-06-01")


@pytest.mark.parametrize(("as_of", "expired", "soon"), [
    ("2025-01-14", 0, 100),   # last day the January lot can be used; it expires at the start of 15 January
    ("2025-01-15", 100, 0),   # a date means the whole day: on 15 January the lot is gone
    ("2024-12-15", 0, 100),   # the last usable day, 14 January, is one of the next 30 days (16 Dec .. 14 Jan)
    ("2024-12-14", 0, 0),     # 14 January is 31 days away
])
def test_expiry_day_and_points_expiring_soon(as_of, expired, soon):
    ledger = points_ledger(ISSUE, expiry_months=12, as_of=as_of)
    assert ledger.loc["a", "expired"] == expired
    assert ledger.loc["a", "expiring_soon"] == soon


def test_redemptions_consume_the_oldest_lots_first():
    redemptions = frame(("a", "2024-07-01 09:00", 120), value="points")
    ledger = build_ledger(ISSUE, expiry_months=12, as_of="2025-03-01", redemptions=redemptions)
    row = ledger.customers.loc["a"]
    # 120 redeemed: all 100 of January, then 20 of June; January has nothing left to expire
    assert (row["redeemed"], row["expired"], row["outstanding"]) == (120, 0, 30)
    assert ledger.lots["points"].tolist() == [30.0]
    assert ledger.lots["earned_on"].tolist() == [pd.Timestamp("2024-06-01")]
    # the same redemption after January's lot expired can only use June's 50 points
    late = frame(("a", "2025-02-01 09:00", 40), value="points")
    row = points_ledger(ISSUE, expiry_months=12, as_of="2025-03-01", redemptions=late).loc["a"]
    assert (row["redeemed"], row["expired"], row["outstanding"]) == (40, 100, 10)


def test_a_redemption_larger_than_the_balance_is_a_data_error():
    too_much = frame(("a", "2025-02-01 09:00", 60), value="points")  # only June's 50 are left then
    with pytest.raises(DataContractError, match="more points than the customer holds") as error:
        points_ledger(ISSUE, expiry_months=12, as_of="2025-03-01", redemptions=too_much)
    assert error.value.column == "points"


def test_earn_rate_multiplier_rounding_and_no_expiry():
    data = frame(("a", "2024-01-15 10:00", 19.99), ("b", "2024-01-15 10:00", 10.0))
    floor = points_ledger(data, earn_rate=1.5, expiry_months=None, multiplier=[1.0, 2.0], as_of="2030-01-01")
    assert floor["earned"].tolist() == [29.0, 30.0] and floor["expired"].sum() == 0
    exact = points_ledger(data, earn_rate=1.5, expiry_months=None, rounding="none", as_of="2030-01-01")
    assert exact.loc["a", "earned"] == pytest.approx(29.985)
    with pytest.raises(ConfigurationError, match="one multiplier per row"):
        points_ledger(data, multiplier=[1.0])


def test_bonus_events_earn_lots_of_their_own():
    bonus = pd.DataFrame({"customer_id": pd.array(["a", "a", "z"], dtype="string"),
                          "timestamp": pd.to_datetime(["2024-02-01", "2024-08-01", "2024-03-02"]),
                          "event": ["review", "sign_in", "review"]})
    ledger = points_ledger(ISSUE, as_of="2025-03-01", bonus=bonus, bonus_points={"review": 10, "sign_in": 5})
    assert ledger.loc["a", "earned"] == 165 and ledger.loc["a", "expired"] == 110
    assert ledger.loc["z", "earned"] == 10 and ledger.loc["z", "expired"] == 0  # a bonus-only customer
    with pytest.raises(DataContractError, match="bonus_points") as error:
        points_ledger(ISSUE, bonus=bonus, bonus_points={"review": 10})
    assert error.value.column == "event"


def test_returns_earn_nothing_and_are_counted():
    data = frame(("a", "2024-01-15 10:00", 100), ("a", "2024-01-16 10:00", -40))
    ledger = build_ledger(data, as_of="2024-02-01")
    assert ledger.customers.loc["a", "earned"] == 100
    assert ledger.quality.rows_dropped == 1


# --------------------------------------------------------------------------------------------------------
# random histories against a lot-by-lot simulation
# --------------------------------------------------------------------------------------------------------
def simulate(earnings, requests, expiry_months, end):
    """One customer, lot by lot: returns earned, redeemed, expired, outstanding, and the redemptions granted
    (each request is cut to the points held at that moment, so the generated history is valid)."""
    lots = []  # [earned_at, expires_at, remaining]
    for when, points in sorted(earnings, key=lambda e: e[0]):
        expires = when.normalize() + pd.DateOffset(months=expiry_months) if expiry_months else None
        lots.append([when, expires, points])
    events = [(lot[1], 0, i) for i, lot in enumerate(lots) if lot[1] is not None and lot[1] < end]
    events += [(lot[0], 1, i) for i, lot in enumerate(lots) if lot[0] < end]
    events += [(when, 2, i) for i, (when, _) in enumerate(requests) if when < end]
    held = [0.0] * len(lots)
    earned = redeemed = expired = 0.0
    granted = []
    for when, kind, index in sorted(events, key=lambda e: (e[0], e[1])):
        if kind == 1:
            held[index] = lots[index][2]
            earned += lots[index][2]
        elif kind == 0:
            expired += held[index]
            held[index] = 0.0
        else:
            want = min(requests[index][1], sum(held))
            granted.append((when, want))
            redeemed += want
            for i in range(len(lots)):  # oldest first
                take = min(held[i], want)
                held[i] -= take
                want -= take
    outstanding = sum(held)
    assert min(held, default=0.0) >= 0
    return earned, redeemed, expired, outstanding, granted


event = st.tuples(st.integers(0, 900), st.integers(0, 23))
customers = st.lists(
    st.tuples(st.lists(st.tuples(event, st.integers(1, 200)), min_size=1, max_size=8),
              st.lists(st.tuples(event, st.integers(1, 300)), max_size=5)),
    min_size=1, max_size=4)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(customers, st.sampled_from([None, 1, 6, 12]), st.integers(0, 60), st.integers(300, 1000))
def test_ledger_matches_a_lot_by_lot_simulation(histories, expiry_months, within, end_day):
    origin = pd.Timestamp("2023-01-01")
    as_of = origin + pd.Timedelta(days=end_day)
    end = as_of + pd.Timedelta(days=1)
    purchases, redemptions, expected = [], [], {}
    for i, (earn, ask) in enumerate(histories):
        name = f"c{i}"
        earnings = [(origin + pd.Timedelta(days=d, hours=h), float(p)) for (d, h), p in earn]
        requests = sorted([(origin + pd.Timedelta(days=d, hours=h, minutes=30), float(p)) for (d, h), p in ask],
                          key=lambda r: r[0])
        result = simulate(earnings, requests, expiry_months, end)
        expected[name] = result[:4]
        purchases += [(name, when, points) for when, points in earnings]
        redemptions += [(name, when, points) for when, points in result[4] if points > 0]
    transactions = pd.DataFrame(purchases, columns=["customer_id", "timestamp", "amount"]) \
        .astype({"customer_id": "string"})
    redeemed = pd.DataFrame(redemptions, columns=["customer_id", "timestamp", "points"]) \
        .astype({"customer_id": "string"})
    ledger = build_ledger(transactions, earn_rate=1.0, expiry_months=expiry_months, as_of=as_of,
                          redemptions=redeemed, expiring_within_days=within)
    table = ledger.customers
    columns = ["earned", "redeemed", "expired", "outstanding"]
    # the invariant, and points never negative
    assert np.allclose(table["earned"], table["redeemed"] + table["expired"] + table["outstanding"])
    assert (table[columns + ["expiring_soon"]] >= 0).all().all()
    assert (table["expiring_soon"] <= table["outstanding"] + 1e-9).all()
    assert np.isclose(ledger.lots["points"].sum(), table["outstanding"].sum())
    for name, values in expected.items():
        if name in table.index:
            assert table.loc[name, columns].tolist() == pytest.approx(list(values)), name
        else:  # only purchases after as_of
            assert values[0] == 0
