"""Sample-ratio-mismatch (SRM) test: is the split of units between arms the one that was planned?

A failing SRM means the assignment or the logging is broken (bots filtered in one arm, a redirect that loses
users, a bucketing bug); effects read from such an experiment are not trustworthy, whatever their p-values.
See Fabijan, A. et al. (2019). Diagnosing sample ratio mismatch in online controlled experiments. *KDD 2019*.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from crm_models.exceptions import DataContractError

__all__ = ["SRMResult", "srm_test"]


@dataclass(frozen=True)
class SRMResult:
    """Result of the chi-square goodness-of-fit test of arm sizes against the planned allocation."""

    observed: pd.Series
    expected: pd.Series
    statistic: float
    p_value: float
    threshold: float

    @property
    def passed(self) -> bool:
        """True when the observed split is compatible with the planned one at ``threshold``."""
        return bool(self.p_value >= self.threshold)

    def describe(self) -> str:
        """One plain-language sentence."""
        obs = ", ".join(f"{k}: {int(v):,}" for k, v in self.observed.items())
        share = ", ".join(f"{k}: {v / self.observed.sum():.1%}" for k, v in self.expected.items())
        if self.passed:
            return f"Sample ratio OK ({obs}; planned {share}; chi-square p = {self.p_value:.3g})."
        return (
            f"SAMPLE RATIO MISMATCH: the arms hold {obs} units but the plan was {share} "
            f"(chi-square p = {self.p_value:.2g} < {self.threshold:g}). The assignment or the logging is broken; "
            "do not trust the effects below until the cause is found."
        )


def srm_test(
    counts: Mapping[str, int] | pd.Series,
    allocation: Mapping[str, float] | None = None,
    threshold: float = 0.001,
) -> SRMResult:
    """Chi-square test of observed arm sizes against the planned allocation (default: equal split).

    Parameters
    ----------
    counts
        Units per arm (``{"control": 5012, "treatment": 4921}``).
    allocation
        Planned share per arm; normalised to sum to one. Every arm in ``allocation`` must appear in
        ``counts`` and vice versa.
    threshold
        p-value below which the split counts as a mismatch. 0.001 is the usual choice: SRM checks run on
        every experiment, so a strict threshold keeps false alarms rare.
    """
    observed = pd.Series(dict(counts), dtype=float)
    bad = observed[~(np.isfinite(observed) & (observed >= 0) & (observed == np.round(observed)))]
    if len(bad):
        raise DataContractError(
            f"unit counts must be whole numbers >= 0; arm(s) {list(map(str, bad.index))} have {bad.tolist()}",
            column="variant", rule="counts are non-negative integers", examples=bad,
        )
    if len(observed) < 2:
        raise DataContractError("an SRM test needs at least two arms", column="variant", rule=">= 2 arms",
                                examples=list(observed.index))
    if allocation is None:
        share = pd.Series(1.0, index=observed.index)
    else:
        share = pd.Series(dict(allocation), dtype=float)
        missing = sorted(set(share.index) ^ set(observed.index), key=str)
        if missing:
            raise DataContractError(
                "the planned allocation and the observed arms differ", column="variant",
                rule="allocation names exactly the observed arms", examples=missing,
            )
        share = share.reindex(observed.index)
        if (share < 0).any() or share.sum() <= 0:
            raise ValueError("allocation shares must be non-negative and not all zero")
    share = share / share.sum()
    expected = share * observed.sum()
    keep = expected > 0
    if (observed[~keep] > 0).any():  # units in an arm planned at zero share: certain mismatch
        stat, p = np.inf, 0.0
    else:  # (tested first: the kept arms then hold fewer units than expected, which chisquare refuses)
        stat, p = stats.chisquare(observed[keep].to_numpy(), expected[keep].to_numpy())
    return SRMResult(observed.astype(int), expected, float(stat), float(p), threshold)
