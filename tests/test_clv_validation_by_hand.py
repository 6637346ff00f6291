"""CLV validation helpers against values computed by hand (mutation testing, issue 21).

``tracking_comparison`` (Fader, Hardie & Lee 2005, Figure 2), ``ranking_metrics`` (Mann-Whitney AUC with
ties counted 1/2) and ``holdout_comparison`` on data small enough to add up on paper. Each test names the
mutation class it guards against.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.clv import BetaGeoModel, GammaGammaModel, ranking_metrics
from crm_models.clv.validation import clv_interval, holdout_comparison, tracking_comparison
from crm_models.clv.value import customer_lifetime_value
from crm_models.exceptions import DataContractError


class _OnePerDay:
    """A purchase model whose new customer makes exactly ``t`` repeat purchases in ``t`` time units."""

    def expected_purchases_new_customer(self, t):
        return np.asarray(t, dtype=float)


def _transactions() -> pd.DataFrame:
    # A: first purchase Wed 2020-01-01, repeat purchase days 01-03 (twice: one purchase day) and 01-10;
    # B: first purchase 01-07, after the calibration end, so B is not tracked.
    return pd.DataFrame({
        "customer_id": ["A", "A", "A", "B", "A"],
        "timestamp": pd.to_datetime(["2020-01-01 09:00", "2020-01-03 00:00", "2020-01-10 00:00",
                                     "2020-01-07 00:00", "2020-01-03 18:00"]),
        "amount": [10.0, 5.0, 7.0, 3.0, 2.0],
    })


def test_tracking_comparison_by_hand_in_days():
    """Weekly periods (pandas "W" = weeks ending Sunday, the days of ``pd.Period``) from the first purchase to
    2020-01-12: periods end on Sundays 01-05 and 01-12, so the edges (first day of the next period) are 01-06 and
    01-13. Actual repeat purchase days: 01-03 in [.., 01-06), 01-10 in [01-06, 01-13). Expected at an edge =
    E[X(age)] with age = days from the end of the first purchase day: 5-1=4 and 12-1=11, i.e. 4 and 7 per period.

    Guards the ``- 1.0`` day offset of the age (mutated to ``- 2.0``), the bin count of actual purchases, the
    time unit (``time_unit`` dropped or wrong), the cumulative-to-period difference and the holdout flag."""
    out = tracking_comparison(_OnePerDay(), _transactions(), calibration_end="2020-01-05",
                              observation_end="2020-01-12", time_unit="D")
    assert list(out.index) == list(pd.to_datetime(["2020-01-05", "2020-01-12"]))
    np.testing.assert_allclose(out["actual"], [1.0, 1.0])
    np.testing.assert_allclose(out["expected"], [4.0, 7.0])
    np.testing.assert_allclose(out["actual_cumulative"], [1.0, 2.0])
    np.testing.assert_allclose(out["expected_cumulative"], [4.0, 11.0])
    assert out["holdout"].tolist() == [False, True]
    # a partial last period: observation to Wednesday 01-08 adds the edge 01-09 (age 7), 3 expected in it
    short = tracking_comparison(_OnePerDay(), _transactions(), calibration_end="2020-01-05",
                                observation_end="2020-01-08", time_unit="D")
    assert list(short.index) == list(pd.to_datetime(["2020-01-05", "2020-01-08"]))
    np.testing.assert_allclose(short["expected"], [4.0, 3.0])
    np.testing.assert_allclose(short["actual"], [1.0, 0.0])


def test_tracking_periods_include_their_anchor_day():
    """Regression: the anchors of end-anchored frequencies were taken as the first day of the next period, so
    weeks ran Sunday to Saturday and month ends ("ME") fell into the next month: a purchase on the calibration
    end (Friday 31 January) was counted in a period flagged ``holdout``, labelled 28 February. Month ends and
    month starts now give the same calendar months."""
    tx = pd.DataFrame({"customer_id": ["A", "A", "A"],
                       "timestamp": pd.to_datetime(["2020-01-01", "2020-01-31", "2020-02-29"]),
                       "amount": [1.0, 1.0, 1.0]})
    kwargs = {"calibration_end": "2020-01-31", "observation_end": "2020-03-31", "time_unit": "D"}
    ends = tracking_comparison(_OnePerDay(), tx, period="ME", **kwargs)
    assert list(ends.index) == list(pd.to_datetime(["2020-01-31", "2020-02-29", "2020-03-31"]))
    assert ends["actual"].tolist() == [1.0, 1.0, 0.0] and ends["holdout"].tolist() == [False, True, True]
    np.testing.assert_allclose(ends["expected_cumulative"], [30.0, 59.0, 90.0])
    pd.testing.assert_frame_equal(ends, tracking_comparison(_OnePerDay(), tx, period="MS", **kwargs))
    sunday = tracking_comparison(_OnePerDay(), tx.assign(timestamp=tx["timestamp"].where(
        tx["timestamp"] != "2020-01-31", pd.Timestamp("2020-01-05"))), period="W", **kwargs)
    assert sunday.loc["2020-01-05", "actual"] == 1.0, "Sunday 5 January is in the week ending that Sunday"


def test_tracking_comparison_time_unit_scales_the_age():
    """The same data with the model in weeks: ages 4 and 11 days are 4/7 and 11/7 weeks (guards the division by
    the unit's length in days)."""
    out = tracking_comparison(_OnePerDay(), _transactions(), calibration_end="2020-01-05",
                              observation_end="2020-01-12", time_unit="W")
    np.testing.assert_allclose(out["expected_cumulative"], np.array([4.0, 11.0]) / 7)


def test_tracking_comparison_ignores_returns():
    """A negative amount is a return, not a purchase day: adding a return on 01-08 changes nothing (guards the
    ``amount >= 0`` filter)."""
    base = _transactions()
    with_return = pd.concat([base, pd.DataFrame({"customer_id": ["A"], "timestamp": pd.to_datetime(["2020-01-08"]),
                                                 "amount": [-4.0]})], ignore_index=True)
    kwargs = {"calibration_end": "2020-01-05", "observation_end": "2020-01-12", "time_unit": "D"}
    pd.testing.assert_frame_equal(tracking_comparison(_OnePerDay(), with_return, **kwargs),
                                  tracking_comparison(_OnePerDay(), base, **kwargs))


def test_ranking_metrics_by_hand_with_ties():
    """expected e = [3, 1, 3, 0], actual a = [1, 0, 0, 2].

    * AUC: buyers are rows 0 (e=3) and 3 (e=0), non-buyers rows 1 (e=1) and 2 (e=3). Pairs: 3>1 (1), 3=3 (1/2),
      0<1 (0), 0<3 (0): AUC = 1.5 / 4 = 0.375 (ranks 3.5 + 1 - 2*3/2 = 1.5, over 2*2).
    * top_share 0.25 of 4 customers = 1 customer, the first of the two e=3 rows (stable order): row 0 with
      a=1 of a total 3: capture 1/3, lift (1/3)/(1/4) = 4/3.
    * mae = mean |e - a| = (2 + 1 + 3 + 2)/4 = 2; bias = mean(e - a) = (2 + 1 + 3 - 2)/4 = 1.
    * spearman: ranks of e [3.5, 2, 3.5, 1], of a [3, 1.5, 1.5, 4]; centred [1, -0.5, 1, -1.5] and
      [0.5, -1, -1, 1.5]: sum of products -2.25, both sums of squares 4.5, rho = -2.25 / 4.5 = -0.5.

    Guards the Mann-Whitney formula (``/`` vs ``*``, ``n(n+1)/2``), every key of the result, the top-k cut and
    the spearman guard."""
    out = ranking_metrics([3.0, 1.0, 3.0, 0.0], [1.0, 0.0, 0.0, 2.0], top_share=0.25)
    assert out["auc"] == pytest.approx(0.375)
    assert out["top_capture"] == pytest.approx(1 / 3)
    assert out["top_lift"] == pytest.approx(4 / 3)
    assert out["mae"] == pytest.approx(2.0)
    assert out["bias"] == pytest.approx(1.0)
    assert out["spearman"] == pytest.approx(-0.5)
    assert out["customers"] == 4.0


def test_ranking_metrics_undefined_parts_are_nan_and_bad_input_is_refused():
    """Nobody bought again: AUC and capture are undefined (NaN), not 0 or an error; constant predictions have
    no rank correlation. Unequal lengths and NaN are refused naming the rule."""
    out = ranking_metrics([1.0, 1.0, 1.0], [0.0, 0.0, 0.0])
    assert np.isnan(out["auc"]) and np.isnan(out["top_capture"]) and np.isnan(out["spearman"])
    with pytest.raises(DataContractError) as info:
        ranking_metrics([1.0, 2.0], [1.0])
    assert info.value.rule == "equal lengths"
    with pytest.raises(DataContractError) as info:
        ranking_metrics([1.0, np.nan], [1.0, 0.0])
    assert info.value.rule == "finite values"


BG = BetaGeoModel().with_params(r=0.243, alpha=4.414, a=0.793, b=2.426)


def test_holdout_comparison_means_by_hand():
    """Group means are plain means of the rows in each group; ``expected`` is the model's conditional expectation
    per customer (two holdout durations: one call per duration). Guards the grouping, the per-duration loop and
    the ``difference`` column."""
    x = np.array([0.0, 2.0, 2.0, 9.0])
    tx = np.array([0.0, 30.0, 20.0, 38.0])
    big_t = np.array([39.0, 39.0, 39.0, 39.0])
    duration = np.array([39.0, 39.0, 20.0, 39.0])
    actual = np.array([0.0, 1.0, 3.0, 6.0])
    out = holdout_comparison(BG, x, tx, big_t, actual, duration, max_frequency=3)
    each = np.array([BG.expected_purchases(d, xi, ti, Ti) for d, xi, ti, Ti in zip(duration, x, tx, big_t,
                                                                                  strict=True)])
    assert out.loc["2", "customers"] == 2
    assert out.loc["2", "actual"] == pytest.approx(2.0)
    assert out.loc["2", "expected"] == pytest.approx(each[1:3].mean())
    assert out.loc["3+", "expected"] == pytest.approx(each[3])
    assert out.loc["all", "expected"] == pytest.approx(each.mean())
    assert out.loc["all", "difference"] == pytest.approx(each.mean() - actual.mean())


def test_holdout_comparison_refuses_bad_holdout_naming_the_column():
    """A holdout column of the wrong length or with negative counts is a contract error naming
    ``frequency_holdout`` (guards the error's arguments)."""
    with pytest.raises(DataContractError) as info:
        holdout_comparison(BG, [1.0, 0.0], [1.0, 0.0], [5.0, 5.0], [1.0], 5.0)
    assert info.value.column == "frequency_holdout" and info.value.rule == "equal lengths"
    assert "one value per customer" in str(info.value)
    with pytest.raises(DataContractError) as info:
        holdout_comparison(BG, [1.0, 0.0], [1.0, 0.0], [5.0, 5.0], [1.0, -1.0], 5.0)
    assert info.value.column == "frequency_holdout" and list(info.value.examples.index) == [1]


@pytest.mark.parametrize(("args", "column"), [
    (([1.0, 0.0], [1.0, 0.0], [5.0, 5.0], [1.0, 0.0], [5.0, -1.0]), "duration_holdout"),
    (([1.0, 0.0], [1.0, 0.0], [5.0, 5.0], [1.0, 0.0], [5.0, 5.0, 5.0]), "duration_holdout"),
    (([1.0, 0.0], [1.0, 0.0], [5.0], [1.0, 0.0], 5.0), None),  # recency and T of unequal lengths
    (([1.0, 0.0], [1.0, 0.0], [5.0, 5.0], [np.nan, 0.0], 5.0), "frequency_holdout"),
])
def test_holdout_comparison_names_the_bad_input(args, column):
    """Regression: a negative holdout duration was reported as a bad ``frequency_holdout``, and durations, recency
    or T of the wrong length (and NaN holdout counts) failed with numpy errors, not a contract error."""
    with pytest.raises(DataContractError) as info:
        holdout_comparison(BG, *args)
    assert info.value.column == column


def _fitted_bg():
    truth = BetaGeoModel().with_params(r=0.4, alpha=5.0, a=0.8, b=2.5)
    x, tx, big_t = truth.simulate(3000, T=30.0, seed=11)
    return BetaGeoModel().fit(x, tx, big_t), (x[:20], tx[:20], big_t[:20])


def test_clv_interval_with_a_fixed_spend_scales_with_it():
    """A number as spend model is the same spend per purchase for everybody: no spend parameters are drawn
    (guards the ``isinstance(spend_model, GammaGammaModel)`` test) and every draw scales linearly in the spend,
    so doubling the spend doubles every bound (same seed)."""
    bg, (x, tx, big_t) = _fitted_bg()
    kwargs = {"n_draws": 15, "seed": 2, "horizon": 26, "time_unit": "W", "discount_rate": 0.0}
    frame1, total1 = clv_interval(bg, 10.0, x, tx, big_t, **kwargs)
    frame2, total2 = clv_interval(bg, 20.0, x, tx, big_t, **kwargs)
    np.testing.assert_allclose(frame2.to_numpy(), 2 * frame1.to_numpy(), rtol=1e-12)
    assert total2["total_upper"] == pytest.approx(2 * total1["total_upper"])
    assert total1["total_lower"] <= total1["total_clv"] <= total1["total_upper"]


def test_clv_interval_draws_use_the_spend_model():
    """Each draw values spend with the (drawn) Gamma-Gamma model, as the point estimate does. Customers with one
    or two repeat purchases and an own mean spend of 5000 against a population mean near 37 are pulled far down by
    FH13 (5) (to a few hundred), so draws that used the raw ``monetary_value`` would lie 3-6 times above the point
    value. Guards passing ``None`` (raw spend) instead of the drawn spend model."""
    bg, _ = _fitted_bg()
    rng = np.random.default_rng(5)
    freq = rng.integers(1, 6, 1000).astype(float)
    spend = GammaGammaModel().with_params(p=6.0, q=50.0, gamma=300.0).simulate(freq, seed=6)
    gg = GammaGammaModel().fit(freq, spend)
    x, tx, big_t, m = np.array([1.0, 1.0, 2.0]), np.array([10.0, 20.0, 15.0]), np.full(3, 30.0), np.full(3, 5000.0)
    kwargs = {"horizon": 26, "time_unit": "W", "discount_rate": 0.0}
    frame, _ = clv_interval(bg, gg, x, tx, big_t, m, n_draws=20, seed=3, **kwargs)
    raw = customer_lifetime_value(bg, None, x, tx, big_t, m, **kwargs)["clv"].to_numpy()
    assert (frame["clv_lower"] <= frame["clv"]).all()
    assert (frame["clv_upper"] < 2 * frame["clv"]).all()
    assert (frame["clv_upper"].to_numpy() < raw).all()
