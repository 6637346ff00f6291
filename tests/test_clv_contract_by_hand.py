"""The CLV models' data contract: every refusal names the column, the rule and the offending rows (issue 21).

Mutation testing showed that the existing tests check the *rule* of most refusals but not the column, the example
rows or the edges of the checks (frequency 1 counts as a repeat buyer; a negative survivor count). Each test names
the mutation class it guards against; messages are checked for the column or rule they name, not word for word.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.clv import BetaGeoModel, GammaGammaModel, ShiftedBetaGeoModel, ltv_cac
from crm_models.clv._base import check_summary_arrays
from crm_models.clv.shifted_beta_geo import survivors_to_tenure
from crm_models.exceptions import DataContractError


def _refusal(call, *args, **kwargs) -> DataContractError:
    with pytest.raises(DataContractError) as info:
        call(*args, **kwargs)
    return info.value


@pytest.mark.parametrize(
    ("frequency", "recency", "T", "column", "rule", "bad_row"),
    [
        ([1, 2, 0], [1.0, 2.0, 0.0], [5.0, np.inf, 5.0], "T", "finite values", 1),
        ([1, -2, 0], [1.0, 0.0, 0.0], [5.0, 5.0, 5.0], "frequency", "frequency >= 0", 1),
        ([1, 2, 0.5], [1.0, 2.0, 0.0], [5.0, 5.0, 5.0], "frequency", "frequency is an integer", 2),
        ([1, 2, 0], [1.0, -2.0, 0.0], [5.0, 5.0, 5.0], "recency", "recency >= 0", 1),
        ([1, 2, 0], [1.0, 2.0, 0.0], [5.0, 1.5, 5.0], "recency", "recency <= T", 1),
        ([1, 2, 0], [1.0, 2.0, 3.0], [5.0, 5.0, 5.0], "recency", "recency == 0 when frequency == 0", 2),
    ],
)
def test_summary_refusals_name_column_rule_and_rows(frequency, recency, T, column, rule, bad_row):
    """Guards the ``column=`` and ``rule=`` arguments (dropped, ``None`` or renamed), the example rows (mask
    replaced by ``None``, columns dropped or renamed) and the message (``None``)."""
    error = _refusal(check_summary_arrays, frequency, recency, T)
    assert error.column == column and error.rule == rule
    assert list(error.examples.columns) == ["frequency", "recency", "T"]
    assert list(error.examples.index) == [bad_row]
    assert column in str(error).split("\n")[0]  # the message itself names the column


def test_no_customers_and_wrong_lengths_are_refused():
    """Guards the column and rule of the empty-input and length checks."""
    error = _refusal(check_summary_arrays, [], [], [])
    assert error.column == "frequency" and error.rule == "at least one customer"
    error = _refusal(check_summary_arrays, [1, 0], [1.0, 0.0], [5.0])
    assert error.rule == "equal lengths" and "(got 2, 2, 1)" in str(error)


def test_non_numeric_and_two_dimensional_input_name_the_column():
    """Text is refused as non-numeric naming the column (guards ``dtype=float`` dropped from the conversion, which
    lets strings through to a numpy TypeError); a DataFrame or a 2-D array is refused as not one column."""
    error = _refusal(check_summary_arrays, [1, 0], [1.0, 0.0], ["5", "five"])
    assert error.column == "T" and error.rule == "numeric values"
    error = _refusal(check_summary_arrays, [1, 0], pd.DataFrame({"a": [1.0, 0.0]}), [5.0, 5.0])
    assert error.column == "recency" and error.rule == "one-dimensional"
    error = _refusal(check_summary_arrays, np.ones((2, 2)), [1.0, 0.0], [5.0, 5.0])
    assert error.column == "frequency" and error.rule == "one-dimensional"


def test_one_repeat_purchase_is_enough_to_fit():
    """Customers with exactly one repeat purchase are repeat buyers: a summary whose largest frequency is 1 passes
    the check (guards ``x > 0`` mutated to ``x > 1``), zero-weight rows do not count as repeat buyers, and the
    returned arrays are the inputs as floats with recency capped at T."""
    x, tx, big_t, w = check_summary_arrays([1, 0, 1], [2.0, 0.0, 3.0], [5.0, 4.0, 3.0])
    np.testing.assert_array_equal(big_t, [5.0, 4.0, 3.0])
    np.testing.assert_array_equal(x, [1.0, 0.0, 1.0])
    np.testing.assert_array_equal(tx, [2.0, 0.0, 3.0])
    np.testing.assert_array_equal(w, [1.0, 1.0, 1.0])
    error = _refusal(check_summary_arrays, [1, 0], [2.0, 0.0], [5.0, 5.0], weights=[0.0, 3.0])
    assert error.rule == "at least one customer with frequency > 0"


def test_weights_are_checked_naming_weights():
    """Guards the weight checks: wrong length, negative or NaN weights (with example rows) and a zero total."""
    args = ([1, 0], [2.0, 0.0], [5.0, 5.0])
    assert _refusal(check_summary_arrays, *args, weights=[1.0]).rule == "equal lengths"
    error = _refusal(check_summary_arrays, *args, weights=[1.0, -1.0])
    assert error.column == "weights" and error.rule == "weights >= 0" and list(error.examples.index) == [1]
    assert _refusal(check_summary_arrays, *args, weights=[np.nan, 1.0]).rule == "weights >= 0"
    assert _refusal(check_summary_arrays, *args, weights=[0.0, 0.0]).rule == "sum of weights > 0"


def test_spend_refusals_name_the_column_and_rows():
    """Gamma-Gamma inputs: guards the columns named by the finite-value, integer and positive-spend checks (at fit
    time and at prediction time) and the example rows."""
    error = _refusal(GammaGammaModel().fit, [1, 2], [10.0, np.nan])
    assert error.column == "monetary_value" and error.rule == "finite values" and list(error.examples.index) == [1]
    assert "monetary_value" in str(error).split("\n")[0]
    error = _refusal(GammaGammaModel().fit, [1, 2.5], [10.0, 5.0])
    assert error.column == "frequency" and list(error.examples.index) == [1]
    error = _refusal(GammaGammaModel().fit, pd.DataFrame({"f": [1, 2]}), [10.0, 5.0])
    assert error.column == "frequency"
    gg = GammaGammaModel().with_params(p=6.25, q=3.74, gamma=15.44)
    error = _refusal(gg.expected_spend, [0, 3], [0.0, -1.0])
    assert error.column == "monetary_value" and error.rule == "monetary_value > 0 when frequency > 0"
    assert list(error.examples.index) == [1]
    assert _refusal(gg.expected_spend, [1, 2], [10.0]).rule == "equal lengths"


@pytest.mark.parametrize(("weights", "rule", "rows"), [
    ([1.0], "equal lengths", None),
    ([1.0, -5.0, 1.0], "weights >= 0", [1]),
    ([1.0, np.nan, 1.0], "weights >= 0", [1]),
    ([5.0, 0.0, 0.0], "sum of weights > 0", None),  # the only weighted row is not a repeat buyer
])
def test_spend_weights_are_checked_naming_weights(weights, rule, rows):
    """Regression: Gamma-Gamma weights were not checked: a negative weight was fitted as it is, and a list of the
    wrong length failed with a numpy IndexError."""
    error = _refusal(GammaGammaModel().fit, [0, 2, 3], [0.0, 20.0, 15.0], weights=weights)
    assert error.column == "weights" and error.rule == rule
    if rows is not None:
        assert list(error.examples.index) == rows


def test_tenure_refusals_name_the_column_and_rows():
    """sBG inputs: guards the example rows of the tenure check and the weights check."""
    error = _refusal(ShiftedBetaGeoModel().fit, [1, -1, 2], [1, 0, 0])
    assert error.column == "tenure" and list(error.examples.index) == [1]
    assert list(error.examples.columns) == ["tenure", "churned"]
    error = _refusal(ShiftedBetaGeoModel().fit, [0, 2], [1, 0])
    assert error.rule == "tenure >= 1 when churned" and list(error.examples.index) == [0]
    error = _refusal(ShiftedBetaGeoModel().fit, [1, 2], [1, 0], [1.0, -1.0])
    assert error.column == "weights" and "weights" in str(error).split("\n")[0]
    assert _refusal(ShiftedBetaGeoModel().fit, [1, 2], [0, 0]).rule == "at least one churned customer"


def test_survivor_table_refuses_negative_counts():
    """A negative survivor count is refused even when the table is non-increasing (guards the ``s < 0`` part of
    the check, which the non-increasing test alone does not cover), naming the ``survivors`` column."""
    error = _refusal(survivors_to_tenure, [10, 5, -1])
    assert error.column == "survivors" and error.rule == "non-increasing counts"
    assert _refusal(survivors_to_tenure, [10]).rule == "at least two periods"
    assert _refusal(survivors_to_tenure, [10, np.nan]).column == "survivors"


def test_survivor_table_by_hand():
    """[100, 60, 45, 45]: 40 churn in period 1, 15 in period 2, none in period 3 (dropped: zero weight), 45 are
    censored at period 3. Guards the row layout, the censored row and the zero-weight filter."""
    rows = survivors_to_tenure([100, 60, 45, 45])
    assert rows.to_dict("list") == {"tenure": [1, 2, 3], "churned": [1, 1, 0], "weight": [40.0, 15.0, 45.0]}


def test_ltv_cac_refusals_name_the_rule():
    """Guards the rule and column of the two ``ltv_cac`` refusals."""
    clv = pd.Series([1.0, 2.0], index=["a", "b"])
    error = _refusal(ltv_cac, clv, pd.Series([1.0], index=["z"]), pd.Series(["x"], index=["z"]))
    assert error.rule == "aligned indexes"
    error = _refusal(ltv_cac, clv, pd.Series([1.0, -2.0], index=["a", "b"]), pd.Series(["x", "y"], index=["a", "b"]))
    assert error.column == "acquisition_cost" and error.rule == "acquisition_cost >= 0"


def test_ltv_cac_means_and_zero_cost_by_hand():
    """Two groups: g1 = a, b (clv 10, 30; cac 5, 15), g2 = c (clv 8, cac 0). Guards every aggregate column (sum vs
    mean, clv vs cac) and the NaN ratio for a zero cost; the group with a ratio comes first."""
    idx = ["a", "b", "c"]
    out = ltv_cac(pd.Series([10.0, 30.0, 8.0], index=idx), pd.Series([5.0, 15.0, 0.0], index=idx),
                  pd.Series(["g1", "g1", "g2"], index=idx, name="cohort"))
    assert out.index.name == "cohort" and list(out.index) == ["g1", "g2"]
    assert out.loc["g1"].to_dict() == {"customers": 2, "total_clv": 40.0, "mean_clv": 20.0, "total_cac": 20.0,
                                       "mean_cac": 10.0, "ltv_cac": 2.0}
    assert np.isnan(out.loc["g2", "ltv_cac"])


def test_fit_from_summary_names_the_missing_column():
    """Guards the column reported for a missing summary column (purchase and spend models)."""
    frame = pd.DataFrame({"frequency": [1, 0], "recency": [1.0, 0.0]})
    assert _refusal(BetaGeoModel().fit_from_summary, frame).column == "T"
    assert _refusal(GammaGammaModel().fit_from_summary, frame).column == "monetary_value"
