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


def test_the_default_segment_of_float_unit_ids_comes_from_their_history() -> None:
    """The repurchase report's default segment (RFM before the start) is looked up by the same id text: units
    with purchases before the start are not all put in the no-history segment."""
    from crm_models.ab.repurchase_report import NO_HISTORY_SEGMENT, repurchase_report

    ids = [float(1000 + i) for i in range(8)]
    units = pd.DataFrame({"unit_id": ids, "variant": ["control"] * 4 + ["coupon"] * 4, "enrolled_at": [T0] * 8})
    before = [(f"{1000 + i}", T0 - pd.Timedelta(days=10 + i), 10.0 + i) for i in range(8)]
    after = [(f"{1000 + i}", T0 + pd.Timedelta(days=2 + i), 5.0) for i in range(0, 8, 2)]
    log = pd.DataFrame(before + after, columns=["customer_id", "timestamp", "amount"])
    rep = repurchase_report(units, log, min_units=2, observation_end="2024-03-31")
    segments = set(rep.outcomes.table["rfm_segment"])
    assert NO_HISTORY_SEGMENT not in segments, segments
