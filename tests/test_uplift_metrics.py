"""Uplift metrics: hand-computed cases, perfect/random/inverted rankings, ties, parity with scikit-uplift."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crm_models.exceptions import DataContractError
from crm_models.uplift import (
    bootstrap_metric,
    perfect_qini_curve,
    permutation_null,
    qini_auc_score,
    qini_curve,
    uplift_at_k,
    uplift_auc_score,
    uplift_by_decile,
    uplift_curve,
)

# hand-made data: 8 units, treated responders (persuadables) and control responders (sure things / dogs)
Y = np.array([1, 1, 0, 0, 1, 0, 1, 0])
T = np.array([1, 1, 1, 0, 0, 0, 0, 1])


def test_curves_hand_computed():
    score = np.array([8, 7, 6, 5, 4, 3, 2, 1], dtype=float)
    x, q = qini_curve(Y, score, T)
    # top n: treated responders Yt, control responders Yc, Nt, Nc
    # n=1: Yt=1 -> 1; n=2: 2; n=3: 2 (Nc=0 -> Yt); n=4: 2 - 0*3/1 = 2; n=5: 2 - 1*3/2 = 0.5;
    # n=6: 2 - 1*3/3 = 1; n=7: 2 - 2*3/4 = 0.5; n=8: 2 - 2*4/4 = 0
    assert x.tolist() == [0, 1, 2, 3, 4, 5, 6, 7, 8]
    assert q.tolist() == pytest.approx([0, 1, 2, 2, 2, 0.5, 1, 0.5, 0])
    _, u = uplift_curve(Y, score, T)
    # uplift curve: (Yt/Nt - Yc/Nc) * n; n=5: (2/3 - 1/2)*5 = 5/6; n=8: (2/4 - 2/4)*8 = 0
    assert u[5] == pytest.approx(5 / 6)
    assert u[8] == pytest.approx(0.0)
    assert u[3] == pytest.approx(2 / 3 * 3)


def test_qini_auc_hand_computed():
    score = np.array([8, 7, 6, 5, 4, 3, 2, 1], dtype=float)
    x, q = qini_curve(Y, score, T)
    area = np.trapezoid(q, x)
    xp, qp = perfect_qini_curve(Y, T)
    # perfect ranking: treated responders (2), then the rest, control responders last
    assert qp.max() == pytest.approx(2.0) and qp[-1] == pytest.approx(0.0)
    expected = (area - 0.0) / (np.trapezoid(qp, xp) - 0.0)  # random line ends at 0: zero baseline area
    assert qini_auc_score(Y, score, T) == pytest.approx(expected)


@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(5)
    n = 4_000
    tau = rng.uniform(-0.1, 0.4, n)
    t = rng.integers(0, 2, n)
    y = (rng.uniform(size=n) < 0.2 + tau * t).astype(int)
    return y, tau, t


def test_perfect_random_inverted_rankings(synthetic):
    y, tau, t = synthetic
    rng = np.random.default_rng(0)
    good = qini_auc_score(y, tau, t)
    rand = np.mean([qini_auc_score(y, rng.permutation(tau), t) for _ in range(20)])
    bad = qini_auc_score(y, -tau, t)
    assert good > 0.1 and abs(rand) < 0.05 and bad < -0.1
    assert uplift_auc_score(y, tau, t) > 0.1 > uplift_auc_score(y, -tau, t)
    # the perfect ranking of the observed data scores exactly 1
    assert qini_auc_score(y, y * t - y * (1 - t), t) == pytest.approx(1.0)
    assert uplift_at_k(y, tau, t, 0.2) > uplift_at_k(y, -tau, t, 0.2)


def test_metrics_are_invariant_to_row_order_with_ties(synthetic):
    y, tau, t = synthetic
    coarse = np.round(tau, 1)  # heavy ties
    perm = np.random.default_rng(1).permutation(y.size)
    for fn in (qini_auc_score, uplift_auc_score):
        assert fn(y, coarse, t) == pytest.approx(fn(y[perm], coarse[perm], t[perm]), abs=1e-12)
    for strategy in ("overall", "by_group"):
        assert uplift_at_k(y, coarse, t, 0.3, strategy) == pytest.approx(
            uplift_at_k(y[perm], coarse[perm], t[perm], 0.3, strategy), abs=1e-12)
    a = uplift_by_decile(y, coarse, t)
    b = uplift_by_decile(y[perm], coarse[perm], t[perm])
    assert np.allclose(a["uplift"], b["uplift"], equal_nan=True)
    x1, v1 = qini_curve(y, coarse, t)
    x2, v2 = qini_curve(y[perm], coarse[perm], t[perm])
    assert np.allclose(x1, x2) and np.allclose(v1, v2)


@settings(max_examples=40, deadline=None)
@given(
    data=st.lists(st.tuples(st.integers(0, 1), st.integers(0, 3), st.integers(0, 1)), min_size=6, max_size=60),
    seed=st.integers(0, 10_000),
)
def test_hypothesis_row_order_invariance_and_bounds(data, seed):
    y = np.array([d[0] for d in data])
    u = np.array([d[1] for d in data], dtype=float)
    t = np.array([d[2] for d in data])
    if t.min() == t.max():
        t[0] = 1 - t[0]
    perm = np.random.default_rng(seed).permutation(y.size)
    x1, v1 = qini_curve(y, u, t)
    x2, v2 = qini_curve(y[perm], u[perm], t[perm])
    assert np.allclose(v1, v2) and np.allclose(x1, x2)
    assert x1[0] == 0 and v1[0] == 0 and x1[-1] == y.size
    # the end point does not depend on the scores at all
    _, v3 = qini_curve(y, np.zeros(y.size), t)
    assert v1[-1] == pytest.approx(v3[-1])
    k1 = uplift_at_k(y, u, t, 0.5)
    k2 = uplift_at_k(y[perm], u[perm], t[perm], 0.5)
    assert (np.isnan(k1) and np.isnan(k2)) or k1 == pytest.approx(k2)
    # adding a constant or rescaling the scores changes nothing
    q = qini_auc_score(y, u, t)
    q2 = qini_auc_score(y, 3 * u + 1, t)
    assert (np.isnan(q) and np.isnan(q2)) or q == pytest.approx(q2)


@pytest.mark.filterwarnings("ignore::FutureWarning")  # sklift calls a deprecated sklearn helper
def test_parity_with_scikit_uplift(synthetic):
    sm = pytest.importorskip("sklift.metrics")
    y, tau, t = synthetic
    score = tau + np.random.default_rng(2).normal(0, 0.2, tau.size)  # no ties
    assert qini_auc_score(y, score, t) == pytest.approx(sm.qini_auc_score(y, score, t))
    assert qini_auc_score(y, score, t, negative_effect=False) == pytest.approx(
        sm.qini_auc_score(y, score, t, negative_effect=False))
    assert uplift_auc_score(y, score, t) == pytest.approx(sm.uplift_auc_score(y, score, t))
    for strategy in ("overall", "by_group"):
        assert uplift_at_k(y, score, t, 0.3, strategy) == pytest.approx(sm.uplift_at_k(y, score, t, strategy, 0.3))
    for ours, theirs in ((qini_curve, sm.qini_curve), (uplift_curve, sm.uplift_curve)):
        a, b = ours(y, np.round(score, 1), t), theirs(y, np.round(score, 1), t)
        assert np.allclose(a[0], b[0]) and np.allclose(a[1], b[1])


def test_uplift_by_decile_standard_errors(synthetic):
    y, tau, t = synthetic
    table = uplift_by_decile(y, tau, t, bins=10)
    assert table["n"].sum() == y.size and len(table) == 10
    first = table.iloc[0]
    assert first["std_err"] == pytest.approx(np.sqrt(
        first["response_treatment"] * (1 - first["response_treatment"]) / first["n_treatment"]
        + first["response_control"] * (1 - first["response_control"]) / first["n_control"]))
    # observed uplift falls from the top bin to the bottom bin for a good model
    assert table["uplift"].iloc[:3].mean() > table["uplift"].iloc[-3:].mean()


def test_continuous_outcome_metrics(synthetic):
    _, tau, t = synthetic
    rng = np.random.default_rng(3)
    spend = rng.gamma(2, 20, tau.size) * (1 + 2 * tau * t)
    assert qini_auc_score(spend, tau, t) > 0.05
    assert uplift_auc_score(spend, tau, t) > 0.05


def test_bootstrap_and_null_band(synthetic):
    y, tau, t = synthetic
    boot = bootstrap_metric(qini_auc_score, y, tau, t, n_boot=60, rng=0)
    assert boot["ci_low"] < boot["estimate"] < boot["ci_high"]
    null = permutation_null(y, tau, t, n_perm=60, rng=0)
    assert null.beats_random and null.p_value < 0.05
    assert (null.low <= null.high).all() and null.grid[0] == 0 and null.grid[-1] == 1
    # the observed curve leaves the null band somewhere in the middle
    assert (null.curve > null.high).any()
    noise = permutation_null(y, np.random.default_rng(9).normal(size=y.size), t, n_perm=60, rng=0)
    assert not noise.beats_random


def test_bad_input():
    with pytest.raises(DataContractError, match="coded 0"):
        qini_auc_score([1, 0, 1], [0.1, 0.2, 0.3], ["a", "b", "a"])
    with pytest.raises(DataContractError, match="coded 0"):
        qini_auc_score([1, 0, 1], [0.1, 0.2, 0.3], [0, 2, 1])
    with pytest.raises(DataContractError, match="both a treated and a control"):
        qini_auc_score([1, 0, 1], [0.1, 0.2, 0.3], [1, 1, 1])
    with pytest.raises(DataContractError, match="inconsistent lengths"):
        qini_curve([1, 0], [0.1, 0.2, 0.3], [0, 1, 1])
    with pytest.raises(DataContractError, match="finite"):
        qini_curve([1, 0, 1], [0.1, np.nan, 0.3], [0, 1, 1])
    with pytest.raises(ValueError):
        uplift_at_k([1, 0, 1], [0.1, 0.2, 0.3], [0, 1, 1], k=1.5)
