"""Uplift learners on tiny data whose fits are exact, and the input checks of ``uplift._base`` (issue 21).

Linear outcome models on data that is exactly linear, mean (``Dummy*``) models and designed allocations make every
prediction computable by hand (Künzel et al. 2019 for the S-, T- and X-learner; Kennedy 2020 for the DR-learner's
pseudo-outcome; Jaskowski & Jaroszewicz 2012 and Athey & Imbens 2016 for the transformations). Each test names the
class of mutants it guards against.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import StratifiedKFold

from crm_models.exceptions import DataContractError, NotFittedError
from crm_models.uplift import (
    ClassTransformation,
    DRLearner,
    SLearner,
    TLearner,
    TransformedOutcome,
    XLearner,
)
from crm_models.uplift._base import (
    arm_propensity,
    check_binary_treatment,
    check_features,
    check_outcome,
    check_treatment,
    default_estimator,
    fit_outcome_model,
    predict_outcome,
    regressor_like,
)

Z_975 = 1.959963984540054


# --------------------------------------------------------------------------------------------- input checks
def _error(fn, *args, **kwargs) -> DataContractError:
    with pytest.raises(DataContractError) as err:
        fn(*args, **kwargs)
    return err.value


def test_outcome_errors_name_the_column_rule_and_rows():
    """Guards ``check_outcome``: its refusals carry the caller's column name, the rule and example rows."""
    err = _error(check_outcome, ["a", "b", 1.0], name="spend")
    assert (err.column, err.rule) == ("spend", "numeric") and list(err.examples) == ["a", "b", "1.0"]
    err = _error(check_outcome, [[1.0, 0.0]], name="spend")
    assert (err.column, err.rule) == ("spend", "1-D array")
    err = _error(check_outcome, [1.0, np.nan, 0.0, np.inf])
    assert (err.column, err.rule, list(err.examples)) == ("y", "finite", [1, 3])
    err = _error(check_outcome, [0.0, 2.5, 1.0, 7.0], binary=True, name="converted")
    assert (err.column, err.rule, list(err.examples)) == ("converted", "values in {0, 1}", [2.5, 7.0])
    y, binary = check_outcome(np.array([True, False, True]))
    assert y.dtype == float and y.tolist() == [1.0, 0.0, 1.0] and binary is True
    assert check_outcome([0.0, 2.5])[1] is False
    assert check_outcome([0, 1, 1], binary=True)[1] is True


def test_treatment_errors_name_the_column_rule_and_rows():
    """Guards ``check_treatment``: dimension, length, missing labels, the control label and the arms."""
    assert _error(check_treatment, [[0, 1]]).rule == "1-D array"
    err = _error(check_treatment, [0, 1, 1], n=4)
    assert (err.column, err.rule) == ("treatment", "one label per row") and "3" in str(err) and "4" in str(err)
    assert _error(check_treatment, np.array(["control", None, "a"], dtype=object), "control").rule == \
        "no missing values"
    assert _error(check_treatment, [0.0, np.nan, 1.0]).rule == "no missing values"
    err = _error(check_treatment, ["holdout", "coupon", "coupon"], name="variant")
    assert (err.column, err.rule) == ("variant", "control label present")
    assert sorted(err.examples) == ["coupon", "holdout"] and "control=" in str(err)
    err = _error(check_treatment, [0, 0, 0])
    assert (err.rule, list(err.examples)) == ("at least one treated unit", [0])
    # arms in sorted order, control excluded; booleans are 0/1
    t, arms = check_treatment(np.array([2, 0, 1, 2]))
    assert arms == [1, 2] and t.tolist() == [2, 0, 1, 2]
    t, arms = check_treatment(np.array([True, False]))
    assert arms == [1] and t.tolist() == [1, 0]
    assert check_treatment(["b", "ctl", "a"], "ctl")[1] == ["a", "b"]
    assert check_treatment(["b", "ctl", "a"], "ctl", n=3)[1] == ["a", "b"]


def test_feature_errors_name_the_column_and_rows():
    """Guards ``check_features``: DataFrame columns by name, array columns as ``X[:, j]`` (the first bad one),
    with the offending rows; boolean columns and numeric text pass."""
    frame = pd.DataFrame({"flag": [True, False, True], "age": ["40", "41", "x"]})
    err = _error(check_features, frame)
    assert (err.column, err.rule) == ("age", "numeric features") and err.examples.index.tolist() == [2]
    frame = pd.DataFrame({"flag": [True, False, True], "age": [40.0, np.inf, np.nan]})
    err = _error(check_features, frame)
    assert (err.column, err.rule) == ("age", "finite features") and err.examples.index.tolist() == [1, 2]
    ok = check_features(pd.DataFrame({"flag": [True, False], "age": ["40", "41.5"]}))
    assert ok.dtype == float and ok.tolist() == [[1.0, 40.0], [0.0, 41.5]]
    arr = np.array([[1.0, 2.0, 3.0], [4.0, np.nan, np.inf], [7.0, 8.0, np.nan]])
    err = _error(check_features, arr)
    assert (err.column, err.rule, list(err.examples)) == ("X[:, 1]", "finite features", [1])
    err = _error(check_features, np.array([[1, "a"], [2, "b"]], dtype=object))
    assert (err.column, err.rule, list(err.examples)) == ("X[:, 1]", "numeric features", ["a", "b"])
    err = _error(check_features, ["a", "b"])
    assert (err.column, err.rule) == ("X", "numeric features")


def test_metric_treatment_must_be_zero_or_one():
    """Guards ``check_binary_treatment``: booleans and 0.0/1.0 pass as integers, anything else names the rule."""
    assert check_binary_treatment(np.array([True, False])).tolist() == [1, 0]
    out = check_binary_treatment([1.0, 0.0])
    assert out.tolist() == [1, 0] and out.dtype.kind == "i"
    err = _error(check_binary_treatment, ["a", "b", "a"], name="variant")
    assert (err.column, err.rule, list(err.examples)) == ("variant", "values in {0, 1}", ["a", "b"])
    assert _error(check_binary_treatment, [0, 1, 2]).rule == "values in {0, 1}"


# ------------------------------------------------------------------------------------------- shared helpers
def test_default_estimator_is_small_seeded_boosting():
    """Guards the documented default (histogram boosting, 50 trees of 8 leaves, at least 100 units a leaf, no
    early stopping, seed 0) and the classifier / regressor switch."""
    for binary, cls in ((True, HistGradientBoostingClassifier), (False, HistGradientBoostingRegressor)):
        est = default_estimator(binary)
        assert type(est) is cls
        params = est.get_params()
        assert {k: params[k] for k in ("max_iter", "learning_rate", "max_leaf_nodes", "min_samples_leaf",
                                       "early_stopping", "random_state")} == {
            "max_iter": 50, "learning_rate": 0.1, "max_leaf_nodes": 8, "min_samples_leaf": 100,
            "early_stopping": False, "random_state": 0}


def test_outcome_models_and_their_predictions():
    """Guards ``fit_outcome_model`` (clone, one-class refusal, sample weights) and ``predict_outcome`` (the
    probability of class 1, the last column without a class 1, a regressor's prediction as floats)."""
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    err = _error(fit_outcome_model, LogisticRegression(), X, np.ones(4), True)
    assert (err.column, err.rule, list(err.examples)) == ("y", "both classes present in every group", [1.0])
    template = DummyClassifier(strategy="prior")
    model = fit_outcome_model(template, X, np.array([0, 0, 0, 1]), True)
    assert model is not template and not hasattr(template, "classes_")
    assert predict_outcome(model, X).tolist() == pytest.approx([0.25] * 4)
    weighted = fit_outcome_model(template, X, np.array([0, 0, 0, 1]), True, np.array([1.0, 1.0, 1.0, 3.0]))
    assert predict_outcome(weighted, X[:1]).tolist() == pytest.approx([0.5])  # 3 / (3 + 3)
    text = DummyClassifier(strategy="prior").fit(X, ["no", "yes", "yes", "yes"])
    assert predict_outcome(text, X[:1]).tolist() == pytest.approx([0.75])  # no class 1: the last column
    reg = fit_outcome_model(None, X, np.array([1.0, 2.0, 3.0, 4.0]), False)
    assert isinstance(reg, HistGradientBoostingRegressor)
    ints = LinearRegression().fit(X, np.array([1, 2, 3, 4]))
    out = predict_outcome(ints, X)
    assert out.dtype == float and out == pytest.approx([1, 2, 3, 4])


def test_effect_regressor_choice():
    """Guards ``regressor_like``: the effect estimator wins, else the outcome estimator if a regressor, else the
    default regressor; always a clone; a classifier as effect estimator is refused by name."""
    lin, dummy = LinearRegression(), DummyRegressor()
    made = regressor_like(lin, dummy)
    assert isinstance(made, LinearRegression) and made is not lin
    made = regressor_like(None, dummy)
    assert isinstance(made, DummyRegressor) and made is not dummy
    assert isinstance(regressor_like(None, LogisticRegression()), HistGradientBoostingRegressor)
    assert isinstance(regressor_like(None, None), HistGradientBoostingRegressor)
    with pytest.raises(ValueError, match="effect_estimator"):
        regressor_like(LogisticRegression(), dummy)


def test_arm_propensity_counts_only_the_arm_and_control():
    """Guards ``arm_propensity``: the share of the arm among the arm's and the control units, other arms left
    out. Labels 0 x3, 1 x1, 2 x4: arm 1 -> 1/4, arm 2 -> 4/7."""
    t = np.array([0, 0, 0, 1, 2, 2, 2, 2])
    assert arm_propensity(t, 0, 1) == pytest.approx(1 / 4)
    assert arm_propensity(t, 0, 2) == pytest.approx(4 / 7)


# ---------------------------------------------------------------------------------------- learner interface
def test_fitted_attributes_and_prediction_shapes():
    """Guards ``_validate_fit`` / ``_check_X`` / ``predict`` / ``predict_frame``: feature names from a DataFrame
    (forgotten on a refit with an array), the number of features, the outcome type, one column per arm named
    after it, 1-D for one arm, the DataFrame's index kept, and the errors of an unfitted or mis-shaped call."""
    X = pd.DataFrame({"x": [0.0, 1, 2, 3, 4, 5], 7: [1.0, 0, 1, 0, 1, 1]}, index=list("abcdef"))
    t = np.array([0, 1, 2, 0, 1, 2])
    y = np.array([0.0, 1, 2, 0, 1, 2])
    model = TLearner(DummyRegressor())
    with pytest.raises(NotFittedError, match="TLearner"):
        model.predict(X)
    model.fit(X, t, y)
    assert model.feature_names_in_.tolist() == ["x", "7"] and model.n_features_in_ == 2
    assert model.treatments_ == [1, 2] and model.binary_outcome_ is False
    frame = model.predict_frame(X)
    assert frame.columns.tolist() == ["1", "2"] and frame.index.tolist() == list("abcdef")
    assert frame.to_numpy() == pytest.approx(np.tile([1.0, 2.0], (6, 1)))  # arm means minus control mean 0
    assert model.predict(X.to_numpy()).shape == (6, 2)
    assert model.predict_frame(X.to_numpy()).index.tolist() == list(range(6))
    err = _error(model.predict, X.to_numpy()[:, :1])
    assert (err.column, err.rule) == ("X", "same features as in fit")
    model.fit(X.to_numpy(), t, np.array([0, 1, 1, 0, 1, 1]))
    assert not hasattr(model, "feature_names_in_") and model.binary_outcome_ is True
    one_arm = TLearner(DummyRegressor()).fit(X, np.array([0, 1, 0, 1, 0, 1]), y)
    assert one_arm.predict(X).shape == (6,)
    err = _error(TLearner(DummyRegressor()).fit, X, t, y[:5])
    assert (err.column, err.rule) == ("y", "one outcome per row")


# -------------------------------------------------------------------------------------------- the learners
def _linear_three_arms(n: int = 30):
    """y = 1 + 2 x + 3 [arm 1] + 5 [arm 2], exactly: every linear learner recovers 3 and 5."""
    x = np.arange(n, dtype=float)
    t = np.arange(n) % 3
    y = 1 + 2 * x + 3.0 * (t == 1) + 5.0 * (t == 2)
    return x.reshape(-1, 1), t, y


def test_s_learner_one_hot_arms_by_hand():
    """Guards the S-learner's design: arm ``j`` switches on its own dummy column, control none (swapped or
    shared dummies give 5/3 or equal effects)."""
    X, t, y = _linear_three_arms()
    model = SLearner(LinearRegression()).fit(X, t, y)
    assert model.model_.coef_.shape == (3,)
    assert model.predict(np.array([[0.0], [100.0]])) == pytest.approx(np.array([[3.0, 5.0], [3.0, 5.0]]))
    assert model.method_name == "S-learner"


def test_t_learner_uses_the_control_estimator_for_control():
    """Guards ``control_estimator``: control y = x at x in {0, 2} fitted by a mean model (1), treated y = 2 x
    fitted by a line: uplift 2 x - 1 (a line for control too would give x)."""
    X = np.array([[0.0], [2.0], [1.0], [3.0]])
    t = np.array([0, 0, 1, 1])
    y = np.array([0.0, 2.0, 2.0, 6.0])
    model = TLearner(LinearRegression(), control_estimator=DummyRegressor()).fit(X, t, y)
    assert isinstance(model.control_model_, DummyRegressor) and isinstance(model.models_[1], LinearRegression)
    assert model.predict(np.array([[0.0], [5.0]])) == pytest.approx([-1.0, 9.0])
    same = TLearner(LinearRegression()).fit(X, t, y)
    assert same.predict(np.array([[0.0], [5.0]])) == pytest.approx([0.0, 5.0])
    assert model.method_name == "T-learner"


def _x_data(n_t: int, n_c: int):
    """Treated at x in {1, 3}, control at x in {0, 2}; y = x for control, 2 x when treated: with linear outcome
    models and mean effect models tau_1 = 2 (mean treated x) and tau_0 = 1 (mean control x)."""
    x = np.r_[np.repeat([1.0, 3.0], n_t), np.repeat([0.0, 2.0], n_c)]
    t = np.r_[np.ones(2 * n_t), np.zeros(2 * n_c)].astype(int)
    return x.reshape(-1, 1), t, np.where(t == 1, 2.0 * x, x)


def test_x_learner_clips_an_estimated_propensity():
    """Guards the propensity model path of the X-learner: fitted on the arm and control units, its prediction
    clipped to ``[clip, 1 - clip]``. 80 % treated: g = 0.8 -> clip 0.3 -> 0.7: 0.7 * 1 + 0.3 * 2 = 1.3;
    clip 0.1 leaves 0.8: 0.8 + 0.4 = 1.2."""
    X, t, y = _x_data(40, 10)
    kw = {"outcome_estimator": LinearRegression(), "effect_estimator": DummyRegressor(),
          "propensity_estimator": DummyClassifier(strategy="prior")}
    model = XLearner(**kw, propensity_clip=0.3).fit(X, t, y)
    assert set(model.propensity_models_) == {1}
    assert model.predict(X[:2]) == pytest.approx([1.3, 1.3])
    assert XLearner(**kw, propensity_clip=0.1).fit(X, t, y).predict(X[:1]) == pytest.approx([1.2])
    # an 1 % clip is the default: a 99.5 % arm is clipped to 0.99 -> 0.99 * 1 + 0.01 * 2
    X, t, y = _x_data(199, 1)
    assert XLearner(**kw).fit(X, t, y).predict(X[:1]) == pytest.approx([1.01])
    # without a propensity model the design share 199 / 200 is used, unclipped
    plain = XLearner(LinearRegression(), DummyRegressor()).fit(X, t, y)
    assert plain.propensity_models_ == {} and plain.predict(X[:1]) == pytest.approx([0.995 + 0.005 * 2])


def test_x_learner_imputes_effects_against_the_right_group():
    """Guards the imputed effects of stage 2: ``D_1 = Y - mu_0(X)`` on treated, ``D_0 = mu_a(X) - Y`` on
    control. Mean outcome models: mu_0 = 1 (mean control y), mu_1 = 4 (mean treated y): D_1 = 2x - 1 on
    treated x 1, 3 -> mean 3; D_0 = 4 - x on control x 0, 2 -> mean 3. Effect 3 for any g."""
    X, t, y = _x_data(10, 30)
    model = XLearner(DummyRegressor(), DummyRegressor()).fit(X, t, y)
    tau0, tau1 = model.effect_models_[1]
    assert tau0.predict(X[:1]) == pytest.approx([3.0]) and tau1.predict(X[:1]) == pytest.approx([3.0])
    assert model.predict(X[:1]) == pytest.approx([3.0])


def test_x_learner_with_several_arms_pairs_each_arm_with_control():
    """Guards the per-arm loop: arm 1 (y = x + 1) and arm 2 (y = x + 4) against control (y = x), linear models."""
    x = np.tile([0.0, 1.0, 2.0, 3.0], 3)
    t = np.repeat([0, 1, 2], 4)
    y = x + np.where(t == 1, 1.0, 0.0) + np.where(t == 2, 4.0, 0.0)
    model = XLearner(LinearRegression()).fit(x.reshape(-1, 1), t, y)
    assert model.propensity_ == {1: pytest.approx(0.5), 2: pytest.approx(0.5)}
    assert model.predict(np.array([[1.5]])) == pytest.approx(np.array([[1.0, 4.0]]))


def _dr_phi(X, t, y, n_folds, seed, e_of):
    """The DR pseudo-outcome with fold-mean nuisance models; ``e_of(train_t)`` gives the propensity."""
    phi = np.empty(len(y))
    for train, test in StratifiedKFold(n_folds, shuffle=True, random_state=seed).split(X, t):
        m1, m0 = y[train][t[train] == 1].mean(), y[train][t[train] == 0].mean()
        e = e_of(t[train])
        tt, yy = t[test], y[test]
        phi[test] = m1 - m0 + tt * (yy - m1) / e - (1 - tt) * (yy - m0) / (1 - e)
    return phi


def test_dr_learner_with_an_estimated_and_clipped_propensity():
    """Guards the DR-learner's propensity-model path: fitted on the training folds, clipped to
    ``[clip, 1 - clip]`` (about 80 % treated -> 0.8, clipped to 0.75 with clip 0.25).

    The mean pseudo-outcome cannot show the propensity here: with mean outcome models the residual terms
    ``sum T (Y - mu_1)`` of the folds nearly cancel (exactly, with equal folds), so any ``e`` gives (almost) the
    same mean. The effect model is therefore a linear regression on ``x``, whose fit depends on every unit's
    pseudo-outcome, and the clipped and unclipped fits must differ."""
    rng = np.random.default_rng(8)
    t = np.r_[np.ones(49), np.zeros(12)].astype(int)  # unequal folds: 17/4, 16/4, 16/4
    n = t.size
    X = rng.normal(size=(n, 1))
    y = rng.normal(size=n) + t + 2.0 * X[:, 0] * t
    grid = np.array([[-1.0], [0.0], [1.5]])

    def fit(**kw):
        return DRLearner(DummyRegressor(), LinearRegression(), propensity_estimator=DummyClassifier(strategy="prior"),
                         n_folds=3, random_state=4, **kw).fit(X, t, y)

    def by_hand(e_of):
        phi = _dr_phi(X, t, y, 3, 4, e_of)
        return phi, LinearRegression().fit(X, phi).predict(grid)

    clipped = fit(propensity_clip=0.25)
    phi_c, want_c = by_hand(lambda tt: min(max(tt.mean(), 0.25), 0.75))
    assert clipped.predict(grid) == pytest.approx(want_c, rel=1e-9)
    assert clipped.pseudo_outcome_mean_[1] == pytest.approx(phi_c.mean(), rel=1e-12)
    unclipped = fit()  # default clip 0.01 leaves the training folds' shares (~0.8) alone
    _, want_u = by_hand(lambda tt: tt.mean())
    assert unclipped.predict(grid) == pytest.approx(want_u, rel=1e-9)
    # the design share of the whole sample (49 / 61) is not the training folds' share
    _, want_design = by_hand(lambda tt: 49 / 61)
    assert not np.allclose(want_u, want_design, rtol=1e-6)
    # the clip is visible: a wrong or missing clip would give the unclipped fit
    assert not np.allclose(want_c, want_u, rtol=1e-3)


def test_dr_learner_summary_by_hand():
    """Guards ``DRLearner.summary``: the mean pseudo-outcome, its standard error, the 95 % normal interval and
    the group counts of each arm (arm 1: 20 treated, arm 2: 10, control 30); the fold count; the default of
    3 folds and seed 0."""
    rng = np.random.default_rng(2)
    t = np.r_[np.zeros(30), np.ones(20), np.full(10, 2)].astype(int)
    X = rng.normal(size=(60, 1))
    y = rng.normal(size=60) + t
    model = DRLearner(DummyRegressor(), DummyRegressor()).fit(X, t, y)
    summary = model.summary
    assert summary.index.tolist() == [1, 2]
    assert summary["n_arm"].tolist() == [20, 10] and summary["n_control"].tolist() == [30, 30]
    pair = t != 2
    phi = _dr_phi(X[pair], (t[pair] == 1).astype(int), y[pair], 3, 0, lambda tt: 20 / 50)
    row = summary.loc[1]
    assert row["ate"] == pytest.approx(phi.mean(), rel=1e-12)
    assert row["std_error"] == pytest.approx(phi.std(ddof=1) / np.sqrt(50), rel=1e-12)
    assert row["ci_low"] == pytest.approx(row["ate"] - Z_975 * row["std_error"])
    assert row["ci_high"] == pytest.approx(row["ate"] + Z_975 * row["std_error"])
    with pytest.raises(NotFittedError, match="DRLearner"):
        _ = DRLearner().summary
    with pytest.raises(ValueError, match="n_folds"):
        DRLearner(DummyRegressor(), n_folds=1).fit(X, t, y)
    assert model.method_name == "DR-learner"


def test_class_transformation_multi_arm_and_refusals():
    """Guards ``Z = Y T + (1 - Y)(1 - T)`` per arm and ``2 P(Z = 1) - 1``: arm 1 responds 3/4, arm 2 1/4,
    control 1/2 (50/50 pairs, no weighting needed): uplifts 1/4 and -1/4."""
    t = np.repeat([0, 1, 2], 4)
    y = np.array([1, 1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 0])
    model = ClassTransformation(DummyClassifier(strategy="prior")).fit(np.zeros((12, 1)), t, y)
    assert all(isinstance(m, DummyClassifier) for m in model.models_.values())  # the given estimator is used
    assert isinstance(ClassTransformation().fit(np.zeros((12, 1)), t, y).models_[2], HistGradientBoostingClassifier)
    assert model.predict(np.zeros((1, 1))) == pytest.approx(np.array([[0.25, -0.25]]))
    assert ClassTransformation(DummyClassifier(strategy="prior"), balance=False).fit(
        np.zeros((12, 1)), t, y).predict(np.zeros((1, 1))) == pytest.approx(np.array([[0.25, -0.25]]))
    with pytest.raises(TypeError, match="classifier"):
        ClassTransformation(LinearRegression()).fit(np.zeros((12, 1)), t, y)
    assert model.method_name == "class transformation"


class _SureClassifier(ClassifierMixin, BaseEstimator):
    """Predicts P(treated) = 1 for every unit (a degenerate propensity model)."""

    def fit(self, X, y):
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):
        return np.column_stack([np.zeros(len(X)), np.ones(len(X))])


def test_transformed_outcome_propensity_model_and_refusals():
    """Guards ``TransformedOutcome``: the clipped propensity model (0.8 -> 0.7 with clip 0.3: treated responders
    0.3 / 0.21, control responders -0.7 / 0.21), a degenerate propensity refused by rule, a classifier refused."""
    t = np.r_[np.ones(80), np.zeros(20)].astype(int)
    y = np.r_[np.ones(40), np.zeros(40), np.ones(5), np.zeros(15)]
    X = np.zeros((100, 1))
    model = TransformedOutcome(DummyRegressor(), propensity_estimator=DummyClassifier(strategy="prior"),
                               propensity_clip=0.3).fit(X, t, y)
    assert model.predict(X[:1]) == pytest.approx([(40 * 0.3 / 0.21 - 5 * 0.7 / 0.21) / 100])
    assert isinstance(model.models_[1], DummyRegressor)
    # the default clip (1 %) leaves 0.8 alone: the design-propensity answer 0.25
    default_clip = TransformedOutcome(DummyRegressor(), propensity_estimator=DummyClassifier(strategy="prior"))
    assert default_clip.fit(X, t, y).predict(X[:1]) == pytest.approx([0.25])
    err = _error(TransformedOutcome(DummyRegressor(), propensity_estimator=_SureClassifier(), propensity_clip=0.0)
                 .fit, X, t, y)
    assert (err.column, err.rule) == ("treatment", "both groups present")
    with pytest.raises(TypeError, match="regressor"):
        TransformedOutcome(LogisticRegression()).fit(X, t, y)
    assert isinstance(TransformedOutcome().fit(X, t, y).models_[1], HistGradientBoostingRegressor)
    assert model.method_name == "transformed outcome"


class _NeverClassifier(_SureClassifier):
    """Predicts P(treated) = 0 for every unit."""

    def predict_proba(self, X):
        return np.column_stack([np.ones(len(X)), np.zeros(len(X))])


def test_transformed_outcome_clips_from_below_and_refuses_a_zero_propensity():
    """Guards the lower clip bound and ``e <= 0`` in ``TransformedOutcome``: 20 % treated (e = 0.2) is raised to
    0.3 by clip 0.3: treated responders 0.7 / 0.21, control responders -0.3 / 0.21, mean (10 * 0.7 - 20 * 0.3)
    / 0.21 / 100 = 1/21; a propensity model that says 0 is refused by rule."""
    t = np.r_[np.ones(20), np.zeros(80)].astype(int)
    y = np.r_[np.ones(10), np.zeros(10), np.ones(20), np.zeros(60)]
    X = np.zeros((100, 1))
    model = TransformedOutcome(DummyRegressor(), propensity_estimator=DummyClassifier(strategy="prior"),
                               propensity_clip=0.3).fit(X, t, y)
    assert model.predict(X[:1]) == pytest.approx([1 / 21])
    err = _error(TransformedOutcome(DummyRegressor(), propensity_estimator=_NeverClassifier(), propensity_clip=0.0)
                 .fit, X, t, y)
    assert (err.column, err.rule) == ("treatment", "both groups present")
