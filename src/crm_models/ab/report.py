"""The experiment report's facts: the read-out of :func:`~crm_models.ab.analyze_experiment` as plain sentences and
stakeholder-ready tables (pure functions: no printing, plotting or logging).

Money is formatted by a callable the caller passes (the report's currency formatter), so this module does not
depend on the presentation layer. Effects on a conversion (a proportion) are stated in percentage points; the
primary estimate is the CUPED-adjusted one when pre-period covariates were given (Deng et al. 2013, eq. 3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from crm_models.ab.analyze import ExperimentReadout
from crm_models.ab.power import minimum_detectable_effect

__all__ = ["READOUT_LABELS", "ReadoutTable", "best_arm_on", "detectable_sentence", "effect_sentence",
           "headline_sentences", "outcome_sentence", "primary_effect", "readout_table"]

#: Reader's names of the columns of :func:`readout_table`.
READOUT_LABELS = {
    "arm": "Arm",
    "n_arm": "Customers in the arm",
    "mean_control": "Control",
    "mean_arm": "Arm",
    "effect": "Effect",
    "ci_low": "95% interval, lower",
    "ci_high": "95% interval, upper",
    "effect_pp": "Effect (percentage points)",
    "ci_low_pp": "95% interval, lower (pp)",
    "ci_high_pp": "95% interval, upper (pp)",
    "relative_effect": "Relative effect",
    "variance_removed": "Noise removed by pre-period data (CUPED)",
    "p_holm": "p-value, corrected for several arms and outcomes (Holm)",
    "significant": "Significant",
    "msprt_stop_fraction": "Sequential test could stop after",
    "prob_beat_control": "Chance it beats control (Bayesian)",
}


#: Words for outcome names in sentences ("raised conversion by ..."); other names are used as they are.
OUTCOME_WORDS = {"converted": "conversion", "conversion": "conversion", "revenue": "revenue"}


def _word(outcome: str) -> str:
    return OUTCOME_WORDS.get(outcome, outcome.replace("_", " "))


def _rows(readout: ExperimentReadout | pd.DataFrame, outcome: str) -> pd.DataFrame:
    table = readout if isinstance(readout, pd.DataFrame) else readout.table
    rows = table[table["outcome"] == outcome]
    if rows.empty:
        known = sorted(table["outcome"].unique())
        raise ValueError(f"outcome {outcome!r} is not in the read-out; it has {', '.join(map(str, known))}")
    return rows.set_index("arm")


def _relative(row: pd.Series) -> float:
    return float(row["cuped_rel_effect"] if row["primary"] == "cuped" else row["rel_effect"])


def best_arm_on(readout: ExperimentReadout, outcome: str) -> str:
    """The arm with the largest (primary) effect on ``outcome``."""
    return str(_rows(readout, outcome)["effect"].idxmax())


def primary_effect(readout: ExperimentReadout, outcome: str, arm: str) -> dict[str, float]:
    """``effect`` (absolute, the primary estimate) and ``relative`` effect of ``arm`` on ``outcome``."""
    row = _rows(readout, outcome).loc[arm]
    return {"effect": float(row["effect"]), "relative": _relative(row)}


def effect_sentence(readout: ExperimentReadout, outcome: str, arm: str) -> str:
    """The effect of ``arm`` on a conversion ``outcome`` in words: percentage points with the interval, the relative
    lift, whether it holds after correcting for several comparisons, and when a sequential test could have stopped."""
    row = _rows(readout, outcome).loc[arm]
    conf = round(100 * (1 - readout.alpha))
    text = (f"**{arm} raised {_word(outcome)} by {100 * row['effect']:.1f} percentage points** ({conf}% CI "
            f"{100 * row['ci_low']:.1f} to {100 * row['ci_high']:.1f}; {100 * _relative(row):+.0f}% relative, "
            f"{'significant' if row['significant'] else 'not significant'} after correcting for testing several "
            "arms and outcomes).")
    if pd.notna(row.get("msprt_stop_fraction")):
        text += (f" A sequential test that may be checked at any time could have stopped after "
                 f"{100 * row['msprt_stop_fraction']:.0f}% of the sample.")
    if pd.notna(row.get("prob_beat_control")):
        text += f" The chance that {arm} beats {readout.control} is {100 * row['prob_beat_control']:.0f}%."
    return text


def outcome_sentence(readout: ExperimentReadout, outcome: str, money: Callable[[float], str]) -> str:
    """Every arm's effect on a money ``outcome`` per customer, with its interval (``money`` formats amounts)."""

    def signed(value: float) -> str:
        return ("+" if value >= 0 else "-") + money(abs(value))

    parts = [f"{arm} {signed(r['effect'])} ({round(100 * (1 - readout.alpha))}% CI {signed(r['ci_low'])} to "
             f"{signed(r['ci_high'])})" for arm, r in _rows(readout, outcome).iterrows()]
    return f"{_word(outcome).capitalize()} per customer against {readout.control}: " + "; ".join(parts) + "."


def headline_sentences(readout: ExperimentReadout, outcome: str, arm: str, *, money_outcome: str | None = None,
                       money: Callable[[float], str] | None = None, true_effect: float | None = None) -> list[str]:
    """The experiment's headline, one sentence per item: a stop warning first when the sample ratio is off, the
    effect of ``arm`` on the conversion ``outcome``, every arm's effect on ``money_outcome`` (with ``money``), and
    the known true effect when the data are simulated (``true_effect``, a proportion)."""
    lines = [] if readout.srm.passed else [f"**Stop: {readout.srm.describe()}**"]
    lines.append(effect_sentence(readout, outcome, arm))
    if money_outcome is not None and money is not None:
        lines.append(outcome_sentence(readout, money_outcome, money) + " A bigger discount can convert more yet "
                     "earn less per order: weigh both outcomes before rolling out.")
    if true_effect is not None:
        lines.append(f"(Simulated data: the true effect of {arm} on {_word(outcome)} is {100 * true_effect:.1f} percentage "
                     "points.)")
    return lines


def detectable_sentence(readout: ExperimentReadout, outcome: str, arm: str, *, power: float = 0.8) -> str:
    """The smallest effect on a conversion ``outcome`` the test could detect with its control size (two-sided
    test at the read-out's alpha; :func:`crm_models.ab.minimum_detectable_effect`)."""
    row = _rows(readout, outcome).loc[arm]
    n = int(row["n_control"])
    mde = minimum_detectable_effect(n, float(row["mean_control"]), alpha=readout.alpha, power=power)
    return (f"With {n:,} customers per arm the test could detect an effect on {_word(outcome)} of {100 * mde:.2f} percentage "
            f"points ({power:.0%} power, {readout.alpha:.0%} two-sided).")


@dataclass(frozen=True)
class ReadoutTable:
    """One outcome's read-out for stakeholders: ``frame`` (one row per arm) and which columns hold money and
    shares (pass them to the report's table formatter)."""

    frame: pd.DataFrame
    money: list[str] = field(default_factory=list)
    shares: list[str] = field(default_factory=list)


def readout_table(readout: ExperimentReadout | pd.DataFrame, outcome: str, *, money: bool = True) -> ReadoutTable:
    """One row per arm of ``outcome``: customers, control and arm means, the primary effect with its interval
    (percentage points for a conversion), the relative effect, the corrected p-value and the sequential and
    Bayesian read-outs when present.

    ``readout`` is the read-out or a table with its columns (e.g. ``analyze_ratios(..., readout_table=...)``);
    ``money=False`` keeps the means and effects of a non-proportion outcome (items per order) plain numbers."""
    rows = _rows(readout, outcome)
    proportion = bool((rows["kind"] == "proportion").all())
    frame = pd.DataFrame({"n_arm": rows["n_arm"].astype(int), "mean_control": rows["mean_control"],
                          "mean_arm": rows["mean_arm"]}, index=rows.index)
    scale, suffix = (100.0, "_pp") if proportion else (1.0, "")
    for column in ("effect", "ci_low", "ci_high"):
        frame[column + suffix] = rows[column] * scale
    frame["relative_effect"] = rows.apply(_relative, axis=1)
    for column in ("variance_removed", "p_holm", "significant", "msprt_stop_fraction", "prob_beat_control"):
        if column in rows and rows[column].notna().any():
            frame[column] = rows[column]
    shares = [c for c in ("relative_effect", "variance_removed", "msprt_stop_fraction", "prob_beat_control")
              if c in frame]
    if proportion:
        return ReadoutTable(frame, [], ["mean_control", "mean_arm", *shares])
    frame = frame.replace([np.inf, -np.inf], np.nan)
    return ReadoutTable(frame, ["mean_control", "mean_arm", "effect", "ci_low", "ci_high"] if money else [], shares)
