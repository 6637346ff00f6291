"""The observation end as a day: ``experiment_outcomes`` keeps an exclusive bound for the follow-up, but the day
it states (report sentences, errors) is the last day the log covers, and a unit assigned at the bound (after the
whole end day) is refused as assigned after the end.

Defect (fix9): with ``observation_end="2024-03-31"`` the repurchase report said "transactions up to 2024-04-01"
(the exclusive bound printed as a day), and a unit assigned at 2024-04-01 00:00 passed as if observed.
"""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.ab.outcomes import experiment_outcomes
from crm_models.ab.repurchase_report import repurchase_report
from crm_models.exceptions import DataContractError

START = pd.Timestamp("2024-01-01")


def _experiment() -> pd.DataFrame:
    return pd.DataFrame({"unit_id": [f"u{i}" for i in range(1, 9)], "arm": ["control"] * 4 + ["coupon"] * 4,
                         "enrolled_at": [START] * 8, "tier": ["a", "b"] * 4})


def _log() -> pd.DataFrame:
    rows = [("u1", 5, 10.0), ("u2", 40, 20.0), ("u5", 1, 40.0), ("u6", 2, 10.0), ("u7", 20, 30.0)]
    return pd.DataFrame({"customer_id": [r[0] for r in rows],
                         "timestamp": [START + pd.Timedelta(days=r[1]) for r in rows],
                         "amount": [r[2] for r in rows], "order_id": [f"o{i}" for i in range(len(rows))]})


def test_the_report_states_the_given_end_day_not_the_day_after() -> None:
    rep = repurchase_report(_experiment(), _log(), segment="tier", min_units=2, variant="arm",
                            observation_end="2024-03-31")
    first = rep.sentences[0]
    assert "transactions up to 2024-03-31:" in first, first
    # the follow-up still runs to the end of 31 March: 91 days from 1 January (2024 is a leap year)
    assert rep.outcomes.table["followup_days"].tolist() == [91.0] * 8


def test_the_report_states_the_day_of_a_time_of_day_end() -> None:
    rep = repurchase_report(_experiment(), _log(), segment="tier", min_units=2, variant="arm",
                            observation_end="2024-03-31 18:00")
    assert "transactions up to 2024-03-31:" in rep.sentences[0], rep.sentences[0]


def test_a_unit_assigned_after_the_whole_end_day_is_refused() -> None:
    units = pd.DataFrame({"unit_id": ["u1", "u2"], "variant": ["control", "coupon"],
                          "assigned_at": [START, pd.Timestamp("2024-04-01 00:00")]})
    with pytest.raises(DataContractError, match="assigned after the observation end") as info:
        experiment_outcomes(units, _log(), windows=(30,), observation_end="2024-03-31")
    assert "2024-03-31" in str(info.value)
