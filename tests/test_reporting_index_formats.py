"""Issue 21, mutation survivors of ``reporting/index``: KPI labels, values and changes at the edges of every
rule (share bounds, the money threshold of 100, the 0.05 % "unchanged" band, a previous value of zero or
below zero). Expected texts are written by hand; each case names the mutation class it guards against."""

from __future__ import annotations

import pytest

from crm_models.reporting.index import format_delta, format_value, kpi_label


@pytest.mark.parametrize(("name", "label"), [
    ("kpi_total_clv", "Total CLV"),          # acronym table
    ("kpi_CLV_trend", "CLV trend"),          # acronyms looked up lower-cased
    ("kpi_ab_verdict", "A/B verdict"),       # only the first letter of the first word is raised
    ("kpi__active__customers", "Active customers"),  # empty words skipped
    ("kpi_pct_repeat", "% repeat"),
    ("share_of_wallet", "Share of wallet"),  # no prefix to remove
    ("kpi_", ""),
])
def test_kpi_labels(name, label):
    assert kpi_label(name) == label


@pytest.mark.parametrize(("name", "value", "currency", "text"), [
    ("kpi_x", "B wins", "EUR", "B wins"),
    ("kpi_x", None, "", "None"),                       # not a number: shown as text
    ("kpi_x", [1], "", "[1]"),
    ("kpi_x", float("nan"), "", "n/a"),
    ("kpi_growth_pct", 12.5, "", "12.5 %"),            # already in percent
    ("kpi_repeat_percent", 1234.5, "", "1,234.5 %"),
    ("kpi_churn_rate", 1.0, "", "100.0 %"),            # share bounds are inclusive
    ("kpi_churn_rate", -1.0, "", "-100.0 %"),
    ("kpi_churn_rate", 1.5, "", "1.50"),               # outside [-1, 1]: not a share
    ("kpi_value_share", 0.5, "EUR", "50.0 %"),         # a share is never money
    ("kpi_revenue", 1234.4, "EUR", "EUR 1,234"),
    ("kpi_revenue", 100.0, "EUR", "EUR 100"),          # the money threshold is inclusive
    ("kpi_revenue", -100.0, "EUR", "EUR -100"),        # by absolute value
    ("kpi_revenue", 99.5, "EUR", "EUR 99.50"),
    ("kpi_revenue", 1234.4, "", "1,234"),              # no currency: a plain number
    ("kpi_customers_value", 1234.0, "EUR", "1,234"),   # a count of customers is not money
    ("kpi_orders", 12345.0, "", "12,345"),
    ("kpi_orders", 123.4, "", "123"),
    ("kpi_orders", -150.7, "", "-151"),
    ("kpi_orders", 100.5, "", "100"),
    ("kpi_orders", 99.5, "", "99.50"),
    ("kpi_orders", -1.5, "", "-1.50"),
    ("kpi_orders", 1.25, "", "1.25"),
    ("kpi_orders", 0.12345, "", "0.123"),
    ("kpi_orders", -0.5, "", "-0.5"),
])
def test_values(name, value, currency, text):
    assert format_value(name, value, currency) == text


@pytest.mark.parametrize(("name", "now", "before", "kind", "text"), [
    ("kpi_x", "B", "B", "flat", "unchanged since the previous run"),
    ("kpi_x", "B", 3, "flat", "was: 3"),
    ("kpi_x", 3, "A", "flat", "was: A"),
    ("kpi_x", [1], 2, "none", ""),
    ("kpi_churn_rate", 1.0, 0.5, "up", "\u25b2 +50.0 points vs previous run (50.0 %)"),      # bounds inclusive
    ("kpi_churn_rate", -1.0, -0.5, "down", "\u25bc -50.0 points vs previous run (-50.0 %)"),
    ("kpi_churn_rate", 1.2, 0.6, "up", "\u25b2 +100.0 % vs previous run (60.0 %)"),         # now outside
    ("kpi_churn_rate", 0.6, 1.2, "down", "\u25bc -50.0 % vs previous run (1.20)"),          # before outside
    ("kpi_growth_pct", 12.0, 10.0, "up", "\u25b2 +2.0 points vs previous run (10.0 %)"),   # pct: scale 1
    ("kpi_orders", 100040.0, 100000.0, "flat", "\u2248 unchanged since the previous run (100,000)"),
    ("kpi_orders", 99960.0, 100000.0, "flat", "\u2248 unchanged since the previous run (100,000)"),
    ("kpi_orders", 100060.0, 100000.0, "up", "\u25b2 +0.1 % vs previous run (100,000)"),
    ("kpi_orders", -100.0, -200.0, "up", "\u25b2 +50.0 % vs previous run (-200)"),          # |before|
    ("kpi_orders", 5.0, 0.0, "up", "\u25b2 5 vs previous run (0)"),
    ("kpi_orders", -2.5, 0.0, "down", "\u25bc -2.50 vs previous run (0)"),
])
def test_changes(name, now, before, kind, text):
    assert format_delta(name, now, before) == (kind, text)
