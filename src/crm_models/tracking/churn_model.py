"""A fitted :class:`crm_models.churn.ChurnModel` stored as data (JSON), loaded back without unpickling.

Why: a pickled (cloudpickle) model runs code when it is loaded, so whoever can write the MLflow store or
the model folder could run code on the machine of whoever loads it. Stored as data, the worst a tampered
file can do is give wrong numbers.

Layout of the folder written by :func:`save_churn_model`:

* ``booster.json`` - XGBoost's own JSON model format (``Booster.save_model``), trees and feature names;
* ``churn_model.json`` - the estimator's settings (``get_params``), its learned attributes (names ending
  in ``_``: feature names, prior, number of trees, validation history, ...) and the calibrator as numbers:
  isotonic = its breakpoints (``X_thresholds_``, ``y_thresholds_``), Platt = slope and intercept.

:func:`load_churn_model` rebuilds the estimator from these files only. The isotonic calibrator comes back
as :class:`IsotonicCalibrator`, which predicts exactly what scikit-learn's ``IsotonicRegression`` with
``out_of_bounds="clip"`` predicts (linear interpolation between the breakpoints, clipped at the ends);
the Platt calibrator as a ``LogisticRegression`` with its fitted coefficients set.

This module lives in ``tracking`` (which may import the model packages), and uses only the model's public
attributes, so ``crm_models.churn`` stays free of any storage code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FORMAT_VERSION", "IsotonicCalibrator", "churn_model_to_dict", "load_churn_model", "log_churn_model",
           "save_churn_model"]

FORMAT_VERSION = 1
BOOSTER_FILE = "booster.json"
MODEL_FILE = "churn_model.json"
_NOT_DATA = {"booster_", "calibrator_"}


class IsotonicCalibrator:
    """Isotonic calibration from its breakpoints: ``np.interp`` clips outside them, as ``out_of_bounds="clip"``.

    Parameters
    ----------
    X_thresholds_, y_thresholds_
        The breakpoints of a fitted ``sklearn.isotonic.IsotonicRegression`` (increasing ``X``).
    """

    def __init__(self, X_thresholds_: Any, y_thresholds_: Any) -> None:
        self.X_thresholds_ = np.asarray(X_thresholds_, dtype=float)
        self.y_thresholds_ = np.asarray(y_thresholds_, dtype=float)

    def predict(self, T: Any) -> np.ndarray:
        return np.interp(np.asarray(T, dtype=float).ravel(), self.X_thresholds_, self.y_thresholds_)


def _encode(value: Any, where: str) -> Any:
    if isinstance(value, np.ndarray):
        return {"__ndarray__": [_encode(v, where) for v in value.tolist()], "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _encode(v, where) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(v, where) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    raise TypeError(f"{where}: cannot store a {type(value).__name__} as JSON")


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "__ndarray__" in value:
        return np.asarray(value["__ndarray__"], dtype=object if value["dtype"] == "object" else value["dtype"])
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def _calibrator_to_dict(method: str, calibrator: Any) -> dict[str, Any] | None:
    if calibrator is None:
        return None
    if method == "isotonic":
        return {"kind": "isotonic", "X_thresholds": np.asarray(calibrator.X_thresholds_, float).tolist(),
                "y_thresholds": np.asarray(calibrator.y_thresholds_, float).tolist()}
    return {"kind": "sigmoid", "coef": np.asarray(calibrator.coef_, float).tolist(),
            "intercept": np.asarray(calibrator.intercept_, float).tolist()}


def _calibrator_from_dict(data: dict[str, Any] | None) -> Any:
    if data is None:
        return None
    if data["kind"] == "isotonic":
        return IsotonicCalibrator(data["X_thresholds"], data["y_thresholds"])
    if data["kind"] == "sigmoid":
        from sklearn.linear_model import LogisticRegression

        platt = LogisticRegression(C=1e6)
        platt.coef_ = np.asarray(data["coef"], dtype=float)
        platt.intercept_ = np.asarray(data["intercept"], dtype=float)
        platt.classes_ = np.array([0, 1])
        platt.n_features_in_ = 1
        return platt
    raise ValueError(f"unknown calibrator kind {data['kind']!r} in the stored churn model")


def churn_model_to_dict(model: Any) -> dict[str, Any]:
    """Everything but the booster, as JSON-ready data: settings, learned attributes, calibrator."""
    if not hasattr(model, "booster_"):
        raise ValueError("the churn model is not fitted: fit it before saving")
    learned = {k: _encode(v, k) for k, v in vars(model).items() if k.endswith("_") and k not in _NOT_DATA}
    return {
        "format": "crm_models.churn.ChurnModel",
        "format_version": FORMAT_VERSION,
        "params": _encode(model.get_params(deep=False), "params"),
        "learned": learned,
        "calibrator": _calibrator_to_dict(model.calibration_method_, model.calibrator_),
    }


def save_churn_model(model: Any, folder: str | os.PathLike[str]) -> Path:
    """Write ``booster.json`` and ``churn_model.json`` into ``folder`` (created); return the folder."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    data = churn_model_to_dict(model)
    model.booster_.save_model(str(target / BOOSTER_FILE))
    (target / MODEL_FILE).write_text(json.dumps(data, indent=1), encoding="utf-8")
    return target


def load_churn_model(folder: str | os.PathLike[str]) -> Any:
    """Rebuild a fitted ``ChurnModel`` from a folder written by :func:`save_churn_model` (JSON only)."""
    import xgboost as xgb

    from crm_models.churn import ChurnModel

    source = Path(folder)
    data = json.loads((source / MODEL_FILE).read_text(encoding="utf-8"))
    if data.get("format") != "crm_models.churn.ChurnModel" or data.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{source / MODEL_FILE} is not a stored churn model of format {FORMAT_VERSION}")
    model = ChurnModel(**_decode(data["params"]))
    for name, value in _decode(data["learned"]).items():
        if not name.endswith("_") or name.startswith("_"):
            raise ValueError(f"{source / MODEL_FILE}: unexpected attribute {name!r}")
        setattr(model, name, value)
    booster = xgb.Booster()
    booster.load_model(str(source / BOOSTER_FILE))
    model.booster_ = booster
    model.calibrator_ = _calibrator_from_dict(data["calibrator"])
    return model


def log_churn_model(
    model: Any,
    name: str = "churn_model",
    *,
    input_example: Any = None,
    registered_model_name: str | None = None,
    pip_requirements: list[str] | None = None,
) -> Any:
    """Log a fitted churn model to the active MLflow run as data: JSON artifacts plus a pyfunc from code.

    The replacement for ``log_sklearn_model`` (cloudpickle) for churn models: the artifacts are
    ``booster.json`` and ``churn_model.json``; ``mlflow.pyfunc.load_model`` runs the small code file
    ``_churn_pyfunc.py`` (stored as text beside them) instead of unpickling, and
    :func:`load_churn_model` on the downloaded ``artifacts/churn_model`` folder needs no MLflow code at all.
    Returns MLflow's ``ModelInfo`` (with ``registered_model_version`` when ``registered_model_name`` is given).
    """
    import tempfile

    import mlflow.pyfunc

    from crm_models.tracking.mlflow_helpers import _default_requirements, active_run

    code = Path(__file__).with_name("_churn_pyfunc.py")
    with tempfile.TemporaryDirectory() as tmp, active_run():
        folder = save_churn_model(model, Path(tmp) / "churn_model")
        return mlflow.pyfunc.log_model(
            name=name,
            python_model=str(code),
            artifacts={"churn_model": str(folder)},
            input_example=input_example,
            pip_requirements=pip_requirements if pip_requirements is not None else _default_requirements(),
            registered_model_name=registered_model_name,
        )
