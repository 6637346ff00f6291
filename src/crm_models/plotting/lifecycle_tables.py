"""Stakeholder labels and sentences of the lifecycle report (``notebooks/07_lifecycle.ipynb``).

Use with :func:`crm_models.plotting.tables.stakeholder_table` (``labels=LABELS, shares=SHARES``) on the frames of
:mod:`crm_models.lifecycle` and :mod:`crm_models.lifecycle.report`.
"""

from __future__ import annotations

from html import escape

import pandas as pd

from crm_models.plotting.tables import format_share

#: Readers' names of the columns of the lifecycle tables (retention, repurchase, cycles, funnel).
LABELS: dict[str, str] = {
    "cohorts": "Cohorts",
    "active": "Bought in the period",
    "retention": "Share buying",
    "lower": "95% interval, lower",
    "upper": "95% interval, upper",
    "new_customers": "New customers",
    "km_lower": "95% interval, lower",
    "km_upper": "95% interval, upper",
    "repeat_customers": "Repeat customers",
    "overdue_customers": "Overdue",
    "overdue_share": "Share overdue",
    "usual_interval_days": "Usual interval, days",
    "median_usual_interval_days": "Usual interval, days (median)",
    "overdue_clv": "Customer value of the overdue (CLV)",
    "next_expected_purchase": "Next purchase expected",
    "conversion_from_previous": "Moved on from the stage before",
    "conversion_lower": "95% interval, lower",
    "conversion_upper": "95% interval, upper",
    "conversion_from_start": "Share of visitors",
    "minutes_from_previous": "Minutes since the stage before (median)",
    "known_conversion": "Known conversion (simulated data)",
}
#: Share columns of those tables (shown as percentages).
SHARES: tuple[str, ...] = ("retention", "lower", "upper", "rate", "km_rate", "km_lower", "km_upper", "overdue_share",
                           "conversion_from_previous", "conversion_lower", "conversion_upper", "conversion_from_start",
                           "known_conversion")


def funnel_finding(steps: pd.DataFrame | None) -> str:
    """The funnel's headline in words: the stage before which most customers drop off and the share of visitors
    reaching the last stage (a sentence saying there is no funnel when ``steps`` is ``None``). Stage names come
    from the data and are HTML-escaped."""
    if steps is None:
        return "This data source has no web events, so the shopping-path funnel is left out."
    worst = steps.iloc[1:].sort_values("conversion_from_previous", kind="stable").iloc[0]
    return (f"On the shopping path the biggest drop-off is before **{escape(str(worst['stage']).replace('_', ' '))}**: only "
            f"{format_share(worst['conversion_from_previous'])} of those at the stage before move on, and "
            f"{format_share(steps['conversion_from_start'].iloc[-1])} of visitors reach "
            f"{escape(str(steps['stage'].iloc[-1]).replace('_', ' '))}.")
