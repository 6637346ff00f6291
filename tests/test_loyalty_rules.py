"""Loyalty rule sets as data: building from mappings and YAML, and errors that name the broken key."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from crm_models.exceptions import ConfigurationError
from crm_models.loyalty import LoyaltyRules

EXAMPLES = Path(__file__).resolve().parents[1] / "experiments" / "loyalty"


def _rules(**changes) -> dict:
    raw = {"tiers": [{"name": "member"}, {"name": "silver", "min_spend": 100},
                     {"name": "gold", "min_spend": 300, "min_orders": 6}]}
    raw.update(changes)
    return raw


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_example_rule_sets_load(path):
    rules = LoyaltyRules.from_yaml(path)
    assert len(rules.tiers) >= 3
    assert rules.tiers[0].min_spend == 0 and rules.tiers[0].min_orders == 0
    spends = [t.min_spend for t in rules.tiers]
    assert spends == sorted(spends)


def test_defaults_and_values_are_read():
    rules = LoyaltyRules.from_dict(_rules(evaluation=["2024-03-31", "2024-06-30"], upgrade="evaluation",
                                          points={"expiry_months": None, "point_value": 0.02}))
    assert rules.tier_names == ["member", "silver", "gold"]
    assert rules.evaluation == (pd.Timestamp("2024-03-31"), pd.Timestamp("2024-06-30"))
    assert rules.upgrade == "evaluation" and rules.downgrade == "one_level" and rules.window_months == 12
    assert rules.points.expiry_months is None and rules.points.point_value == 0.02
    assert rules.tiers[2].min_orders == 6 and isinstance(rules.tiers[2].min_orders, int)


def test_quarterly_evaluation_dates_are_quarter_ends():
    rules = LoyaltyRules.from_dict(_rules(evaluation="quarterly"))
    days = rules.evaluation_dates(pd.Timestamp("2024-02-10 15:00"), pd.Timestamp("2024-12-31"))
    assert [str(d.date()) for d in days] == ["2024-03-31", "2024-06-30", "2024-09-30", "2024-12-31"]


@pytest.mark.parametrize(("changes", "key"), [
    ({"tiers": [{"name": "member"}, {"name": "silver", "min_spend": -5}]}, "tiers[1].min_spend"),
    ({"tiers": [{"name": "member"}, {"name": "silver", "min_orders": 2.5}]}, "tiers[1].min_orders"),
    ({"tiers": [{"name": "member"}, {"name": "silver", "min_spend": "lots"}]}, "tiers[1].min_spend"),
    ({"tiers": [{"name": "member", "min_spend": 10}, {"name": "silver", "min_spend": 50}]}, "tiers[0]"),
    ({"tiers": [{"name": "member"}, {"name": "gold", "min_spend": 300}, {"name": "silver", "min_spend": 100}]},
     "tiers[2]"),
    ({"tiers": [{"name": "member"}, {"min_spend": 100}]}, "tiers[1].name"),
    ({"tiers": [{"name": "member"}, {"name": "member", "min_spend": 100}]}, "tiers"),
    ({"tiers": [{"name": "member"}, {"name": "silver", "min_spend": 100, "colour": "grey"}]}, "tiers[1].colour"),
    ({"tiers": []}, "tiers"),
    ({"evaluation": "weekly"}, "evaluation"),
    ({"evaluation": ["2024-06-30", "2024-03-31"]}, "evaluation"),
    ({"evaluation": [20240331]}, "evaluation[0]"),
    ({"evaluation": ["2024-03-31 12:00"]}, "evaluation[0]"),
    ({"upgrade": "sometimes"}, "upgrade"),
    ({"downgrade": "two_levels"}, "downgrade"),
    ({"qualify_on": "either"}, "qualify_on"),
    ({"grace_evaluations": -1}, "grace_evaluations"),
    ({"grace_requires_purchase": "yes"}, "grace_requires_purchase"),
    ({"window_months": 0}, "window_months"),
    ({"points": {"expiry_months": 0}}, "points.expiry_months"),
    ({"points": {"point_value": True}}, "points.point_value"),
    ({"points": {"bonus_points": {"review": -10}}}, "points.bonus_points.review"),
    ({"points": {"rounding": "up"}}, "points.rounding"),
    ({"tier": []}, "tier"),
])
def test_errors_name_the_key(changes, key):
    raw = _rules()
    raw.update(changes)
    with pytest.raises(ConfigurationError) as error:
        LoyaltyRules.from_dict(raw)
    assert key in str(error.value)


def test_yaml_is_safe_loaded(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("!!python/object/apply:os.system ['echo unsafe']\n")
    with pytest.raises(ConfigurationError, match="not valid YAML"):
        LoyaltyRules.from_yaml(path)


def test_a_non_mapping_file_is_refused(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(ConfigurationError, match="mapping"):
        LoyaltyRules.from_yaml(path)
