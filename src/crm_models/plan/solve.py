"""Choose at most one action per customer, maximising expected incremental profit under budget and capacities.

Two solvers:

* **exact** (``scipy.optimize.milp``, HiGHS branch and bound) for small and medium problems;
* **Lagrangian** for large ones (a million customers): the budget and channel capacities are priced with
  multipliers, each customer then takes the best action at those prices (Fisher 1981, "The Lagrangian relaxation
  method for solving integer programming problems", Management Science 27(1)); multipliers follow a projected
  subgradient with Polyak steps, and a greedy pass in order of priced profit turns the last prices into a feasible
  plan. Every multiplier vector gives an upper bound on the optimum (the dual value, equal to the LP bound at the
  best multipliers), so the result reports its optimality gap against that bound.

Only pairs with positive expected profit are candidates: every constraint is a packing constraint with
non-negative coefficients, so an optimal plan never needs a pair that loses money.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from crm_models.plan.problem import PlanningProblem

EXACT_MAX_CANDIDATES = 2_000
NO_ACTION = "no action"


@dataclass
class CampaignPlan:
    """The chosen action per customer and what the plan spends, earns and is bounded by.

    ``assignments`` has one row per customer: ``action`` (``"no action"`` when none), ``channel``,
    ``expected_value``, ``cost`` and ``expected_profit``. ``upper_bound`` is a proven bound on the best
    possible profit (equal to ``expected_profit`` for the exact solver), ``gap`` the relative distance to it.
    ``binding`` names the constraints the plan uses (almost) completely.
    """

    assignments: pd.DataFrame
    expected_profit: float
    upper_bound: float
    method: str
    spend: float
    budget: float | None
    channel_use: dict[str, tuple[int, int]] = field(default_factory=dict)
    binding: list[str] = field(default_factory=list)

    @property
    def gap(self) -> float:
        """Relative optimality gap ``(bound - profit) / bound`` (0 when the bound is 0)."""
        if self.upper_bound <= 0:
            return 0.0
        return max(0.0, (self.upper_bound - self.expected_profit) / self.upper_bound)

    def summary(self) -> pd.Series:
        """Headline figures: customers treated, spend, expected profit, bound, gap."""
        treated = int((self.assignments["action"] != NO_ACTION).sum())
        return pd.Series({"customers": len(self.assignments), "treated": treated, "spend": self.spend,
                          "expected_profit": self.expected_profit, "upper_bound": self.upper_bound,
                          "gap": self.gap, "method": self.method})


def _candidates(problem: PlanningProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    net = problem.net
    rows, cols = np.nonzero(net > 0)
    return rows, cols, net[rows, cols]


def _finish(problem: PlanningProblem, choice: np.ndarray, bound: float | None, method: str) -> CampaignPlan:
    """Build the plan from ``choice`` (action index per customer, -1 for none)."""
    n = len(problem.customers)
    chosen = choice >= 0
    idx = np.where(chosen, choice, 0)
    rows = np.arange(n)
    value = np.where(chosen, problem.value[rows, idx], 0.0)
    cost = np.where(chosen, problem.cost[rows, idx], 0.0)
    names = np.array([a.name for a in problem.actions] + [NO_ACTION], dtype=object)
    channels = np.array([a.channel for a in problem.actions] + [""], dtype=object)
    pick = np.where(chosen, choice, len(problem.actions))
    assignments = pd.DataFrame({"action": names[pick], "channel": channels[pick], "expected_value": value,
                                "cost": cost, "expected_profit": value - cost}, index=problem.customers)
    profit = float((value - cost).sum())
    spend = float(cost.sum())
    use: dict[str, tuple[int, int]] = {}
    binding = []
    for channel, capacity in sorted(problem.capacities.items()):
        used = int((assignments["channel"] == channel).sum())
        use[channel] = (used, int(capacity))
        if used >= capacity:
            binding.append(f"capacity of {channel} ({used:,} of {capacity:,})")
    if problem.budget is not None and spend >= problem.budget * 0.999:
        binding.append(f"budget ({spend:,.0f} of {problem.budget:,.0f})")
    upper = profit if bound is None or not np.isfinite(bound) else max(bound, profit)
    return CampaignPlan(assignments, profit, upper, method, spend,
                        problem.budget, use, binding)


def solve_exact(problem: PlanningProblem, *, time_limit: float = 60.0) -> CampaignPlan:
    """Optimal plan by mixed-integer programming (``scipy.optimize.milp``, HiGHS)."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import csr_matrix

    rows, cols, net = _candidates(problem)
    m = len(rows)
    choice = np.full(len(problem.customers), -1)
    if m == 0:
        return _finish(problem, choice, 0.0, "exact")
    constraints = []
    one_each = csr_matrix((np.ones(m), (rows, np.arange(m))), shape=(len(problem.customers), m))
    constraints.append(LinearConstraint(one_each, -np.inf, 1.0))
    channels, usage = problem.channel_matrix()
    if channels:
        channel_rows = csr_matrix(usage[:, cols])
        constraints.append(LinearConstraint(channel_rows, -np.inf,
                                            np.array([problem.capacities[c] for c in channels], dtype=float)))
    if problem.budget is not None:
        budget_row = csr_matrix(problem.cost[rows, cols].reshape(1, -1))
        constraints.append(LinearConstraint(budget_row, -np.inf, float(problem.budget)))
    result = milp(-net, constraints=constraints, integrality=np.ones(m), bounds=Bounds(0, 1),
                  options={"time_limit": time_limit, "mip_rel_gap": 0.0})
    if result.x is None:
        raise RuntimeError(f"the exact solver found no plan: {result.message}")
    picked = result.x > 0.5
    choice[rows[picked]] = cols[picked]
    bound = -float(result.mip_dual_bound) if getattr(result, "mip_dual_bound", None) is not None else None
    return _finish(problem, choice, bound, "exact" if result.status == 0 else "exact (time limit)")


def _priced_choice(problem: PlanningProblem, net: np.ndarray, lam: float, mu: np.ndarray,
                   usage: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each customer's best action at prices ``lam`` (per unit of cost) and ``mu`` (per channel slot).

    Costs of ineligible pairs may be missing (only eligible pairs must be finite), so they are priced as 0: their
    ``net`` is ``-inf`` already, and a NaN there would win ``argmax`` and drop the customer from the bound."""
    cost = np.where(problem.eligible, problem.cost, 0.0)
    priced = net - lam * cost - (mu @ usage)[None, :] if len(mu) else net - lam * cost
    best = np.argmax(priced, axis=1)
    top = priced[np.arange(len(best)), best]
    return np.where(top > 0, best, -1), np.where(top > 0, top, 0.0)


def _greedy(problem: PlanningProblem, order_score: np.ndarray) -> np.ndarray:
    """Feasible plan: take candidate pairs in descending ``order_score`` while budget and capacities allow.

    Stops as soon as nothing else can fit (budget below the cheapest remaining pair and no capacity left for
    free actions), so a binding budget ends the pass early.
    """
    rows, cols, _ = _candidates(problem)
    order = np.argsort(-order_score[rows, cols], kind="stable")
    rows, cols = rows[order], cols[order]
    costs = problem.cost[rows, cols]
    choice = np.full(len(problem.customers), -1)
    budget_left = np.inf if problem.budget is None else float(problem.budget)
    cap_left = {c: int(v) for c, v in problem.capacities.items()}
    channel_of = [a.channel for a in problem.actions]
    cheapest_after = np.minimum.accumulate(costs[::-1])[::-1] if len(costs) else costs
    for position, (r, c, spend) in enumerate(zip(rows.tolist(), cols.tolist(), costs.tolist(), strict=True)):
        if budget_left < cheapest_after[position] - 1e-9:
            break
        if choice[r] >= 0 or spend > budget_left + 1e-9:
            continue
        channel = channel_of[c]
        if channel in cap_left:
            if cap_left[channel] <= 0:
                continue
            cap_left[channel] -= 1
        budget_left -= spend
        choice[r] = c
    return choice


def _prefix_plan(problem: PlanningProblem, choice: np.ndarray, score: np.ndarray, usage: np.ndarray,
                 caps: np.ndarray) -> np.ndarray:
    """Quick feasible plan from a priced choice: keep the longest prefix, by priced profit, that fits."""
    chosen = np.nonzero(choice >= 0)[0]
    order = chosen[np.argsort(-score[chosen], kind="stable")]
    picks = choice[order]
    fits = np.ones(len(order), dtype=bool)
    if problem.budget is not None:
        fits &= np.cumsum(problem.cost[order, picks]) <= problem.budget + 1e-9
    for k in range(len(caps)):
        fits &= np.cumsum(usage[k, picks]) <= caps[k]
    stop = int(np.argmin(fits)) if not fits.all() else len(order)
    out = np.full(len(choice), -1)
    out[order[:stop]] = picks[:stop]
    return out


def _profit(net: np.ndarray, choice: np.ndarray) -> float:
    rows = np.nonzero(choice >= 0)[0]
    return float(net[rows, choice[rows]].sum())


def solve_lagrangian(problem: PlanningProblem, *, iterations: int = 150) -> CampaignPlan:
    """Near-optimal plan for large problems with a proven bound (see the module docstring)."""
    net = np.where(problem.eligible, problem.value - problem.cost, -np.inf)
    channels, usage = problem.channel_matrix()
    caps = np.array([problem.capacities[c] for c in channels], dtype=float)
    budget = problem.budget
    lam, mu = 0.0, np.zeros(len(channels))
    best_bound, best_profit = np.inf, 0.0
    best_plan = np.full(len(problem.customers), -1)
    best_prices = (lam, mu.copy())
    scale, stall = 1.0, 0
    for iteration in range(iterations):
        choice, top = _priced_choice(problem, net, lam, mu, usage)
        bound = float(top.sum()) + (lam * budget if budget is not None else 0.0) + float(mu @ caps)
        if bound < best_bound:
            improved = not np.isfinite(best_bound) or bound < best_bound - 1e-9 * abs(best_bound)
            best_bound, best_prices = bound, (lam, mu.copy())
            stall = 0 if improved else stall + 1
        else:
            stall += 1
        if stall >= 5:
            scale, stall = scale / 2.0, 0
        chosen = np.nonzero(choice >= 0)[0]
        spend = float(problem.cost[chosen, choice[chosen]].sum())
        counts = usage[:, choice[chosen]].sum(axis=1) if len(caps) else np.zeros(0)
        g_lam = (budget - spend) if budget is not None else 0.0
        g_mu = caps - counts
        if iteration % 10 == 0:
            quick = _prefix_plan(problem, choice, top, usage, caps)
            profit = _profit(net, quick)
            if profit > best_profit:
                best_plan, best_profit = quick, profit
        feasible = (budget is None or g_lam >= 0) and (g_mu >= 0).all()
        slack = abs(g_lam * lam) + abs(float(g_mu @ mu))
        if feasible and slack <= 1e-9 * max(1.0, abs(bound)):
            best_plan, best_profit = choice, _profit(net, choice)  # complementary slackness: optimal
            break
        # Polyak step in normalised units (each constraint as a share of its limit, multipliers in money), so
        # a budget in millions and a capacity in hundreds move at comparable speed.
        b_scale = max(float(budget), 1.0) if budget is not None else 1.0
        c_scale = np.maximum(caps, 1.0)
        g_lam_n, g_mu_n = g_lam / b_scale, g_mu / c_scale
        norm = g_lam_n ** 2 + float(g_mu_n @ g_mu_n)
        if norm == 0:
            break
        step = scale * max(bound - best_profit, 1e-9 * max(1.0, abs(bound))) / norm
        lam = max(0.0, lam * b_scale - step * g_lam_n) / b_scale if budget is not None else 0.0
        mu = np.maximum(0.0, mu * c_scale - step * g_mu_n) / c_scale
    lam, mu = best_prices
    priced = net - lam * np.where(problem.eligible, problem.cost, 0.0) - ((mu @ usage)[None, :] if len(mu) else 0.0)
    primal = _greedy(problem, priced)
    if _profit(net, primal) >= best_profit:
        best_plan = primal
    return _finish(problem, best_plan, best_bound, "lagrangian")


def plan_campaign(problem: PlanningProblem, *, method: Literal["auto", "exact", "lagrangian"] = "auto",
                  time_limit: float = 20.0) -> CampaignPlan:
    """Solve ``problem``: exact when it has at most ``EXACT_MAX_CANDIDATES`` profitable pairs (``"auto"``),
    otherwise by Lagrangian relaxation with a reported gap."""
    if method == "exact":
        return solve_exact(problem, time_limit=time_limit)
    if method == "auto" and int((problem.net > 0).sum()) <= EXACT_MAX_CANDIDATES:
        try:
            return solve_exact(problem, time_limit=time_limit)
        except RuntimeError:  # no feasible plan within the time limit: the Lagrangian method always has one
            pass
    return solve_lagrangian(problem)
