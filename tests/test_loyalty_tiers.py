"""Tier replay: hand-computed histories for upgrades, downgrades and grace, the whole-day rule, and a
comparison with a plain per-customer loop on random histories (hypothesis)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crm_models.exceptions import ConfigurationError, DataContractError
from crm_models.loyalty import LoyaltyRules, replay_tiers, run_programme

TIERS = [{"name": "member"},
         {"name": "silver", "min_spend": 100, "min_orders": 3, "earn_multiplier": 1.5},
         {"name": "gold", "min_spend": 300, "min_orders": 6, "earn_multiplier": 2.0}]


def rules(**changes) -> LoyaltyRules:
    raw = {"tiers": TIERS, "window_months": 12, "qualify_on": "any", "points": {"expiry_months": None}}
    raw.update(changes)
    return LoyaltyRules.from_dict(raw)


def history(*rows: tuple[str, str, float]) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": pd.array([r[0] for r in rows], dtype="string"),
        "timestamp": pd.to_datetime([r[1] for r in rows], format="ISO8601"),
        "amount": [float(r[2]) for r in rows],
    })


def tiers_of(replay, customer: str) -> list[str]:
    column = replay.customers.get_loc(customer)
    names = replay.rules.tier_names
    return [names[t] if t >= 0 else "-" for t in replay.tiers[:, column]]


# --------------------------------------------------------------------------------------------------------
# upgrades
# --------------------------------------------------------------------------------------------------------
UPGRADE = history(("a", "2024-01-10 09:00", 60), ("a", "2024-02-10 09:00", 50), ("a", "2024-03-05 09:00", 250))


def test_immediate_upgrade_happens_on_the_qualifying_purchase():
    replay = replay_tiers(UPGRADE, rules(upgrade="immediate", evaluation=["2024-03-31"]), as_of="2024-03-20")
    # spend reaches 110 on 10 Feb (silver) and 360 on 5 Mar (gold), before any evaluation
    assert replay.current.loc["a", "tier"] == "gold"
    # each purchase earns at the tier held before it: member, member, silver
    assert replay.purchase_tier.tolist() == [0, 0, 1]
    assert replay.evaluation_dates == []


def test_upgrade_at_evaluation_waits_for_the_evaluation():
    replay = replay_tiers(UPGRADE, rules(upgrade="evaluation", evaluation=["2024-03-31"]), as_of="2024-03-20")
    assert replay.current.loc["a", "tier"] == "member"
    assert replay.current.loc["a", "progress"] == 1.0  # gold is met, the move waits for 31 March
    assert replay.purchase_tier.tolist() == [0, 0, 0]
    later = replay_tiers(UPGRADE, rules(upgrade="evaluation", evaluation=["2024-03-31"]), as_of="2024-04-30")
    assert tiers_of(later, "a") == ["gold"]


def test_points_follow_the_tier_held_at_each_purchase():
    immediate = run_programme(UPGRADE, rules(upgrade="immediate", evaluation=["2024-03-31"]), as_of="2024-03-20")
    at_evaluation = run_programme(UPGRADE, rules(upgrade="evaluation", evaluation=["2024-03-31"]),
                                  as_of="2024-03-20")
    assert immediate.ledger.customers.loc["a", "earned"] == 60 + 50 + 250 * 1.5
    assert at_evaluation.ledger.customers.loc["a", "earned"] == 360


# --------------------------------------------------------------------------------------------------------
# downgrades and grace
# --------------------------------------------------------------------------------------------------------
EVALUATIONS = ["2024-06-30", "2024-12-31", "2025-06-30", "2025-12-31"]
LAPSED = history(("a", "2024-01-15 10:00", 400))  # gold, then nothing: the window is empty from mid-2025


@pytest.mark.parametrize(("downgrade", "expected"), [
    ("one_level", ["gold", "gold", "silver", "member"]),
    ("to_level_met", ["gold", "gold", "member", "member"]),
    ("never", ["gold", "gold", "gold", "gold"]),
])
def test_downgrade_one_level_or_to_the_level_met(downgrade, expected):
    replay = replay_tiers(LAPSED, rules(downgrade=downgrade, evaluation=EVALUATIONS), as_of="2025-12-31")
    assert tiers_of(replay, "a") == expected
    assert replay.met[:, 0].tolist() == [2, 2, 0, 0]


def test_grace_protects_an_active_member_for_one_evaluation():
    data = history(("active", "2024-01-15 10:00", 400), ("active", "2025-03-01 10:00", 20),
                   ("lapsed", "2024-01-15 10:00", 400))
    replay = replay_tiers(data, rules(grace_evaluations=1, grace_requires_purchase=True, evaluation=EVALUATIONS),
                          as_of="2025-12-31")
    # active: 2025-06-30 falls short (20 in the window) but bought, so grace keeps gold; at 2025-12-31 the
    # second failing evaluation drops one level
    assert tiers_of(replay, "active") == ["gold", "gold", "gold", "silver"]
    # lapsed: no purchase in the window, so grace does not apply
    assert tiers_of(replay, "lapsed") == ["gold", "gold", "silver", "member"]
    everyone = replay_tiers(data, rules(grace_evaluations=1, grace_requires_purchase=False,
                                        evaluation=EVALUATIONS), as_of="2025-12-31")
    assert tiers_of(everyone, "lapsed") == ["gold", "gold", "gold", "silver"]


def test_meeting_the_tier_again_resets_the_grace_count():
    data = history(("a", "2024-01-15 10:00", 400), ("a", "2025-07-15 10:00", 350))
    replay = replay_tiers(data, rules(grace_evaluations=1, grace_requires_purchase=False, upgrade="evaluation",
                                      evaluation=EVALUATIONS + ["2026-06-30", "2027-06-30"]), as_of="2027-06-30")
    # 2025-06-30 fails (grace), 2025-12-31 meets gold again (350 in window), 2026-06-30 still meets it (the
    # July 2025 purchase), 2027-06-30 fails for the first time since the reset: grace again, no downgrade
    assert tiers_of(replay, "a") == ["gold", "gold", "gold", "gold", "gold", "gold"]


# --------------------------------------------------------------------------------------------------------
# windows, qualification and outputs
# --------------------------------------------------------------------------------------------------------
def test_an_evaluation_date_means_the_whole_day_and_the_window_is_calendar_months():
    data = history(("a", "2023-03-31 23:59", 100), ("a", "2023-04-01 00:00", 60), ("a", "2024-03-31 23:30", 50),
                   ("a", "2024-04-01 00:00", 500))
    replay = replay_tiers(data, rules(upgrade="evaluation", evaluation=["2024-03-31"]), as_of="2024-04-01")
    # window of 2024-03-31: [2023-04-01 00:00, 2024-04-01 00:00)
    assert replay.spend[0, 0] == 110.0 and replay.orders[0, 0] == 2
    assert tiers_of(replay, "a") == ["silver"]


def test_qualify_on_any_or_all():
    data = history(*[("a", f"2024-0{m}-01 10:00", 10) for m in range(1, 8)])  # 7 orders, spend 70
    assert tiers_of(replay_tiers(data, rules(qualify_on="any", evaluation=["2024-07-31"]), as_of="2024-07-31"), "a") == ["gold"]
    assert tiers_of(replay_tiers(data, rules(qualify_on="all", evaluation=["2024-07-31"]), as_of="2024-07-31"), "a") == ["member"]


def test_members_join_with_their_first_purchase():
    data = history(("early", "2024-01-05 10:00", 20), ("late", "2024-05-05 10:00", 20))
    replay = replay_tiers(data, rules(evaluation=["2024-03-31", "2024-06-30"]), as_of="2024-06-30")
    assert tiers_of(replay, "late") == ["-", "member"]
    mix = replay.tier_mix()
    assert mix.loc["2024-03-31"].tolist() == [1, 0, 0] and mix.loc["2024-06-30"].tolist() == [2, 0, 0]
    history_frame = replay.history()
    assert len(history_frame) == 3 and set(history_frame["customer_id"]) == {"early", "late"}


def test_transition_matrix_counts_moves_between_two_evaluations():
    data = history(("up", "2024-05-01 10:00", 150), ("up", "2024-01-02 10:00", 5),
                   ("stay", "2024-01-02 10:00", 5), ("down", "2023-05-01 10:00", 120))
    replay = replay_tiers(data, rules(upgrade="evaluation", downgrade="to_level_met",
                                      evaluation=["2024-03-31", "2024-06-30"]), as_of="2024-06-30")
    matrix = replay.transition_matrix()
    assert matrix.loc["member", "silver"] == 1  # up
    assert matrix.loc["member", "member"] == 1  # stay
    assert matrix.loc["silver", "member"] == 1  # down: the May 2023 purchase leaves the window
    assert matrix.to_numpy().sum() == 3
    shares = replay.transition_matrix(normalize=True)
    assert shares.loc["member"].sum() == pytest.approx(1.0)
    with pytest.raises(ConfigurationError, match="not an evaluation date"):
        replay.transition_matrix(start="2024-04-01", end="2024-06-30")


def test_progress_to_the_next_tier():
    data = history(("a", "2024-06-01 10:00", 80), ("b", "2024-06-01 10:00", 20), ("c", "2024-06-01 10:00", 350))
    replay = replay_tiers(data, rules(evaluation=["2024-06-30"]), as_of="2024-06-30")
    current = replay.current
    assert current.loc["a", "next_tier"] == "silver"
    assert current.loc["a", "spend_to_next"] == pytest.approx(20.0)
    assert current.loc["a", "progress"] == pytest.approx(0.8)  # spend 80/100 beats orders 1/3
    assert current.loc["b", "progress"] == pytest.approx(1 / 3)  # orders 1/3 beats spend 20/100
    assert pd.isna(current.loc["c", "next_tier"]) and current.loc["c", "progress"] == 1.0
    assert replay.close_to_next(0.8).index.tolist() == ["a"]


def test_returns_and_rows_after_as_of_are_counted_not_replayed():
    data = history(("a", "2024-01-10 10:00", 120), ("a", "2024-01-11 10:00", -120), ("a", "2024-02-01 10:00", 0),
                   ("a", "2024-08-01 10:00", 500))
    replay = replay_tiers(data, rules(evaluation=["2024-06-30"]), as_of="2024-06-30")
    assert tiers_of(replay, "a") == ["silver"]
    report = replay.quality
    assert report.rows_in == 4 and report.rows_kept == 1 and report.rows_dropped == 3
    with pytest.raises(DataContractError, match="no purchases"):
        replay_tiers(data, rules(), as_of="2023-12-31")


# --------------------------------------------------------------------------------------------------------
# random histories against a plain loop
# --------------------------------------------------------------------------------------------------------
def naive_met(spend: float, orders: int, rules: LoyaltyRules) -> int:
    best = 0
    for index, tier in enumerate(rules.tiers):
        spend_ok, orders_ok = spend >= tier.min_spend, orders >= tier.min_orders
        if rules.qualify_on == "all":
            ok = spend_ok and orders_ok
        else:
            ok = (tier.min_spend > 0 and spend_ok) or (tier.min_orders > 0 and orders_ok) or index == 0
        if ok:
            best = index
    return best


def naive_replay(purchases: list[tuple[pd.Timestamp, float]], days: list[pd.Timestamp], rules: LoyaltyRules,
                 end: pd.Timestamp) -> tuple[list[int], list[int], int]:
    """One customer, event by event: tiers after each evaluation, tier held at each purchase, tier at the end."""
    months = pd.DateOffset(months=rules.window_months)
    events = [(t, 1, i) for i, (t, _) in enumerate(purchases)] + \
             [(d + pd.Timedelta(days=1), 0, k) for k, d in enumerate(days)]
    tier, failing, held, after = None, 0, [], []
    for when, kind, index in sorted(events):
        if kind == 1:
            if tier is None:
                tier = 0
            held.append(tier)
            if rules.upgrade == "immediate":
                start = purchases[index][0].normalize() + pd.Timedelta(days=1) - months
                window = [a for j, (t, a) in enumerate(purchases) if j <= index and t >= start]
                tier = max(tier, naive_met(sum(window), len(window), rules))
            continue
        if tier is None:
            after.append(-1)
            continue
        window = [a for t, a in purchases if when - months <= t < when]
        met = naive_met(sum(window), len(window), rules)
        if met > tier:
            tier, failing = met, 0
        elif met == tier or rules.downgrade == "never":
            failing = 0
        else:
            failing += 1
            protected = failing <= rules.grace_evaluations and (len(window) > 0 or not rules.grace_requires_purchase)
            if not protected:
                tier = tier - 1 if rules.downgrade == "one_level" else met
            if met >= tier:
                failing = 0
        after.append(tier)
    final = tier
    return after, held, final


purchase = st.tuples(st.integers(0, 800), st.integers(0, 23), st.integers(1, 250))
customer_histories = st.lists(st.lists(purchase, min_size=1, max_size=10), min_size=1, max_size=4)
rule_sets = st.fixed_dictionaries({
    "evaluation": st.sampled_from(["monthly", "quarterly", "yearly"]),
    "upgrade": st.sampled_from(["immediate", "evaluation"]),
    "downgrade": st.sampled_from(["one_level", "to_level_met", "never"]),
    "grace_evaluations": st.integers(0, 2),
    "grace_requires_purchase": st.booleans(),
    "qualify_on": st.sampled_from(["any", "all"]),
    "window_months": st.sampled_from([3, 6, 12]),
})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(customer_histories, rule_sets)
def test_replay_matches_a_plain_loop_on_random_histories(customers, changes):
    origin = pd.Timestamp("2023-01-01")
    rows = [(f"c{i}", origin + pd.Timedelta(days=d, hours=h), a)
            for i, purchases in enumerate(customers) for d, h, a in purchases]
    data = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount"]).astype({"customer_id": "string"})
    ruleset = rules(**changes)
    as_of = pd.Timestamp("2025-03-31")
    replay = replay_tiers(data, ruleset, as_of=as_of)
    n_tiers = len(ruleset.tiers)
    assert set(np.unique(replay.tiers)) <= set(range(-1, n_tiers))
    assert set(replay.current["tier"].astype(str)) <= set(ruleset.tier_names)
    for i, purchases in enumerate(customers):
        name = f"c{i}"
        # same-instant purchases keep their row order, as in the replay (a stable sort on time)
        mine = sorted(((origin + pd.Timedelta(days=d, hours=h), float(a)) for d, h, a in purchases),
                      key=lambda p: p[0])
        after, held, final = naive_replay(mine, replay.evaluation_dates, ruleset, as_of + pd.Timedelta(days=1))
        column = replay.customers.get_loc(name)
        assert replay.tiers[:, column].tolist() == after
        mask = replay.purchases.code == column
        assert replay.purchase_tier[mask].tolist() == held
        assert ruleset.tier_names.index(replay.current.loc[name, "tier"]) == final


def test_ibis_tables_and_aware_timestamps_give_the_same_replay():
    from crm_models.data import as_ibis_table
    from crm_models.datasets import make_demo

    data = make_demo(seed=5, n_customers=200).transactions
    ruleset = rules(evaluation="quarterly", upgrade="immediate", grace_evaluations=1)
    plain = replay_tiers(data, ruleset, as_of="2024-06-30")
    from_engine = replay_tiers(as_ibis_table(data), ruleset, as_of="2024-06-30")
    aware = replay_tiers(data.assign(timestamp=data["timestamp"].dt.tz_localize("UTC").dt.tz_convert("Asia/Tokyo")),
                         ruleset, as_of=pd.Timestamp("2024-06-30", tz="UTC"))
    for other in (from_engine, aware):
        assert np.array_equal(plain.tiers, other.tiers)
        pd.testing.assert_frame_equal(plain.current, other.current)
