"""``experiment_outcomes`` matches units to customers by id text, the way the data contract writes ids: a whole
float id (``17850.0``, what pandas makes of an id column with a gap or from a spreadsheet) is ``"17850"``.

Defect (fix9): the assignment ids were turned into text with ``astype(str)`` (``"17850.0"``) while canonical
transactions hold ``"17850"``, so every transaction counted as "a unit not in the assignment table" and every
unit showed no purchase; a raw transactions frame with float ids failed the same way against integer units.
"""

from __future__ import annotations

import pandas as pd

from crm_models.ab.outcomes import REASON_UNKNOWN_UNIT, experiment_outcomes

T0 = pd.Timestamp("2024-01-01")


def _log(ids) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ids, "timestamp": [T0 + pd.Timedelta(days=3), T0 + pd.Timedelta(days=5)],
                         "amount": [10.0, 20.0]})


def test_float_unit_ids_match_text_customer_ids() -> None:
    units = pd.DataFrame({"unit_id": [17850.0, 13047.0], "variant": ["control", "coupon"],
                          "assigned_at": [T0, T0]})
    out = experiment_outcomes(units, _log(["17850", "13047"]), windows=(30,), observation_end="2024-03-31")
    assert out.quality.dropped(REASON_UNKNOWN_UNIT) == 0
    assert out.table["revenue_30d"].tolist() == [10.0, 20.0]
    assert out.units_without_transactions == 0


def test_float_customer_ids_in_a_frame_match_integer_units() -> None:
    units = pd.DataFrame({"unit_id": [17850, 13047], "variant": ["control", "coupon"], "assigned_at": [T0, T0]})
    out = experiment_outcomes(units, _log([17850.0, 13047.0]), windows=(30,), observation_end="2024-03-31")
    assert out.quality.dropped(REASON_UNKNOWN_UNIT) == 0
    assert out.table["orders_30d"].tolist() == [1.0, 1.0]
