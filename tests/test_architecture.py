"""The dependency rule, the public API, no side effects at import, and the scikit-learn estimator contract
(issue 21, item 3).

- The import contracts live in ``.importlinter`` (ARCHITECTURE.md, "Dependency rule") and run here through
  import-linter; a second, generic check (grimp) covers packages added later: no package below the output
  layer imports ``tracking``, ``reporting`` or ``plotting``.
- ``import crm_models`` and every model package import without adding warning filters or logging handlers and
  without importing matplotlib (checked in a fresh interpreter).
- ``sklearn.utils.estimator_checks`` runs on ``ChurnModel`` (the one estimator with ``fit(X, y)``); checks that
  cannot apply are listed with the reason. The CLV models and uplift learners take other data in ``fit``
  (``frequency, recency, T`` / ``X, treatment, y``), so only the parts of the contract that do not feed ``(X, y)``
  are checked for them: parameters set in ``__init__`` only, ``get_params``/``set_params``/``clone``, ``fit``
  returns ``self`` and adds only attributes ending in ``_``, and leaves its parameters alone.
"""

from __future__ import annotations

import configparser
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.utils.estimator_checks import (
    check_get_params_invariance,
    check_no_attributes_set_in_init,
    check_parameters_default_constructible,
    check_set_params,
    parametrize_with_checks,
)

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / ".importlinter"
OUTPUT_LAYER = {"plotting", "tracking", "reporting", "cli"}


# ------------------------------------------------------------------------------------------ dependency rule
def test_import_contracts_are_kept() -> None:
    importlinter_cli = pytest.importorskip("importlinter.cli", reason="import-linter is in the dev extra")
    code = importlinter_cli.lint_imports(config_filename=str(CONTRACTS), no_cache=True)
    assert code == 0, "an import contract is broken: run `lint-imports` from the project root for details"


def _top_packages() -> set[str]:
    src = ROOT / "src" / "crm_models"
    names = {p.name for p in src.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    return names | {p.stem for p in src.glob("*.py") if p.stem != "__init__"}


def test_every_package_has_a_place_in_the_layers() -> None:
    # a package missing from the layers contract is outside the dependency rule
    parser = configparser.ConfigParser()
    parser.read(CONTRACTS)
    layers = parser["importlinter:contract:layers"]["layers"]
    placed = {name.strip(" ()") for line in layers.splitlines() for name in line.replace("|", ":").split(":")}
    assert _top_packages() - placed == set()


def test_no_package_below_the_output_layer_imports_it() -> None:
    grimp = pytest.importorskip("grimp", reason="grimp comes with import-linter (dev extra)")
    graph = grimp.build_graph("crm_models")
    offenders = []
    for module in sorted(graph.modules):
        parts = module.split(".")
        if len(parts) < 2 or parts[1] in OUTPUT_LAYER:
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            if imported.split(".")[1:2] and imported.split(".")[1] in OUTPUT_LAYER:
                offenders.append(f"{module} -> {imported}")
    assert offenders == []


# ------------------------------------------------------------------------------------------------ public API
PUBLIC = {
    "crm_models.data": ["read_transactions", "read_touchpoints", "read_experiment", "quality_report"],
    "crm_models.datasets": ["make_demo", "load_online_retail", "load_cdnow"],
    "crm_models.summary": ["customer_summary"],
    "crm_models.rfm": ["rfm_scores", "segment_customers"],
    "crm_models.clv": ["BetaGeoModel", "ParetoNBDModel", "GammaGammaModel", "ShiftedBetaGeoModel",
                       "customer_lifetime_value"],
    "crm_models.churn": ["make_churn_dataset", "ChurnModel", "backtest"],
    "crm_models.attribution": ["build_journeys", "heuristic_attribution", "markov_attribution",
                               "shapley_attribution"],
    "crm_models.ab": ["analyze_experiment", "srm_test", "sample_size"],
    "crm_models.uplift": ["SLearner", "TLearner", "XLearner", "ClassTransformation", "qini_curve",
                          "qini_auc_score", "uplift_at_k"],
}


@pytest.mark.parametrize("module", sorted(PUBLIC))
def test_public_names_of_architecture_md_exist(module) -> None:
    import importlib

    mod = importlib.import_module(module)
    missing = [name for name in PUBLIC[module] if not hasattr(mod, name)]
    assert missing == []
    # every name a package exports in __all__ exists
    stale = [name for name in getattr(mod, "__all__", []) if not hasattr(mod, name)]
    assert stale == []


# ------------------------------------------------------------------------------------- no side effects
_PROBE = r"""
import json, logging, sys, warnings
# the third-party stack first: its own import-time filters are not ours
import numpy, pandas, scipy.stats, sklearn.base, ibis, xgboost  # noqa: F401
filters = list(warnings.filters)
root_handlers = list(logging.getLogger().handlers)
loggers = {name: list(getattr(logger, "handlers", [])) for name, logger in logging.root.manager.loggerDict.items()}
import importlib
for name in sys.argv[1:]:
    importlib.import_module(name)
new_loggers = {name: [type(h).__name__ for h in getattr(logger, "handlers", [])]
               for name, logger in logging.root.manager.loggerDict.items()
               if name.startswith("crm_models") and getattr(logger, "handlers", [])}
print(json.dumps({
    "filters_added": [repr(f) for f in warnings.filters if f not in filters],
    "root_handlers_added": len(logging.getLogger().handlers) - len(root_handlers),
    "crm_loggers_with_handlers": new_loggers,
    "matplotlib": "matplotlib" in sys.modules,
    "mlflow": "mlflow" in sys.modules,
    "papermill": "papermill" in sys.modules,
}))
"""

MODEL_PACKAGES = ["crm_models", "crm_models.data", "crm_models.summary", "crm_models.rfm", "crm_models.clv",
                  "crm_models.churn", "crm_models.attribution", "crm_models.ab", "crm_models.uplift",
                  "crm_models.lifecycle", "crm_models.loyalty", "crm_models.customers", "crm_models.plan",
                  "crm_models.datasets"]


def _probe(modules: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-c", _PROBE, *modules], capture_output=True, text=True, check=True,
                         timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_the_package_has_no_side_effects() -> None:
    # mutations checked: a `warnings.simplefilter("ignore")`, a `logging.basicConfig()` or an
    # `import matplotlib.pyplot` at the top of crm_models/__init__.py or of a model package
    seen = _probe(MODEL_PACKAGES)
    assert seen["filters_added"] == []
    assert seen["root_handlers_added"] == 0 and seen["crm_loggers_with_handlers"] == {}
    assert not seen["matplotlib"], "a model package imports matplotlib at import time"
    assert not seen["mlflow"] and not seen["papermill"]


def test_plotting_imports_matplotlib_only_when_a_chart_is_drawn() -> None:
    seen = _probe(["crm_models.plotting"])
    assert not seen["matplotlib"] and seen["filters_added"] == []


# -------------------------------------------------------------------------------- sklearn contract
def _churn_model():
    from crm_models.churn import ChurnModel

    # small-data settings: the checks fit on 20-200 rows
    return ChurnModel(n_estimators=30, learning_rate=0.3, min_child_weight=1.0, min_churners=1,
                      early_stopping_rounds=30, calibration="sigmoid", subsample=1.0, colsample_bytree=1.0)


_MESSAGES = ("input errors are DataContractError / ValueError with the project's wording (column, rule, example "
             "rows), not scikit-learn's")
CHURN_EXPECTED_FAILURES = {
    # binary churn labels: anything but 0/1 is refused with a DataContractError naming the column
    "check_estimators_dtypes": "labels must be 0/1; the check passes labels 0, 1, 2",
    "check_complex_data": _MESSAGES,
    "check_classifier_data_not_an_array": "labels must be 0/1; the check passes labels 1 and 2",
    "check_classifiers_classes": "labels must be 0/1; the check passes string labels",
    "check_classifiers_one_label": "a churn model needs churners and stayers (min_churners)",
    "check_classifiers_regression_target": _MESSAGES,
    "check_classifier_not_supporting_multiclass": _MESSAGES,
    "check_class_weight_classifiers": "class_weight is 'balanced' or None (a dict is not supported)",
    "check_supervised_y_2d": "a 2-D y is refused instead of raveled with a warning",
    "check_requires_y_none": _MESSAGES,
    "check_fit2d_1sample": _MESSAGES,
    "check_fit2d_1feature": "the check's labels are 1 and 2 (labels must be 0/1)",
    "check_fit2d_predict1d": _MESSAGES,
    "check_estimators_empty_data_messages": "xgboost's own error for zero features",
    # sparse input: xgboost reads it, the contract's error is not raised
    "check_estimator_sparse_tag": "the booster accepts sparse matrices; no sparse tag/error is declared",
    "check_estimator_sparse_array": "the booster accepts sparse matrices; no sparse tag/error is declared",
    "check_estimator_sparse_matrix": "the booster accepts sparse matrices; no sparse tag/error is declared",
    # design choices
    "check_estimators_unfitted": "raises crm_models.exceptions.NotFittedError (an AttributeError), not "
                                 "sklearn's NotFittedError (filed in the report)",
    "check_classifiers_train": "predict thresholds the calibrated probability while decision_function is the "
                               "raw margin, so the two can disagree near 0.5",
    "check_n_features_in_after_fitting": "score() on the check's data (labels 0, 1, 2) is not defined",
}


@parametrize_with_checks([_churn_model()], expected_failed_checks=lambda est: CHURN_EXPECTED_FAILURES)
def test_churn_model_follows_the_sklearn_contract(estimator, check) -> None:
    check(estimator)


def _other_estimators():
    from sklearn.linear_model import LinearRegression

    from crm_models.clv import BetaGeoModel, GammaGammaModel, ParetoNBDModel, ShiftedBetaGeoModel
    from crm_models.clv.beta_geo import MBGModel
    from crm_models.recommend import EASERecommender, ItemCosineRecommender, PopularityRecommender
    from crm_models.uplift import ClassTransformation, DRLearner, SLearner, TLearner, XLearner
    from crm_models.uplift.transformation import TransformedOutcome

    return [BetaGeoModel(), MBGModel(), ParetoNBDModel(), GammaGammaModel(), ShiftedBetaGeoModel(),
            SLearner(), TLearner(), XLearner(), ClassTransformation(), DRLearner(n_folds=2),
            TransformedOutcome(estimator=LinearRegression()),
            PopularityRecommender(), ItemCosineRecommender(), EASERecommender(l2=1.0)]


def _als_recommender():
    """ALS's parameters follow the contract without the optional ``implicit`` package (imported only in fit)."""
    from crm_models.recommend import ALSRecommender

    return ALSRecommender(factors=4, iterations=2)


@pytest.mark.parametrize("estimator", [*_other_estimators(), _als_recommender()], ids=lambda e: type(e).__name__)
def test_estimator_parameters_follow_the_contract(estimator) -> None:
    name = type(estimator).__name__
    check_no_attributes_set_in_init(name, estimator)
    check_parameters_default_constructible(name, estimator)
    check_get_params_invariance(name, estimator)
    check_set_params(name, estimator)
    assert repr(clone(estimator)) == repr(estimator)


def _fit_data(estimator):
    rng = np.random.default_rng(0)
    kind = type(estimator).__module__
    if kind.startswith("crm_models.clv.gamma_gamma"):
        freq = rng.integers(1, 6, 200).astype(float)
        return (freq, rng.gamma(5.0, 10.0, 200))
    if kind.startswith("crm_models.clv.shifted_beta_geo"):
        tenure = rng.integers(1, 8, 300)
        return (tenure, (tenure < 7).astype(int))
    if kind.startswith("crm_models.recommend"):
        n = 300
        return (pd.DataFrame({"order_id": [f"o{i}" for i in range(n)],
                              "customer_id": [f"c{i}" for i in rng.integers(0, 60, n)],
                              "product_id": [f"p{i}" for i in rng.integers(0, 12, n)],
                              "quantity": rng.integers(1, 4, n).astype(float)}),)
    if kind.startswith("crm_models.clv"):
        T = rng.uniform(20, 40, 400)
        x = rng.poisson(2.0, 400).astype(float)
        recency = np.where(x > 0, rng.uniform(0, 1, 400) * T, 0.0)
        return (x, recency, T)
    X = rng.normal(size=(400, 3))
    t = rng.integers(0, 2, 400)
    y = (rng.random(400) < 0.3 + 0.2 * t * (X[:, 0] > 0)).astype(int)
    return (X, t, y)


@pytest.mark.parametrize("estimator", _other_estimators(), ids=lambda e: type(e).__name__)
def test_fit_returns_self_adds_only_underscored_attributes_and_keeps_params(estimator) -> None:
    # mutations checked: `return None` from fit, a learned attribute without `_`, fit rewriting a parameter
    params = {k: v for k, v in estimator.get_params(deep=False).items()}
    before = set(vars(estimator))
    fitted = estimator.fit(*_fit_data(estimator))
    assert fitted is estimator
    added = set(vars(estimator)) - before
    assert added and all(a.endswith("_") for a in added), sorted(a for a in added if not a.endswith("_"))
    after = estimator.get_params(deep=False)
    assert set(after) == set(params)
    for key, value in params.items():
        assert after[key] is value or after[key] == value, key
    # a clone is unfitted
    assert not any(a.endswith("_") and not a.startswith("__") for a in vars(clone(estimator)))


def test_churn_model_refuses_an_array_of_another_width() -> None:
    # found by check_classifiers_train: an array with an extra column was silently cut to the fitted width
    # (columns are picked by name, and an array's names are 0..n-1). Fails on the code before the fix.
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 3))
    y = (X[:, 0] + rng.normal(size=200) > 0).astype(int)
    model = _churn_model().fit(X, y)
    assert model.predict_proba(X).shape == (200, 2)
    with pytest.raises(ValueError, match="X has 4 features, but ChurnModel is expecting 3"):
        model.predict_proba(np.column_stack([X, X[:, 0]]))
    with pytest.raises(ValueError, match="X has 2 features"):
        model.predict(X[:, :2])
