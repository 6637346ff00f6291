"""The targeting part of the experiment report in words: which learner ranks customers, whether its ranking beats
chance, and what targeting by it earns against the alternatives (pure: no printing, plotting or logging).

The learner is named by the fitted :class:`~crm_models.uplift.LearnerComparison`; money is formatted by a callable
the caller passes (the report's currency formatter).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["UPLIFT_LABELS", "chosen_sentence", "experiment_kpis", "targeting_sentence", "truth_sentence"]

#: Reader's names of the columns of ``LearnerComparison.table_`` and of ``compare_policies``.
UPLIFT_LABELS = {
    "learner": "Learner",
    "arm": "Arm",
    "n_units": "Held-out customers",
    "qini_auc": "Qini coefficient",
    "uplift_auc": "Area under the uplift curve (AUUC)",
    "uplift_at_0.3": "Uplift among the top 30%",
    "chosen": "Chosen",
    "policy": "Whom to send it to",
    "fraction_treated": "Share of customers sent it",
    "n_treated": "Customers sent it",
    "incremental_outcome": "Extra conversions",
    "profit": "Incremental profit",
}


def targeting_sentence(comparison: Any, policies: pd.DataFrame, *, null: Any, interval: dict[str, float],
                       population: int, money: Callable[[float], str]) -> str:
    """What targeting the comparison's target arm by the chosen learner earns, in words.

    ``policies`` is :func:`~crm_models.uplift.compare_policies` on the held-out units (scaled to ``population``
    customers), ``null`` the permutation null of the chosen learner's Qini coefficient and ``interval`` its
    bootstrap interval (``ci_low``, ``ci_high``).
    """
    pol = policies.set_index("policy")
    best = pol.loc["uplift model, best cut-off"]
    arm, learner = comparison.target_arm, comparison.best_name_
    qini = float(comparison.table_.set_index(["learner", "arm"]).loc[(learner, str(arm)), "qini_auc"])

    def signed(value: float) -> str:
        return ("+" if value >= 0 else "-") + money(abs(value))

    versus = f"{signed(best['profit'] - pol.loc['treat everyone', 'profit'])} versus sending it to everyone"
    if "response model, best cut-off" in pol.index:
        versus += (f" and {signed(best['profit'] - pol.loc['response model, best cut-off', 'profit'])} versus "
                   "sending it to the customers likeliest to buy")
    trust = ("ranks customers clearly better than chance" if null.beats_random
             else "is **not** distinguishable from a random ranking on this sample: treat the gain with care")
    return (f"Targeting: sending {arm} to the **{best['fraction_treated']:.0%} of customers** the {learner} expects "
            f"the coupon to change most earns an estimated **{money(best['profit'])} incremental profit** per "
            f"{population:,} customers, {versus}. The {learner}'s ranking {trust} (Qini coefficient {qini:.3f}, "
            f"95% CI {interval['ci_low']:.3f} to {interval['ci_high']:.3f}; see *Whom does the coupon change*).")


def truth_sentence(scores: Mapping[str, Any], true_effect: Any) -> str:
    """How well each learner's predicted uplift follows the true effect of simulated data (Pearson correlation)."""
    truth = np.asarray(true_effect, dtype=float)
    parts = [f"{name} {np.corrcoef(np.asarray(score, dtype=float), truth)[0, 1]:.2f}" for name, score in scores.items()]
    return "Correlation of predicted with true uplift (simulated data, so the truth is known): " + ", ".join(parts) + "."


def chosen_sentence(comparison: Any, *, null: Any, interval: dict[str, float]) -> str:
    """The chosen learner with its Qini coefficient on the target arm, the permutation p-value and the bootstrap
    interval (``null`` and ``interval`` as for :func:`targeting_sentence`)."""
    return (f"Chosen: **{comparison.best_name_}**, Qini coefficient {null.score:.3f} on {comparison.target_arm} (a "
            f"random ranking scores as high with probability {null.p_value:.3f}; bootstrap 95% CI "
            f"{interval['ci_low']:.3f} to {interval['ci_high']:.3f}).")


def experiment_kpis(readout: Any, arm: str, policies: pd.DataFrame, comparison: Any, null: Any,
                    outcome: str = "converted") -> dict[str, float]:
    """The notebook's tracked metrics: the primary lift of ``arm`` on ``outcome`` (``kpi_experiment_*``), the
    incremental profit of the best uplift cut-off and its gain over treating everyone, the sample-ratio and
    Qini permutation p-values, and every learner's Qini coefficient per arm."""
    from crm_models.ab.report import primary_effect

    pol, lift = policies.set_index("policy"), primary_effect(readout, outcome, arm)
    best = float(pol.loc["uplift model, best cut-off", "profit"])
    return {"kpi_experiment_lift": lift["relative"], "kpi_experiment_abs_effect": lift["effect"],
            "kpi_incremental_profit": best, "uplift_qini": float(null.score),
            "srm_p_value": float(readout.srm.p_value), "qini_null_p_value": float(null.p_value),
            "gain_vs_treat_everyone": best - float(pol.loc["treat everyone", "profit"]),
            **{f"qini_{r.learner.replace('-', '_')}_{r.arm}": float(r.qini_auc)
               for r in comparison.table_.itertuples()}}
