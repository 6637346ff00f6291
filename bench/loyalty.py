"""Loyalty replay at scale, and the headline numbers on the demo brand and on UCI Online Retail.

    .venv/bin/python bench/loyalty.py [--rows 1000000] [--skip-retail]

Times the tier replay, the points ledger and the whole programme run (replay + ledger + customer table) on about
``--rows`` synthetic demo transactions (written with ``crm_models.datasets.big.write_big_demo`` to a temporary
folder), then prints the headline numbers of the example rule sets: experiments/loyalty/demo_rules.yaml on the
demo brand and experiments/loyalty/uci_retail_rules.yaml on Online Retail (when ../shared/data is present).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from crm_models.clv import BetaGeoModel
from crm_models.datasets import load_online_retail, make_demo
from crm_models.datasets.big import write_big_demo
from crm_models.loyalty import (
    LoyaltyRules,
    build_ledger,
    compare_rules,
    forecast_points,
    points_liability,
    replay_tiers,
    run_programme,
)
from crm_models.summary import customer_summary

ROOT = Path(__file__).resolve().parents[1]
RULES = ROOT / "experiments" / "loyalty"
RETAIL = ROOT.parent / "shared" / "data" / "online_retail.csv.gz"


def _timed(label: str, function, *args, **kwargs):
    start = time.perf_counter()
    result = function(*args, **kwargs)
    print(f"  {label}: {time.perf_counter() - start:.2f} s")
    return result


def scale(rows: int) -> None:
    rules = LoyaltyRules.from_yaml(RULES / "demo_rules.yaml")
    with tempfile.TemporaryDirectory() as folder:
        manifest = write_big_demo(folder, rows, seed=7)
        transactions = pd.read_parquet(folder)
    print(f"{len(transactions):,} transactions, {transactions['customer_id'].nunique():,} customers")
    _timed("replay_tiers (quarterly)", replay_tiers, transactions, rules)
    monthly = LoyaltyRules.from_dict({**_as_dict(), "evaluation": "monthly"})
    _timed("replay_tiers (monthly)", replay_tiers, transactions, monthly)
    _timed("build_ledger", build_ledger, transactions, earn_rate=1.0, expiry_months=12)
    run = _timed("run_programme + customer_table", lambda: run_programme(transactions, rules).customer_table())
    del run, manifest


def _as_dict() -> dict:
    import yaml

    return yaml.safe_load((RULES / "demo_rules.yaml").read_text())


def headline(name: str, transactions: pd.DataFrame, rules: LoyaltyRules, as_of: str, alternative: dict) -> None:
    print(f"\n== {name}: {rules.name}, as of {as_of}")
    run = run_programme(transactions, rules, as_of=as_of)
    print(run.members_per_tier().to_string())
    print(f"members within 80% of the next tier: {len(run.tiers.close_to_next(0.8)):,}")
    print("transition matrix, last two evaluations:\n" + run.tiers.transition_matrix().to_string())
    print(points_liability(run.ledger, rules.points.point_value).round(3).to_string())
    summary = customer_summary(transactions, observation_end=as_of)
    model = BetaGeoModel().fit_from_summary(summary)
    forecast = forecast_points(run.ledger, model, summary, redemption_share=0.5,
                               point_value=rules.points.point_value)
    print("forecast (BG/NBD, half the balance redeemed per purchase):\n" + forecast.totals.round(3).to_string())
    other = LoyaltyRules.from_dict(alternative)
    whatif = compare_rules(transactions, rules, other, as_of=as_of)
    print(whatif.summary.round(2).to_string())
    print(f"customers changing tier: {whatif.changed:,} (up {whatif.moved_up}, down {whatif.moved_down})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--skip-retail", action="store_true")
    args = parser.parse_args()
    scale(args.rows)
    import yaml

    demo_raw = yaml.safe_load((RULES / "demo_rules.yaml").read_text())
    headline("demo brand", make_demo().transactions, LoyaltyRules.from_dict(demo_raw), "2024-12-31",
             {**demo_raw, "name": "strict: straight down, no grace", "downgrade": "to_level_met",
              "grace_evaluations": 0})
    if not args.skip_retail and RETAIL.exists():
        retail_raw = yaml.safe_load((RULES / "uci_retail_rules.yaml").read_text())
        transactions = load_online_retail(RETAIL)
        headline("UCI Online Retail", transactions, LoyaltyRules.from_dict(retail_raw), "2011-12-09",
                 {**retail_raw, "name": "yearly review, upgrade at evaluation", "evaluation": "yearly",
                  "upgrade": "evaluation"})


if __name__ == "__main__":
    main()
