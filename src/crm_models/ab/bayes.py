"""Bayesian read-out of conversion outcomes: Beta-Binomial posteriors per arm.

Probability to beat control ``P(p_arm > p_control | data)`` and the expected loss of shipping the arm,
``E[max(p_control - p_arm, 0) | data]`` (how much conversion one expects to give up if the arm is in fact worse;
Stucchio, C. (2015), Bayesian A/B testing at VWO). Computed by Monte Carlo from the independent Beta
posteriors with a fixed seed, so the numbers are reproducible.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from crm_models.exceptions import DataContractError

__all__ = ["bayesian_proportions"]


def bayesian_proportions(
    successes: Mapping[str, float],
    trials: Mapping[str, float],
    control: str,
    *,
    prior: tuple[float, float] = (1.0, 1.0),
    draws: int = 100_000,
    seed: int = 0,
) -> pd.DataFrame:
    """Posterior summaries per treatment arm against ``control``.

    Returns one row per non-control arm with ``posterior_mean``, ``prob_beat_control``, ``prob_best``
    (among all arms including control), ``expected_loss`` (absolute, in conversion-rate units) and the
    95 % credible interval of the absolute difference (``cred_low``, ``cred_high``).
    """
    arms = list(trials)
    if control not in arms:
        raise DataContractError(f"the control arm {control!r} is not among the arms {arms}", column="variant",
                                rule="the control arm must have units")
    empty = [arm for arm in arms if not trials[arm] > 0]
    if empty:
        raise DataContractError(
            f"arm(s) {empty} have no units: a conversion rate needs at least one unit per arm", column="variant",
            rule="units > 0 for every arm", examples=[(arm, trials[arm]) for arm in empty],
        )
    bad = [arm for arm in arms if not 0 <= successes.get(arm, -1) <= trials[arm]]
    if bad:
        raise DataContractError(
            f"arms {bad} have conversions outside [0, units]", column="variant",
            rule="0 <= conversions <= units for every arm",
            examples=[(arm, successes.get(arm), trials[arm]) for arm in bad],
        )
    a0, b0 = prior
    rng = np.random.default_rng(seed)
    samples = {
        arm: rng.beta(a0 + successes[arm], b0 + trials[arm] - successes[arm], size=draws) for arm in arms
    }
    stacked = np.column_stack([samples[a] for a in arms])
    best = np.bincount(stacked.argmax(axis=1), minlength=len(arms)) / draws
    rows = []
    pc = samples[control]
    for j, arm in enumerate(arms):
        if arm == control:
            continue
        diff = samples[arm] - pc
        rows.append(
            {
                "arm": arm,
                "posterior_mean": float(samples[arm].mean()),
                "prob_beat_control": float((diff > 0).mean()),
                "prob_best": float(best[j]),
                "expected_loss": float(np.maximum(-diff, 0.0).mean()),
                "cred_low": float(np.quantile(diff, 0.025)),
                "cred_high": float(np.quantile(diff, 0.975)),
            }
        )
    return pd.DataFrame(rows)
