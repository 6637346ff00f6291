"""Out-of-range customer-table settings are refused by name and rule (issue 21 review follow-up)."""

from __future__ import annotations

import math

import pytest

from crm_models.customers.settings import CustomerTableSettings
from crm_models.exceptions import ConfigurationError


@pytest.mark.parametrize(("name", "value", "rule"), [
    ("capacity", -1, ">= 0"),
    ("new_customer_days", 0, "at least 1"),
    ("new_customer_days", -30, "at least 1"),
    ("segment_compare_days", 0, "at least 1"),
    ("segment_compare_days", -90, "at least 1"),
    ("n_estimators", 0, "at least 1"),
    ("discount_rate", -0.1, ">= 0"),
    ("discount_rate", -1.0, ">= 0"),
    ("discount_rate", math.nan, ">= 0"),
    ("discount_rate", math.inf, ">= 0"),
])
def test_out_of_range_setting_is_refused_naming_it_and_its_rule(name, value, rule):
    with pytest.raises(ConfigurationError) as caught:
        CustomerTableSettings(**{name: value})
    message = str(caught.value)
    assert f"{name}=" in message
    assert rule in message


@pytest.mark.parametrize(("name", "value"), [
    ("capacity", None), ("capacity", 0), ("capacity", 1),
    ("new_customer_days", 1), ("segment_compare_days", 1), ("n_estimators", 1),
    ("discount_rate", 0.0), ("discount_rate", 0.25),
])
def test_values_at_the_edge_of_each_rule_are_accepted(name, value):
    assert getattr(CustomerTableSettings(**{name: value}), name) == value


def test_from_parameters_refuses_an_out_of_range_notebook_parameter():
    with pytest.raises(ConfigurationError, match="segment_compare_days="):
        CustomerTableSettings.from_parameters({"segment_compare_days": -7})
