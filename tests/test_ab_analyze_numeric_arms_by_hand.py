"""``analyze_experiment`` with arms stored as numbers (0 = control, 1 = coupon): the arm labels are read as text,
so the planned ``allocation`` keyed by the same numbers must be matched to them by value, not refused.

Defect (fix9): ``allocation={0: 0.2, 1: 0.8}`` with a numeric ``variant`` column raised "the planned allocation
and the observed arms differ" (the keys 0, 1 were compared with the labels "0", "1"), while ``control=0`` was
accepted.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crm_models.ab.analyze import analyze_experiment


def _data() -> pd.DataFrame:
    # 200 control and 800 coupon units: a 20/80 split as planned
    rng = np.random.default_rng(7)
    variant = np.array([0] * 200 + [1] * 800)
    return pd.DataFrame({"unit_id": np.arange(1000), "variant": variant,
                         "converted": (rng.random(1000) < 0.1).astype(int)})


def test_a_numeric_allocation_is_matched_to_numeric_arms() -> None:
    readout = analyze_experiment(_data(), control=0, allocation={0: 0.2, 1: 0.8}, bayes_draws=1000)
    assert readout.srm.passed
    assert readout.srm.statistic == pytest.approx(0.0)
    assert readout.srm.expected.to_dict() == pytest.approx({"0": 200.0, "1": 800.0})


def test_a_numeric_allocation_detects_a_mismatch() -> None:
    """Planned 50/50 but observed 200/800: chi-square = 2 * 300^2 / 500 = 360."""
    readout = analyze_experiment(_data(), control=0, allocation={1: 0.5, 0: 0.5}, bayes_draws=1000)
    assert readout.srm.statistic == pytest.approx(360.0)
    assert readout.srm.p_value == pytest.approx(stats.chi2.sf(360.0, 1))
    assert not readout.srm.passed


def test_srm_names_the_allocation_when_its_keys_differ_in_type() -> None:
    """Called directly with text counts and numeric shares, ``srm_test`` says which arms differ (it crashed with
    a TypeError while sorting them)."""
    from crm_models.ab.srm import srm_test
    from crm_models.exceptions import DataContractError

    with pytest.raises(DataContractError, match="allocation"):
        srm_test({"0": 200, "1": 800}, {0: 0.2, 1: 0.8})
