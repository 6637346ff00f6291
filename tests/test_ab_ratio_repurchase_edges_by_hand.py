"""Edges of the per-unit read-outs: a ratio metric whose control arm has no orders at all, and a repurchase event
column holding text.

Mutation classes guarded against (issue 21): the unit count of an arm whose ratio is undefined replaced by
``None``, and ``pd.to_numeric(..., errors="coerce")`` losing ``errors=`` (a pandas ``ValueError`` instead of the
contract error that names the column and the rule).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.ab import analyze_ratios, repurchase_curves
from crm_models.exceptions import DataContractError


def test_an_arm_without_orders_keeps_its_unit_count_and_has_no_ratio() -> None:
    """Control: 3 units, no orders, so revenue per order is 0/0 (undefined); coupon: 2 units with 30/2 and 10/1,
    so 40/3. The row still counts 3 control and 2 coupon units; the effect is NaN, never a number."""
    data = pd.DataFrame({"variant": ["control"] * 3 + ["coupon"] * 2,
                         "revenue": [0.0, 0.0, 0.0, 30.0, 10.0], "orders": [0.0, 0.0, 0.0, 2.0, 1.0]})
    row = analyze_ratios(data, {"aov": ("revenue", "orders")}).iloc[0]
    assert (row["n_control"], row["n_arm"]) == (3, 2)
    assert np.isnan(row["mean_control"]) and row["mean_arm"] == pytest.approx(40 / 3)
    assert np.isnan(row["effect"]) and np.isnan(row["p_value"]) and not row["significant"]


def test_a_text_event_column_is_named_with_its_rule() -> None:
    data = pd.DataFrame({"variant": ["control", "control", "coupon", "coupon"], "purchase_days": [1.0, 5, 2, 9],
                         "purchase_observed": ["1", "yes", "0", "1"]})
    with pytest.raises(DataContractError) as info:
        repurchase_curves(data, days=(3,))
    assert info.value.column == "purchase_observed" and info.value.rule == "values in {0, 1}"
