"""Event funnels: ordered and open variants by hand, windows, ties, segments, and the demo brand's known truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.data import clean_events
from crm_models.datasets.demo_events import STAGES, expected_conversion, simulate_web_events
from crm_models.lifecycle import funnel, normalize_stages


def _events(rows):
    return pd.DataFrame(rows, columns=["customer_id", "event", "timestamp", "device"]).assign(
        timestamp=lambda f: pd.to_datetime(f["timestamp"]))


EVENTS = _events([
    # a: full path in order
    ("a", "view", "2024-01-01 10:00", "mobile"), ("a", "cart", "2024-01-01 10:05", "mobile"),
    ("a", "pay", "2024-01-01 10:20", "mobile"),
    # b: cart before the first view, then a view, no cart after it: reaches view only (closed)
    ("b", "cart", "2024-01-01 09:00", "desktop"), ("b", "view", "2024-01-01 09:30", "desktop"),
    # c: view and cart at the same instant (a tie counts as in order), pay three days later
    ("c", "view", "2024-01-02 12:00", "desktop"), ("c", "quick_view", "2024-01-02 11:00", "desktop"),
    ("c", "cart", "2024-01-02 12:00", "desktop"), ("c", "pay", "2024-01-05 12:00", "desktop"),
    # d: pays without viewing: outside the closed funnel, inside the open one
    ("d", "pay", "2024-01-03 08:00", "mobile"),
    # e: an unrelated event only
    ("e", "search", "2024-01-03 08:00", "mobile"),
])
STAGE_SPEC = [("view", "quick_view"), "cart", "pay"]


def test_closed_funnel_by_hand() -> None:
    result = funnel(EVENTS, STAGE_SPEC)
    assert result["stage"].tolist() == ["view | quick_view", "cart", "pay"]
    assert result["customers"].tolist() == [3, 2, 2]  # a, b, c view; a, c cart; a, c pay
    assert result["conversion_from_previous"].tolist() == pytest.approx([1.0, 2 / 3, 1.0])
    assert result["conversion_from_start"].tolist() == pytest.approx([1.0, 2 / 3, 2 / 3])
    assert result["drop_off"].tolist() == [0, 1, 0]
    # c enters at the quick view (11:00), cart at 12:00 (1 h); a: 5 min. Median of {5 min, 60 min} = 32.5 min
    assert result.loc[1, "median_time_from_previous"] == pd.Timedelta(minutes=32.5)
    # pay: a 15 min, c 3 days
    assert result.loc[2, "median_time_from_previous"] == (pd.Timedelta(minutes=15) + pd.Timedelta(days=3)) / 2


def test_conversion_window_counts_from_the_entry() -> None:
    result = funnel(EVENTS, STAGE_SPEC, window="1D")
    assert result["customers"].tolist() == [3, 2, 1]  # c pays 3 days after entering


def test_open_funnel_counts_any_order() -> None:
    result = funnel(EVENTS, STAGE_SPEC, mode="open")
    assert result["customers"].tolist() == [3, 3, 3]  # view: a b c; cart: a b c; pay: a c d
    # cart among viewers: 3 of 3; pay among cart: a, c of a, b, c
    assert result["conversion_from_previous"].tolist() == pytest.approx([1.0, 1.0, 2 / 3])
    assert result["conversion_from_start"].tolist() == pytest.approx([1.0, 1.0, 2 / 3])
    assert "median_time_from_previous" not in result.columns


def test_drop_off_by_segment_column_and_by_mapping() -> None:
    by_device = funnel(EVENTS, STAGE_SPEC, by="device").set_index(["segment", "stage"])
    assert by_device.loc[("desktop", "cart"), "customers"] == 1  # b drops, c goes on
    assert by_device.loc[("mobile", "pay"), "customers"] == 1
    mapping = pd.Series({"a": "new", "b": "new", "c": "loyal"})
    by_map = funnel(EVENTS, STAGE_SPEC, by=mapping).set_index(["segment", "stage"])
    assert by_map.loc[("new", "view | quick_view"), "customers"] == 2
    assert by_map.loc[("loyal", "pay"), "conversion_from_previous"] == 1.0


def test_period_bounds_follow_the_whole_day_rule() -> None:
    assert funnel(EVENTS, STAGE_SPEC, end="2024-01-02")["customers"].tolist() == [3, 2, 1]
    assert funnel(EVENTS, STAGE_SPEC, start="2024-01-02")["customers"].tolist() == [1, 1, 1]


@settings(max_examples=8, deadline=None)
@given(st.randoms(use_true_random=False))
def test_row_order_and_duplicate_rows_do_not_matter(random) -> None:
    order = list(range(len(EVENTS)))
    random.shuffle(order)
    doubled = pd.concat([EVENTS, EVENTS.iloc[order[:4]]]).iloc[::-1]
    expected = funnel(EVENTS, STAGE_SPEC)
    pd.testing.assert_frame_equal(funnel(EVENTS.iloc[order], STAGE_SPEC), expected)
    pd.testing.assert_frame_equal(funnel(doubled, STAGE_SPEC), expected)


def test_stage_specs_are_checked() -> None:
    with pytest.raises(ValueError, match="two stages"):
        normalize_stages(["view", ("cart", "view")])
    with pytest.raises(ValueError, match="at least two stages"):
        normalize_stages(["view"])
    assert normalize_stages({"Looked": ["view", "quick_view"], "Bought": "pay"}) == [
        ("Looked", ("view", "quick_view")), ("Bought", ("pay",))]
    with pytest.raises(ValueError, match="mode"):
        funnel(EVENTS, STAGE_SPEC, mode="hybrid")


def test_demo_events_funnel_recovers_the_known_conversion() -> None:
    demo = simulate_web_events(30_000, seed=21)
    events, report = clean_events(demo.events)
    assert report.dropped("exact duplicate") == demo.truth["duplicates"] > 0
    result = funnel(events, list(STAGES), window="1D")
    truth = demo.truth["conversion_from_previous"]
    estimates = result["conversion_from_previous"].to_numpy()[1:]
    assert np.abs(estimates - truth).max() < 0.02
    inside = (result["conversion_from_previous_lower"].to_numpy()[1:] <= truth) & (
        truth <= result["conversion_from_previous_upper"].to_numpy()[1:])
    assert inside.sum() >= 3  # 4 intervals at 95%
    by_device = funnel(events, list(STAGES), by="device")
    for device, probs in demo.truth["conversion"].items():
        part = by_device.loc[by_device["segment"] == device, "conversion_from_previous"].to_numpy()[1:]
        assert np.abs(part - probs).max() < 0.03


def test_funnel_intervals_cover_the_truth_at_the_nominal_rate() -> None:
    """80 seeded small demo runs (one segment each, one engine call): each 95% stage interval covers the known
    conversion in 88-100% of the runs."""
    conversion = {"x": (0.5, 0.3, 0.6, 0.8)}
    truth = np.asarray(expected_conversion(conversion, {"x": 1.0}))
    runs = []
    for seed in range(80):
        events = simulate_web_events(400, seed=seed, conversion=conversion, device_share={"x": 1.0}).events
        runs.append(events.assign(customer_id=f"r{seed:02d}-" + events["customer_id"], device=f"r{seed:02d}"))
    result = funnel(pd.concat(runs, ignore_index=True), list(STAGES), by="device")
    later = result.loc[result["step"] > 1]
    low = later["conversion_from_previous_lower"].to_numpy().reshape(80, 4)
    high = later["conversion_from_previous_upper"].to_numpy().reshape(80, 4)
    coverage = ((low <= truth) & (truth <= high)).mean(axis=0)
    assert (coverage >= 0.88).all(), coverage


def test_events_without_a_required_column_are_refused_naming_it() -> None:
    from crm_models.exceptions import DataContractError

    with pytest.raises(DataContractError, match="lacks the column 'event'") as error:
        funnel(EVENTS.rename(columns={"event": "name"}), STAGE_SPEC)
    assert error.value.column == "event" and error.value.rule == "required column"
