"""``analyze_experiment``'s verdict in words and the Holm cut of the read-out table, checked against a published
interval and values computed by hand.

Mutation classes guarded against (issue 21): the outcome kind lost in the verdict (a conversion formatted as a
plain number), the effect text replaced, the CUPED label or its "variance removed" clause dropped, the
"not significant" branch's p-value and detectable-effect clause, and ``p_holm < alpha`` read as ``<=`` (a p-value
exactly at alpha is not significant).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.ab import analyze_experiment
from crm_models.ab._readout import add_adjusted_p_values


@pytest.fixture  # function scope: mutmut maps a test to the functions it calls, so each test must build its own
def readout():
    """80 control and 70 treatment units.

    * ``converted``: 48/80 against 56/70, Newcombe (1998) Table II example (a); method 10 gives the 95 %
      interval 0.0524 to 0.3339 for the difference 0.2.
    * ``spend`` = ``pre_spend`` + 2 in the treatment arm, with ``pre_spend`` cycling 1..10 in both arms: CUPED's
      slope is 1, the adjusted outcome has no variance left inside an arm, so the adjusted effect is exactly 2,
      100 % of the variance is removed, and the relative effect is 2 / 5.5 = +36.4 %.
    * ``flat`` cycles 0, 10 in both arms: means 5 and 5, effect 0, p = 1.
    """
    conv = [1] * 48 + [0] * 32 + [1] * 56 + [0] * 14
    pre = np.tile(np.arange(1, 11, dtype=float), 15)
    treated = np.array([0] * 80 + [1] * 70)
    data = pd.DataFrame({"unit_id": range(150), "variant": ["control"] * 80 + ["treatment"] * 70,
                         "converted": conv, "spend": pre + 2 * treated, "pre_spend": pre,
                         "flat": np.tile([0.0, 10.0], 75)})
    return analyze_experiment(data, outcomes=["converted", "spend", "flat"], covariates={"spend": "pre_spend"},
                              bayes_draws=2000)


def _line(readout, outcome: str) -> str:
    return next(line for line in readout.verdict.splitlines() if f" {outcome} by " in line
                or f" effect on {outcome}:" in line)


def test_conversion_line_is_in_percentage_points_with_the_published_interval(readout) -> None:
    """Newcombe (1998) Table II (a): +20.00 pp, 95 % CI +5.24 to +33.39 pp; relative 0.2 / 0.6 = +33.3 %."""
    row = readout.table.set_index("outcome").loc["converted"]
    assert (row["n_control"], row["n_arm"], row["mean_control"], row["mean_arm"]) == (80, 70, 0.6, 0.8)
    assert (row["abs_ci_low"], row["abs_ci_high"]) == pytest.approx((0.0524, 0.3339), abs=5e-5)
    line = _line(readout, "converted")
    assert line.startswith("- **treatment** raised converted by +20.00 pp (95% CI +5.24 pp to +33.39 pp; "
                           "+33.3% relative); significant after Holm")


def test_cuped_line_names_the_adjustment_and_the_variance_removed(readout) -> None:
    """The adjusted effect +2 (exactly: the covariate explains all within-arm variance), labelled CUPED, and
    "CUPED removed 100% of the variance"."""
    row = readout.table.set_index("outcome").loc["spend"]
    assert row["primary"] == "cuped" and row["effect"] == pytest.approx(2.0)
    assert row["variance_removed"] == pytest.approx(1.0)
    line = _line(readout, "spend")
    assert line.startswith("- **treatment** raised spend by +2 (CUPED-adjusted) (95% CI +2 to +2; "
                           "+36.4% relative); significant after Holm")
    assert line.endswith("; CUPED removed 100% of the variance.")


def test_no_effect_line_gives_p_and_the_detectable_effect(readout) -> None:
    """``flat``: effect 0, Welch p = 1 (Holm keeps 1). Welch by hand: variances 25 * 40/39.5 = 25.32 (80 units)
    and 25 * 35/34.5 = 25.36 (70 units), se = sqrt(25.32/80 + 25.36/70) = 0.8239, df = 145.3, t = 1.976, so
    the interval is +-1.63. Detectable at 80 % power: (1.95996 + 0.84162) * sd_control * sqrt(1/80 + 1/70) =
    2.8016 * 5.0315 * 0.16366 = 2.31."""
    line = _line(readout, "flat")
    assert line == ("- **treatment** showed no clear effect on flat: +0 (95% CI -1.63 to +1.63; +0.0% relative); "
                    "not significant after Holm (p = 1); with these sample sizes only effects of about 2.31 or more "
                    "were likely to be detected.")


def test_winners_and_srm_sentence(readout) -> None:
    """SRM: 80 against 70 at a planned 50/50, chi-square = 2 * 5^2 / 75 = 0.667, p = 0.414 (passes); the
    verdict names the arm that beat control."""
    assert readout.verdict.startswith("Sample ratio OK (control: 80, treatment: 70; ")
    assert "chi-square p = 0.414" in readout.verdict.splitlines()[0]
    assert readout.verdict.splitlines()[-1].startswith("Verdict: treatment beat control on at least one outcome")


def test_a_holm_p_value_exactly_at_alpha_is_not_significant() -> None:
    """Holm on (0.025, 0.05): 2 * 0.025 = 0.05 and max(0.05, 1 * 0.05) = 0.05, both exactly alpha; the rule is
    ``p_holm < alpha``, so neither is significant, while 0.0499 alone is."""
    table = add_adjusted_p_values(pd.DataFrame({"p_value": [0.025, 0.05]}), 0.05)
    assert table["p_holm"].tolist() == [0.05, 0.05]
    assert not table["significant"].any()
    assert add_adjusted_p_values(pd.DataFrame({"p_value": [0.0499]}), 0.05)["significant"].all()


def _small() -> pd.DataFrame:
    return pd.DataFrame({"unit_id": range(40), "variant": ["control"] * 20 + ["treatment"] * 20,
                         "converted": [1, 0, 0, 0] * 5 + [1, 1, 0, 0] * 5,
                         "enrolled": pd.date_range("2024-01-01", periods=40, freq="h")})


def test_bayes_draws_reach_the_bayesian_read_out() -> None:
    """With ``bayes_draws=7`` the Monte-Carlo shares are multiples of 1/7 (the default 100,000 draws would give
    multiples of 1/100,000). Guards the ``draws=`` argument dropped."""
    row = analyze_experiment(_small(), bayes_draws=7).table.iloc[0]
    for column in ("prob_beat_control", "prob_best"):
        assert row[column] * 7 == pytest.approx(round(row[column] * 7), abs=1e-9), column


def test_a_missing_timestamp_column_is_named() -> None:
    """The enrolment-time column that is not there is named as the column, with the rule."""
    from crm_models.exceptions import DataContractError

    with pytest.raises(DataContractError) as info:
        analyze_experiment(_small(), timestamp="enrolled_at", bayes_draws=10)
    assert info.value.column == "enrolled_at" and info.value.rule == "required column"


def test_cuped_relative_interval_by_the_delta_method_by_hand() -> None:
    """A covariate orthogonal to the outcome (pooled): CUPED's slope is 0, nothing changes, and the relative
    interval of the adjusted effect is the delta-method one of the raw means (Deng et al. 2018, with sample
    variances, ddof = 1). Control 1, 2, 3, 4 (mean 2.5), treatment 3, 4, 5, 6 (mean 4.5), both variances
    5/3, so var/n = 5/12 each: relative 4.5/2.5 - 1 = 0.8, se^2 = (5/12)/2.5^2 + 4.5^2 (5/12)/2.5^4 = 0.28267,
    se = 0.53166, 95 % interval 0.8 -+ 1.95996 * 0.53166 = -0.24204 to 1.84204.
    Guards ``ddof`` changed in the CUPED relative interval."""
    data = pd.DataFrame({"unit_id": range(8), "variant": ["control"] * 4 + ["treatment"] * 4,
                         "y": [1.0, 2, 3, 4, 3, 4, 5, 6], "x": [1.0, -1, -1, 1, 1, -1, -1, 1]})
    row = analyze_experiment(data, outcomes=["y"], covariates="x").table.iloc[0]
    assert row["primary"] == "cuped" and row["effect"] == pytest.approx(2.0)
    assert row["variance_removed"] == pytest.approx(0.0, abs=1e-12)
    assert row["cuped_rel_effect"] == pytest.approx(0.8)
    assert row["cuped_rel_ci_low"] == pytest.approx(-0.24204, abs=1e-5)
    assert row["cuped_rel_ci_high"] == pytest.approx(1.84204, abs=1e-5)
    assert row["rel_ci_low"] == pytest.approx(-0.24204, abs=1e-5)
