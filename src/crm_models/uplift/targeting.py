"""Cost-aware targeting: whom to treat, given what treating costs and what a response is worth.

Treating the top ``n`` units by a score earns, relative to treating nobody, ``value * U(n) - cost * n`` where
``U(n)`` is the uplift curve at ``n`` (the incremental outcome among the top ``n``, estimated from the
experiment; see :mod:`crm_models.uplift.metrics`). The profit curve is that quantity at every cut-off; its
maximum is the best cut-off. Treating everyone is the last point, treating nobody the first (zero). Ranking by
a *response* model (who is likely to buy) instead of an uplift model (whom the coupon changes) is the usual
practice this is compared with.

Evaluate the curve on data that the models were not fitted on (a held-out part of the experiment): the
best cut-off picked on the same data it is evaluated on is optimistic.

Reference: Radcliffe, N. J. (2007). Using control groups to target on predicted lift. *Direct Marketing
Analytics Journal* 1, 14-21; Verbeke, W. et al. (2012), New insights into churn prediction in the
telecommunication sector: a profit driven data mining approach, *EJOR* 218(1) (profit-driven cut-offs).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from crm_models.exceptions import NotFittedError
from crm_models.uplift.metrics import _blocks, _check, _uplift_values

__all__ = ["TargetingPolicy", "best_arm", "compare_policies", "profit_curve"]


def profit_curve(y_true: Any, score: Any, treatment: Any, *, cost: float, value: float,
                 population: float | None = None) -> pd.DataFrame:
    """Expected incremental profit of treating the top units by ``score``, at every cut-off.

    Parameters
    ----------
    y_true, score, treatment
        Outcome, ranking score (predicted uplift, or any score) and 0/1 treatment of experiment units.
    cost
        Cost of treating one unit (coupon cost, contact cost).
    value
        Value of one unit of outcome: the margin of a conversion for a 0/1 outcome, or the margin rate
        (e.g. 0.3) when the outcome is revenue.
    population
        Scale the counts and money to a population of this size (default: the evaluated units).

    Returns
    -------
    DataFrame with ``fraction`` (share treated), ``n_treated``, ``threshold`` (lowest score treated),
    ``incremental_outcome``, ``incremental_value``, ``treatment_cost`` and ``profit``; the first row is
    "treat nobody" (all zeros).
    """
    y, u, t, _ = _check(y_true, score, treatment)
    b = _blocks(y, u, t)
    scale = 1.0 if population is None else float(population) / y.size
    inc = _uplift_values(b) * scale
    n = b.n * scale
    frame = pd.DataFrame(
        {
            "fraction": np.r_[0.0, b.n / y.size],
            "n_treated": np.r_[0.0, n],
            "threshold": np.r_[np.inf, b.score],
            "incremental_outcome": np.r_[0.0, inc],
        }
    )
    frame["incremental_value"] = value * frame["incremental_outcome"]
    frame["treatment_cost"] = cost * frame["n_treated"]
    frame["profit"] = frame["incremental_value"] - frame["treatment_cost"]
    return frame


def _best(curve: pd.DataFrame) -> pd.Series:
    return curve.loc[curve["profit"].idxmax()]


def _pays(uplift: Any, *, cost: float, value: float) -> np.ndarray:
    """The break-even rule: treat a unit when its expected incremental value exceeds the cost,
    ``value * uplift > cost`` (at equality the action does not pay). Right for a value of either sign: with
    ``value < 0`` (each unit of outcome costs money, e.g. a churn) it treats the units whose uplift is below
    ``cost / value``."""
    return float(value) * np.asarray(uplift, dtype=float) > float(cost)


def _break_even_row(y_true: Any, uplift: Any, treatment: Any, *, cost: float, value: float,
                    population: float | None = None) -> pd.Series:
    """The profit-curve row of the units :func:`_pays` treats. The curve ranks by the expected net gain
    ``value * uplift - cost``, so the treated units (net gain above 0) are its top rows for either sign of
    ``value``."""
    u = np.asarray(uplift, dtype=float)
    curve = profit_curve(y_true, float(value) * u - float(cost), treatment, cost=cost, value=value,
                         population=population)
    share = float(_pays(u, cost=cost, value=value).mean())
    k = int(np.searchsorted(curve["fraction"].to_numpy(), share, "right")) - 1
    return curve.iloc[max(k, 0)]


class TargetingPolicy:
    """Treat a unit when its predicted uplift is at or above a cut-off chosen to maximise profit.

    ``fit(y, uplift, treatment)`` on held-out experiment data picks the cut-off with the highest profit on
    the profit curve (``rule="curve"``); ``rule="break_even"`` instead treats whenever
    ``value * uplift > cost`` (:func:`_pays`; trusts the model's calibration, needs no experiment data beyond
    the model's), the same rule as the break-even row of :func:`compare_policies`.

    Attributes: ``threshold_`` (``rule="curve"``: lowest uplift treated; ``rule="break_even"``: the break-even
    uplift ``cost / value``, ``inf`` when ``value`` is 0), ``fraction_``, ``profit_``, ``curve_``.
    """

    def __init__(self, cost: float, value: float, rule: str = "curve") -> None:
        self.cost = cost
        self.value = value
        self.rule = rule

    def fit(self, y_true: Any, uplift: Any, treatment: Any) -> TargetingPolicy:
        """Compute the profit curve on evaluation data and pick the cut-off; returns ``self``."""
        if self.rule not in ("curve", "break_even"):
            raise ValueError(f"rule must be 'curve' or 'break_even', got {self.rule!r}")
        self.curve_ = profit_curve(y_true, uplift, treatment, cost=self.cost, value=self.value)
        if self.rule == "curve":
            best = _best(self.curve_)
            self.threshold_ = float(best["threshold"])
        else:
            self.threshold_ = float(self.cost / self.value) if self.value != 0 else np.inf
            best = _break_even_row(y_true, uplift, treatment, cost=self.cost, value=self.value)
        self.fraction_ = float(best["fraction"])
        self.profit_ = float(best["profit"])
        return self

    def decide(self, uplift: Any) -> np.ndarray:
        """Boolean mask of the units to treat."""
        if not hasattr(self, "threshold_"):
            raise NotFittedError("TargetingPolicy is not fitted; call fit(y, uplift, treatment) first")
        if self.rule == "break_even":
            return _pays(uplift, cost=self.cost, value=self.value)
        return np.asarray(uplift, dtype=float) >= self.threshold_


def compare_policies(y_true: Any, treatment: Any, *, cost: float, value: float, uplift: Any,
                     response_score: Any | None = None, true_effect: Any | None = None,
                     population: float | None = None) -> pd.DataFrame:
    """Profit of targeting policies on the same evaluation units, best first.

    Rows: treat nobody, treat everyone, uplift model at its best cut-off, uplift model at the break-even
    rule (``value * uplift > cost``, :func:`_pays`, the rule of ``TargetingPolicy(rule="break_even")``), response
    model at its best cut-off and at the uplift model's share, and, when ``true_effect`` is known (simulations),
    the oracle ranking by the true effect.
    """
    def row(name: str, r: pd.Series) -> dict[str, Any]:
        return {"policy": name, "fraction_treated": float(r["fraction"]), "n_treated": float(r["n_treated"]),
                "incremental_outcome": float(r["incremental_outcome"]), "profit": float(r["profit"])}

    up = profit_curve(y_true, uplift, treatment, cost=cost, value=value, population=population)
    rows = [row("treat nobody", up.iloc[0]), row("treat everyone", up.iloc[-1])]
    best_up = _best(up)
    rows.append(row("uplift model, best cut-off", best_up))
    even = _break_even_row(y_true, uplift, treatment, cost=cost, value=value, population=population)
    rows.append(row("uplift model, break-even rule", even))
    if response_score is not None:
        rc = profit_curve(y_true, response_score, treatment, cost=cost, value=value, population=population)
        rows.append(row("response model, best cut-off", _best(rc)))
        k = int(np.searchsorted(rc["fraction"].to_numpy(), float(best_up["fraction"]), "right")) - 1
        rows.append(row("response model, same share as uplift", rc.iloc[max(k, 0)]))
    if true_effect is not None:
        oc = profit_curve(y_true, true_effect, treatment, cost=cost, value=value, population=population)
        rows.append(row("oracle (true effect), best cut-off", _best(oc)))
    return pd.DataFrame(rows).sort_values("profit", ascending=False, kind="stable").reset_index(drop=True)


def best_arm(uplift: pd.DataFrame, *, costs: dict[str, float] | float, value: float) -> pd.Series:
    """For a multi-arm model: the arm with the highest expected net value per unit, or ``None`` if no arm pays.

    ``uplift`` has one column per arm (``predict_frame``); ``costs`` is one cost per arm or a single cost.
    """
    cost = pd.Series(costs if isinstance(costs, dict) else dict.fromkeys(uplift.columns, float(costs)))
    net = uplift.mul(value) - cost.reindex(uplift.columns).to_numpy()
    best = net.idxmax(axis=1).astype(object)
    best[net.max(axis=1) <= 0] = None
    return best
