"""LearnerComparison details (issue 21, mutation survivors of ``uplift/compare``): the choice by the target arm
or by the mean over arms, the evaluation mask, the ``k`` column, the response model, and the documented
settings of the default learners. Learners here are fakes whose per-arm predictions are fixed columns of X,
so every score is the metric of a known ranking (Radcliffe 2007 Qini coefficient)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

from crm_models.exceptions import DataContractError
from crm_models.uplift import (
    DRLearner,
    LearnerComparison,
    SLearner,
    TLearner,
    XLearner,
    compare_learners,
    default_learners,
    qini_auc_score,
    uplift_at_k,
)


class _Columns(BaseEstimator):
    """Uplift of arm ``a`` is column ``col_a`` of X, of arm ``b`` column ``col_b`` (no fitting)."""

    method_name = "columns"

    def __init__(self, col_a: str = "tau", col_b: str = "tau") -> None:
        self.col_a = col_a
        self.col_b = col_b

    def fit(self, X, treatment, y):
        self.treatments_ = ["a", "b"]
        return self

    def predict_frame(self, X):
        return pd.DataFrame({"a": X[self.col_a].to_numpy(), "b": X[self.col_b].to_numpy()}, index=X.index)


@pytest.fixture(scope="module")
def data():
    """Arm a's effect is ``tau``, arm b's ``-tau``; ``noisy`` is tau plus noise."""
    rng = np.random.default_rng(17)
    n = 3000
    tau = rng.uniform(-0.3, 0.3, n)
    X = pd.DataFrame({"tau": tau, "neg": -tau, "noisy": tau + rng.normal(0, 0.3, n)})
    t = rng.choice(["control", "a", "b"], size=n)
    y = (rng.uniform(size=n) < 0.4 + tau * (t == "a") - tau * (t == "b")).astype(float)
    held = np.arange(n) % 2 == 0
    return X, t, y, held


def test_the_target_arm_or_the_mean_over_arms_chooses(data):
    """Guards ``on = table if target_arm is None else table[arm == target_arm]``: 'only a' ranks arm a
    perfectly and arm b backwards; 'both' ranks both arms with noise. On arm a 'only a' wins, on the mean
    over the arms 'both' wins."""
    X, t, y, held = data
    learners = {"only a": _Columns("tau", "tau"), "both": _Columns("noisy", "neg")}
    on_a = LearnerComparison(learners, control="control", target_arm="a").fit(X, t, y, evaluation=held)
    assert on_a.best_name_ == "only a" and on_a.best_learner_ is on_a.learners_["only a"]
    on_mean = LearnerComparison(learners, control="control").fit(X, t, y, evaluation=held)
    assert on_mean.best_name_ == "both"
    table = on_mean.table_.set_index(["learner", "arm"])
    assert table.loc[("only a", "b"), "qini_auc"] < 0 < table.loc[("both", "b"), "qini_auc"]
    assert table["chosen"].tolist() == [False, False, True, True]
    # a target arm given as another type is compared as text; the chosen learner is named by the mapping key
    assert LearnerComparison(learners, control="control", target_arm="b").fit(
        X, t, y, evaluation=held).best_name_ == "both"


def test_table_rows_use_the_held_out_units_and_k(data):
    """Guards ``n_units`` (held-out units of the arm and control), the ``uplift_at_<k>`` column with the
    comparison's ``k``, and the learner/arm columns first."""
    X, t, y, held = data
    comparison = LearnerComparison({"only a": _Columns()}, control="control", k=0.2).fit(X, t, y, evaluation=held)
    table = comparison.table_
    assert table.columns.tolist() == ["learner", "arm", "n_units", "qini_auc", "uplift_auc", "uplift_at_0.2",
                                      "chosen"]
    units = held & np.isin(t, ["a", "control"])
    row = table.set_index("arm").loc["a"]
    assert row["n_units"] == units.sum()
    treated = (t[units] == "a").astype(int)
    assert row["qini_auc"] == pytest.approx(qini_auc_score(y[units], X["tau"][units], treated))
    assert row["uplift_at_0.2"] == pytest.approx(uplift_at_k(y[units], X["tau"][units].to_numpy(), treated, 0.2))


def test_evaluation_mask_is_checked_by_name(data):
    """Guards the mask check: it must flag some but not all units, one flag per unit; the error names the
    ``evaluation`` column and the rule."""
    X, t, y, held = data
    comparison = LearnerComparison({"only a": _Columns()}, control="control")
    for bad in (np.ones(len(t), dtype=bool), np.zeros(len(t), dtype=bool), held[:-1]):
        with pytest.raises(DataContractError) as err:
            comparison.fit(X, t, y, evaluation=bad)
        assert err.value.column == "evaluation" and "training and held-out" in err.value.rule
    with pytest.raises(DataContractError) as err:
        LearnerComparison({"x": _Columns()}, control="control", target_arm="c").fit(X, t, y, evaluation=held)
    assert (err.value.column, sorted(err.value.examples)) == ("variant", ["a", "b"])


def test_response_model_of_the_evaluation(data):
    """Guards ``evaluation()``: the response model is fitted on the arm's *training* units (a prior classifier
    then scores every held-out unit with the arm's training response rate), a regressor serves a continuous
    outcome, and the default is seeded boosting of the documented size."""
    X, t, y, held = data
    comparison = LearnerComparison({"only a": _Columns()}, control="control", target_arm="b",
                                   response_estimator=DummyClassifier(strategy="prior")).fit(X, t, y, evaluation=held)
    ev = comparison.evaluation()
    assert ev.arm == "b"
    rate = y[~held & (t == "b")].mean()
    assert ev.response == pytest.approx(np.full(ev.units.sum(), rate))
    assert ev.y.tolist() == y[ev.units].tolist()
    ev_a = comparison.evaluation("a")
    assert np.array_equal(ev_a.units, held & np.isin(t, ["a", "control"]))
    spend = y * 10.0 + np.arange(len(y)) % 3
    reg = LearnerComparison({"only a": _Columns()}, control="control", target_arm="a",
                            response_estimator=DummyRegressor()).fit(X, t, spend, evaluation=held)
    assert reg.evaluation().response == pytest.approx(np.full(ev_a.units.sum(), spend[~held & (t == "a")].mean()))
    default = LearnerComparison({"only a": _Columns()}, control="control", target_arm="a").fit(
        X, t, spend, evaluation=held).evaluation()
    assert default.response.shape == (ev_a.units.sum(),)
    assert not np.all((default.response >= 0) & (default.response <= 1))  # a regressor, not probabilities


def test_default_learners_carry_their_documented_settings():
    """Guards ``default_learners`` and ``_boosting``: S/T/X/DR on boosting with 50 trees of 8 leaves and at least
    100 units a leaf, no early stopping, the given seed, the control label passed on; the X- and DR-learner get
    a regressor for their effect models."""
    learners = default_learners(control="holdout", seed=7)
    assert [type(m) for m in learners] == [SLearner, TLearner, XLearner, DRLearner]
    assert all(m.control == "holdout" for m in learners)
    assert learners[3].random_state == 7
    estimators = [learners[0].estimator, learners[1].estimator, learners[2].outcome_estimator,
                  learners[2].effect_estimator, learners[3].outcome_estimator, learners[3].effect_estimator]
    kinds = [HistGradientBoostingClassifier] * 3 + [HistGradientBoostingRegressor, HistGradientBoostingClassifier,
                                                     HistGradientBoostingRegressor]
    for est, kind in zip(estimators, kinds, strict=True):
        assert type(est) is kind
        p = est.get_params()
        assert (p["max_iter"], p["max_leaf_nodes"], p["min_samples_leaf"], p["early_stopping"],
                p["random_state"]) == (50, 8, 100, False, 7)
    assert default_learners()[3].random_state == 0 and default_learners()[0].control == 0


def test_compare_learners_split_and_settings(data):
    """Guards ``compare_learners``: units are held out where the seeded uniform draw is below ``test_share``;
    ``k``, ``metric`` and ``target_arm`` reach the comparison; a share outside (0, 1) is refused by name."""
    X, t, y, _ = data
    comparison = compare_learners({"only a": _Columns()}, X, t, y, control="control", target_arm="a",
                                  metric="uplift_auc", test_share=0.3, random_state=9, k=0.1)
    held = np.random.default_rng(9).uniform(size=len(t)) < 0.3
    ev = comparison.evaluation()
    assert np.array_equal(ev.units, held & np.isin(t, ["a", "control"]))
    assert comparison.metric == "uplift_auc" and "uplift_at_0.1" in comparison.table_.columns
    for bad in (0.0, 1.0, -0.5):
        with pytest.raises(ValueError, match="test_share"):
            compare_learners({"only a": _Columns()}, X, t, y, control="control", test_share=bad)


class _Recording(BaseEstimator):
    """A learner without ``method_name`` that records what it was fitted on; uplift = column ``tau``."""

    def fit(self, X, treatment, y):
        self.fit_index_ = list(X.index)
        self.fit_treatment_ = list(treatment)
        self.fit_y_ = list(y)
        self.treatments_ = ["a", "b"]
        return self

    def predict_frame(self, X):
        return pd.DataFrame({"a": X["tau"].to_numpy(), "b": X["tau"].to_numpy()}, index=X.index)


def test_learners_are_fitted_on_the_training_rows_only(data):
    """Guards ``X[~held]``, ``t[~held]``, ``y[~held]`` in ``fit``, a 0/1 integer mask read as booleans, the name
    of a learner without ``method_name`` (its class name), the settings' defaults, and a fresh index."""
    X, t, y, held = data
    comparison = LearnerComparison([_Recording()], control="control").fit(X, t, y, evaluation=held.astype(int))
    fitted = comparison.learners_["_Recording"]
    train = np.flatnonzero(~held)
    assert fitted.fit_index_ == train.tolist()
    assert fitted.fit_treatment_ == t[train].tolist() and fitted.fit_y_ == y[train].tolist()
    assert comparison.table_.index.tolist() == list(range(len(comparison.table_)))
    assert (comparison.metric, comparison.k, comparison.random_state) == ("qini_auc", 0.3, 0)
    assert "uplift_at_0.3" in comparison.table_.columns
    with pytest.raises(DataContractError) as err:
        LearnerComparison([_Recording()], control="control", target_arm="c").fit(X, t, y, evaluation=held)
    assert err.value.rule == "target_arm is one of the arms"


def test_compare_learners_defaults_to_the_four_boosted_learners():
    """Guards ``learners=None`` in ``compare_learners``: the default S/T/X/DR learners with the control label and
    the seed (0 when ``random_state`` is None), the default control 0 and seed 0 of the split.

    Regression: with integer labels and the default control 0 this failed with "no unit has the control label
    0" (the comparison reads labels as text, the default learners kept the integer control)."""
    rng = np.random.default_rng(3)
    n = 400
    X = pd.DataFrame({"x": rng.normal(size=n)})
    t = rng.integers(0, 2, n)
    y = (rng.uniform(size=n) < 0.3 + 0.2 * t).astype(float)
    comparison = compare_learners(None, X, t, y, random_state=None)
    assert list(comparison.learners_) == ["S-learner", "T-learner", "X-learner", "DR-learner"]
    assert comparison.learners_["DR-learner"].random_state == 0
    assert comparison.random_state is None
    seeded = compare_learners(None, X, t, y, random_state=5)
    assert seeded.learners_["DR-learner"].random_state == 5 and seeded.learners_["S-learner"].control == "0"
    labels = np.array(["control", "a", "b"])[np.arange(n) % 3]
    default = compare_learners({"r": _Recording()}, X.assign(tau=rng.normal(size=n)), labels, y, control="control")
    held = np.random.default_rng(0).uniform(size=n) < 0.5
    assert default.learners_["r"].fit_index_ == np.flatnonzero(~held).tolist()
