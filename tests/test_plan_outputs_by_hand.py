"""What the campaign plan hands on and reads in, against hand-computed values: activation rows, price-sensitive
tags, the plan files, the contact limit's inputs, action values from uplift models and the demo comparison.

Each test names the mutation class it guards against (issue 21, mutation score of the ``plan`` family)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.exceptions import ConfigurationError, DataContractError
from crm_models.plan import (
    NO_ACTION,
    conversion_action_values,
    plan_activation,
    price_sensitive_tags,
    remaining_contacts,
    simulate_contact_history,
    uplift_action_values,
)


def test_activation_rows_are_sorted_by_expected_value_largest_first() -> None:
    """Planned customers only, expected profit rounded to cents, largest first, holdout False when the plan has
    no holdout column, and the as-of date of a timestamp with a time is its day. Guards: the sort order flipped,
    the holdout default or the date changed."""
    assignments = pd.DataFrame({"action": ["a", NO_ACTION, "b", "a"], "channel": ["email", "", "sms", "email"],
                                "expected_profit": [1.234, 9.0, 7.5, 3.456]},
                               index=pd.Index(["x", "y", "z", "w"], name="customer_id"))
    rows = plan_activation(assignments, "2024-06-30 15:20")
    assert rows["customer_id"].tolist() == ["z", "w", "x"]
    assert rows["expected_value"].tolist() == [7.5, 3.46, 1.23]
    assert rows["channel"].tolist() == ["sms", "email", "email"]
    assert not rows["holdout"].any() and rows["holdout"].dtype == bool
    assert set(rows["as_of"]) == {"2024-06-30"}


def test_price_sensitive_tags_by_hand() -> None:
    """Best discount value per customer 4, -1, 2, 8, 6 (max over the two coupons); the 0.5 quantile is 4, so
    customers with a best value >= 4 and > 0 are tagged. An empty frame gives an empty result. Guards: the
    best taken over the wrong actions, the cut's comparison or the positive check changed."""
    values = pd.DataFrame({"c10": [4.0, -1.0, 2.0, 1.0, 6.0], "c20": [0.0, -3.0, 1.0, 8.0, 5.0],
                           "call": [99.0] * 5}, index=list("abcde"))
    tags = price_sensitive_tags(values, ["c10", "c20"], quantile=0.5, tag="deal")
    assert tags.tolist() == ["deal", "", "", "deal", "deal"]
    assert tags.name == "plan_tags"
    negative = price_sensitive_tags(-values.abs(), ["c10", "c20"], quantile=0.0)
    assert (negative == "").all(), "a customer whose best discount loses money is never tagged"
    empty = price_sensitive_tags(values.iloc[:0], ["c10"])
    assert empty.empty


def test_plan_files_need_a_folder() -> None:
    """Guards: the error text lost (it must say which parameter is missing)."""
    from crm_models.plan.export import write_plan_files

    with pytest.raises(ConfigurationError, match="customer_table"):
        write_plan_files(None, pd.DataFrame(), pd.Series(dtype=object))


HISTORY = pd.DataFrame({"customer_id": ["a", "a", "b"],
                        "timestamp": pd.to_datetime(["2024-05-31 23:59", "2024-05-02 00:00", "2024-05-01 23:59"])})


def test_remaining_contacts_window_edges_by_hand() -> None:
    """as_of 2024-05-31 (the whole day), 30 days: the window is [2024-05-02 00:00, 2024-06-01 00:00). Both of a's
    contacts are inside (one on each edge), b's lies a minute before the start. Guards: the edges' comparisons."""
    left = remaining_contacts(pd.Index(["a", "b", "c"]), HISTORY, limit=3, period_days=30, as_of="2024-05-31")
    assert left.tolist() == [1, 3, 3]


def test_remaining_contacts_errors_name_the_parameter_or_column() -> None:
    """Guards: messages and column names in errors changed, the example rows lost."""
    customers = pd.Index(["a"])
    with pytest.raises(ConfigurationError, match="limit"):
        remaining_contacts(customers, HISTORY, limit=-1, period_days=30, as_of="2024-05-31")
    with pytest.raises(ConfigurationError, match="period"):
        remaining_contacts(customers, HISTORY, limit=1, period_days=0, as_of="2024-05-31")
    long = pd.DataFrame({"customer_id": [f"c{i}" for i in range(8)]})
    with pytest.raises(DataContractError) as missing:
        remaining_contacts(customers, long, limit=1, period_days=30, as_of="2024-05-31")
    assert missing.value.column == "timestamp"
    assert 0 < len(missing.value.examples) <= 5 and "example rows" in str(missing.value)  # a few rows, not all 8
    with pytest.raises(ConfigurationError, match=r"^as_of="):
        remaining_contacts(customers, HISTORY, limit=1, period_days=30, as_of="not a date")  # names as_of itself


def test_remaining_contacts_reads_an_aware_history_in_utc() -> None:
    """A contact at 2024-06-01 01:30 in Paris (UTC+2) is 2024-05-31 23:30 UTC: inside a window ending with
    2024-05-31. Guards: the zone dropped without converting to UTC."""
    history = pd.DataFrame({"customer_id": ["a"],
                            "timestamp": pd.to_datetime(["2024-06-01 01:30"]).tz_localize("Europe/Paris")})
    assert remaining_contacts(pd.Index(["a"]), history, limit=2, period_days=7, as_of="2024-05-31").tolist() == [1]


@pytest.mark.parametrize(("bad", "named"), [({"period_days": 0}, "period_days"), ({"mean_recent": -1.0}, "mean"),
                                             ({"mean_older": -0.5}, "mean"), ({"service_share": 1.5}, "service_share")])
def test_simulated_history_refuses_bad_settings_by_name(bad, named) -> None:
    """Guards: a check dropped or the message lost (it must name the setting that is wrong)."""
    with pytest.raises(ConfigurationError, match=named):
        simulate_contact_history(["a"], "2024-06-30", **bad)


class _ExactUplift:
    """A minimal uplift learner (scikit-learn clone-able) that predicts the arm's mean outcome minus the
    control's; with outcomes that do not vary within an arm every bootstrap refit gives the same values."""

    def __init__(self, control: str = "control") -> None:
        self.control = control

    def get_params(self, deep: bool = True) -> dict[str, str]:
        return {"control": self.control}

    def set_params(self, **params):
        self.control = params.get("control", self.control)
        return self

    def fit(self, X, treatment, y):
        t, y = np.asarray(treatment), np.asarray(y, dtype=float)
        base = y[t == self.control].mean()
        self.effects_ = {arm: y[t == arm].mean() - base for arm in sorted(set(t) - {self.control})}
        return self

    def predict_frame(self, X):
        return pd.DataFrame({arm: np.full(len(X), e) for arm, e in self.effects_.items()}, index=X.index)


def test_conversion_values_are_uplift_times_order_value_times_margin() -> None:
    """Conversion 0.1 under control, 0.3 under c10 and 0.2 under c20 in every bootstrap resample (constant within
    an arm): value = uplift x order value x margin = 0.2 x 50 x 0.5 = 5 and 0.1 x 80 x 0.5 = 4, in the values and
    in every draw. Guards: the draws not scaled by the order value (or by a wrong one), the margin dropped."""
    n = 30
    t = np.array(["control", "c10", "c20"] * n)
    converted = np.where(t == "control", 0.1, np.where(t == "c10", 0.3, 0.2))
    X = pd.DataFrame({"x": np.arange(3 * n, dtype=float)})
    X_score = X.head(4)
    values, draws = conversion_action_values(_ExactUplift(), X, t, converted, {"c10": 50.0, "c20": 80.0}, X_score,
                                             margin=0.5, n_bootstrap=3, seed=2)
    np.testing.assert_allclose(values["c10"], 5.0)
    np.testing.assert_allclose(values["c20"], 4.0)
    assert draws["c10"].shape == (3, 4)
    np.testing.assert_allclose(draws["c10"], 5.0)
    np.testing.assert_allclose(draws["c20"], 4.0)
    plain, _ = uplift_action_values(_ExactUplift(), X, t, converted, X_score, margin=0.5)
    np.testing.assert_allclose(plain["c10"], 0.1)


def test_conversion_values_name_the_arm_without_an_order_value() -> None:
    """Guards: the error's text lost (it must name the arm)."""
    t = np.array(["control", "c10"] * 5)
    X = pd.DataFrame({"x": np.arange(10, dtype=float)})
    with pytest.raises(KeyError, match="c10"):
        conversion_action_values(_ExactUplift(), X, t, np.arange(10) % 2, {"other": 1.0}, X, margin=0.3)


@pytest.fixture(scope="module")
def demo():
    from crm_models.datasets import make_demo

    return make_demo(seed=2, n_customers=800)


def test_demo_comparison_customers_missing_from_the_contact_counts_are_unrestricted(demo) -> None:
    """``remaining`` lists only the first customers (with 0 contacts left); everyone else counts as
    unrestricted, so they can be planned. The customers' index is named ``customer_id``. Guards: missing
    customers filled with something other than 'unlimited' (NaN makes them ineligible), the index name lost."""
    from sklearn.linear_model import LinearRegression

    from crm_models.plan import demo_plan_comparison
    from crm_models.uplift import TLearner

    experiment, truth = demo.experiment, demo.truth["experiment"]
    ids = experiment["unit_id"].astype(str)
    remaining = pd.Series(0, index=ids.to_numpy()[:100])
    result = demo_plan_comparison(experiment, truth, budget=20.0, remaining=remaining, n_bootstrap=2, seed=1,
                                  learner=TLearner(LinearRegression(), control="control"))
    assert result.problem.customers.name == "customer_id"
    listed = result.problem.customers.isin(remaining.index)
    assert np.isinf(result.remaining[~listed]).all() and (result.remaining[listed] == 0).all()
    treated = (result.assignments["action"] != NO_ACTION).to_numpy()
    assert treated.any() and not (treated & listed).any()
    low, high = result.interval
    assert np.isfinite(low) and np.isfinite(high) and low <= high, "two bootstrap draws give an interval"
