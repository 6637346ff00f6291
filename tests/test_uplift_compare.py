"""compare_learners: a learner that predicts the true effect wins, the tidy table holds Qini/AUUC per learner and
arm computed on the held-out units, and the chosen learner is named by the fitted object."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator

from crm_models.exceptions import DataContractError, NotFittedError
from crm_models.uplift import (
    LearnerComparison,
    compare_learners,
    default_learners,
    qini_auc_score,
    uplift_auc_score,
)


class _Scored(BaseEstimator):
    """A learner whose uplift for every arm is ``sign * X['tau']`` (+ seeded noise): no fitting needed."""

    method_name = "scored"

    def __init__(self, sign: float = 1.0, noise: float = 0.0) -> None:
        self.sign = sign
        self.noise = noise

    def fit(self, X, treatment, y):
        self.treatments_ = sorted(set(np.asarray(treatment)) - {"control"})
        return self

    def predict_frame(self, X):
        rng = np.random.default_rng(1)
        base = self.sign * X["tau"].to_numpy() + self.noise * rng.normal(size=len(X))
        return pd.DataFrame({a: base for a in self.treatments_}, index=X.index)


class Oracle(_Scored):
    method_name = "oracle"


class Backwards(_Scored):
    method_name = "backwards"

    def __init__(self, sign: float = -1.0, noise: float = 0.0) -> None:
        super().__init__(sign, noise)


class Noise(_Scored):
    method_name = "noise"

    def __init__(self, sign: float = 0.0, noise: float = 1.0) -> None:
        super().__init__(sign, noise)


@pytest.fixture(scope="module")
def experiment():
    """Three arms; the effect of arm ``a`` on conversion is ``tau`` (known per unit), arm ``b`` half of it."""
    rng = np.random.default_rng(20261130)
    n = 6000
    tau = rng.uniform(-0.2, 0.4, n)
    X = pd.DataFrame({"tau": tau, "other": rng.normal(size=n)})
    t = rng.choice(["control", "a", "b"], size=n)
    p = 0.3 + tau * (t == "a") + 0.5 * tau * (t == "b")
    y = (rng.uniform(size=n) < p).astype(float)
    return X, t, y


def test_the_learner_that_predicts_the_true_effect_wins(experiment) -> None:
    X, t, y = experiment
    comparison = compare_learners([Noise(), Backwards(), Oracle()], X, t, y, control="control", target_arm="a",
                                  test_share=0.5, random_state=3)
    assert comparison.best_name_ == "oracle" and isinstance(comparison.best_learner_, Oracle)
    table = comparison.table_
    assert list(table.columns[:3]) == ["learner", "arm", "n_units"]
    assert {"qini_auc", "uplift_auc", "uplift_at_0.3", "chosen"} <= set(table.columns)
    assert len(table) == 6 and set(table["arm"]) == {"a", "b"}
    assert table.loc[table["chosen"], "learner"].unique().tolist() == ["oracle"]
    qini = table.set_index(["learner", "arm"])["qini_auc"]
    for arm in ("a", "b"):
        assert qini[("oracle", arm)] > qini[("noise", arm)] > qini[("backwards", arm)]


def test_table_scores_are_the_metrics_on_the_held_out_units(experiment) -> None:
    X, t, y = experiment
    comparison = compare_learners({"truth": Oracle(), "chance": Noise()}, X, t, y, control="control",
                                  target_arm="a", test_share=0.4, random_state=5)
    held = np.random.default_rng(5).uniform(size=len(t)) < 0.4  # the documented split
    units = held & np.isin(t, ["a", "control"])
    treated = (t[units] == "a").astype(int)
    row = comparison.table_.set_index(["learner", "arm"]).loc[("truth", "a")]
    assert row["n_units"] == units.sum()
    assert row["qini_auc"] == pytest.approx(qini_auc_score(y[units], X["tau"][units], treated))
    assert row["uplift_auc"] == pytest.approx(uplift_auc_score(y[units], X["tau"][units], treated))
    ev = comparison.evaluation()
    assert ev.arm == "a" and np.array_equal(ev.units, units) and np.array_equal(ev.treated, treated)
    np.testing.assert_array_equal(ev.scores["truth"], X["tau"].to_numpy()[units])
    assert ev.response.shape == (units.sum(),) and ((ev.response >= 0) & (ev.response <= 1)).all()


def test_without_a_target_arm_the_mean_over_arms_decides_and_auuc_agrees(experiment) -> None:
    X, t, y = experiment
    for metric in ("qini_auc", "uplift_auc"):
        comparison = compare_learners([Backwards(), Oracle()], X, t, y, control="control", metric=metric)
        assert comparison.best_name_ == "oracle"


def test_bad_settings_are_refused_by_name(experiment) -> None:
    X, t, y = experiment
    with pytest.raises(DataContractError, match="target_arm 'c'"):
        compare_learners([Oracle()], X, t, y, control="control", target_arm="c")
    with pytest.raises(ValueError, match="two learners are named 'oracle'"):
        compare_learners([Oracle(), Oracle()], X, t, y, control="control")
    with pytest.raises(ValueError, match="metric"):
        compare_learners([Oracle()], X, t, y, control="control", metric="auc")
    with pytest.raises(ValueError, match="test_share"):
        compare_learners([Oracle()], X, t, y, control="control", test_share=1.0)
    with pytest.raises(NotFittedError):
        LearnerComparison([Oracle()]).evaluation("a")


def test_default_learners_are_named_by_their_method() -> None:
    names = [learner.method_name for learner in default_learners(control="control", seed=2)]
    assert names == ["S-learner", "T-learner", "X-learner", "DR-learner"]
