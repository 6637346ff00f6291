"""Beta-Binomial read-out against closed-form posterior moments (issue 21, mutation testing of ``ab/bayes``).

The posterior of each arm is ``Beta(a0 + x, b0 + n - x)``, mean ``a / (a + b)``, variance
``a b / ((a + b)^2 (a + b + 1))``; with well separated arms the difference of two posteriors is close to normal.
Monte Carlo tolerances are several standard errors of the seeded estimate.
"""

from __future__ import annotations

import numpy as np
import pytest

from crm_models.ab.bayes import bayesian_proportions
from crm_models.exceptions import DataContractError


def _beta_var(a: float, b: float) -> float:
    return a * b / ((a + b) ** 2 * (a + b + 1))


def test_posterior_mean_uses_the_uniform_prior_and_a_given_prior():
    """0 of 2 under Beta(1, 1): mean 1/4; under Beta(2, 1): 2/5 (guards the prior and ``n - x`` as failures)."""
    flat = bayesian_proportions({"c": 0, "a": 0}, {"c": 2, "a": 2}, "c", draws=200_000).iloc[0]
    assert flat["posterior_mean"] == pytest.approx(0.25, abs=0.002)
    informed = bayesian_proportions({"c": 0, "a": 0}, {"c": 2, "a": 2}, "c", draws=200_000, prior=(2.0, 1.0))
    assert informed.iloc[0]["posterior_mean"] == pytest.approx(0.4, abs=0.002)
    lopsided = bayesian_proportions({"c": 1, "a": 3}, {"c": 4, "a": 4}, "c", draws=200_000).iloc[0]
    assert lopsided["posterior_mean"] == pytest.approx(4 / 6, abs=0.002)


def test_a_clearly_worse_arm_by_hand():
    """Control 500/1000, arm 100/1000: P(beat) = 0, loss = E[p_c - p_a] = 501/1002 - 101/1002 = 0.3992, and the
    95 % interval of the difference is mean +- 1.96 sd with sd^2 = Var Beta(101, 901) + Var Beta(501, 501)."""
    row = bayesian_proportions({"c": 500, "a": 100}, {"c": 1000, "a": 1000}, "c").iloc[0]
    mean = 101 / 1002 - 501 / 1002
    sd = np.sqrt(_beta_var(101, 901) + _beta_var(501, 501))
    assert row["arm"] == "a"
    assert row["posterior_mean"] == pytest.approx(101 / 1002, abs=5e-4)
    assert row["prob_beat_control"] == 0.0 and row["prob_best"] == 0.0
    assert row["expected_loss"] == pytest.approx(-mean, abs=1e-3)
    assert row["cred_low"] == pytest.approx(mean - 1.959964 * sd, abs=2e-3)
    assert row["cred_high"] == pytest.approx(mean + 1.959964 * sd, abs=2e-3)
    assert row["cred_low"] < mean < row["cred_high"]


def test_a_clearly_better_arm_loses_nothing():
    row = bayesian_proportions({"c": 100, "a": 500}, {"c": 1000, "a": 1000}, "c").iloc[0]
    assert row["prob_beat_control"] == 1.0 and row["prob_best"] == 1.0
    assert row["expected_loss"] == pytest.approx(0.0, abs=1e-9)


def test_prob_best_is_taken_over_all_arms_including_control():
    """Arms in the order given, control left out of the rows; the last arm never wins (guards ``minlength``)."""
    out = bayesian_proportions({"c": 100, "a": 300, "b": 20}, {"c": 1000, "a": 1000, "b": 1000}, "c",
                               draws=20_000)
    assert out["arm"].tolist() == ["a", "b"]
    assert out["prob_best"].tolist() == [1.0, 0.0]
    assert out["prob_beat_control"].tolist() == [1.0, 0.0]
    # the control can be best: then no arm is
    ctrl_best = bayesian_proportions({"a": 100, "c": 300}, {"a": 1000, "c": 1000}, "c", draws=20_000)
    assert ctrl_best["prob_best"].tolist() == [0.0]


def test_equal_arms_split_evenly():
    out = bayesian_proportions({"c": 30, "a": 30}, {"c": 100, "a": 100}, "c", draws=200_000).iloc[0]
    assert out["prob_beat_control"] == pytest.approx(0.5, abs=0.005)
    assert out["prob_best"] == pytest.approx(0.5, abs=0.005)
    assert out["cred_low"] == pytest.approx(-out["cred_high"], abs=2e-3)


def test_seeded_and_reproducible_with_the_documented_defaults():
    """A fixed default seed (0) and 100,000 draws: two calls agree exactly; another seed does not."""
    s, t = {"c": 40, "a": 50}, {"c": 400, "a": 400}
    first = bayesian_proportions(s, t, "c")
    assert first.equals(bayesian_proportions(s, t, "c"))
    assert first.equals(bayesian_proportions(s, t, "c", draws=100_000, seed=0))
    assert not first.equals(bayesian_proportions(s, t, "c", seed=1))


def test_bad_arms_are_named():
    with pytest.raises(DataContractError, match="control arm 'x'") as info:
        bayesian_proportions({"c": 1, "a": 1}, {"c": 10, "a": 10}, "x")
    assert info.value.column == "variant" and info.value.rule == "the control arm must have units"
    with pytest.raises(DataContractError, match="no units") as info:
        bayesian_proportions({"c": 0, "a": 0}, {"c": 10, "a": 0}, "c")
    assert info.value.column == "variant" and info.value.rule == "units > 0 for every arm"
    assert list(info.value.examples) == [("a", 0)]
    for succ in ({"c": 1, "a": 11}, {"c": 1, "a": -1}, {"c": 1}):
        with pytest.raises(DataContractError, match="outside") as info:
            bayesian_proportions(succ, {"c": 10, "a": 10}, "c")
        assert info.value.column == "variant" and info.value.rule == "0 <= conversions <= units for every arm"
        assert info.value.examples[0][0] == "a"
    # the end points 0 and n are valid
    assert len(bayesian_proportions({"c": 0, "a": 10}, {"c": 10, "a": 10}, "c", draws=1_000)) == 1
    # one unit is enough for a posterior (guards ``units > 0`` against ``> 1``)
    assert len(bayesian_proportions({"c": 0, "a": 1}, {"c": 1, "a": 1}, "c", draws=1_000)) == 1
