"""What-if: two rule sets on the same history, hand-computed."""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.exceptions import ConfigurationError
from crm_models.loyalty import LoyaltyRules, compare_rules, customer_loyalty

HISTORY = pd.DataFrame({
    "customer_id": pd.array(["x", "x", "y", "y", "z"], dtype="string"),
    "timestamp": pd.to_datetime(["2024-03-01 10:00", "2024-04-01 10:00", "2024-03-01 10:00", "2024-04-01 10:00",
                                 "2024-03-01 10:00"]),
    "amount": [60.0, 60.0, 100.0, 100.0, 50.0],
})


def rules(silver: float, name: str) -> LoyaltyRules:
    return LoyaltyRules.from_dict({
        "name": name, "evaluation": "quarterly",
        "tiers": [{"name": "member"},
                  {"name": "silver", "min_spend": silver, "discount_share": 0.1, "annual_benefit_cost": 5,
                   "earn_multiplier": 2}],
        "points": {"point_value": 0.01},
    })


def test_side_by_side_hand_computed():
    whatif = compare_rules(HISTORY, rules(100, "silver at 100"), rules(150, "silver at 150"), as_of="2024-06-30")
    s = whatif.summary
    assert s.loc["members: silver", "silver at 100"] == 2 and s.loc["members: silver", "silver at 150"] == 1
    assert s.loc["members: member", "difference"] == 1
    # silver at 100: y's second purchase is made as silver (10% of 100); x reaches silver on their last purchase
    assert s.loc["benefit cost: tier discounts, last 12 months", "silver at 100"] == pytest.approx(10.0)
    assert s.loc["benefit cost: tier discounts, last 12 months", "silver at 150"] == pytest.approx(0.0)
    assert s.loc["benefit cost: fixed benefits for a year"].tolist()[:2] == [10.0, 5.0]
    # points: everything at 1 per unit except y's second purchase at double under the lower threshold
    assert s.loc["points earned", "silver at 100"] == 370 + 100
    assert s.loc["points earned", "silver at 150"] == 370
    assert s.loc["points liability at face value", "difference"] == pytest.approx(-1.0)
    assert whatif.changed == 1 and whatif.moved_down == 1 and whatif.moved_up == 0
    assert whatif.tier_changes.loc["silver", "member"] == 1
    assert whatif.tier_changes.to_numpy().sum() == 3


def test_the_same_rules_change_nothing():
    one = rules(100, "a")
    whatif = compare_rules(HISTORY, one, one, labels=("before", "after"), as_of="2024-06-30")
    assert whatif.changed == 0
    assert (whatif.summary["difference"].fillna(0) == 0).all()
    with pytest.raises(ConfigurationError, match="two different names"):
        compare_rules(HISTORY, one, one, as_of="2024-06-30")


def test_different_ladders_compare_by_name():
    three = LoyaltyRules.from_dict({"name": "three", "tiers": [{"name": "member"}, {"name": "silver", "min_spend": 100},
                                                               {"name": "gold", "min_spend": 190}]})
    whatif = compare_rules(HISTORY, rules(100, "two"), three, as_of="2024-06-30")
    assert whatif.moved_up is None and whatif.changed == 1  # y is gold under the three-tier ladder
    assert whatif.summary.loc["members: gold", "two"] == 0


def test_customer_table_has_tier_and_points():
    table = customer_loyalty(HISTORY, rules(100, "a"), as_of="2024-06-30")
    assert list(table.columns) == ["tier", "next_tier", "progress", "points_outstanding", "points_expiring_soon",
                                   "next_points_expiry"]
    assert table.loc["y", "tier"] == "silver" and table.loc["y", "points_outstanding"] == 300
    assert table.loc["z", "tier"] == "member" and table.loc["z", "progress"] == pytest.approx(0.5)
