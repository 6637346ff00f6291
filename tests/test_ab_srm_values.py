"""Sample-ratio-mismatch test by hand (issue 21, mutation testing of ``ab/srm``).

Pearson's chi-square goodness of fit: ``sum (O - E)^2 / E``; with one degree of freedom its p-value is
``2 (1 - Phi(sqrt(X^2)))``, with two it is ``exp(-X^2 / 2)`` (the chi-square(2) survival function).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crm_models.ab import srm_test
from crm_models.ab.srm import SRMResult
from crm_models.exceptions import DataContractError


def test_two_arms_by_hand_and_the_default_threshold():
    """5155 / 4845 of 10000: X^2 = 2 * 155^2 / 5000 = 9.61, p = 2 (1 - Phi(3.1)) = 0.00194 >= 0.001 (passes);
    5175 / 4825: X^2 = 12.25, p = 2 (1 - Phi(3.5)) = 0.000465 (fails). Guards the default threshold 0.001."""
    ok = srm_test({"control": 5155, "treatment": 4845})
    assert ok.statistic == pytest.approx(9.61)
    assert ok.p_value == pytest.approx(2 * stats.norm.sf(3.1), rel=1e-9)
    assert ok.threshold == 0.001 and ok.passed
    bad = srm_test({"control": 5175, "treatment": 4825})
    assert bad.statistic == pytest.approx(12.25)
    assert bad.p_value == pytest.approx(2 * stats.norm.sf(3.5), rel=1e-9)
    assert not bad.passed
    assert srm_test({"control": 5155, "treatment": 4845}, threshold=0.01).passed is False


def test_three_arms_by_hand():
    """30 / 50 / 20 against an equal split: X^2 = (3.33^2 + 16.67^2 + 13.33^2) / 33.33 = 14, p = exp(-7)."""
    res = srm_test({"a": 30, "b": 50, "c": 20})
    assert res.statistic == pytest.approx(14.0)
    assert res.p_value == pytest.approx(math.exp(-7.0), rel=1e-9)
    assert res.expected.tolist() == pytest.approx([100 / 3] * 3)
    assert res.observed.tolist() == [30, 50, 20] and res.observed.dtype.kind == "i"


def test_planned_allocation_is_normalised_and_used():
    """Allocation 1 : 3 (not summing to one) -> expected 5000 / 15000; 5300 / 14700 -> X^2 = 90^2 (1/5000 + 1/15000)."""
    res = srm_test({"control": 5300, "treatment": 14700}, {"control": 1, "treatment": 3})
    assert res.expected.to_dict() == pytest.approx({"control": 5000.0, "treatment": 15000.0})
    assert res.statistic == pytest.approx(300**2 / 5000 + 300**2 / 15000)
    # order of the allocation mapping does not matter: it is aligned to the observed arms by name
    again = srm_test({"control": 5300, "treatment": 14700}, {"treatment": 3, "control": 1})
    assert again.statistic == pytest.approx(res.statistic)


def test_an_arm_planned_at_zero_share():
    """An empty arm planned at 0 is left out of the test; a unit in it is a certain mismatch.

    Regression: with units in the zero-share arm, scipy's chisquare was called first and raised (the kept arms
    then hold fewer units than expected), so the "certain mismatch" branch was never reached."""
    plan = {"a": 0.5, "b": 0.5, "c": 0.0}
    fine = srm_test({"a": 50, "b": 50, "c": 0}, plan)
    assert fine.statistic == pytest.approx(0.0) and fine.p_value == pytest.approx(1.0) and fine.passed
    broken = srm_test({"a": 50, "b": 50, "c": 1}, plan)
    assert broken.statistic == np.inf and broken.p_value == 0.0 and not broken.passed


def test_zero_units_in_an_arm_is_a_count_not_an_error():
    """0 / 10: X^2 = (25 + 25) / 5 = 10 (guards ``observed >= 0`` against ``> 0``)."""
    res = srm_test({"a": 0, "b": 10})
    assert res.statistic == pytest.approx(10.0)
    assert res.p_value == pytest.approx(2 * stats.norm.sf(math.sqrt(10.0)), rel=1e-9)
    assert srm_test(pd.Series({"a": 10, "b": 10})).p_value == pytest.approx(1.0)


@pytest.mark.parametrize("bad", [2.5, -1, np.inf, np.nan])
def test_counts_that_are_not_whole_non_negative_numbers_are_named(bad):
    with pytest.raises(DataContractError, match="whole numbers") as info:
        srm_test({"a": 10, "b": bad})
    assert info.value.column == "variant"
    assert info.value.rule == "counts are non-negative integers"
    assert "b" in str(info.value) and "a" not in list(info.value.examples.index)


def test_one_arm_and_mismatched_allocations_are_refused():
    with pytest.raises(DataContractError, match="two arms") as info:
        srm_test({"a": 10})
    assert info.value.column == "variant" and info.value.rule == ">= 2 arms"
    assert list(info.value.examples) == ["a"]
    with pytest.raises(DataContractError, match="allocation") as info:
        srm_test({"a": 10, "b": 10}, {"a": 0.5, "c": 0.5})
    assert info.value.column == "variant" and info.value.rule == "allocation names exactly the observed arms"
    assert list(info.value.examples) == ["b", "c"]
    with pytest.raises(ValueError, match="allocation"):
        srm_test({"a": 10, "b": 10}, {"a": -0.5, "b": 1.5})
    with pytest.raises(ValueError, match="allocation"):
        srm_test({"a": 10, "b": 10}, {"a": 0.0, "b": 0.0})


def test_passed_is_inclusive_at_the_threshold():
    res = SRMResult(pd.Series({"a": 1}), pd.Series({"a": 1.0}), 0.0, 0.001, 0.001)
    assert res.passed is True
    assert SRMResult(pd.Series({"a": 1}), pd.Series({"a": 1.0}), 0.0, 0.000999, 0.001).passed is False


def test_describe_names_counts_planned_shares_and_p():
    """The sentence reports the observed counts with thousands separators, the *planned* shares (expected /
    total, not the observed ones) and the p-value; a mismatch says so first."""
    # 5030 / 14970 against 1 : 3: X^2 = 30^2 (1/5000 + 1/15000) = 0.24, p = 2 (1 - Phi(0.4899)) = 0.624
    ok = srm_test({"control": 5030, "treatment": 14970}, {"control": 1, "treatment": 3}).describe()
    assert ok.startswith("Sample ratio OK")
    assert "control: 5,030, treatment: 14,970" in ok
    assert "planned control: 25.0%, treatment: 75.0%" in ok
    assert "chi-square p = 0.624)" in ok
    bad = srm_test({"control": 5175, "treatment": 4825}).describe()
    assert bad.startswith("SAMPLE RATIO MISMATCH")
    assert "control: 5,175, treatment: 4,825 units" in bad
    assert "control: 50.0%, treatment: 50.0%" in bad
    assert "p = 0.00047 < 0.001" in bad
    assert "do not trust the effects" in bad
