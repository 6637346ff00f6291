"""``experiment_outcomes``: the quality report's rows and money by reason, the pre-period edge and the
observation-end edge, all computed by hand on a log of nine transactions.

Mutation classes guarded against (issue 21): a drop counted under the wrong condition (``&`` -> ``|``, a
condition dropped), the money of a reason summed over every row, ``amount_in`` left out, ``rows_kept`` computed
with the wrong sign, the documented default ``pre_days=90`` changed, and an exclusive observation end read as
inclusive.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.ab.outcomes import (
    REASON_AFTER_END,
    REASON_BEFORE_ASSIGNMENT,
    REASON_MISSING_ID,
    REASON_RETURN,
    REASON_UNKNOWN_UNIT,
    experiment_outcomes,
)

T0 = pd.Timestamp("2024-01-10 00:00")
END = "2024-03-31"  # a date: the whole day, so the exclusive bound is 2024-04-01 00:00
BOUND = pd.Timestamp("2024-04-01 00:00")


def _units() -> pd.DataFrame:
    return pd.DataFrame({"unit_id": ["u1", "u2"], "variant": ["control", "coupon"], "assigned_at": [T0, T0]})


def _log() -> pd.DataFrame:
    day, sec = pd.Timedelta(days=1), pd.Timedelta(seconds=1)
    rows = [
        ("u1", T0 + day, 10.0),                   # kept: inside every window
        ("u1", T0 - 90 * day, 7.0),               # pre-period: exactly 90 days before is inside [t0 - 90d, t0)
        ("u1", T0 - 90 * day - sec, 100.0),       # one second earlier: outside the 90-day pre-period
        ("u1", T0 + 2 * day, -3.0),               # a return of a unit in the test: dropped as a return
        ("u2", T0 - day, 4.0),                    # before assignment: pre-period only
        ("zz", T0 + day, 2.0),                    # a customer not in the experiment
        ("zz", T0 + 3 * day, -1.0),               # a return of a customer not in the experiment: unknown, not return
        (None, T0 + day, 1.5),                    # no customer id
        ("u2", BOUND, 6.0),                       # exactly at the exclusive end: after the observation end
    ]
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"])


@pytest.fixture  # function scope: mutmut maps a test to the functions it calls, so each test must build its own
def out():
    return experiment_outcomes(_units(), _log(), windows=(30,), observation_end=END)


def test_rows_and_money_in_and_kept_by_hand(out) -> None:
    """rows_in = 9, amount_in = 10 + 7 + 100 - 3 + 4 + 2 - 1 + 1.5 + 6 = 126.5; kept = the one purchase in the
    window (10.0) and nothing else. Guards ``amount_in`` dropped and ``rows_kept = rows_in + dropped``."""
    q = out.quality
    assert q.rows_in == 9
    assert q.amount_in == pytest.approx(126.5)
    assert q.rows_kept == 1
    assert q.amount_kept == pytest.approx(10.0)
    assert q.rows_kept + q.rows_dropped == q.rows_in


def test_each_reason_counts_its_own_rows_and_money(out) -> None:
    """Per reason, by hand: missing id 1 row / 1.5; unknown unit 2 rows / 2 - 1 = 1.0 (its return stays
    "unknown"); after the end 1 / 6.0; before assignment 3 / 7 + 100 + 4 = 111.0; return 1 / -3.0.
    Guards a reason's money summed without its condition and ``&`` -> ``|`` in the return condition."""
    frame = out.quality.to_frame().set_index("reason")
    expected = {REASON_MISSING_ID: (1, 1.5), REASON_UNKNOWN_UNIT: (2, 1.0), REASON_AFTER_END: (1, 6.0),
                REASON_BEFORE_ASSIGNMENT: (3, 111.0), REASON_RETURN: (1, -3.0)}
    for reason, (rows, amount) in expected.items():
        assert frame.loc[reason, "rows"] == rows, reason
        assert frame.loc[reason, "amount"] == pytest.approx(amount), reason


def test_default_pre_period_is_90_days_with_its_start_included(out) -> None:
    """The documented default ``pre_days=90``: the purchase exactly 90 days before assignment counts, the one a
    second earlier does not (a default of 91 would count both)."""
    u1 = out.table.set_index("unit_id").loc["u1"]
    assert u1["pre_orders"] == 1 and u1["pre_revenue"] == 7.0
    u2 = out.table.set_index("unit_id").loc["u2"]
    assert u2["pre_orders"] == 1 and u2["pre_revenue"] == 4.0


def test_a_date_as_observation_end_excludes_the_next_midnight(out) -> None:
    """``observation_end="2024-03-31"`` is the whole day: the purchase at 2024-04-01 00:00 is after the end (an
    inclusive bound would keep it), and follow-up runs to that midnight: 82 days from 2024-01-10."""
    assert out.quality.dropped(REASON_AFTER_END) == 1
    assert out.observation_end == BOUND
    assert out.table["followup_days"].tolist() == [82.0, 82.0]
    u2 = out.table.set_index("unit_id").loc["u2"]
    assert u2["purchase_observed"] == 0 and u2["purchase_days"] == 82.0


def test_returns_netted_count_nothing_as_dropped() -> None:
    """``returns="net"``: the return is subtracted from revenue (10 - 3) and is not a drop."""
    out = experiment_outcomes(_units(), _log(), windows=(30,), observation_end=END, returns="net")
    assert out.quality.dropped(REASON_RETURN) == 0
    assert out.table.set_index("unit_id").loc["u1", "revenue_30d"] == 7.0
    assert out.quality.rows_kept == 2


def test_refused_assignment_tables_name_the_column_and_the_rule() -> None:
    """Errors name the column and the rule (not only in the message text). Guards the ``column=`` argument of
    an error dropped or set to ``None``."""
    from crm_models.exceptions import DataContractError

    with pytest.raises(DataContractError) as info:
        experiment_outcomes(_units().drop(columns="variant"), _log(), observation_end=END)
    assert info.value.column == "variant" and info.value.rule == "required column"
    with pytest.raises(DataContractError) as info:
        experiment_outcomes(_units().assign(assigned_at=1), _log(), observation_end=END)
    assert info.value.column == "assigned_at" and info.value.rule == "datetime dtype"
    with pytest.raises(DataContractError) as info:
        experiment_outcomes(_units(), _log().drop(columns="amount"), observation_end=END)
    assert info.value.column == "amount" and info.value.rule == "required column"
    with pytest.raises(DataContractError) as info:
        experiment_outcomes(_units(), _log(), observation_end=END, coupon_cost="discount")
    assert info.value.column == "discount" and info.value.rule == "required column"


@settings(max_examples=8, deadline=None, derandomize=True)
@given(st.lists(st.tuples(st.sampled_from(["u1", "u2", "zz", None]), st.integers(-100, 90),
                          st.sampled_from([-5.0, 0.0, 2.5, 40.0])), min_size=1, max_size=12))
def test_every_row_and_every_unit_of_money_is_kept_or_dropped_once(rows) -> None:
    """Invariant of the quality report for any log around the assignment (ids known, unknown or missing; before,
    inside and after the windows and the observation end; returns): rows in = rows kept + rows dropped, and
    the money in = the money kept + the money dropped, each reason's money being the sum of its own rows.
    Guards a reason counted or summed under the wrong condition."""
    log = pd.DataFrame({"customer_id": [r[0] for r in rows],
                        "timestamp": [T0 + pd.Timedelta(days=r[1]) for r in rows],
                        "amount": [r[2] for r in rows]})
    q = experiment_outcomes(_units(), log, windows=(30,), observation_end=END).quality
    assert q.rows_in == len(log) and q.amount_in == pytest.approx(log["amount"].sum())
    assert q.rows_kept + q.rows_dropped == q.rows_in
    dropped_money = sum(d["amount"] for d in q.drops)
    assert q.amount_kept + dropped_money == pytest.approx(q.amount_in)
    known = log["customer_id"].isin(["u1", "u2"])
    late = known & (log["timestamp"] >= BOUND)
    before = known & ~late & (log["timestamp"] < T0)
    returned = known & ~late & ~before & (log["amount"] < 0)
    for reason, mask in ((REASON_AFTER_END, late), (REASON_BEFORE_ASSIGNMENT, before), (REASON_RETURN, returned),
                         (REASON_MISSING_ID, log["customer_id"].isna()), (REASON_UNKNOWN_UNIT, log["customer_id"] == "zz")):
        assert q.dropped(reason) == int(mask.sum()), reason
        money = sum(d["amount"] for d in q.drops if d["reason"] == reason)
        assert money == pytest.approx(log.loc[mask, "amount"].sum()), reason
