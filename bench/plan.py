"""Campaign planning: the Lagrangian planner against HiGHS branch and bound (scipy.optimize.milp) on the same problems.

    python bench/plan.py            # 10k and 20k customers against HiGHS, 1M customers alone (gap vs LP bound)
    python bench/plan.py --quick    # 5k customers against HiGHS, 200k alone

Peer: HiGHS via scipy's milp, the exact solver a team would reach for (PuLP/OR-Tools wrap the same kind of
solver). The problem: 3 actions (two coupons by e-mail, a call), per-customer values ~ N(2, 6), a budget of 1.5
per customer and a phone capacity of 2% of customers. Reported: time, profit, the proven upper bound and gap.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import write_fragment

from crm_models.plan import Action, build_problem, solve_exact, solve_lagrangian

ACTIONS = (Action("coupon_10", "email", 0.1, 10, 0.3), Action("coupon_20", "email", 0.1, 20, 0.4),
           Action("call", "phone", 5.0))


def problem(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    value = rng.normal(2.0, 6.0, (n, len(ACTIONS)))
    return build_problem(pd.Index(np.arange(n).astype(str)), ACTIONS, value, budget=1.5 * n,
                         capacities={"phone": n // 50})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--time-limit", type=float, default=120.0, help="HiGHS time limit per problem (s)")
    args = parser.parse_args()
    peer_sizes, alone = ([5_000], [200_000]) if args.quick else ([10_000, 20_000], [1_000_000])
    rows = []
    for n in peer_sizes + alone:
        p = problem(n)
        start = time.perf_counter()
        ours = solve_lagrangian(p)
        ours_t = time.perf_counter() - start
        row = {"customers": n, "ours_s": ours_t, "ours_profit": ours.expected_profit, "bound": ours.upper_bound,
               "gap": ours.gap}
        if n in peer_sizes:
            start = time.perf_counter()
            try:
                peer = solve_exact(p, time_limit=args.time_limit)
                row.update(peer_s=time.perf_counter() - start, peer_profit=peer.expected_profit,
                           peer_status=peer.method)
            except RuntimeError as error:
                row.update(peer_s=time.perf_counter() - start, peer_profit=float("nan"), peer_status=str(error))
        rows.append(row)
        print(row, flush=True)
    lines = ["## Campaign planning", "", __doc__.split("\n\n", 2)[2].strip(), "",
             "| customers | ours (s) | our profit | proven bound | gap | HiGHS (s) | HiGHS profit | speed-up |",
             "|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        peer_s = r.get("peer_s")
        lines.append(
            f"| {r['customers']:,} | {r['ours_s']:.1f} | {r['ours_profit']:,.0f} | {r['bound']:,.0f} | "
            f"{r['gap']:.2%} | {'' if peer_s is None else f'{peer_s:.1f}'} | "
            f"{'' if peer_s is None else format(r['peer_profit'], ',.0f')} | "
            f"{'' if peer_s is None else format(peer_s / r['ours_s'], '.0f') + 'x'} |")
    lines += ["", ("HiGHS stops at its time limit on these knapsack-like problems; the profit it had found by then "
                   "is shown. The gap is against the Lagrangian dual bound, which bounds every feasible plan.")]
    write_fragment("plan", "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
