"""``analyze_experiment`` refuses an infinite CUPED covariate and names it, as it does for outcomes.

Defect (fix9): only missing or non-numeric covariates were refused; an ``inf`` (e.g. a pre-period ratio with a
zero denominator) went into the CUPED least squares, which crashed with "SVD did not converge" without naming
the column.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.ab.analyze import analyze_experiment
from crm_models.exceptions import DataContractError


def test_an_infinite_covariate_is_refused_by_name() -> None:
    rng = np.random.default_rng(3)
    pre = rng.normal(10, 2, 400)
    pre[17] = np.inf
    data = pd.DataFrame({"unit_id": np.arange(400), "variant": ["control", "coupon"] * 200,
                         "revenue": rng.normal(10, 2, 400), "pre_aov": pre})
    with pytest.raises(DataContractError, match="pre_aov") as info:
        analyze_experiment(data, outcomes=["revenue"], covariates="pre_aov", bayes_draws=1000)
    assert info.value.column == "pre_aov"
