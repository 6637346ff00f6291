"""DR-learner (Kennedy 2020/2023, arXiv:2004.14497) by hand: the clipping of an estimated propensity at both ends
and by default, the effect model it is given, and the default outcome model for a 0/1 outcome (issue 21: a full
mutation run of ``uplift/drlearner`` left these mutants alive).

With outcome models that predict 0 everywhere the pseudo-outcome is ``phi = T Y / e - (1 - T) Y / (1 - e)``, the
same for every fold, so its mean and standard error follow by hand from the clipped propensity ``e``. (With
constant *fold-mean* outcome models and equal folds the residual terms cancel over the folds, so the mean
pseudo-outcome cannot show ``e``; ``test_uplift_learner_hand.py`` therefore checks a linear effect fit on every
pseudo-outcome instead.)
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.dummy import DummyRegressor
from sklearn.model_selection import StratifiedKFold

from crm_models.uplift import DRLearner
from crm_models.uplift._base import default_estimator
from uplift_stubs import ConstantProba, zero_regressor


def _data(seed: int = 1):
    rng = np.random.default_rng(seed)
    t = np.r_[np.ones(40), np.zeros(10)].astype(int)
    X = rng.normal(size=(50, 1))
    y = rng.uniform(1.0, 3.0, size=50)
    return X, t, y


def _phi(t, y, e):
    return t * y / e - (1 - t) * y / (1 - e)


@pytest.mark.parametrize(("p", "clip", "e"), [(0.999, 0.1, 0.9), (0.001, 0.1, 0.1), (0.5, 0.1, 0.5),
                                             (0.999, 0.01, 0.99)])
def test_an_estimated_propensity_is_clipped_at_both_ends(p, clip, e) -> None:
    """Guards ``np.clip(e, clip, 1 - clip)`` with either bound dropped or moved (``1 + clip``, ``2 - clip``)."""
    X, t, y = _data()
    model = DRLearner(zero_regressor(), zero_regressor(), propensity_estimator=ConstantProba(p), propensity_clip=clip).fit(X, t, y)
    phi = _phi(t, y, e)
    assert model.pseudo_outcome_mean_[1] == pytest.approx(phi.mean(), rel=1e-12)
    assert model.pseudo_outcome_se_[1] == pytest.approx(phi.std(ddof=1) / np.sqrt(50), rel=1e-12)


def test_the_default_clip_is_one_percent() -> None:
    """Guards the default ``propensity_clip=0.01`` (e.g. ``1.01``, which turns the clip upside down): an estimated
    propensity of 0.9999 is used as 0.99."""
    X, t, y = _data()
    assert DRLearner().propensity_clip == 0.01
    model = DRLearner(zero_regressor(), zero_regressor(), propensity_estimator=ConstantProba(0.9999)).fit(X, t, y)
    assert model.pseudo_outcome_mean_[1] == pytest.approx(_phi(t, y, 0.99).mean(), rel=1e-12)


def test_the_given_effect_estimator_fits_the_pseudo_outcome() -> None:
    """Guards ``regressor_like(self.effect_estimator, ...)`` -> ``regressor_like(None, ...)`` (the outcome model's
    clone would then fit the effects): an effect model that always says 7 makes every prediction 7."""
    X, t, y = _data()
    model = DRLearner(zero_regressor(), DummyRegressor(strategy="constant", constant=7.0)).fit(X, t, y)
    np.testing.assert_array_equal(model.predict(X[:4]), np.full(4, 7.0))


def test_the_default_outcome_models_of_a_binary_outcome_are_classifiers() -> None:
    """Guards passing ``binary=None`` instead of the outcome's type to the nuisance models (the default is then a
    boosted *regressor*): for a 0/1 outcome the pseudo-outcome is built from the default boosted classifier's
    probabilities, recomputed here fold by fold (folds seeded as the learner's). Both groups are large enough
    (about 375 units per training fold) for trees with ``min_samples_leaf=100`` to split; a tree that cannot split
    predicts the group mean as either kind of model."""
    rng = np.random.default_rng(4)
    n = 1500
    X = rng.normal(size=(n, 2))
    t = (rng.random(n) < 0.5).astype(int)
    y = (rng.random(n) < 1 / (1 + np.exp(-(1.5 * X[:, 0] + 0.5 * t)))).astype(int)
    model = DRLearner(effect_estimator=zero_regressor(), n_folds=2).fit(X, t, y)
    e = t.mean()
    phi = np.empty(n)
    for train, test in StratifiedKFold(2, shuffle=True, random_state=0).split(X, t):
        tr_t, tr_c = train[t[train] == 1], train[t[train] == 0]
        mu1 = default_estimator(True).fit(X[tr_t], y[tr_t])
        mu0 = default_estimator(True).fit(X[tr_c], y[tr_c])
        m1, m0 = mu1.predict_proba(X[test])[:, 1], mu0.predict_proba(X[test])[:, 1]
        tt, yy = t[test], y[test]
        phi[test] = m1 - m0 + tt * (yy - m1) / e - (1 - tt) * (yy - m0) / (1 - e)
    assert model.pseudo_outcome_mean_[1] == pytest.approx(phi.mean(), rel=1e-9)
    assert model.pseudo_outcome_se_[1] == pytest.approx(phi.std(ddof=1) / np.sqrt(n), rel=1e-9)
