"""Segment rule tables checked by hand: parsing, conditions at their edges, the remainder of each rule set
(issue 21, mutation testing of ``crm_models.rfm.segments``).

Each test names the mutation classes it was written against. Errors are checked for what the project rule asks
(column, rule, example rows) and a few words of the message.
"""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.exceptions import DataContractError
from crm_models.rfm import rfm_scores, segment_customers
from crm_models.rfm.segments import (
    DEFAULT_REMAINDER,
    RFM_GRID_RULES,
    SEED_003_RULES,
    SegmentRule,
    parse_rules,
    remainder_for,
)


def test_rule_objects_and_records_mix_in_one_table() -> None:
    # A SegmentRule is taken as it is and the records after it are still read (mutation `break` for
    # `continue`); rule sets by name are the tuples themselves.
    first = SegmentRule("first", {"R": ">=80"}, "call")
    rules = parse_rules([first, {"segment": "second", "F": "<20", "action": "mail"}])
    assert rules[0] is first
    assert (rules[1].name, dict(rules[1].conditions), rules[1].action) == ("second", {"F": "<20"}, "mail")
    assert parse_rules("seed_003") is SEED_003_RULES and parse_rules(None) is RFM_GRID_RULES


def test_rule_table_errors_show_the_rows() -> None:
    # mutations checked: `examples=` dropped or None, the messages (None, "XX..XX", upper case) of the
    # unnamed-rule, repeated-name and unknown-rule-set errors
    nameless = {"R": ">=1", "action": "x"}
    with pytest.raises(DataContractError, match="^a segment rule has no name") as info:
        parse_rules([nameless])
    assert list(info.value.examples) == [nameless]
    with pytest.raises(DataContractError, match="^segment names repeat") as info:
        parse_rules([{"segment": "a"}, {"segment": "b"}, {"name": "a"}])
    assert list(info.value.examples) == ["a", "b", "a"]
    with pytest.raises(DataContractError, match="^unknown segment rule set 'grid'") as info:
        parse_rules("grid")
    assert list(info.value.examples) == ["grid"]


def test_remainder_of_each_rule_set() -> None:
    # The seed-003 rules call their remainder "needs attention"; the default map, a rule table and anything else
    # use "unsegmented". mutations checked: `_REMAINDERS.get(rules, None)` (no remainder for "rfm_grid"),
    # the string test forced true (a list is not hashable) or false
    assert remainder_for("seed_003") == "needs attention"
    assert remainder_for("rfm_grid") == DEFAULT_REMAINDER == "unsegmented"
    assert remainder_for([{"segment": "x"}]) == "unsegmented"
    assert remainder_for(None) == "unsegmented"


def test_the_default_map_names_its_remainder_for_scores_outside_1_to_5() -> None:
    # With six bins R and F reach 6, a cell the 1-5 map does not cover: those customers fall in the named
    # remainder of the default map (not in a segment called None).
    inputs = pd.DataFrame({"recency_days": range(12), "frequency": range(1, 13), "monetary": [1.0] * 12},
                          index=[f"c{i:02d}" for i in range(12)])
    scores = rfm_scores(inputs=inputs, n_bins=6)
    segments = segment_customers(scores, "rfm_grid")
    outside = (scores["R"] > 5) | (scores["F"] > 5)
    assert outside.any() and (segments[outside] == "unsegmented").all()
    assert (segments[~outside] != "unsegmented").all()
    assert list(segments.cat.categories)[-1] == "unsegmented"


@pytest.mark.parametrize(("condition", "expected"), [
    ("40-60", [False, True, True, True, False]),     # a range includes both ends (`>` / `<` mutations)
    (" 40 - 60 ", [False, True, True, True, False]),
    (">=50", [False, False, True, True, True]),
    (">50", [False, False, False, True, True]),
    ("<=50", [True, True, True, False, False]),
    ("<50", [True, True, False, False, False]),
    ("==50", [False, False, True, False, False]),
    ("50", [False, False, True, False, False]),      # a bare number means equality (`!=` mutation)
    ("60.5", [False, False, False, False, True]),
])
def test_conditions_at_their_edges(condition: str, expected: list[bool]) -> None:
    # percentiles 39.9, 40, 50, 60, 60.5 against each form of condition (the operator and both numbers of a
    # range are read from the right groups: `group(2)` / `group(3)` mutations)
    scores = pd.DataFrame({"R_pct": [39.9, 40.0, 50.0, 60.0, 60.5], "F_pct": 0.0, "M_pct": 0.0})
    assert SegmentRule("x", {"R": condition}).mask(scores).tolist() == expected


def test_negative_and_reversed_ranges() -> None:
    # "-5-5" is the range from -5 to 5; a reversed range matches nothing (low > high)
    scores = pd.DataFrame({"R_pct": [-6.0, -5.0, 0.0, 5.0, 6.0], "F_pct": 0.0, "M_pct": 0.0})
    assert SegmentRule("x", {"R": "-5-5"}).mask(scores).tolist() == [False, True, True, True, False]
    assert not SegmentRule("x", {"R": "60-40"}).mask(scores).any()


def test_numbers_in_a_rule_table_are_read_as_text() -> None:
    # A rule table read from a file may hold segment codes and actions as numbers: they become their text, not
    # an empty name. mutations checked in `_text`: `not isinstance(value, str) or pd.isna(value)`,
    # `pd.isna(None)` (every non-text value read as empty)
    (rule,) = parse_rules(pd.DataFrame({"segment": [7], "R": [">=1"], "action": [3]}))
    assert (rule.name, rule.action, dict(rule.conditions)) == ("7", "3", {"R": ">=1"})


def test_the_grid_helper_builds_score_rules_on_r_and_f() -> None:
    # RFM_GRID_RULES is built when the module is imported, before a mutation tool switches a mutant on, so the
    # helper is called here directly. mutations checked: each argument of the SegmentRule it builds
    from crm_models.rfm.segments import _grid

    assert _grid("n", "5", "4-5", "act") == SegmentRule("n", {"R": "5", "F": "4-5"}, "act", scale="score")
