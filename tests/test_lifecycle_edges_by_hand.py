"""Lifecycle edges by hand: parameter bounds, errors that name the column and rule, segment mappings, split
curves, and the pooled purchase-rhythm estimates of a two-customer case.

Written against the survivors of a sampled mutation run (issue 21); each test names the mutation class it
guards against. Wilson intervals are the published score interval (Wilson 1927), computed here by hand for
x of n at 95 %: 2 of 3 -> (0.2077, 0.9385), 1 of 2 -> (0.0945, 0.9055).
"""

from __future__ import annotations

import math

import ibis
import numpy as np
import pandas as pd
import pytest

from crm_models.exceptions import DataContractError
from crm_models.lifecycle import (
    KaplanMeier,
    cohort_table,
    funnel,
    normalize_stages,
    purchase_cycles,
    repurchase_rate,
    seasonality_profile,
    second_purchase_times,
)

LN2 = math.log(2.0)


def _tx(rows: list[tuple]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["customer_id", "timestamp", "amount", "channel"])
    return frame.assign(timestamp=pd.to_datetime(frame["timestamp"]))


# a: first day Jan 1 on the web, back on Jan 5 in the app; b: first day Jan 5 (a's second day) in the store;
# c: once, on the web
TX = _tx([
    ("a", "2024-01-01 10:00", 10.0, "web"), ("a", "2024-01-05 09:00", 5.0, "app"),
    ("b", "2024-01-05 12:00", 7.0, "store"), ("b", "2024-01-08 12:00", 7.0, "store"),
    ("c", "2024-01-02 08:00", 3.0, "web"),
])

EVENTS = pd.DataFrame([
    ("a", "view", "2024-01-01 10:00"), ("a", "cart", "2024-01-01 10:05"), ("a", "pay", "2024-01-01 10:20"),
    ("b", "view", "2024-01-01 09:30"),
    ("c", "view", "2024-01-02 12:00"), ("c", "cart", "2024-01-02 12:00"), ("c", "pay", "2024-01-05 12:00"),
], columns=["customer_id", "event", "timestamp"]).assign(timestamp=lambda f: pd.to_datetime(f["timestamp"]))


# --- bounds of parameters (comparison-bound mutants: `<` for `<=`) -------------------------------------------

@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_alpha_of_zero_or_one_is_refused(alpha: float) -> None:
    """alpha = 1 gives a 0 % interval; a `< 1` relaxed to `<= 1` would let it through."""
    with pytest.raises(ValueError, match="alpha"):
        cohort_table(TX, alpha=alpha)


def test_a_conversion_window_of_zero_is_refused_naming_it() -> None:
    """A zero window counts nobody past the entry; `window <= 0` relaxed to `< 0` would accept it."""
    with pytest.raises(ValueError, match="window"):
        funnel(EVENTS, ["view", "cart"], window="0D")
    assert funnel(EVENTS, ["view", "cart"], window="1s")["customers"].tolist() == [3, 1]  # c's tie at 0 s


def test_stage_labels_that_collide_as_text_are_refused() -> None:
    """Labels 1 and "1" are the same text; the error says labels (message mutants)."""
    with pytest.raises(ValueError, match="labels"):
        normalize_stages({1: "view", "1": "cart"})


def test_negative_weights_are_refused() -> None:
    """`or` turned into `and` in the weight check would accept a negative count."""
    with pytest.raises(ValueError, match="weights"):
        KaplanMeier().fit([1.0, 2.0], [1, 1], weights=[1, -1])


# --- errors name the column and the rule (keyword and string mutants) -----------------------------------------

def test_no_purchases_error_names_the_amount_column() -> None:
    only_returns = TX.assign(amount=-1.0)
    with pytest.raises(DataContractError, match="no purchases") as error:
        cohort_table(only_returns)
    assert error.value.column == "amount" and error.value.rule == "at least one purchase"


def test_too_few_repeat_buyers_error_names_the_customer_column() -> None:
    with pytest.raises(DataContractError) as error:
        purchase_cycles(TX.loc[TX["customer_id"] != "b"], observation_end="2024-01-31")
    assert error.value.column == "customer_id"


def test_segment_mappings_are_checked_naming_the_rule() -> None:
    with pytest.raises(DataContractError) as error:
        seasonality_profile(TX, by=["web", "store"])
    assert error.value.column == "by" and error.value.rule == "customer -> segment mapping"
    twice = pd.Series(["new", "loyal"], index=["a", "a"])
    with pytest.raises(DataContractError) as error:
        seasonality_profile(TX, by=twice)
    assert error.value.column == "customer_id" and error.value.rule == "one segment per customer"
    assert list(error.value.examples.columns) == ["segment"]  # the ids themselves are not shown


def test_a_frame_with_exactly_customer_id_and_segment_is_a_mapping() -> None:
    """`<=` (subset) turned into `<` (proper subset) would refuse the plainest mapping frame."""
    mapping = pd.DataFrame({"customer_id": ["a", "b"], "segment": ["new", "loyal"]})
    profile = seasonality_profile(TX, unit="weekday", by=mapping, observation_end="2024-01-31")
    assert sorted(profile["segment"].unique()) == ["(none)", "loyal", "new"]  # c has no segment
    assert profile.groupby("segment")["purchases"].sum().to_dict() == {"(none)": 1, "loyal": 2, "new": 2}


# --- seasonality: empty slots ---------------------------------------------------------------------------------

def test_empty_slots_have_no_purchases_and_no_customers() -> None:
    """A fill of 1 instead of 0 for slots without purchases would invent customers."""
    profile = seasonality_profile(TX, unit="weekday", observation_end="2024-01-31").set_index("label")
    # Mon Jan 1 (a), Tue Jan 2 (c), Fri Jan 5 (a, b), Mon Jan 8 (b)
    assert profile["purchases"].tolist() == [2, 1, 0, 0, 2, 0, 0]
    assert profile["customers"].tolist() == [2, 1, 0, 0, 2, 0, 0]


# --- funnels: segments and intervals ---------------------------------------------------------------------------

def test_customers_outside_the_mapping_form_the_none_segment() -> None:
    result = funnel(EVENTS, ["view", "cart", "pay"], by=pd.Series({"a": "new", "b": "new"}))
    none = result.loc[result["segment"] == "(none)"]
    assert none["customers"].tolist() == [1, 1, 1]  # c
    assert result.loc[result["segment"] == "new", "customers"].tolist() == [2, 1, 1]


def test_conversion_from_start_carries_its_wilson_interval() -> None:
    """The interval of conversion_from_start: 2 of 3 at pay (from_start passed as None, or arguments shifted,
    would change it)."""
    result = funnel(EVENTS, ["view", "cart", "pay"])
    pay = result.iloc[2]
    assert pay["conversion_from_start"] == pytest.approx(2 / 3)
    assert pay["conversion_from_start_lower"] == pytest.approx(0.2076596, abs=1e-6)
    assert pay["conversion_from_start_upper"] == pytest.approx(0.9385081, abs=1e-6)
    assert result.iloc[0]["conversion_from_start_lower"] == pytest.approx(0.4385030, abs=1e-6)  # 3 of 3


# --- second purchase times: groups -----------------------------------------------------------------------------

def test_first_day_value_is_the_customers_own_first_day() -> None:
    """The join of purchase rows onto first days must be on the customer: a's app purchase on Jan 5 falls on b's
    first day, and a join without the key would give a the group 'app' (the smaller text)."""
    times = second_purchase_times(TX, observation_end="2024-01-31", by="channel")
    assert times["group"].to_dict() == {"a": "web", "b": "store", "c": "web"}
    assert times["repurchased"].dtype == bool  # the documented dtype (astype(None) would give float)


def test_split_by_a_customer_mapping_labels_the_rest_none() -> None:
    times = second_purchase_times(TX, observation_end="2024-01-31", by=pd.Series({"a": "new", "c": "new"}))
    assert times["group"].to_dict() == {"a": "new", "b": "(none)", "c": "new"}
    assert times["duration"].tolist() == [4.0, 3.0, 29.0]


def test_repurchase_rate_is_given_per_group() -> None:
    """web: a came back after 4 days, c never (observed 29 days) -> 1 of 2; store: b after 3 days -> 1 of 1."""
    rate = repurchase_rate(second_purchase_times(TX, observation_end="2024-01-31", by="channel"), within_days=10)
    assert list(rate.index) == ["store", "web"]
    assert rate.loc["web", ["eligible", "repurchased_within"]].tolist() == [2, 1]
    assert rate.loc["web", "rate"] == 0.5 and rate.loc["store", "rate"] == 1.0
    assert rate.loc["web", "rate_lower"] == pytest.approx(0.0945312, abs=1e-6)
    assert rate.loc["web", "km_rate"] == pytest.approx(0.5)  # a's event at 4 among a and c at risk


# --- purchase cycles: the population values by hand -------------------------------------------------------------

def test_population_rhythm_by_hand() -> None:
    """a buys on Jan 1, 3, 7 (gaps 2, 4 days), b on Jan 1, 9 (gap 8). On the log2 scale ybar_a = 1.5, ybar_b = 3:
    mu = 2.25 log 2; within sum of squares (1 + 4 - 2 * 1.5^2) = 0.5 on 1 degree of freedom -> sigma^2 = 0.5
    (log 2)^2; tau^2 = var(1.5, 3) - mean(sigma^2 / n) = 1.125 - 0.375 = 0.75 (log 2)^2."""
    tx = _tx([("a", "2024-01-01", 1.0, "web"), ("a", "2024-01-03", 1.0, "web"), ("a", "2024-01-07", 1.0, "web"),
              ("b", "2024-01-01", 1.0, "web"), ("b", "2024-01-09", 1.0, "web")])
    cycles = purchase_cycles(tx, observation_end="2024-01-31")
    population = cycles.attrs["population"]
    assert set(population) == {"mu", "sigma2", "tau2", "usual_interval"}
    assert population["mu"] == pytest.approx(2.25 * LN2)
    assert population["sigma2"] == pytest.approx(0.5 * LN2**2)
    assert population["tau2"] == pytest.approx(0.75 * LN2**2)
    assert population["usual_interval"] == pytest.approx(2**2.25)
    # w_a = 2 / (2 + sigma2 / tau2) = 2 / (2 + 2/3) = 0.75, w_b = 1 / (1 + 2/3) = 0.6
    assert cycles["shrinkage_weight"].to_numpy() == pytest.approx([0.75, 0.6])
    assert np.log2(cycles["usual_interval"].to_numpy()) == pytest.approx([0.75 * 1.5 + 0.25 * 2.25,
                                                                          0.6 * 3 + 0.4 * 2.25])


# --- the backend argument (keyword dropped: the default connection would run the query) ---------------------

@pytest.mark.parametrize("run", [
    lambda tx, con: cohort_table(tx, backend=con),
    lambda tx, con: purchase_cycles(tx, backend=con),
    lambda tx, con: seasonality_profile(tx, backend=con),
    lambda tx, con: second_purchase_times(tx, backend=con),
    lambda tx, con: funnel(EVENTS, ["view", "cart"], backend=con),
], ids=["cohort_table", "purchase_cycles", "seasonality_profile", "second_purchase_times", "funnel"])
def test_pandas_input_runs_on_the_backend_given(run) -> None:
    """``backend=`` is where a pandas frame is registered and the aggregation runs: the frame must appear on
    that connection (with the argument dropped it would go to a new default connection instead)."""
    con = ibis.duckdb.connect()
    run(TX, con)
    tables = con.con.execute("select table_name from information_schema.tables").fetchall()
    assert tables  # how many tables the engine registers there is its own business


def test_a_window_with_a_fraction_of_a_second_is_not_cut_to_whole_seconds() -> None:
    """Regression: the window was cut to whole seconds, so "1500ms" acted as 1 s and "500ms" as 0 s. a pays
    1.2 s after the view, b 0.4 s after it."""
    events = pd.DataFrame({
        "customer_id": ["a", "a", "b", "b"], "event": ["view", "pay", "view", "pay"],
        "timestamp": pd.to_datetime(["2024-01-01 10:00:00", "2024-01-01 10:00:01.200",
                                     "2024-01-01 10:00:00", "2024-01-01 10:00:00.400"], format="ISO8601"),
    })
    assert funnel(events, ["view", "pay"], window="1500ms")["customers"].tolist() == [2, 2]
    assert funnel(events, ["view", "pay"], window="500ms")["customers"].tolist() == [2, 1]
    assert funnel(events, ["view", "pay"], window="1s")["customers"].tolist() == [2, 1]


# --- Kaplan-Meier against a textbook table ------------------------------------------------------------------------

def test_kaplan_meier_reproduces_the_6mp_remission_table() -> None:
    """The 6-MP arm of Freireich et al. (1963), weeks in remission (censored ones marked 0), as tabulated by
    Klein & Moeschberger (2003), *Survival Analysis*, 2nd ed., Table 4.1B: S(t) and Greenwood standard errors at
    the relapse times, to the table's three decimals. The log(-log) interval is checked against K&M eq. 4.3.2
    written the textbook's way, [S^(1/theta), S^theta] with theta = exp(z sigma_S / log S)."""
    weeks = [6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35]
    relapse = [1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]
    curve = KaplanMeier().fit(weeks, relapse).survival_function_
    at = curve.loc[[6.0, 7.0, 10.0, 13.0, 16.0, 22.0, 23.0]]
    assert at["survival"].round(3).tolist() == [0.857, 0.807, 0.753, 0.690, 0.627, 0.538, 0.448]
    standard_error = at["survival"] * np.sqrt(at["greenwood"])
    assert standard_error.round(3).tolist() == [0.076, 0.087, 0.096, 0.107, 0.114, 0.128, 0.135]
    theta = np.exp(1.959963984540054 * np.sqrt(at["greenwood"]) / np.log(at["survival"]))
    assert at["lower"].to_numpy() == pytest.approx((at["survival"] ** (1 / theta)).to_numpy(), rel=1e-12)
    assert at["upper"].to_numpy() == pytest.approx((at["survival"] ** theta).to_numpy(), rel=1e-12)
