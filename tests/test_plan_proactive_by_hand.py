"""The ``proactive`` flag of a contact history is read strictly (issue 21 review follow-up): a missing value or
the text "False" must not count as a proactive contact, and anything that is not a clear flag is refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.exceptions import DataContractError
from crm_models.plan import remaining_contacts

CUSTOMERS = pd.Index(["a", "b"])


def history(flags: list) -> pd.DataFrame:
    """Customer a: one contact per flag, all in the period; customer b: none."""
    return pd.DataFrame({"customer_id": ["a"] * len(flags),
                         "timestamp": pd.to_datetime(["2024-05-20 09:00"] * len(flags)),
                         "proactive": pd.Series(flags, dtype=object)})


def left_for_a(flags: list) -> int:
    return int(remaining_contacts(CUSTOMERS, history(flags), limit=5, period_days=30, as_of="2024-05-31")[0])


@pytest.mark.parametrize(("flags", "proactive"), [
    (["False", "false", "FALSE", "True", "true", "TRUE"], 3),
    ([True, False, np.True_, np.False_], 2),
    ([1, 0, 0, 1.0, 0.0], 2),
    (["1", "0", "0"], 1),
])
def test_only_true_flags_count_against_the_limit(flags, proactive):
    assert left_for_a(flags) == 5 - proactive


def test_a_text_column_read_from_csv_counts_false_as_not_proactive():
    frame = history(["x"] * 4)
    frame["proactive"] = pd.Series(["False", "False", "True", "false"], dtype="string")
    assert remaining_contacts(CUSTOMERS, frame, limit=5, period_days=30, as_of="2024-05-31").tolist() == [4, 5]


def test_a_nullable_boolean_column_without_gaps_is_read_as_is():
    frame = history(["x"] * 3)
    frame["proactive"] = pd.array([True, False, True], dtype="boolean")
    assert remaining_contacts(CUSTOMERS, frame, limit=5, period_days=30, as_of="2024-05-31").tolist() == [3, 5]


@pytest.mark.parametrize("bad", [None, np.nan, pd.NA, "yes", "", "no", 2, -1, 0.5])
def test_a_missing_or_unclear_flag_is_refused_naming_the_column_and_rows(bad):
    frame = history([True, bad, False])
    with pytest.raises(DataContractError) as caught:
        remaining_contacts(CUSTOMERS, frame, limit=5, period_days=30, as_of="2024-05-31")
    assert caught.value.column == "proactive"
    assert "true/false" in str(caught.value).lower()
    assert list(caught.value.examples.index) == [1]
    assert "example rows" in str(caught.value)
