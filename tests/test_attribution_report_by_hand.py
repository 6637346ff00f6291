"""The attribution report's sentences, tables and KPIs on journeys small enough to check by hand (issue 21).

Same nine January journeys as ``test_attribution_report.py``: a -> b converts twice, a -> b once without, b alone
converts once, b alone three times without, a alone twice without. Exact first-order Markov credit a 0.9, b 2.1
(shares 30% / 70%). Here the conversions carry **no value** and spend is a = 9, b = 7, so the report compares
conversions per currency unit: a 0.9 / 9 = 0.1, b 2.1 / 7 = 0.3 (b is best, 30 conversions per 100 spent).

Each test names the mutation class (a wrong implementation) it guards against.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from crm_models.attribution import report as ar


def _touchpoints(value_per_conversion: float = 0.0) -> pd.DataFrame:
    rows = []
    journeys = [(["a", "b"], 1)] * 2 + [(["a", "b"], 0)] + [(["b"], 1)] + [(["b"], 0)] * 3 + [(["a"], 0)] * 2
    for i, (path, converts) in enumerate(journeys):
        for k, channel in enumerate(path):
            last = k == len(path) - 1
            rows.append({"customer_id": f"C{i:03d}", "timestamp": pd.Timestamp("2024-01-02 10:00") + pd.Timedelta(days=k),
                         "channel": channel, "conversion": int(converts and last),
                         "value": value_per_conversion * (converts and last)})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def no_value_report() -> ar.AttributionReport:
    """No report date (``as_of=None``), no conversion value, spend a 9 and b 7."""
    return ar.attribution_report(_touchpoints(), spend=pd.Series({"a": 9.0, "b": 7.0}), order=1, max_order=1,
                                 n_boot=20, level=0.9, seed=1)


def test_without_a_report_date_the_headline_names_no_date(no_value_report) -> None:
    """Guards the empty date clause: with ``as_of=None`` the first sentence goes straight from the description
    to the comma (a mutant that put any text there, or dropped the ``None`` test, would show)."""
    lines = ar.headline_sentences(no_value_report, description="the test brand")
    assert lines[0].startswith("In the test brand, 9 customer journeys led to **3 conversions**")


def test_every_headline_sentence_ends_with_a_full_stop(no_value_report) -> None:
    """Guards the sentence endings of the headline (wording mutants of the closing phrases)."""
    lines = ar.headline_sentences(no_value_report, description="the test brand")
    assert len(lines) >= 4
    for line in lines:
        assert line.endswith("."), line


def test_without_value_the_kpi_is_conversions_per_unit_spent_by_hand(no_value_report) -> None:
    """Guards the KPI name and the ``metric == 'roas'`` test (``and`` -> ``or``, a changed key): without
    conversion value the best return is conversions per unit, b 2.1 / 7 = 0.3, never a ROAS."""
    assert no_value_report.roi is not None and no_value_report.roi.metric == "conversions_per_unit"
    kpis = ar.kpis(no_value_report)
    assert "kpi_best_return_on_spend" not in kpis
    assert kpis["kpi_best_conversions_per_unit_spent"] == pytest.approx(0.3)
    assert kpis["kpi_best_return_on_spend_channel"] == "b"
    lines = ar.headline_sentences(no_value_report, description="the test brand")
    assert any("Per 100 spent, **b** brings the most conversions (30.0)." in line for line in lines)


def test_markov_table_without_markov_intervals_leaves_the_bounds_empty(no_value_report) -> None:
    """Guards the ``bounds is not None`` test of the Markov table: a report whose intervals lack the Markov
    method shows empty (NaN) bounds instead of failing."""
    report = dataclasses.replace(no_value_report,
                                 intervals={k: v for k, v in no_value_report.intervals.items() if k != "markov"})
    frame = ar.markov_table(report).frame
    assert frame["90% interval, lower"].isna().all() and frame["90% interval, upper"].isna().all()
    assert frame["Conversions credited"].tolist() == pytest.approx([2.1, 0.9])


def test_value_credited_is_money_whenever_it_is_shown(no_value_report) -> None:
    """Guards the money flag of the Markov table (``> 0`` -> ``> 1``): a total conversion value below one unit
    (here 0.3) still shows the value column, and it is formatted as money."""
    small = dataclasses.replace(no_value_report, journeys=no_value_report.journeys.assign(
        value=np.where(no_value_report.journeys["conversions"] > 0, 0.1 * no_value_report.journeys["conversions"], 0.0)))
    assert small.conversion_value == pytest.approx(0.3)
    table = ar.markov_table(small)
    assert "Value credited" in table.frame.columns
    assert table.money == ["Value credited"]
    none = ar.markov_table(no_value_report)
    assert "Value credited" not in none.frame.columns and none.money == []


def test_roas_table_shows_a_dash_for_an_undefined_return(no_value_report) -> None:
    """Guards the placeholder of the return-on-spend table: a return that is not a finite number is shown as
    ``-``, not as ``nan`` or another text."""
    roi = no_value_report.roi
    table = roi.table.copy()
    table.loc[(table["method"] == "linear") & (table["channel"] == "a"), "conversions_per_unit"] = np.nan
    report = dataclasses.replace(no_value_report, roi=dataclasses.replace(roi, table=table))
    frame = ar.roas_table(report).frame
    assert frame.loc["a", "Conversions per 100 spent (linear)"] == "-"
    assert frame.loc["b", "Conversions per 100 spent (linear)"].startswith("28.57 (")  # linear: b gets 2 conversions for 7 spent


def test_credit_intervals_without_conversions_give_zero_shares() -> None:
    """Guards the share when nothing converted (``0.0`` -> ``1.0``): no channel can have a share of conversions
    when there are none."""
    journeys = pd.DataFrame({"path": ["a > b", "b"], "conversions": [0.0, 0.0], "nulls": [3.0, 2.0]})
    out = ar.credit_intervals(journeys, "linear", n_boot=5, level=0.9, seed=0)
    assert out["share"].tolist() == [0.0, 0.0]
    assert out["share_lower"].tolist() == [0.0, 0.0] and out["share_upper"].tolist() == [0.0, 0.0]
