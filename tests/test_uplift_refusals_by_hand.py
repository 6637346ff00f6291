"""Refusals of the uplift family name what went wrong and what to do (issue 21: surviving mutants replaced an
error message by ``None`` or broke the fallback of a comparison that numpy refuses).

Each test names the mutation class it guards against. Messages are checked for the class, the parameter or the
column and the rule, not for whole sentences.
"""

from __future__ import annotations

import numpy as np
import pytest

from crm_models.exceptions import DataContractError, NotFittedError
from crm_models.uplift import DRLearner, SLearner, TLearner, XLearner
from crm_models.uplift._base import check_treatment
from crm_models.uplift.compare import LearnerComparison
from crm_models.uplift.targeting import TargetingPolicy


class _Constant:
    """A minimal learner: uplift 0 for everybody."""

    method_name = "constant"

    def __init__(self, control=0):
        self.control = control

    def get_params(self, deep=False):
        return {"control": self.control}

    def set_params(self, **params):
        self.control = params.get("control", self.control)
        return self

    def fit(self, X, treatment, y):
        return self

    def predict(self, X):
        return np.zeros(len(X))


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: LearnerComparison([_Constant()]).evaluation("a"), "LearnerComparison"),
        (lambda: DRLearner().summary, "DRLearner"),
        (lambda: TargetingPolicy(cost=1.0, value=10.0).decide([0.1]), "TargetingPolicy"),
        (lambda: SLearner().predict(np.zeros((2, 1))), "SLearner"),
        (lambda: TLearner().predict(np.zeros((2, 1))), "TLearner"),
        (lambda: XLearner().predict(np.zeros((2, 1))), "XLearner"),
    ],
)
def test_not_fitted_errors_name_the_object_and_the_fit_call(call, name) -> None:
    """Guards ``NotFittedError("<Class> is not fitted; call fit(...) first")`` -> ``NotFittedError(None)``."""
    with pytest.raises(NotFittedError) as err:
        call()
    text = str(err.value)
    assert name in text and "fit(" in text


def test_a_control_label_numpy_cannot_compare_is_refused_as_a_missing_control() -> None:
    """Guards the fallback ``is_control = np.zeros(t.size, dtype=bool)`` when numpy refuses ``t == control``
    (a list of two labels against five units does not broadcast): the caller gets the contract error naming the
    ``treatment`` column and the rule, not numpy's broadcasting or a ``TypeError`` from a broken fallback."""
    with pytest.raises(DataContractError) as err:
        check_treatment(np.array([0, 1, 0, 1, 1]), control=[0, 1])
    assert err.value.column == "treatment" and err.value.rule == "control label present"
    assert "control=" in str(err.value)


def test_all_control_is_refused_naming_the_treatment_column() -> None:
    """Guards ``column=name`` -> ``column=None`` in the "every unit is in the control group" refusal."""
    with pytest.raises(DataContractError) as err:
        check_treatment(np.array([0, 0, 0]), control=0)
    assert err.value.column == "treatment" and err.value.rule == "at least one treated unit"
    with pytest.raises(DataContractError) as err:
        check_treatment(np.array(["c", "c"]), control="c", name="arm")
    assert err.value.column == "arm"


def test_arms_with_labels_of_mixed_types_are_sorted_by_type_then_value() -> None:
    """Guards the sort key ``(str(type(v)), v)`` -> ``None``: labels of mixed types (an object column holding
    numbers and text) cannot be compared with each other, so the arms are ordered by type name, then value."""
    _, arms = check_treatment(np.array([0, "b", 2, 0, "a", 1], dtype=object), control=0)
    assert arms == [1, 2, "a", "b"]
