"""The example programme on UCI Online Retail: the replay, ledger and what-if hold together on real data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from crm_models.loyalty import LoyaltyRules, compare_rules, run_programme
from crm_models.loyalty._input import REASON_RETURN_IGNORED

RULES = Path(__file__).resolve().parents[1] / "experiments" / "loyalty" / "uci_retail_rules.yaml"


@pytest.mark.realdata
def test_online_retail_programme(shared_data):
    from crm_models.datasets import load_online_retail

    transactions = load_online_retail(shared_data / "online_retail.csv.gz")
    rules = LoyaltyRules.from_yaml(RULES)
    run = run_programme(transactions, rules, as_of="2011-12-09")
    members = run.members_per_tier()
    buyers = transactions.loc[transactions["amount"] > 0, "customer_id"].nunique()
    assert members.sum() == buyers
    # a ladder, not a flat programme: most are members, every tier has someone, fewer at each step up
    assert (members > 0).all() and members.is_monotonic_decreasing
    mix = run.tiers.tier_mix()
    assert [str(d.date()) for d in mix.index] == ["2010-12-31", "2011-03-31", "2011-06-30", "2011-09-30"]
    assert (mix.sum(axis=1).diff().dropna() >= 0).all()  # membership only grows
    ledger = run.ledger.customers
    assert np.allclose(ledger["earned"], ledger["redeemed"] + ledger["expired"] + ledger["outstanding"])
    # points expire 12 months after the December 2010 purchases: only a year of history has lapsed
    assert 0 < ledger["expired"].sum() < 0.2 * ledger["earned"].sum()
    assert run.quality.dropped(REASON_RETURN_IGNORED) > 3_000
    # a six-month window: spend over six months never exceeds spend over twelve, so members move down
    raw = {"name": "six-month window", "window_months": 6, "grace_evaluations": rules.grace_evaluations,
           "tiers": [dict(t.__dict__) for t in rules.tiers]}
    whatif = compare_rules(transactions, rules, LoyaltyRules.from_dict(raw), as_of="2011-12-09")
    assert whatif.changed == whatif.moved_up + whatif.moved_down
    assert whatif.moved_down > 100 and whatif.moved_up == 0
