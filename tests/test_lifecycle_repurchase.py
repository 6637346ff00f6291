"""Kaplan-Meier and repurchase: the hand case, lifelines' numbers, coverage by simulation, censoring and ties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.lifecycle import KaplanMeier, repurchase_curves, repurchase_rate, second_purchase_times

# lifelines 0.30.3 KaplanMeierFitter().fit(D, E): survival_function_ joined with confidence_interval_ (95%).
# Recorded once from lifelines (it pins pandas < 3, so it is not installed with the project); the live
# comparison below runs when lifelines is importable.
D = [1, 1, 2, 3, 3, 3, 5, 6, 6, 8, 9, 10, 12, 12, 15, 17, 20, 22, 25, 30]
E = [1, 0, 1, 1, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1, 0, 1, 0, 1, 0, 0]
LIFELINES = [  # time, KM_estimate, lower_0.95, upper_0.95
    (0, 1.0, 1.0, 1.0),
    (1, 0.95, 0.6947431932565701, 0.9928022285933972),
    (2, 0.8972222222222224, 0.6475291194946804, 0.973298974654081),
    (3, 0.7916666666666667, 0.5354477782214914, 0.9163378983487763),
    (5, 0.7351190476190479, 0.4750104821588674, 0.8805536227480417),
    (6, 0.6785714285714288, 0.4184492040479027, 0.8414808729924528),
    (8, 0.6168831168831171, 0.35735231011340346, 0.7970976646503627),
    (9, 0.6168831168831171, 0.35735231011340346, 0.7970976646503627),
    (10, 0.5483405483405484, 0.2912504870122795, 0.7462672600523811),
    (12, 0.4112554112554114, 0.17834984617893765, 0.6325808589571535),
    (15, 0.4112554112554114, 0.17834984617893765, 0.6325808589571535),
    (17, 0.3290043290043291, 0.11628978723891159, 0.5630627766426248),
    (20, 0.3290043290043291, 0.11628978723891159, 0.5630627766426248),
    (22, 0.21933621933621936, 0.044884536817353264, 0.4763408838100153),
    (25, 0.21933621933621936, 0.044884536817353264, 0.4763408838100153),
    (30, 0.21933621933621936, 0.044884536817353264, 0.4763408838100153),
]
LIFELINES_MEDIAN = 12.0


def test_hand_case_from_the_issue() -> None:
    km = KaplanMeier().fit([10, 20, 30, 40, 50], [1, 1, 0, 1, 0])
    assert km.survival_at([10, 20, 40]) == pytest.approx([0.8, 0.6, 0.3], abs=1e-12)
    assert km.survival_at([0, 9.9, 30, 45, 50]) == pytest.approx([1.0, 1.0, 0.6, 0.3, 0.3], abs=1e-12)
    curve = km.survival_function_
    # Greenwood sums by hand: 1/(5*4), + 1/(4*3), + 1/(2*1)
    assert curve.loc[10.0, "greenwood"] == pytest.approx(1 / 20)
    assert curve.loc[40.0, "greenwood"] == pytest.approx(1 / 20 + 1 / 12 + 1 / 2)
    assert curve.loc[30.0, "censored"] == 1 and curve.loc[30.0, "at_risk"] == 3
    assert km.median_ == 40.0


def test_matches_recorded_lifelines_numbers() -> None:
    km = KaplanMeier(alpha=0.05).fit(D, E)
    curve = km.survival_function_
    expected = pd.DataFrame(LIFELINES, columns=["time", "survival", "lower", "upper"]).set_index("time")
    np.testing.assert_allclose(curve.index.to_numpy(), expected.index.to_numpy(dtype=float))
    np.testing.assert_allclose(curve[["survival", "lower", "upper"]].to_numpy(), expected.to_numpy(), rtol=1e-12)
    assert km.median_ == LIFELINES_MEDIAN


def test_matches_live_lifelines_when_installed(rng) -> None:
    lifelines = pytest.importorskip("lifelines", reason="lifelines is not installed (it pins pandas < 3)")
    durations = np.round(rng.exponential(30.0, 300))
    censor = np.round(rng.uniform(0, 60, 300))
    observed = (durations <= censor).astype(int)
    times = np.minimum(durations, censor)
    ours = KaplanMeier().fit(times, observed).survival_function_
    theirs = lifelines.KaplanMeierFitter().fit(times, observed)
    np.testing.assert_allclose(ours["survival"], theirs.survival_function_.iloc[:, 0], rtol=1e-12)
    inside = (ours["survival"] > 0) & (ours["survival"] < 1)
    np.testing.assert_allclose(ours.loc[inside, ["lower", "upper"]], theirs.confidence_interval_.loc[inside], rtol=1e-10)


def test_simulated_exponential_with_censoring_is_covered_by_the_intervals() -> None:
    """Exponential times (mean 30) censored by uniform(0, 90): the 95% interval covers the true S(t)."""
    rng = np.random.default_rng(7)
    checkpoints = np.array([10.0, 30.0, 50.0])
    truth = np.exp(-checkpoints / 30.0)
    covered = np.zeros(len(checkpoints))
    errors = []
    reps = 300
    for _ in range(reps):
        durations = rng.exponential(30.0, 200)
        censor = rng.uniform(0.0, 90.0, 200)
        km = KaplanMeier().fit(np.minimum(durations, censor), (durations <= censor).astype(int))
        at = km.interval_at(checkpoints)
        covered += (at["lower"].to_numpy() <= truth) & (truth <= at["upper"].to_numpy())
        errors.append(at["survival"].to_numpy() - truth)
    coverage = covered / reps
    assert np.all((coverage > 0.91) & (coverage < 0.99)), coverage
    assert np.abs(np.mean(errors, axis=0)).max() < 0.01  # KM is (nearly) unbiased where data are ample


def test_ignoring_censoring_would_be_caught() -> None:
    """Treating censored customers as events gives a curve far below the truth; KM does not."""
    rng = np.random.default_rng(3)
    durations = rng.exponential(30.0, 5_000)
    censor = rng.uniform(0.0, 40.0, 5_000)
    times = np.minimum(durations, censor)
    observed = (durations <= censor).astype(int)
    km = KaplanMeier().fit(times, observed)
    naive = KaplanMeier().fit(times)
    assert km.survival_at(20.0)[0] == pytest.approx(np.exp(-20 / 30), abs=0.02)
    assert naive.survival_at(20.0)[0] < np.exp(-20 / 30) - 0.1


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 1), st.integers(1, 4)), min_size=1, max_size=30),
       st.randoms(use_true_random=False))
def test_weights_equal_repeated_rows_and_order_does_not_matter(rows, random) -> None:
    times = [t for t, _, w in rows for _ in range(w)]
    events = [e for _, e, w in rows for _ in range(w)]
    expanded = KaplanMeier().fit(times, events).survival_function_
    weighted = KaplanMeier().fit([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]).survival_function_
    order = list(range(len(times)))
    random.shuffle(order)
    shuffled = KaplanMeier().fit(np.array(times)[order], np.array(events)[order]).survival_function_
    pd.testing.assert_frame_equal(expanded, weighted)
    pd.testing.assert_frame_equal(expanded, shuffled)
    assert (np.diff(expanded["survival"].to_numpy()) <= 1e-15).all()
    assert ((expanded["lower"] <= expanded["survival"] + 1e-12) & (expanded["survival"] <= expanded["upper"] + 1e-12)).all()


def test_bad_input_is_refused_with_a_clear_error() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        KaplanMeier().fit([1, -2], [1, 1])
    with pytest.raises(ValueError, match="0 or 1"):
        KaplanMeier().fit([1, 2], [1, 2])
    with pytest.raises(ValueError, match="alpha"):
        KaplanMeier(alpha=1.5).fit([1, 2], [1, 1])


def _tx(rows):
    return pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "channel"]).assign(
        timestamp=lambda f: pd.to_datetime(f["timestamp"]))


TX = _tx([
    ("a", "2024-01-01 09:00", 10.0, "web"),
    ("a", "2024-01-01 18:00", 5.0, "web"),     # same day: not a second purchase
    ("a", "2024-01-11 10:00", 7.0, "store"),   # second purchase day: 10 days
    ("b", "2024-01-05 12:00", 20.0, "store"),
    ("b", "2024-01-07 12:00", -20.0, "store"),  # a return is not a purchase
    ("c", "2024-01-20 08:00", 15.0, "web"),
    ("c", "2024-01-31 23:00", 15.0, "web"),    # on the last observed day: counts (a date means the whole day)
    ("d", "2024-01-30 10:00", 8.0, "web"),
    ("d", "2024-02-03 10:00", 8.0, "web"),     # after the end: ignored
])


def test_second_purchase_times_by_hand() -> None:
    times = second_purchase_times(TX, observation_end="2024-01-31")
    assert list(times.index) == ["a", "b", "c", "d"]
    assert times["duration"].tolist() == [10.0, 26.0, 11.0, 1.0]
    assert times["repurchased"].tolist() == [True, False, True, False]
    assert times["followup"].tolist() == [30.0, 26.0, 11.0, 1.0]
    shuffled = second_purchase_times(TX.sample(frac=1.0, random_state=4), observation_end="2024-01-31")
    pd.testing.assert_frame_equal(times, shuffled)


def test_split_by_first_purchase_column_and_by_cohort() -> None:
    by_channel = second_purchase_times(TX, observation_end="2024-01-31", by="channel")
    assert by_channel["group"].tolist() == ["web", "store", "web", "web"]
    by_cohort = second_purchase_times(TX, observation_end="2024-01-31", by="cohort")
    assert set(by_cohort["group"]) == {"2024-01-01"}
    curves = repurchase_curves(by_channel)
    assert set(curves) == {"store", "web"}
    assert curves["store"].n_events_ == 0 and curves["web"].n_events_ == 2


def test_repurchase_rate_leaves_out_customers_observed_for_less_than_the_window() -> None:
    """c bought again after 11 days but was observed for 11 days only: counting c would bias the 30-day rate up."""
    rate = repurchase_rate(second_purchase_times(TX, observation_end="2024-01-31"), within_days=20).loc["all"]
    assert rate["eligible"] == 2  # a (30 days observed) and b (26); not c (11) nor d (1)
    assert rate["repurchased_within"] == 1 and rate["rate"] == 0.5
    assert 0.0 < rate["rate_lower"] < 0.5 < rate["rate_upper"] < 1.0
    # KM uses everyone while observed: d censored at 1, a event at 10, c event at 11, b censored at 26
    assert rate["km_rate"] == pytest.approx(1 - (2 / 3) * (1 / 2))


def test_repurchase_rate_recovers_a_known_rate() -> None:
    """Simulated customers whose second purchase comes after Exp(mean 60 days) or never (40%)."""
    rng = np.random.default_rng(11)
    n = 4_000
    first = pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    gap = np.ceil(rng.exponential(60.0, n))
    returns = rng.random(n) < 0.6
    ids = [f"x{i}" for i in range(n)]
    rows = pd.DataFrame({"customer_id": ids, "timestamp": first, "amount": 1.0})
    again = pd.DataFrame({"customer_id": np.array(ids)[returns], "timestamp": first[returns] + pd.to_timedelta(
        gap[returns], unit="D"), "amount": 1.0})
    times = second_purchase_times(pd.concat([rows, again]), observation_end="2023-12-31")
    result = repurchase_rate(times, within_days=90).loc["all"]
    truth = 0.6 * (1 - np.exp(-np.floor(90) / 60.0))  # ceil(gap) <= 90  <=>  gap <= 90
    assert result["rate_lower"] < truth < result["rate_upper"]
    assert result["km_lower"] < truth < result["km_upper"]
