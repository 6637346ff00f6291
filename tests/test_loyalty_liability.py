"""Points liability: face value, historical breakage, and the forecast of redemption and expiry."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.clv import BetaGeoModel
from crm_models.exceptions import ConfigurationError, DataContractError
from crm_models.loyalty import build_ledger, forecast_points, historical_breakage, points_liability

ISSUE = pd.DataFrame({"customer_id": pd.array(["a", "a"], dtype="string"),
                      "timestamp": pd.to_datetime(["2024-01-15 10:00", "2024-06-01 12:00"]),
                      "amount": [100.0, 50.0]})


class PoissonStub:
    """A purchase model with a known answer: alive with probability ``alive``, ``rate`` purchases a day if so."""

    def __init__(self, rate: float, alive: float = 1.0) -> None:
        self.rate, self.alive = rate, alive

    def probability_alive(self, frequency, recency, T):
        return np.full(np.shape(frequency), self.alive)

    def expected_purchases(self, t, frequency, recency, T):
        return self.alive * self.rate * np.asarray(t, dtype=float) * np.ones(np.shape(frequency))


SUMMARY = pd.DataFrame({"frequency": [1.0], "recency": [138.0], "T": [351.0]},
                       index=pd.Index(["a"], name="customer_id", dtype="string"))


def test_liability_at_face_value_and_historical_breakage():
    redemptions = pd.DataFrame({"customer_id": pd.array(["a"], dtype="string"),
                                "timestamp": pd.to_datetime(["2024-07-01"]), "points": [30.0]})
    ledger = build_ledger(ISSUE, as_of="2025-03-01", redemptions=redemptions)
    liability = points_liability(ledger, point_value=0.01)
    # 30 of January's 100 redeemed, 70 expired on 15 January 2025, June's 50 outstanding
    assert liability["points_outstanding"] == 50
    assert liability["liability_at_face_value"] == pytest.approx(0.5)
    assert liability["historical_breakage"] == pytest.approx(0.7)
    assert liability["liability_net_of_historical_breakage"] == pytest.approx(0.5 * 0.3)


def test_breakage_is_unknown_without_redemptions():
    ledger = build_ledger(ISSUE, as_of="2025-03-01")
    assert np.isnan(historical_breakage(ledger))  # 100% expired only because the data have no redemptions
    liability = points_liability(ledger, point_value=0.01)
    assert liability["liability_net_of_historical_breakage"] == liability["liability_at_face_value"] == 0.5
    with pytest.raises(ConfigurationError, match="point_value"):
        points_liability(ledger, point_value=-1)


def test_forecast_matches_hand_computation_with_a_known_purchase_rate():
    ledger = build_ledger(ISSUE, as_of="2024-12-31")  # both lots outstanding: expire 15 Jan and 1 Jun 2025
    rate, share = 0.1, 0.5
    forecast = forecast_points(ledger, PoissonStub(rate), SUMMARY, redemption_share=share, point_value=0.01)

    def survival(days):  # P(a point is not redeemed within `days`) = exp(-share * rate * days)
        return np.exp(-share * rate * days)

    january_lot, june_lot = 14, 151  # days from 1 Jan 2025 (the end of as_of) to each expiry
    expected_expired = 100 * survival(january_lot) + 50 * survival(june_lot)
    totals = forecast.totals
    assert totals["points_outstanding"] == 150
    assert totals["expected_expired"] == pytest.approx(expected_expired)
    assert totals["expected_redeemed"] == pytest.approx(150 - expected_expired)
    assert totals["booked_liability"] == pytest.approx((150 - expected_expired) * 0.01)
    schedule = forecast.schedule
    assert schedule.index[0] == pd.Timestamp("2025-01-01") and schedule.index[-1] == pd.Timestamp("2025-05-01")
    january = 100 * (1 - survival(january_lot)) + 50 * (1 - survival(31))
    february = 50 * (survival(31) - survival(59))
    assert schedule.loc["2025-01-01", "expected_redeemed"] == pytest.approx(january)
    assert schedule.loc["2025-02-01", "expected_redeemed"] == pytest.approx(february)
    assert schedule.loc["2025-01-01", "expected_expired"] == pytest.approx(100 * survival(january_lot))
    # June's lot expires at the start of 1 June: counted in May, the last month it can be used
    assert schedule.loc["2025-05-01", "expected_expired"] == pytest.approx(50 * survival(june_lot))
    assert schedule["expected_redeemed"].sum() == pytest.approx(totals["expected_redeemed"])


def test_forecast_counts_dead_customers_as_never_redeeming():
    ledger = build_ledger(ISSUE, as_of="2024-12-31")
    alive = 0.4
    forecast = forecast_points(ledger, PoissonStub(0.1, alive=alive), SUMMARY, redemption_share=0.5,
                               point_value=0.01)
    survival = 1 - alive + alive * np.exp(-0.5 * 0.1 * 14)
    assert forecast.per_customer.loc["a", "expected_expired"] == pytest.approx(
        100 * survival + 50 * (1 - alive + alive * np.exp(-0.5 * 0.1 * 151)))


def test_points_that_never_expire_stay_outstanding_beyond_the_horizon():
    ledger = build_ledger(ISSUE, as_of="2024-12-31", expiry_months=None)
    forecast = forecast_points(ledger, PoissonStub(0.01), SUMMARY, redemption_share=0.5, point_value=0.01,
                               horizon_days=100)
    left = 150 * np.exp(-0.5 * 0.01 * 100)
    assert forecast.totals["expected_expired"] == 0
    assert forecast.totals["expected_outstanding_at_horizon"] == pytest.approx(left)
    assert forecast.totals["expected_redeemed"] == pytest.approx(150 - left)


def test_forecast_with_a_fitted_bg_nbd_model(rng):
    truth = BetaGeoModel().with_params(r=0.25, alpha=4.0, a=0.8, b=2.5)
    x, tx, T = truth.simulate(2_000, T=52.0, seed=3)
    ids = pd.Index([f"c{i}" for i in range(len(x))], name="customer_id", dtype="string")
    summary = pd.DataFrame({"frequency": x, "recency": tx, "T": T}, index=ids)
    model = BetaGeoModel().fit_from_summary(summary)
    days = rng.integers(0, 365, size=3_000)
    transactions = pd.DataFrame({
        "customer_id": pd.array(rng.choice(ids.to_numpy(), size=3_000), dtype="string"),
        "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D"),
        "amount": rng.gamma(2.0, 15.0, size=3_000).round(2) + 1,
    })
    ledger = build_ledger(transactions, as_of="2024-12-31")
    results = {share: forecast_points(ledger, model, summary, redemption_share=share, point_value=0.01,
                                      time_unit="W") for share in (0.2, 0.8)}
    for forecast in results.values():
        totals = forecast.totals
        assert totals["expected_redeemed"] + totals["expected_expired"] == pytest.approx(
            totals["points_outstanding"])
        assert 0 < totals["expected_breakage"] < 1
        assert forecast.schedule["expected_expired"].sum() == pytest.approx(totals["expected_expired"])
    assert results[0.8].totals["expected_breakage"] < results[0.2].totals["expected_breakage"]


def test_forecast_needs_every_holder_in_the_summary():
    ledger = build_ledger(ISSUE, as_of="2024-12-31")
    other = SUMMARY.rename(index={"a": "b"})
    with pytest.raises(DataContractError, match="not in the customer summary"):
        forecast_points(ledger, PoissonStub(0.1), other, redemption_share=0.5, point_value=0.01)
    with pytest.raises(ConfigurationError, match="redemption_share"):
        forecast_points(ledger, PoissonStub(0.1), SUMMARY, redemption_share=0.0, point_value=0.01)
