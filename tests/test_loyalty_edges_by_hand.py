"""Loyalty edges by hand: benefit cost totals, the liability's named figures, errors that name the key, the
parameter or the rows, and the what-if table's row order.

Written against the survivors of a sampled mutation run (issue 21); each test names the mutation class it
guards against.
"""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

from crm_models.customers import CustomerTableSettings
from crm_models.exceptions import ConfigurationError, DataContractError
from crm_models.loyalty import LoyaltyRules, build_ledger, compare_rules, points_liability, run_programme
from crm_models.loyalty.table_forecast import forecast_points_from_table


def history(*rows: tuple[str, str, float]) -> pd.DataFrame:
    return pd.DataFrame({
        "customer_id": pd.array([r[0] for r in rows], dtype="string"),
        "timestamp": pd.to_datetime([r[1] for r in rows], format="ISO8601"),
        "amount": [float(r[2]) for r in rows],
    })


# x: 60 + 60 (silver at 100 on the second purchase), y: 100 + 100 (silver on the first), z: 50
HISTORY = history(("x", "2024-03-01 10:00", 60), ("x", "2024-04-01 10:00", 60), ("y", "2024-03-01 10:00", 100),
                  ("y", "2024-04-01 10:00", 100), ("z", "2024-03-01 10:00", 50))


def two_tiers(name: str = "two", silver: float = 100) -> LoyaltyRules:
    return LoyaltyRules.from_dict({
        "name": name, "evaluation": "quarterly",
        "tiers": [{"name": "member"},
                  {"name": "silver", "min_spend": silver, "discount_share": 0.1, "annual_benefit_cost": 5,
                   "earn_multiplier": 2}],
        "points": {"point_value": 0.01},
    })


def test_benefit_cost_total_adds_discounts_and_fixed_benefits() -> None:
    """Discounts: y's second purchase at silver, 10 % of 100 = 10; fixed: 2 silver members x 5 = 10. A total
    of discounts minus fixed benefits would read 0."""
    cost = run_programme(HISTORY, two_tiers(), as_of="2024-06-30").benefit_cost()
    assert cost["discounts"] == pytest.approx(10.0) and cost["fixed_benefits"] == pytest.approx(10.0)
    assert cost["total"] == pytest.approx(20.0)


def test_liability_names_every_figure() -> None:
    """30 of January's 100 points redeemed, 70 expired, June's 50 outstanding (key mutants)."""
    data = history(("a", "2024-01-15 10:00", 100), ("a", "2024-06-01 12:00", 50))
    redemptions = pd.DataFrame({"customer_id": pd.array(["a"], dtype="string"),
                                "timestamp": pd.to_datetime(["2024-07-01"]), "points": [30.0]})
    liability = points_liability(build_ledger(data, as_of="2025-03-01", redemptions=redemptions), point_value=0.01)
    assert liability[["points_earned", "points_redeemed", "points_expired", "points_outstanding"]].tolist() == \
        [150.0, 30.0, 70.0, 50.0]
    assert set(liability.index) == {
        "points_outstanding", "liability_at_face_value", "points_expiring_soon", "value_expiring_soon",
        "points_earned", "points_redeemed", "points_expired", "historical_breakage",
        "liability_net_of_historical_breakage"}


def test_unknown_bonus_events_are_shown_as_examples() -> None:
    """The error carries the offending rows (an examples argument dropped would leave the user guessing)."""
    bonus = pd.DataFrame({"customer_id": ["a", "a", "a"], "timestamp": pd.to_datetime(["2024-02-01"] * 3),
                          "event": ["sign_in", "quiz", "poll"]})
    with pytest.raises(DataContractError, match="2 bonus events") as error:
        build_ledger(history(("a", "2024-01-15", 10)), bonus=bonus, bonus_points={"sign_in": 5})
    assert error.value.column == "event"
    assert error.value.examples["event"].tolist() == ["quiz", "poll"]


@pytest.mark.parametrize("months", [0, 1.5])
def test_expiry_months_error_names_the_parameter(months: float) -> None:
    with pytest.raises(ConfigurationError, match="expiry_months"):
        build_ledger(history(("a", "2024-01-15", 10)), expiry_months=months)


def test_transition_matrix_error_names_the_parameter() -> None:
    replay = run_programme(HISTORY, two_tiers(), as_of="2024-12-31").tiers  # quarter ends Mar .. Dec
    with pytest.raises(ConfigurationError, match="^end=") as error:
        replay.transition_matrix(start="2024-03-31", end="2024-07-01")
    assert "2024-06-30" in str(error.value)  # the evaluation dates are listed
    with pytest.raises(ConfigurationError, match="^start="):
        replay.transition_matrix(start="2024-04-01", end="2024-06-30")


def test_whatif_rows_list_members_of_both_ladders_first_then_the_measures() -> None:
    """Members rows come first, the first ladder's tiers then the second's new ones; then the measures in a
    fixed order (without the reindex the rows would come out in alphabetical order)."""
    three = LoyaltyRules.from_dict({"name": "three", "tiers": [
        {"name": "member"}, {"name": "silver", "min_spend": 100}, {"name": "gold", "min_spend": 190}]})
    rows = compare_rules(HISTORY, two_tiers(), three, as_of="2024-06-30").summary.index.tolist()
    assert rows[:3] == ["members: member", "members: silver", "members: gold"]
    assert rows[3:6] == ["benefit cost: tier discounts, last 12 months", "benefit cost: fixed benefits for a year",
                         "benefit cost: total"]
    assert rows[-1] == "historical breakage (expired share)"


def test_table_forecast_of_another_day_names_the_column_and_rule() -> None:
    ledger = build_ledger(history(("A", "2024-01-01", 100)), as_of="2024-07-01")
    table = SimpleNamespace(frame=pd.DataFrame({"expected_purchases": [1.0], "probability_alive": [0.5]},
                                               index=pd.Index(["A"], name="customer_id")),
                            settings=CustomerTableSettings(horizon=52, time_unit="W"),
                            as_of=pd.Timestamp("2024-06-30"))
    with pytest.raises(DataContractError) as error:
        forecast_points_from_table(ledger, table, redemption_share=0.5, point_value=0.01)
    assert error.value.column == "as_of" and error.value.rule == "table and ledger share the as-of date"


def test_an_overdrawn_redemption_names_the_rule() -> None:
    redemptions = pd.DataFrame({"customer_id": pd.array(["a"], dtype="string"),
                                "timestamp": pd.to_datetime(["2024-02-01"]), "points": [11.0]})
    with pytest.raises(DataContractError) as error:
        build_ledger(history(("a", "2024-01-15", 10)), redemptions=redemptions, as_of="2024-03-01")
    assert error.value.column == "points" and "never go negative" in error.value.rule
    assert error.value.examples["points_held_before"].tolist() == [10.0]


def test_the_top_tier_has_nothing_to_go_and_the_others_a_distance() -> None:
    """c is gold (top): spend_to_next and orders_to_next are missing (NaN, float column), not a distance to
    gold itself; a (member, 80 and 1 order) needs 20 and 2 more for silver. The index is the customer id."""
    rules = LoyaltyRules.from_dict({"evaluation": ["2024-06-30"], "tiers": [
        {"name": "member"}, {"name": "silver", "min_spend": 100, "min_orders": 3},
        {"name": "gold", "min_spend": 300, "min_orders": 6}]})
    current = run_programme(history(("a", "2024-06-01 10:00", 80), ("c", "2024-06-01 10:00", 350)), rules,
                            as_of="2024-06-30").tiers.current
    assert current.index.name == "customer_id"
    assert current["orders_to_next"].dtype == "float64" and current["spend_to_next"].dtype == "float64"
    assert current.loc["a", "spend_to_next"] == pytest.approx(20.0) and current.loc["a", "orders_to_next"] == 2.0
    assert pd.isna(current.loc["c", "spend_to_next"]) and pd.isna(current.loc["c", "orders_to_next"])


@pytest.mark.parametrize(("changes", "named", "shown"), [
    ({"upgrade": "sometimes"}, "upgrade = 'sometimes'", "immediate"),
    ({"evaluation": "weekly"}, "evaluation = 'weekly'", "quarterly"),
    ({"evaluation": ["2024-03-31", "not a date"]}, "evaluation[1] = 'not a date'", "2024-03-31"),
    ({"window_months": 1.5}, "window_months = 1.5", "whole number"),
    ({"tiers": [{"name": "member"}, {"name": "silver", "min_spend": 100}, {"name": "gold", "min_spend": 50}]},
     "tiers[2] =", "'min_spend': 50"),
    ({"evaluation": []}, "evaluation = []", "quarterly"),
    ({"tiers": [{"name": "member"}, {"name": "silver", "min_spend": 100}, {"name": "gold", "min_spend": 100}]},
     "tiers[2] =", "'min_spend': 100"),
])
def test_rule_errors_name_the_key_the_value_and_the_rule(changes: dict, named: str, shown: str) -> None:
    """The error names the key and the value given (keys passed as None or garbled, values dropped), and the
    rule or the allowed values."""
    raw = {"tiers": [{"name": "member"}, {"name": "silver", "min_spend": 100}]}
    raw.update(changes)
    with pytest.raises(ConfigurationError) as error:
        LoyaltyRules.from_dict(raw)
    message = str(error.value)
    assert message.startswith(f"loyalty rules: {named}")
    assert shown in message


def test_missing_column_error_names_the_column_and_the_remedy() -> None:
    with pytest.raises(DataContractError, match="lack the column 'amount'") as error:
        build_ledger(pd.DataFrame({"customer_id": ["a"], "timestamp": pd.to_datetime(["2024-01-01"])}))
    assert error.value.column == "amount" and "read_transactions" in str(error.value)


@pytest.mark.parametrize("as_of", ["2024-06-30", "2024-06-30 12:00", pd.Timestamp("2024-06-30 23:59:59")])
def test_an_as_of_with_a_time_of_day_is_still_that_day(as_of) -> None:
    """Regression: the last day was taken as the end bound minus one day, which for an as_of with a time of day
    (bound one nanosecond after it) is the day before: the quarter-end evaluation on June 30 was skipped (x,
    120 in the window, stayed member under evaluation-only upgrades) and the ledger said June 29, so a customer
    table as of June 30 was refused."""
    rules = LoyaltyRules.from_dict({"upgrade": "evaluation", "tiers": [{"name": "member"},
                                                                       {"name": "silver", "min_spend": 100}]})
    run = run_programme(HISTORY, rules, as_of=as_of)
    assert run.tiers.evaluation_dates == [pd.Timestamp("2024-03-31"), pd.Timestamp("2024-06-30")]
    assert run.tiers.current["tier"].astype(str).to_dict() == {"x": "silver", "y": "silver", "z": "member"}
    assert run.as_of == run.ledger.as_of == pd.Timestamp("2024-06-30")
    table = SimpleNamespace(frame=pd.DataFrame({"expected_purchases": [1.0, 1.0, 1.0],
                                                "probability_alive": [0.5, 0.5, 0.5]},
                                               index=pd.Index(["x", "y", "z"], name="customer_id")),
                            settings=CustomerTableSettings(horizon=52, time_unit="W"),
                            as_of=pd.Timestamp("2024-06-30"))
    forecast = forecast_points_from_table(run.ledger, table, redemption_share=0.5, point_value=0.01)
    assert forecast.totals["points_outstanding"] == run.ledger.totals()["outstanding"]
