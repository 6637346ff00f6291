"""Reasons read as words: the phrase of each kind of feature, pinned on hand-picked values (issue 21:
mutants of churn/reasons). The phrases are what CRM teams read in the report, so their wording is output,
not an implementation detail."""

from __future__ import annotations

import math

import pytest

from crm_models.churn import describe_feature
from crm_models.churn.reasons import _trend, formatter


@pytest.fixture(autouse=True)
def _fresh_phrase_cache():
    """``formatter`` caches one phrase builder per feature name (with its "unknown" text); start each test
    from an empty cache so that what is checked is built by the current code, not by an earlier caller."""
    formatter.cache_clear()
    yield
    formatter.cache_clear()


def test_fixed_phrases_with_a_value_and_a_percentage():
    """Guards the ``pct=f"{v:.0%}"`` argument and the ``v=`` of the template (dropped / renamed)."""
    assert describe_feature("returns_share", 0.25) == "returned 25% of what they bought"
    assert describe_feature("n_orders", 7.4) == "7 orders in total"
    assert describe_feature("spend_total", 12345.4) == "total spend 12,345"


def test_windowed_phrases():
    """The window is read from the name (``group(1)``), the value and the trend go in the template."""
    assert describe_feature("spend_30d", 1234.4) == "spend 1,234 in the last 30 days"
    assert describe_feature("orders_trend_60d", 2.0) == "+2 orders in the last 60 days vs the 60 before"
    assert describe_feature("spend_trend_90d", 0.0) == "spend in the last 90 days up 0% vs the 90 before"


def test_unknown_values_say_why():
    """A NaN gives "no rhythm yet" for the gap features (``ipt_*``, ``recency_over_ipt*``, ``recency_z``,
    ``ipt_trend``) and "unknown" for the others, fixed, windowed or not known to the table."""
    rhythm = "no rhythm yet (only one purchase day)"
    assert describe_feature("ipt_mean", math.nan) == f"ipt mean: {rhythm}"
    assert describe_feature("recency_over_ipt_max", math.nan) == f"recency over ipt max: {rhythm}"
    assert describe_feature("recency_z", math.nan) == f"recency z: {rhythm}"
    assert describe_feature("ipt_trend", math.nan) == f"ipt trend: {rhythm}"
    assert describe_feature("recency_days", math.nan) == "recency days unknown"
    assert describe_feature("orders_90d", math.nan) == "orders 90d unknown"
    assert describe_feature("my_score", math.nan) == "my score unknown"


def test_features_outside_the_table_and_values_that_are_not_numbers():
    assert describe_feature("my_score", 0.123456) == "my_score = 0.123"
    assert describe_feature("my_score", "gold") == "my_score = gold"
    assert describe_feature("my_score", None) == "my_score = None"
    assert formatter("recency_days")(30.0) == "last purchase 30 days ago"


@pytest.mark.parametrize(
    "log_ratio, words",
    [
        (0.0, "up 0%"),  # no change counts as "up" (>= 0)
        (math.log(2.0), "up 100%"),
        (math.log(10.0), "up 900%"),  # exactly 10x is not "more than 10x"
        (2.35, "more than 10x higher"),  # between log(10) = 2.303 and log(11) = 2.398
        (math.log1p(-0.5), "down 50%"),
        (math.log1p(-0.99), "down 99%"),
        (math.log1p(-0.995), "down 100%"),  # exactly -99.5% still has words (``<``, not ``<=``)
        (math.log1p(-0.996), "down to almost nothing"),
    ],
)
def test_trend_words_at_their_edges(log_ratio, words):
    """Guards ``log_ratio > log(10)`` (``>=``, the constant 10), ``change < -0.995`` and ``change >= 0``."""
    assert _trend(log_ratio) == words
