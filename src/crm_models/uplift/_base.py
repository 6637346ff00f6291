"""Shared machinery of the uplift learners: input checks, treatment coding, cloning base estimators.

Every learner follows the scikit-learn contract: settings in ``__init__`` (stored as given, never validated
there), data in ``fit(X, treatment, y)`` which returns ``self``; learned values end in ``_``. Base estimators
are cloned with :func:`sklearn.base.clone` before fitting, so the user's estimator objects are never mutated.

Treatment coding: ``treatment`` holds one label per unit; units whose label equals ``control`` (default ``0``)
are the control group and every other label is a treatment arm. With a single arm, ``predict`` returns a 1-D
array of uplifts; with several arms it returns one column per arm (in ``treatments_`` order), each against
control. ``predict_frame`` always returns a DataFrame with one named column per arm.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, clone, is_classifier
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.exceptions import NotFittedError as SklearnNotFittedError
from sklearn.utils.validation import check_array, check_is_fitted

from crm_models.exceptions import DataContractError, NotFittedError

__all__ = ["BaseUpliftLearner", "check_features", "check_outcome", "check_treatment", "default_estimator"]


def default_estimator(binary: bool) -> BaseEstimator:
    """The estimator used when none is given: histogram gradient boosting, small and fast."""
    if binary:
        return HistGradientBoostingClassifier(max_iter=50, learning_rate=0.1, max_leaf_nodes=8,
                                              min_samples_leaf=100, early_stopping=False, random_state=0)
    return HistGradientBoostingRegressor(max_iter=50, learning_rate=0.1, max_leaf_nodes=8,
                                         min_samples_leaf=100, early_stopping=False, random_state=0)


def check_outcome(y: Any, *, binary: bool | None = None, name: str = "y") -> tuple[np.ndarray, bool]:
    """Outcome as a float array; returns ``(y, is_binary)``.

    With ``binary=True`` a non-0/1 outcome raises :class:`DataContractError`.
    """
    arr = np.asarray(y)
    if arr.dtype == bool:
        arr = arr.astype(float)
    try:
        arr = arr.astype(float)
    except (TypeError, ValueError):
        raise DataContractError("outcome must be numeric", column=name, rule="numeric",
                                examples=list(arr.ravel()[:5])) from None
    if arr.ndim != 1:
        raise DataContractError("outcome must be one-dimensional", column=name, rule="1-D array")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise DataContractError("outcome has missing or infinite values", column=name, rule="finite",
                                examples=list(np.flatnonzero(bad)[:5]))
    is_binary = bool(np.isin(arr, (0.0, 1.0)).all())
    if binary and not is_binary:
        off = arr[~np.isin(arr, (0.0, 1.0))]
        raise DataContractError(
            "this method needs a binary (0/1) outcome; use a transformed-outcome or meta-learner with a "
            "regressor for continuous outcomes", column=name, rule="values in {0, 1}", examples=list(off[:5]),
        )
    return arr, is_binary


def check_treatment(treatment: Any, control: Any = 0, *, n: int | None = None,
                    name: str = "treatment") -> tuple[np.ndarray, list]:
    """Validate treatment labels; returns ``(labels, treatment_arms)`` with the arms in sorted order.

    Raises :class:`DataContractError` when the control label is absent (treatment coded other than
    expected), when there is no treated arm, or when the length differs from the features.
    """
    t = np.asarray(treatment)
    if t.dtype == bool:
        t = t.astype(int)
    if t.ndim != 1:
        raise DataContractError("treatment must be one-dimensional", column=name, rule="1-D array")
    if n is not None and t.size != n:
        raise DataContractError(f"treatment has {t.size} entries but there are {n} rows of features",
                                column=name, rule="one label per row")
    if pd.isna(t).any() if t.dtype == object else (t.dtype.kind == "f" and np.isnan(t).any()):
        raise DataContractError("treatment has missing labels", column=name, rule="no missing values")
    labels = pd.unique(t)
    try:
        is_control = t == control
        if np.isscalar(is_control):
            is_control = np.zeros(t.size, dtype=bool)
    except (TypeError, ValueError):  # pragma: no cover - numpy comparisons of mixed types
        is_control = np.zeros(t.size, dtype=bool)
    if not np.any(is_control):
        raise DataContractError(
            f"no unit has the control label {control!r}; the treatment is coded as {sorted(map(str, labels))[:5]}."
            " Pass control=<label of the control group>", column=name, rule="control label present",
            examples=list(labels[:5]),
        )
    arms = sorted((a for a in labels if a != control), key=lambda v: (str(type(v)), v))
    if not arms:
        raise DataContractError("every unit is in the control group: nothing to compare", column=name,
                                rule="at least one treated unit", examples=list(labels[:5]))
    return t, arms


def check_features(X: Any) -> np.ndarray:
    """Features as a finite 2-D float array; a non-numeric or missing value raises
    :class:`DataContractError` naming the column (DataFrame name, or ``X[:, j]`` for an array) and rows."""
    if isinstance(X, pd.DataFrame):
        for col in X.columns:
            values = X[col]
            if values.dtype == bool:
                continue
            num = pd.to_numeric(values, errors="coerce")
            bad_text = num.isna() & values.notna()
            if bad_text.any():
                raise DataContractError(
                    f"feature {col!r} is not numeric ({int(bad_text.sum())} row(s) such as "
                    f"{values[bad_text].iloc[0]!r}); encode categories as numbers (e.g. one-hot) first",
                    column=str(col), rule="numeric features", examples=X.loc[bad_text, [col]])
            bad = ~np.isfinite(num.to_numpy(dtype=float, na_value=np.nan))
            if bad.any():
                raise DataContractError(
                    f"feature {col!r} has {int(bad.sum())} missing or infinite value(s); impute or drop them first",
                    column=str(col), rule="finite features", examples=X.loc[bad, [col]])
        return check_array(X, dtype=float, ensure_all_finite=True)
    try:
        arr = np.asarray(X, dtype=float)
    except (TypeError, ValueError):
        arr = np.asarray(X, dtype=object)
        if arr.ndim == 2:
            for j in range(arr.shape[1]):
                try:
                    arr[:, j].astype(float)
                except (TypeError, ValueError):
                    raise DataContractError(f"feature X[:, {j}] is not numeric", column=f"X[:, {j}]",
                                            rule="numeric features", examples=list(arr[:5, j])) from None
        raise DataContractError("features must be numeric", column="X", rule="numeric features") from None
    if arr.ndim == 2:
        bad = ~np.isfinite(arr)
        if bad.any():
            j = int(np.flatnonzero(bad.any(axis=0))[0])
            rows = np.flatnonzero(bad[:, j])
            raise DataContractError(
                f"feature X[:, {j}] has {rows.size} missing or infinite value(s); impute or drop them first",
                column=f"X[:, {j}]", rule="finite features", examples=list(rows[:5]))
    return check_array(arr, dtype=float, ensure_all_finite=True)


def check_binary_treatment(treatment: Any, name: str = "treatment") -> np.ndarray:
    """A 0/1 treatment indicator for the metrics (1 = treated); raises on any other coding."""
    t = np.asarray(treatment)
    if t.dtype == bool:
        return t.astype(int)
    if t.dtype.kind not in "iuf" or not np.isin(t, (0, 1)).all():
        vals = pd.unique(t.ravel())[:5]
        raise DataContractError(
            "treatment must be coded 0 (control) / 1 (treated); map multi-arm or text labels first, or "
            "evaluate one arm against control at a time", column=name, rule="values in {0, 1}",
            examples=list(vals),
        )
    return t.astype(int)


class BaseUpliftLearner(BaseEstimator):
    """Common ``fit`` checks and the prediction interface of every learner.

    ``method_name`` (a class attribute, not a setting) is the learner's name in reports, e.g. ``"X-learner"``.
    """

    method_name: str = "uplift learner"

    def _validate_fit(self, X: Any, treatment: Any, y: Any, *, binary: bool | None = None):
        Xa = check_features(X)
        t, arms = check_treatment(treatment, self.control, n=Xa.shape[0])
        ya, is_binary = check_outcome(y, binary=binary)
        if ya.size != Xa.shape[0]:
            raise DataContractError(f"y has {ya.size} entries but X has {Xa.shape[0]} rows", column="y",
                                    rule="one outcome per row")
        self.treatments_ = list(arms)
        self.n_features_in_ = Xa.shape[1]
        if hasattr(X, "columns"):
            self.feature_names_in_ = np.asarray([str(c) for c in X.columns], dtype=object)
        elif hasattr(self, "feature_names_in_"):  # refitted on a plain array: forget the old names
            del self.feature_names_in_
        self.binary_outcome_ = is_binary
        return Xa, t, ya

    def _check_X(self, X: Any) -> np.ndarray:
        try:
            check_is_fitted(self, "treatments_")
        except SklearnNotFittedError as exc:  # sklearn's NotFittedError -> ours
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit(X, treatment, y) first") from exc
        Xa = check_features(X)
        if Xa.shape[1] != self.n_features_in_:
            raise DataContractError(f"X has {Xa.shape[1]} features, the model was fitted with "
                                    f"{self.n_features_in_}", column="X", rule="same features as in fit")
        return Xa

    def _predict_matrix(self, X: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def predict(self, X: Any) -> np.ndarray:
        """Estimated uplift ``E[Y(arm) - Y(control) | X]``: 1-D for one arm, ``(n, n_arms)`` for several."""
        out = self._predict_matrix(self._check_X(X))
        return out[:, 0] if out.shape[1] == 1 else out

    def predict_frame(self, X: Any) -> pd.DataFrame:
        """Uplift per arm as a DataFrame with one column per treatment arm (named after the arm)."""
        out = self._predict_matrix(self._check_X(X))
        index = X.index if isinstance(X, pd.DataFrame) else None
        return pd.DataFrame(out, columns=[str(a) for a in self.treatments_], index=index)


def fit_outcome_model(template: BaseEstimator | None, X: np.ndarray, y: np.ndarray, binary: bool,
                      sample_weight: np.ndarray | None = None) -> BaseEstimator:
    """Clone ``template`` (or the default) and fit it; classifiers need a 0/1 outcome."""
    model = clone(template) if template is not None else default_estimator(binary)
    if is_classifier(model):
        check_outcome(y, binary=True)
        if np.unique(y).size < 2:
            raise DataContractError("a group has only one outcome class; a classifier cannot be fitted",
                                    column="y", rule="both classes present in every group",
                                    examples=list(np.unique(y)))
    if sample_weight is None:
        model.fit(X, y)
    else:
        model.fit(X, y, sample_weight=sample_weight)
    return model


def predict_outcome(model: BaseEstimator, X: np.ndarray) -> np.ndarray:
    """``P(y = 1 | X)`` for a classifier, ``E[y | X]`` for a regressor."""
    if is_classifier(model):
        proba = model.predict_proba(X)
        classes = list(model.classes_)
        return proba[:, classes.index(1)] if 1 in classes else proba[:, -1]
    return np.asarray(model.predict(X), dtype=float)


def regressor_like(template: BaseEstimator | None, fallback: BaseEstimator | None = None) -> BaseEstimator:
    """A fresh regressor for effect models.

    The documented default of ``effect_estimator`` in the X- and DR-learners: ``template`` (the effect
    estimator) if given; otherwise ``fallback`` (the outcome estimator) when it is a regressor; otherwise the
    default regressor. Always a clone, so the user's objects are never fitted.
    """
    if template is not None:
        if is_classifier(template):
            raise ValueError(f"effect_estimator must be a regressor (it fits imputed effects), got {template!r}")
        return clone(template)
    if fallback is not None and not is_classifier(fallback):
        return clone(fallback)
    return default_estimator(False)


def arm_propensity(t: np.ndarray, control: Any, arm: Any) -> float:
    """Share of ``arm`` among the units in ``arm`` or control (the known design propensity)."""
    in_arm = t == arm
    in_c = t == control
    return float(in_arm.sum() / (in_arm.sum() + in_c.sum()))
