"""Uplift metrics on tiny data sets computed by hand (issue 21, mutation survivors of ``uplift/metrics``).

Every expected number below was worked out on paper from the definitions in the module docstring of
``crm_models.uplift.metrics`` (Radcliffe 2007 Qini curve; the uplift curve of Rzepakowski & Jaroszewicz 2012;
scikit-uplift 0.5's perfect ranking ``2 * (y == t) + (y if control responders > treated non-responders else t)``).
The comment above each test names the class of mutants it guards against.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from crm_models.exceptions import DataContractError
from crm_models.uplift import (
    NullBand,
    bootstrap_metric,
    perfect_qini_curve,
    perfect_uplift_curve,
    permutation_null,
    qini_auc_score,
    qini_curve,
    scores_by_arm,
    uplift_at_k,
    uplift_auc_score,
    uplift_by_decile,
    uplift_curve,
)

# 5 units: one treated responder (TR), one treated non-responder (TN), two control responders (CR), one control
# non-responder (CN). Control responders (2) outnumber treated non-responders (1).
Y_CR = np.array([1, 0, 1, 1, 0])
T_CR = np.array([1, 1, 0, 0, 0])
# the mirror: TR 1, TN 2, CR 1, CN 1 (treated non-responders outnumber control responders)
Y_TN = np.array([1, 0, 0, 1, 0])
T_TN = np.array([1, 1, 1, 0, 0])


# ----------------------------------------------------------------------------------------- perfect uplift curve
def test_perfect_uplift_curve_when_control_responders_outnumber_treated_non_responders():
    """Guards the choice of the summand (``>`` flipped, ``y``/``t`` swapped) and the weight ``2.0`` of ``y == t``.

    CR (2) > TN (1): summand ``y``, so the ranking is TR (3), CN (2), CR (1), TN (0).
    n=1: TR -> 1.  n=2: +CN -> (1/1 - 0/1) * 2 = 2.  n=4: +CR, CR -> (1/1 - 2/3) * 4 = 4/3.
    n=5: +TN -> (1/2 - 2/3) * 5 = -5/6. (The other summand would rank TN before CR: a point at n=3.)
    """
    x, v = perfect_uplift_curve(Y_CR, T_CR)
    assert x.tolist() == [0, 1, 2, 4, 5]
    assert v.tolist() == pytest.approx([0, 1, 2, 4 / 3, -5 / 6])


def test_perfect_uplift_curve_when_treated_non_responders_outnumber_control_responders():
    """Same mutants, other branch. TN (2) > CR (1): summand ``t``; ranking TR (3), CN (2), TN (1), CR (0).
    n=1: 1.  n=2: 2.  n=4: +TN, TN -> (1/3 - 0/1) * 4 = 4/3.  n=5: +CR -> (1/3 - 1/2) * 5 = -5/6."""
    x, v = perfect_uplift_curve(Y_TN, T_TN)
    assert x.tolist() == [0, 1, 2, 4, 5]
    assert v.tolist() == pytest.approx([0, 1, 2, 4 / 3, -5 / 6])


def test_perfect_uplift_curve_of_a_continuous_outcome():
    """Guards ``y * (2 t - 1)`` (sign, factor) and the binary/continuous switch.

    Spend 3 and 0 treated, 2 and 1.5 control: scores 3, 0, -2, -1.5 -> order u0, u1, u3, u2.
    n=1: 3 * 1 = 3.  n=2: 1.5 * 2 = 3.  n=3: (1.5 - 1.5) * 3 = 0.  n=4: (1.5 - 1.75) * 4 = -1."""
    x, v = perfect_uplift_curve([3.0, 0.0, 2.0, 1.5], [1, 1, 0, 0])
    assert x.tolist() == [0, 1, 2, 3, 4]
    assert v.tolist() == pytest.approx([0, 3, 3, 0, -1])


def test_perfect_uplift_curve_without_control_non_responders():
    """Guards ``_blocks_discrete`` keeping only non-empty levels (``cnt > 0`` -> ``>= 0`` adds a repeated point).

    TR, TN, CR: ranking TR (3), TN (1), CR (0) (CR 1 = TN 1: summand t). n=1: 1; n=2: 1/2 * 2 = 1;
    n=3: (1/2 - 1) * 3 = -3/2."""
    x, v = perfect_uplift_curve([1, 0, 1], [1, 1, 0])
    assert x.tolist() == [0, 1, 2, 3]
    assert v.tolist() == pytest.approx([0, 1, 1, -1.5])


def test_uplift_auc_score_by_hand():
    """Guards the normalisation ``(model - random) / (perfect - random)`` with the perfect curve above.

    Model ranks in row order: curve 0, 1, 1, -3/2, -2, -5/6 at n = 0..5, area -23/12 (trapezoids of width 1).
    Random: the line to (5, -5/6), area -25/12. Perfect: 0, 1, 2, 4/3 (at 4), -5/6 (at 5), area 67/12.
    Score (2/12) / (92/12) = 1/46."""
    score = np.array([0.5, 0.4, 0.3, 0.2, 0.1])
    _, v = uplift_curve(Y_CR, score, T_CR)
    assert v.tolist() == pytest.approx([0, 1, 1, -1.5, -2, -5 / 6])
    assert uplift_auc_score(Y_CR, score, T_CR) == pytest.approx(1 / 46)


# ------------------------------------------------------------------------------------------ perfect Qini curve
def test_perfect_qini_curve_of_a_binary_outcome():
    """Guards the three levels ``1 - y t + y (1 - t)`` (TR first, CR last) and the Qini formula.

    Ranking TR, {TN, CN}, {CR, CR}: n=1: 1 (no control yet); n=3: 1 - 0 * 2/1 = 1; n=5: 1 - 2 * 2/3 = -1/3."""
    x, v = perfect_qini_curve(Y_CR, T_CR)
    assert x.tolist() == [0, 1, 3, 5]
    assert v.tolist() == pytest.approx([0, 1, 1, -1 / 3])


def test_perfect_qini_curve_skips_an_empty_level():
    """Guards ``cnt > 0`` in ``_blocks_discrete``: no unit on the middle level (no non-responder).
    TR, CR, CR: n=1: 1; n=3: 1 - 2 * 1/2 = 0."""
    x, v = perfect_qini_curve([1, 1, 1], [1, 0, 0])
    assert x.tolist() == [0, 1, 3]
    assert v.tolist() == pytest.approx([0, 1, 0])


def test_perfect_qini_curve_of_a_continuous_outcome():
    """Guards the continuous ranking ``y t - y (1 - t)``. Spend 3, 0 treated; 2, 1.5 control.
    Order u0, u1, u3, u2: n=1: 3; n=2: 3; n=3: 3 - 1.5 * 2/1 = 0; n=4: 3 - 3.5 * 2/2 = -1/2."""
    x, v = perfect_qini_curve([3.0, 0.0, 2.0, 1.5], [1, 1, 0, 0])
    assert x.tolist() == [0, 1, 2, 3, 4]
    assert v.tolist() == pytest.approx([0, 3, 3, 0, -0.5])


def test_three_point_optimum_by_hand():
    """Guards Radcliffe's 3-point optimum: the overall effect ``Y_t - N_t Y_c / N_c`` and its kink.

    Y_TN: 1 treated responder of 3 treated, 1 control responder of 2 -> 1 - 3 * 1/2 = -1/2 (no persuadables:
    the plateau starts at 0). A positive case: treated 1, 1, 0 and control 1, 0 -> 2 - 3 * 1/2 = 1/2."""
    x, v = perfect_qini_curve(Y_TN, T_TN, negative_effect=False)
    assert x.tolist() == pytest.approx([0, 0, 5])
    assert v.tolist() == pytest.approx([0, -0.5, -0.5])
    x, v = perfect_qini_curve([1, 1, 0, 1, 0], [1, 1, 1, 0, 0], negative_effect=False)
    assert x.tolist() == pytest.approx([0, 0.5, 5])
    assert v.tolist() == pytest.approx([0, 0.5, 0.5])


def test_qini_auc_score_against_the_three_point_optimum_by_hand():
    """Guards ``negative_effect`` reaching the perfect curve in ``qini_auc_score``.

    Row-order ranking of [1,1,0,1,0] / [1,1,1,0,0]: Qini 0, 1, 2, 2, 2 - 1 * 3/1 = -1, 2 - 1 * 3/2 = 1/2;
    area 0.5 + 1.5 + 2 + 0.5 + (-0.25) = 4.25. Random line to (5, 1/2): area 1.25. 3-point optimum
    (0,0), (0.5, 0.5), (5, 0.5): area 0.125 + 2.25 = 2.375. Score (4.25 - 1.25) / (2.375 - 1.25) = 8/3."""
    y, t = [1, 1, 0, 1, 0], [1, 1, 1, 0, 0]
    score = [5, 4, 3, 2, 1]
    assert qini_curve(y, score, t)[1].tolist() == pytest.approx([0, 1, 2, 2, -1, 0.5])
    assert qini_auc_score(y, score, t, negative_effect=False) == pytest.approx(8 / 3)
    # negative_effect=True: perfect ranking {TR, TR}, {TN, CN}, CR: 0, 2 (n=2), 2 - 0 (n=4), 2 - 1 * 3/2 (n=5);
    # area 2 + 4 + 1.25 = 7.25 -> (4.25 - 1.25) / (7.25 - 1.25) = 1/2
    assert qini_auc_score(y, score, t) == pytest.approx(0.5)


def test_perfect_qini_curve_refuses_what_it_cannot_rank():
    """Guards the errors of ``_perfect_qini_points``: they name the parameter, the column, rule and values."""
    with pytest.raises(TypeError, match="negative_effect"):
        perfect_qini_curve(Y_CR, T_CR, negative_effect=1)
    with pytest.raises(DataContractError) as err:
        perfect_qini_curve([3.0, 0.0, 2.0, 1.5, 1.0], [1, 1, 0, 0, 0], negative_effect=False)
    assert err.value.column == "y_true"
    assert "{0, 1}" in err.value.rule and "negative_effect=False" in err.value.rule
    assert [float(e) for e in err.value.examples] == [1.5, 2.0, 3.0]  # the non-binary values, 0 and 1 left out


# ------------------------------------------------------------------------------------------------ input checks
def test_metric_input_errors_name_the_column_and_the_rule():
    """Guards ``_check``: each refusal names its column, rule and example rows (the project's error contract)."""
    cases = [
        (([1, 0], [[0.1], [0.2]], [1, 0]), "uplift", "1-D array", None),
        (([1, 0], [0.1, 0.2, 0.3], [1, 0]), "uplift", "same length", None),
        (([], [], []), "y_true", "n > 0", None),
        (([1, 0, 1], [0.1, np.inf, np.nan], [1, 0, 1]), "uplift", "finite", [1, 2]),
        (([1, 0, 1], [0.1, 0.2, 0.3], [0, 0, 0]), "treatment", "both groups present", [0]),
        (([1, 0, 1], [0.1, 0.2, 0.3], [1, 1, 1]), "treatment", "both groups present", [1]),
        (([1, np.nan, 1], [0.1, 0.2, 0.3], [1, 0, 1]), "y_true", "finite", [1]),
        (([1, 0, 1], [0.1, 0.2, 0.3], [1, 2, 0]), "treatment", "values in {0, 1}", None),
    ]
    for args, column, rule, examples in cases:
        with pytest.raises(DataContractError) as err:
            qini_curve(*args)
        assert (err.value.column, err.value.rule) == (column, rule), args
        if examples is not None:
            assert [int(e) for e in err.value.examples] == examples, args
    with pytest.raises(DataContractError, match="y 2, uplift 3, treatment 2"):
        qini_curve([1, 0], [0.1, 0.2, 0.3], [1, 0])


def test_boolean_and_integer_inputs_are_read_as_numbers():
    """Guards ``np.asarray(uplift, dtype=float)``: boolean scores (a yes/no model) are ranked like 1/0 floats
    (without the conversion ``-u`` fails on a boolean array)."""
    y, t = [1, 0, 0, 1], [1, 0, 1, 0]
    x, v = qini_curve(y, [True, False, True, False], t)
    x2, v2 = qini_curve(y, [1.0, 0.0, 1.0, 0.0], t)
    assert x.tolist() == x2.tolist() == [0, 2, 4]
    assert v.tolist() == pytest.approx(v2.tolist())
    assert v.tolist() == pytest.approx([0, 1, 0])  # top 2: TR and TN, no control -> 1; all: 1 - 1 * 2/2
    _, v3 = qini_curve(np.array(y, dtype=bool), [1, 0, 1, 0], np.array(t, dtype=bool))
    assert v3.tolist() == pytest.approx([0, 1, 0])


# ------------------------------------------------------------------------------------------------ uplift_at_k
def test_uplift_at_k_by_hand():
    """Guards the group weights and the difference of means in ``uplift_at_k`` (treated minus control).

    Ranking u0..u5 (t 1, 0, 1, 0, 1, 0; y 1, 0, 1, 1, 0, 0). Top 4 overall: treated 2/2, control 1/2 -> 1/2.
    by_group, k=2: top 2 treated (u0, u2) 2/2, top 2 control (u1, u3) 1/2 -> 1/2; k=0.5 -> 1 of 3 each:
    treated u0 (1), control u1 (0) -> 1."""
    y = np.array([1, 0, 1, 1, 0, 0])
    t = np.array([1, 0, 1, 0, 1, 0])
    u = np.array([6.0, 5, 4, 3, 2, 1])
    assert uplift_at_k(y, u, t, k=4) == pytest.approx(0.5)
    assert uplift_at_k(y, u, t, k=4 / 6 + 1e-9) == pytest.approx(0.5)
    assert uplift_at_k(y, u, t, k=2, strategy="by_group") == pytest.approx(0.5)
    assert uplift_at_k(y, u, t, k=0.5, strategy="by_group") == pytest.approx(1.0)
    # the default k is 0.3: int(6 * 0.3) = 1 unit, a treated one, no control -> NaN
    assert np.isnan(uplift_at_k(y, u, t))
    # k at its bounds: a count of n or a share of 1 is refused by name
    for bad in (6, 0, -1, 1.0, 0.0):
        with pytest.raises(ValueError, match="k="):
            uplift_at_k(y, u, t, k=bad)
    with pytest.raises(ValueError, match="strategy"):
        uplift_at_k(y, u, t, k=2, strategy="top")


# -------------------------------------------------------------------------------------------- uplift_by_decile
def test_uplift_by_decile_table_by_hand():
    """Guards every column of ``uplift_by_decile`` (bin numbering, counts, means, population variances,
    the normal interval with ``alpha``).

    Scores 10..1, two bins of five. Bin 1: treated y 1, 1, 0 (mean 2/3, variance 2/9), control 1, 0 (1/2, 1/4):
    uplift 1/6, std_err sqrt(2/9/3 + 1/4/2). Bin 2: treated 0, 0 (0, 0), control 0, 0, 1 (1/3, 2/9): uplift
    -1/3, std_err sqrt(0 + 2/9/3). alpha = 0.1: z = 1.6449."""
    u = np.arange(10, 0, -1, dtype=float)
    t = np.array([1, 1, 1, 0, 0, 1, 1, 0, 0, 0])
    y = np.array([1, 1, 0, 1, 0, 0, 0, 0, 0, 1])
    table = uplift_by_decile(y, u, t, bins=2, alpha=0.1)
    assert table["bin"].tolist() == [1, 2]
    assert table["n"].tolist() == [5, 5]
    assert table["n_treatment"].tolist() == [3, 2]
    assert table["n_control"].tolist() == [2, 3]
    assert table["mean_predicted_uplift"].tolist() == pytest.approx([8.0, 3.0])
    assert table["response_treatment"].tolist() == pytest.approx([2 / 3, 0.0])
    assert table["response_control"].tolist() == pytest.approx([1 / 2, 1 / 3])
    assert table["uplift"].tolist() == pytest.approx([1 / 6, -1 / 3])
    se = [np.sqrt(2 / 27 + 1 / 8), np.sqrt(2 / 27)]
    assert table["std_err"].tolist() == pytest.approx(se)
    z = 1.6448536269514722
    assert table["ci_low"].tolist() == pytest.approx([1 / 6 - z * se[0], -1 / 3 - z * se[1]])
    assert table["ci_high"].tolist() == pytest.approx([1 / 6 + z * se[0], -1 / 3 + z * se[1]])
    # the default alpha is 0.05
    default = uplift_by_decile(y, u, t, bins=2)
    assert (default["ci_high"] - default["uplift"]).tolist() == pytest.approx(
        [stats.norm.ppf(0.975) * s for s in se])


def test_uplift_by_decile_puts_a_tied_block_by_its_midpoint_rank():
    """Guards ``_decile_of``: the midpoint ``(start + end + 1) / 2`` of a tied block picks its bin, bins are
    clipped to ``bins - 1`` and a bin can stay empty (NaN, never an error).

    Scores 4, 3, 3, 1 in four bins: 4 -> midpoint 0.5 -> bin 1; the tied 3s -> midpoint 2 -> bin 3; 1 ->
    midpoint 3.5 -> bin 4. Bin 2 is empty."""
    y = np.array([1, 0, 1, 0])
    t = np.array([1, 0, 1, 0])
    table = uplift_by_decile(y, [4.0, 3.0, 3.0, 1.0], t, bins=4)
    assert table["n"].tolist() == [1, 0, 2, 1]
    assert table["n_treatment"].tolist() == [1, 0, 1, 0]
    empty = table.iloc[1]
    assert np.isnan(empty["mean_predicted_uplift"]) and np.isnan(empty["uplift"]) and np.isnan(empty["std_err"])
    assert table["mean_predicted_uplift"].tolist()[2:] == [3.0, 1.0]
    assert table["uplift"].iloc[2] == pytest.approx(1.0)  # treated u2 (1) minus control u1 (0)
    assert table["std_err"].iloc[2] == pytest.approx(0.0)
    # scores 3, 3, 2, 1 in two bins: the tied 3s -> midpoint 1 -> bin 1; 2 -> 2.5 -> bin 2; 1 -> bin 2
    assert uplift_by_decile(y, [3.0, 3.0, 2.0, 1.0], t, bins=2)["n"].tolist() == [2, 2]
    # a single bin holds everything; as many bins as units is allowed, more or fewer than one is not
    assert uplift_by_decile(y, [4.0, 3.0, 2.0, 1.0], t, bins=1)["n"].tolist() == [4]
    assert uplift_by_decile(y, [4.0, 3.0, 2.0, 1.0], t, bins=4)["n"].tolist() == [1, 1, 1, 1]
    for bad in (0, 5):
        with pytest.raises(ValueError, match="bins"):
            uplift_by_decile(y, [4.0, 3.0, 2.0, 1.0], t, bins=bad)


def test_uplift_by_decile_default_is_ten_bins():
    """Guards the default ``bins=10`` (deciles, as the name says)."""
    rng = np.random.default_rng(0)
    y, t = rng.integers(0, 2, 50), np.r_[0, 1, rng.integers(0, 2, 48)]
    table = uplift_by_decile(y, rng.normal(size=50), t)
    assert table["bin"].tolist() == list(range(1, 11)) and table["n"].tolist() == [5] * 10


# -------------------------------------------------------------------------------------------- bootstrap_metric
def _n_treated(y, u, t):
    return float(t.sum())


def test_bootstrap_resamples_within_each_group():
    """Guards the stratified resampling (index sets of the groups, their sizes): every replicate keeps 3
    treated and 5 control units and uses only the units of each group."""
    y = np.array([1, 0, 1, 0, 0, 1, 0, 0])
    t = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    u = np.arange(8, dtype=float)
    boot = bootstrap_metric(_n_treated, y, u, t, n_boot=25, rng=3)
    assert boot["samples"].shape == (25,) and (boot["samples"] == 3).all()
    sizes = bootstrap_metric(lambda yy, uu, tt: float(yy.size), y, u, t, n_boot=25, rng=3)
    assert (sizes["samples"] == 8).all()
    # the treated units have scores 0, 1, 2: a replicate's treated scores are drawn from those only
    top = bootstrap_metric(lambda yy, uu, tt: float(uu[tt == 1].max()), y, u, t, n_boot=40, rng=3)
    assert set(top["samples"]) <= {0.0, 1.0, 2.0} and len(set(top["samples"])) > 1
    low = bootstrap_metric(lambda yy, uu, tt: float(uu[tt == 0].min()), y, u, t, n_boot=40, rng=3)
    assert set(low["samples"]) <= {3.0, 4.0, 5.0, 6.0, 7.0} and len(set(low["samples"])) > 1


def test_bootstrap_interval_is_the_percentile_interval_of_its_replicates():
    """Guards ``alpha / 2`` and ``1 - alpha / 2``, the NaN-aware quantiles, ``std_err`` (population standard
    deviation of the replicates), the estimate on the full data and the keyword arguments passed through."""
    rng = np.random.default_rng(11)
    y, t, u = rng.integers(0, 2, 60), np.r_[0, 1, rng.integers(0, 2, 58)], rng.normal(size=60)
    boot = bootstrap_metric(uplift_at_k, y, u, t, n_boot=50, alpha=0.2, rng=5, k=20)
    s = boot["samples"]
    assert boot["estimate"] == pytest.approx(uplift_at_k(y, u, t, k=20))
    assert boot["ci_low"] == pytest.approx(np.quantile(s, 0.1))
    assert boot["ci_high"] == pytest.approx(np.quantile(s, 0.9))
    assert boot["std_err"] == pytest.approx(np.std(s))
    assert boot["ci_low"] < boot["ci_high"]
    # alpha defaults to 0.05 and n_boot to 200
    default = bootstrap_metric(uplift_at_k, y, u, t, rng=5, k=20)
    assert default["samples"].shape == (200,)
    assert default["ci_low"] == pytest.approx(np.quantile(default["samples"], 0.025))
    assert default["ci_high"] == pytest.approx(np.quantile(default["samples"], 0.975))


def test_bootstrap_ignores_replicates_without_a_value():
    """Guards ``nanquantile``/``nanstd``: a replicate whose metric is NaN (e.g. no control unit in the top k)
    is left out of the interval instead of making it NaN."""
    y = np.array([1, 0, 1, 0, 0, 1])
    t = np.array([1, 1, 1, 0, 0, 0])
    u = np.arange(6, dtype=float)
    flip = iter(range(10_000))

    def sometimes_nan(yy, uu, tt):
        return float("nan") if next(flip) % 3 == 1 else float(yy.mean())

    boot = bootstrap_metric(sometimes_nan, y, u, t, n_boot=30, rng=0)
    assert np.isnan(boot["samples"]).sum() == 10
    assert np.isfinite([boot["ci_low"], boot["ci_high"], boot["std_err"]]).all()
    finite = boot["samples"][np.isfinite(boot["samples"])]
    assert boot["std_err"] == pytest.approx(np.std(finite))


def test_bootstrap_is_reproducible_from_its_seed():
    """Guards the seed handling: an int seed, a Generator with that seed and the default (seed 0) agree."""
    rng = np.random.default_rng(4)
    y, t, u = rng.integers(0, 2, 40), np.r_[0, 1, rng.integers(0, 2, 38)], rng.normal(size=40)
    a = bootstrap_metric(qini_auc_score, y, u, t, n_boot=20, rng=0)["samples"]
    b = bootstrap_metric(qini_auc_score, y, u, t, n_boot=20, rng=np.random.default_rng(0))["samples"]
    c = bootstrap_metric(qini_auc_score, y, u, t, n_boot=20)["samples"]
    d = bootstrap_metric(qini_auc_score, y, u, t, n_boot=20, rng=1)["samples"]
    assert np.array_equal(a, b) and np.array_equal(a, c) and not np.array_equal(a, d)


# -------------------------------------------------------------------------------------------- permutation_null
def test_permutation_null_curve_and_p_value_by_hand():
    """Guards the observed curve on the grid (``x / n``), the score, and the p-value
    ``(1 + #{null >= observed}) / (1 + n_perm)``.

    Scores 8..1 on the 8 units below: Qini 0, 1, 2, 2, 2, 0.5, 1, 0.5, 0 at n = 0..8; on the grid 0, 1/4, 1/2,
    3/4, 1 (n = 0, 2, 4, 6, 8): 0, 2, 2, 1, 0."""
    y = np.array([1, 1, 0, 0, 1, 0, 1, 0])
    t = np.array([1, 1, 1, 0, 0, 0, 0, 1])
    u = np.arange(8, 0, -1, dtype=float)
    band = permutation_null(y, u, t, n_perm=30, grid_size=5, rng=2)
    assert band.kind == "qini"
    assert band.grid.tolist() == [0, 0.25, 0.5, 0.75, 1]
    assert band.curve.tolist() == pytest.approx([0, 2, 2, 1, 0])
    assert band.score == pytest.approx(qini_auc_score(y, u, t))
    assert band.null_scores.shape == (30,) and band.low.shape == band.high.shape == (5,)
    assert band.p_value == pytest.approx((1 + np.sum(band.null_scores >= band.score)) / 31)
    # the uplift curve: n=2: (2/2) * 2 = 2; n=4: (2/3 - 0) * 4 = 8/3; n=6: (2/3 - 1/3) * 6 = 2; n=8: 0
    up = permutation_null(y, u, t, kind="uplift", n_perm=30, grid_size=5, rng=2)
    assert up.kind == "uplift" and up.score == pytest.approx(uplift_auc_score(y, u, t))
    assert up.curve.tolist() == pytest.approx([0, 2, 8 / 3, 2, 0])
    with pytest.raises(ValueError, match="kind"):
        permutation_null(y, u, t, kind="gain")


def test_permutation_null_of_constant_scores_is_the_observed_curve():
    """Guards ``>=`` in the p-value (ties with the observed score count against it) and the band quantiles:
    shuffling constant scores changes nothing, so every null score equals the observed one and p = 1."""
    y = np.array([1, 0, 1, 0, 1, 0])
    t = np.array([1, 1, 0, 0, 1, 0])
    band = permutation_null(y, np.zeros(6), t, n_perm=9, grid_size=4, rng=0)
    assert band.p_value == 1.0
    assert (band.null_scores == band.score).all()
    assert np.allclose(band.low, band.curve) and np.allclose(band.high, band.curve)
    assert not band.beats_random


def test_permutation_null_band_quantiles_on_two_units():
    """Guards the band's ``alpha / 2`` and ``1 - alpha / 2`` quantiles over the permuted curves.

    Two units (treated responder, control non-responder): a permutation either keeps the responder first
    (Qini 0, 1, 1 on the grid 0, 1/2, 1) or puts it last (0, 0, 1), each about half of the time. With
    alpha = 0.5 the band is the 25 % and 75 % quantiles: 0, 0, 1 and 0, 1, 1."""
    band = permutation_null([1, 0], [1.0, 0.0], [1, 0], n_perm=200, alpha=0.5, grid_size=3, rng=1)
    assert 50 < np.sum(band.null_scores == band.score) < 150  # both orders are drawn often
    assert band.low.tolist() == pytest.approx([0, 0, 1])
    assert band.high.tolist() == pytest.approx([0, 1, 1])
    assert band.curve.tolist() == pytest.approx([0, 1, 1])
    # defaults: 200 permutations, a grid of 101 points, seed 0
    default = permutation_null([1, 0], [1.0, 0.0], [1, 0])
    assert default.null_scores.shape == (200,) and default.grid.shape == (101,)
    seeded = permutation_null([1, 0], [1.0, 0.0], [1, 0], rng=np.random.default_rng(0))
    assert np.array_equal(default.null_scores, seeded.null_scores)


def test_beats_random_is_strictly_above_the_upper_quantile():
    """Guards ``>`` and the 0.975 level of ``NullBand.beats_random``: null scores 0, 0.01, ..., 1 have
    their 97.5 % quantile at 0.975."""
    null = np.linspace(0, 1, 101)
    grid = np.zeros(1)

    def band(score: float) -> NullBand:
        return NullBand(score, null, 0.5, grid, grid, grid, grid, "qini")

    assert not band(0.975).beats_random
    assert band(0.9751).beats_random
    assert not band(0.97).beats_random


# ------------------------------------------------------------------------------------ second round of survivors
def test_perfect_uplift_curve_when_the_two_counts_tie():
    """Guards ``>`` (not ``>=``) in the choice of the summand: with as many control responders as treated
    non-responders (1 and 1) scikit-uplift's rule takes the summand ``t``: TR, TR (3), CN (2), TN (1), CR (0).
    n=2: 1 * 2 = 2; n=3: (1 - 0) * 3 = 3; n=4: (2/3 - 0) * 4 = 8/3; n=5: (2/3 - 1/2) * 5 = 5/6.
    (The summand ``y`` would put CR before TN: (1 - 1/2) * 4 = 2 at n=4.)"""
    x, v = perfect_uplift_curve([1, 1, 0, 0, 1], [1, 1, 0, 1, 0])
    assert x.tolist() == [0, 2, 3, 4, 5]
    assert v.tolist() == pytest.approx([0, 2, 3, 8 / 3, 5 / 6])


def test_uplift_auc_score_with_tied_scores_uses_the_block_ends():
    """Guards the x values in the area (trapezoids between block ends, not unit steps): scores 0.5, 0.4, 0.3,
    0.3, 0.1 on Y_CR / T_CR. Blocks: TR -> 1 at n=1; TN -> (1/2) * 2 = 1 at n=2; {CR, CR} -> (1/2 - 1) * 4 = -2
    at n=4; CN -> -5/6 at n=5. Area 0.5 + 1 - 1 - 17/12 = -11/12 (unit steps would give -5/12); random
    -25/12; perfect 67/12 (see above): (14/12) / (92/12) = 7/46."""
    score = [0.5, 0.4, 0.3, 0.3, 0.1]
    x, v = uplift_curve(Y_CR, score, T_CR)
    assert x.tolist() == [0, 1, 2, 4, 5] and v.tolist() == pytest.approx([0, 1, 1, -2, -5 / 6])
    assert uplift_auc_score(Y_CR, score, T_CR) == pytest.approx(7 / 46)


def test_perfect_uplift_curve_counts_treated_non_responders():
    """Guards the count of treated *non*-responders in the summand rule: TR 1, TN 2, CR 2, CN 2. Control
    responders (2) do not outnumber treated non-responders (2), so the summand is ``t``: TR, CN CN, TN TN,
    CR CR. n=1: 1; n=3: 1 * 3 = 3; n=5: (1/3) * 5 = 5/3; n=7: (1/3 - 1/2) * 7 = -7/6. (Counting treated
    responders instead, 1, would flip the rule: (1 - 1/2) * 5 = 5/2 at n=5.)"""
    x, v = perfect_uplift_curve([1, 0, 0, 1, 1, 0, 0], [1, 1, 1, 0, 0, 0, 0])
    assert x.tolist() == [0, 1, 3, 5, 7]
    assert v.tolist() == pytest.approx([0, 1, 3, 5 / 3, -7 / 6])


def test_perfect_uplift_curve_with_a_negative_outcome():
    """Guards the factor of ``y * (2 t - 1)`` for a continuous outcome that can be negative (a refund): the
    treated -1 ranks above the control 1.5 (score -1 against -1.5). Treated 2, -1; control 1.5, 0.5:
    scores 2, -1, -1.5, -0.5 -> order u0, u3, u1, u2. n=1: 2; n=2: (2 - 0.5) * 2 = 3; n=3: (1/2 - 1/2) * 3 = 0;
    n=4: (1/2 - 1) * 4 = -2."""
    x, v = perfect_uplift_curve([2.0, -1.0, 1.5, 0.5], [1, 1, 0, 0])
    assert x.tolist() == [0, 1, 2, 3, 4]
    assert v.tolist() == pytest.approx([0, 2, 3, 0, -2])


def test_bootstrap_passes_keyword_arguments_to_every_replicate():
    """Guards ``**kwargs`` in the replicates, not only in the estimate."""
    def constant(yy, uu, tt, c=0.0):
        return c

    boot = bootstrap_metric(constant, [1, 0, 1, 0], [4.0, 3.0, 2.0, 1.0], [1, 0, 1, 0], n_boot=5, c=7.0)
    assert boot["estimate"] == 7.0 and boot["samples"].tolist() == [7.0] * 5


def test_more_than_five_bad_values_are_shown_as_five_examples():
    """Guards the ``[:5]`` limits of the example rows and the single-unit edge of ``_check`` (one unit is one
    group only, not "no units")."""
    with pytest.raises(DataContractError) as err:
        qini_curve(np.zeros(8), [np.nan] * 7 + [0.0], [1, 0] * 4)
    assert [int(e) for e in err.value.examples] == [0, 1, 2, 3, 4]
    with pytest.raises(DataContractError) as err:
        perfect_qini_curve([2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 1.0], [1, 0] * 4, negative_effect=False)
    assert [float(e) for e in err.value.examples] == [2.0, 3.0, 4.0, 5.0, 6.0]
    assert err.value.rule == "values in {0, 1} when negative_effect=False"
    with pytest.raises(TypeError, match="negative_effect must be bool, got int"):
        perfect_qini_curve(Y_CR, T_CR, negative_effect=1)
    with pytest.raises(DataContractError) as err:
        qini_curve([1], [0.5], [1])
    assert (err.value.rule, list(err.value.examples)) == ("both groups present", [1])


def test_empty_bins_and_empty_cuts_give_nan_without_warnings():
    """Guards the ``if nt`` / ``if nc`` / ``if m.any()`` guards of ``uplift_by_decile`` and the
    ``wt.sum() == 0 or wc.sum() == 0`` guard of ``uplift_at_k``: an empty group is NaN, never a NumPy
    "mean of empty slice" or "invalid value" warning."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        table = uplift_by_decile([1, 0, 1, 0], [4.0, 3.0, 3.0, 1.0], [1, 0, 1, 0], bins=4)
        assert np.isnan(table["mean_predicted_uplift"].iloc[1]) and np.isnan(table["response_treatment"].iloc[3])
        assert np.isnan(uplift_at_k([1, 0, 1, 0], [4.0, 3.0, 2.0, 1.0], [1, 0, 1, 0], k=1))


def test_uplift_at_k_by_group_takes_a_whole_group_but_not_more():
    """Guards the bounds of ``by_group``: a count equal to a group's size takes all of it (uplift = difference
    of the group means: 2/3 - 1/3), one more is refused by name, a share of 0 is refused."""
    y = np.array([1, 1, 0, 1, 0, 0])
    t = np.array([1, 1, 1, 0, 0, 0])
    u = np.array([6.0, 5, 4, 3, 2, 1])
    assert uplift_at_k(y, u, t, k=3, strategy="by_group") == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="k=4"):
        uplift_at_k(y, u, t, k=4, strategy="by_group")
    with pytest.raises(ValueError, match="k=0.0"):
        uplift_at_k(y, u, t, k=0.0, strategy="by_group")


def test_permutation_band_is_the_pointwise_quantile_of_the_permuted_curves():
    """Guards the band's levels ``alpha / 2``, ``1 - alpha / 2`` (axis 0) and the grid ``x / n``.

    Two units (a treated responder and a control non-responder): a permuted curve is 0, 1, 1 (the responder
    first, null score = the observed score) or 0, 0, 1 on the grid 0, 1/2, 1. So the band's middle value is
    the quantile of those 0/1 indicators, which the returned null scores reveal."""
    for seed in range(6):
        for alpha in (0.5, 1.0):
            band = permutation_null([1, 0], [1.0, 0.0], [1, 0], n_perm=7, alpha=alpha, grid_size=3, rng=seed)
            first = (band.null_scores == band.score).astype(float)
            assert band.low.tolist() == pytest.approx([0, np.quantile(first, alpha / 2), 1])
            assert band.high.tolist() == pytest.approx([0, np.quantile(first, 1 - alpha / 2), 1])


def test_scores_by_arm_by_hand():
    """Guards ``scores_by_arm``: an array with ``arms`` naming its columns, each arm scored on its own units and
    the control units, ``k`` passed to ``uplift_at_k``, and an unknown column refused with the labels seen.

    Arm 1 ranks its pair perfectly (Qini coefficient 1); arm 2's scores are reversed (-1 here)."""
    y = np.array([1, 0, 0, 1, 1, 0])
    t = np.array([1, 1, 0, 0, 2, 2])
    scores = np.array([[3.0, 0.0], [1.0, 0.0], [2.0, 3.0], [0.0, 0.0], [0.0, 1.0], [0.0, 2.0]])
    frame = scores_by_arm(y, scores, t, arms=["1", "2"], k=0.5)
    assert frame["arm"].tolist() == ["1", "2"]
    pair1, pair2 = np.isin(t, [0, 1]), np.isin(t, [0, 2])
    assert frame["qini_auc"].tolist() == pytest.approx([
        qini_auc_score(y[pair1], scores[pair1, 0], (t[pair1] == 1).astype(int)),
        qini_auc_score(y[pair2], scores[pair2, 1], (t[pair2] == 2).astype(int))])
    assert frame["uplift_at_0.5"].tolist() == pytest.approx([
        uplift_at_k(y[pair1], scores[pair1, 0], (t[pair1] == 1).astype(int), 0.5),
        uplift_at_k(y[pair2], scores[pair2, 1], (t[pair2] == 2).astype(int), 0.5)])
    with pytest.raises(DataContractError) as err:
        scores_by_arm(np.zeros(7), pd.DataFrame({"9": np.zeros(7)}), np.arange(7))
    assert (err.value.column, err.value.rule) == ("treatment", "one uplift column per treatment arm")
    assert list(err.value.examples) == [0, 1, 2, 3, 4]
