"""Learners and metrics whose mistakes cancel out on 50/50 data, checked on 80/20 allocations with hand-computed
expectations (issue 21, item 1). Each test names the wrong implementation (mutation) it was checked against.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LinearRegression

from crm_models.ab import sample_size
from crm_models.ab.power import minimum_detectable_effect
from crm_models.uplift import ClassTransformation, XLearner, uplift_at_k
from crm_models.uplift.transformation import TransformedOutcome

Z_975, Z_80 = 1.959963984540054, 0.8416212335729143  # standard normal quantiles


def _x_learner_data(n_treated_per_x: int, n_control_per_x: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Treated units at x in {1, 3}, control units at x in {0, 2}; y = x for control, 2x when treated.

    Linear outcome models are exact (mu_0 = x, mu_1 = 2x), so the imputed effects are D1 = x on treated and
    D0 = x on control units; mean regressors give tau_1 = mean treated x = 2 and tau_0 = mean control x = 1.
    """
    x = np.r_[np.repeat([1.0, 3.0], n_treated_per_x), np.repeat([0.0, 2.0], n_control_per_x)]
    t = np.r_[np.ones(2 * n_treated_per_x), np.zeros(2 * n_control_per_x)].astype(int)
    return x.reshape(-1, 1), t, np.where(t == 1, 2.0 * x, x)


@pytest.mark.parametrize(("n_t", "n_c", "expected"), [
    (40, 10, 0.8 * 1.0 + 0.2 * 2.0),  # g = 0.8: tau = g tau_0 + (1 - g) tau_1 = 1.2
    (10, 40, 0.2 * 1.0 + 0.8 * 2.0),  # g = 0.2: 1.8
    (25, 25, 1.5),
])
def test_x_learner_weights_the_effect_models_by_the_propensity(n_t, n_c, expected) -> None:
    # mutations checked: g and 1 - g swapped (1.8 / 1.2), a fixed g = 0.5 (1.5 everywhere), the propensity as
    # the control share
    X, t, y = _x_learner_data(n_t, n_c)
    model = XLearner(outcome_estimator=LinearRegression(), effect_estimator=DummyRegressor()).fit(X, t, y)
    assert model.propensity_[1] == pytest.approx(n_t / (n_t + n_c))
    assert model.predict(np.array([[0.0], [5.0]])) == pytest.approx([expected, expected])
    tau0, tau1 = model.effect_models_[1]
    assert tau0.predict(X[:1])[0] == pytest.approx(1.0) and tau1.predict(X[:1])[0] == pytest.approx(2.0)


def _binary_80_20() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """80 treated (40 respond: 50 %), 20 control (5 respond: 25 %): the uplift is 0.25."""
    t = np.r_[np.ones(80), np.zeros(20)].astype(int)
    y = np.r_[np.ones(40), np.zeros(40), np.ones(5), np.zeros(15)].astype(int)
    return np.zeros((100, 1)), t, y


def test_class_transformation_balance_weights_on_80_20() -> None:
    # Z = 1 for 40 treated responders and 15 control non-responders. Weights 0.5 / 0.8 = 0.625 (treated) and
    # 0.5 / 0.2 = 2.5 (control): P(Z = 1) = (40 * 0.625 + 15 * 2.5) / (80 * 0.625 + 20 * 2.5) = 62.5 / 100,
    # so uplift = 2 * 0.625 - 1 = 0.25, the true difference. mutations checked: no weights (0.10), swapped
    # weights (2 * 109.375 / 212.5 - 1 = 0.029)
    X, t, y = _binary_80_20()
    balanced = ClassTransformation(estimator=DummyClassifier(strategy="prior")).fit(X, t, y)
    assert balanced.predict(X[:2]) == pytest.approx([0.25, 0.25])
    plain = ClassTransformation(estimator=DummyClassifier(strategy="prior"), balance=False).fit(X, t, y)
    assert plain.predict(X[:1]) == pytest.approx([2 * 0.55 - 1])  # the documented bias without weights


def test_transformed_outcome_on_80_20() -> None:
    # Y* = Y (T - e) / (e (1 - e)) with e = 0.8: treated responders 0.2 / 0.16 = 1.25, control responders
    # -0.8 / 0.16 = -5; mean = (40 * 1.25 - 5 * 5) / 100 = 0.25. mutation checked: e as the control share
    X, t, y = _binary_80_20()
    model = TransformedOutcome(estimator=DummyRegressor()).fit(X, t, y.astype(float))
    assert model.predict(X[:1]) == pytest.approx([0.25])


# ------------------------------------------------------------------------------------------- uplift_at_k
def test_uplift_at_k_when_the_cut_falls_inside_tied_scores() -> None:
    # top 30 % of 10 units = 3: unit 0 (score 5) fully, then the tied block of four 4s shares the two remaining
    # places: weight (3 - 1) / 4 = 0.5 each.
    #   treated: unit 0 (w 1, y 1), unit 1 (w .5, y 0), unit 3 (w .5, y 1) -> (1 + 0 + .5) / 2 = 0.75
    #   control: unit 2 (w .5, y 1), unit 4 (w .5, y 0)                   -> .5 / 1 = 0.5
    # mutations checked: ties taken whole (weight 1: 2/3 - 1/2), ties dropped (only unit 0: no control unit,
    # nan), weight k / tied (0.75 each), a stable-sort cut that takes units 1 and 2 whole (0.5 - 1)
    u = np.array([5, 4, 4, 4, 4, 1, 1, 1, 1, 1], dtype=float)
    t = np.array([1, 1, 0, 1, 0, 1, 0, 1, 0, 0])
    y = np.array([1, 0, 1, 1, 0, 1, 1, 0, 0, 1])
    assert uplift_at_k(y, u, t, k=0.3) == pytest.approx(0.25)
    assert uplift_at_k(y, u, t, k=3) == pytest.approx(0.25)  # a count, same cut
    # invariant to the order of the rows
    perm = np.random.default_rng(0).permutation(10)
    assert uplift_at_k(y[perm], u[perm], t[perm], k=0.3) == pytest.approx(0.25)
    # k = 5 takes unit 0 and the whole block: treated (1 + 0 + 1) / 3, control (1 + 0) / 2
    assert uplift_at_k(y, u, t, k=5) == pytest.approx(2 / 3 - 1 / 2)


def test_uplift_at_k_by_group_on_80_20_with_ties() -> None:
    # by_group: the top 25 % of each group separately. 8 treated (the big arm): top 2 = score 9 (y 1) and one
    # place shared by the three tied 5s (weight 1/3 each, y 1, 0, 0) -> (1 + 1/3) / 2 = 2/3. 4 control: top 1 =
    # one place shared by the tied pair of 7s (weight 1/2 each, y 1 and 0) -> 0.5. uplift = 2/3 - 1/2.
    u = np.array([9, 5, 5, 5, 1, 1, 1, 1, 7, 7, 0, 0], dtype=float)
    t = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0])
    y = np.array([1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0])
    assert uplift_at_k(y, u, t, k=0.25, strategy="by_group") == pytest.approx(2 / 3 - 1 / 2)


# ------------------------------------------------------------------------------------------- sample size
@pytest.mark.parametrize("ratio", [4.0, 0.25, 1.0])
def test_sample_size_for_unequal_allocation_by_hand(ratio) -> None:
    # n_control = (z_.975 + z_.8)^2 (p0 (1 - p0) + p1 (1 - p1) / r) / delta^2, treatment arm r * n_control.
    # 10 % -> 12 %, r = 4 (80/20 with the control the small arm): 7.8489 * (0.09 + 0.1056 / 4) / 0.0004 = 2284.0
    # mutations checked: ratio on the control term, `* ratio` instead of `/ ratio`, ratio ignored
    z2 = (Z_975 + Z_80) ** 2
    expected = math.ceil(z2 * (0.1 * 0.9 + 0.12 * 0.88 / ratio) / 0.02**2)
    assert sample_size(0.10, 0.02, ratio=ratio) == expected
    if ratio == 4.0:
        assert expected == 2285
    # means: sd^2 (1 + 1 / r); sd = 1, delta = 0.1
    assert sample_size(5.0, 0.1, kind="mean", sd=1.0, ratio=ratio) == math.ceil(z2 * (1 + 1 / ratio) / 0.01)
    # the inverse: the MDE at that size is the requested effect (up to the rounding up of n)
    n = sample_size(0.10, 0.02, ratio=ratio)
    assert minimum_detectable_effect(n, 0.10, ratio=ratio) == pytest.approx(0.02, rel=2e-3)
    assert minimum_detectable_effect(n - 50, 0.10, ratio=ratio) > 0.02


def test_unequal_allocation_needs_more_units_in_total() -> None:
    # for means the total (1 + r) n_c = z2 sd^2 (1 + r)(1 + 1/r) / delta^2 is smallest at r = 1 (4 z2 ...)
    total = {r: (1 + r) * sample_size(5.0, 0.1, kind="mean", sd=1.0, ratio=r) for r in (0.25, 1.0, 4.0)}
    assert total[1.0] < total[4.0] and total[1.0] < total[0.25]
    assert total[4.0] == pytest.approx(total[0.25], rel=0.01)  # symmetric in r <-> 1 / r
    z2 = (Z_975 + Z_80) ** 2
    assert total[1.0] == 2 * math.ceil(z2 * 2 / 0.01)


def test_uplift_at_k_by_group_with_a_count_and_the_bounds_of_k() -> None:
    # by_group with a count k = 1: treated top 1 = score 9 (y 1); control top 1 = the tied 7s (y 1 and 0,
    # weight 1/2 each) -> 1 - 0.5. mutations checked: the count ignored in by_group (`int(m.sum() * k)`), the
    # control group taken as "not treated" twice, and the bounds of k (`k <= 0`, `k >= n`, `0 < k < 1`)
    u = np.array([9, 5, 5, 5, 1, 1, 1, 1, 7, 7, 0, 0], dtype=float)
    t = np.array([1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0])
    y = np.array([1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 0])
    assert uplift_at_k(y, u, t, k=1, strategy="by_group") == pytest.approx(0.5)
    assert uplift_at_k(y, u, t, k=1) == pytest.approx(float("nan"), nan_ok=True)  # top 1 overall: no control
    assert uplift_at_k(y, u, t, k=11) == pytest.approx(6 / 8 - 1 / 3)  # all but one control unit (score 0)
    for bad in (0, 12, -1, 0.0, 1.0, 1.5):
        with pytest.raises(ValueError, match=f"k={bad}"):
            uplift_at_k(y, u, t, k=bad)
    with pytest.raises(ValueError, match="k=1.0 must be a share"):
        uplift_at_k(y, u, t, k=1.0, strategy="by_group")
    with pytest.raises(ValueError, match="exceeds the 4 units of group 0"):
        uplift_at_k(y, u, t, k=5, strategy="by_group")
    # a share that rounds to no unit of the small arm: nothing to compare (a zero-size cut must weigh nothing)
    assert np.isnan(uplift_at_k(y, u, t, k=0.2, strategy="by_group"))
    with pytest.raises(ValueError, match="int or a float, got str"):
        uplift_at_k(y, u, t, k="3")
