"""The CLV models as one MLflow pyfunc model: fitted parameters stored as JSON, predictions from a summary frame.

The purchase model (BG/NBD, MBG/NBD or Pareto/NBD) and the optional Gamma-Gamma spend model are saved as
their fitted parameters plus the valuation settings (horizon, time unit, discount rate, margin, step) in one
JSON artifact, ``clv_model.json``: readable, diffable, and independent of pickling. Loaded back, the model
takes a frame with ``frequency``, ``recency``, ``T`` and ``monetary_value`` (the output of
``crm_models.summary.customer_summary``, in the model's time unit) and returns, per row,
``probability_alive``, ``expected_purchases`` over the horizon, ``expected_spend`` and ``clv``: exactly
:func:`crm_models.clv.customer_lifetime_value` of the fitted models.

This module lives in ``tracking`` (which may import the model packages) so that ``crm_models.clv`` stays
free of MLflow; ``import crm_models.tracking`` does not import it (or MLflow) until it is used.

    info = log_clv_model(purchase_model, spend_model, horizon=52, time_unit="W", discount_rate=0.10,
                         margin=0.30, input_example=summary.head(), registered_model_name="crm_clv")
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    loaded.predict(summary[["frequency", "recency", "T", "monetary_value"]])
"""

from __future__ import annotations

import json
import math
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import mlflow.pyfunc
import pandas as pd

from crm_models.clv import BetaGeoModel, GammaGammaModel, ModifiedBetaGeoModel, ParetoNBDModel
from crm_models.exceptions import DataContractError

__all__ = [
    "ARTIFACT_KEY",
    "CLV_REQUIREMENTS",
    "INPUT_COLUMNS",
    "OUTPUT_COLUMNS",
    "CLVPyfuncModel",
    "clv_model_spec",
    "log_clv_model",
    "models_from_spec",
    "predict_from_spec",
]

ARTIFACT_KEY = "clv_model"
SPEC_VERSION = 1
INPUT_COLUMNS = ("frequency", "recency", "T", "monetary_value")
OUTPUT_COLUMNS = ("probability_alive", "expected_purchases", "expected_spend", "clv")
CLV_REQUIREMENTS = ("crm-models", "mlflow", "numpy", "pandas", "scipy", "scikit-learn", "threadpoolctl")
PURCHASE_MODELS = {cls.__name__: cls for cls in (BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel)}


def clv_model_spec(
    purchase_model: Any,
    spend_model: Any = None,
    *,
    horizon: float,
    time_unit: str | float,
    discount_rate: float,
    margin: float = 1.0,
    step: float | None = None,
) -> dict[str, Any]:
    """The JSON-ready description of fitted CLV models and the valuation settings.

    ``spend_model`` is a fitted :class:`~crm_models.clv.GammaGammaModel`, a number (one spend per purchase
    for everybody) or ``None`` (value each customer's ``monetary_value`` as is).
    """
    kind = type(purchase_model).__name__
    if kind not in PURCHASE_MODELS:
        raise TypeError(f"purchase_model must be one of {sorted(PURCHASE_MODELS)}, got {kind}")
    if spend_model is None or isinstance(spend_model, GammaGammaModel):
        spend: dict[str, Any] | None = None
        if spend_model is not None:
            spend = {"model": "GammaGammaModel", "params": _params(spend_model)}
    elif isinstance(spend_model, int | float) and not isinstance(spend_model, bool):
        spend = {"model": "constant", "value": float(spend_model)}
    else:
        raise TypeError(f"spend_model must be a GammaGammaModel, a number or None, got {type(spend_model).__name__}")
    return {
        "spec_version": SPEC_VERSION,
        "purchase_model": {"model": kind, "params": _params(purchase_model)},
        "spend_model": spend,
        "valuation": {
            "horizon": float(horizon),
            "time_unit": time_unit if isinstance(time_unit, str) else float(time_unit),
            "discount_rate": float(discount_rate),
            "margin": float(margin),
            "step": None if step is None else float(step),
        },
    }


def _params(model: Any) -> dict[str, float]:
    params = getattr(model, "params_", None)
    if params is None:
        from crm_models.exceptions import NotFittedError

        raise NotFittedError(f"{type(model).__name__} is not fitted yet: call fit(...) first")
    out = {str(k): float(v) for k, v in params.items()}
    if not all(math.isfinite(v) and v > 0 for v in out.values()):
        raise ValueError(f"{type(model).__name__} has non-finite or non-positive parameters: {out}")
    return out


def models_from_spec(spec: Mapping[str, Any]) -> tuple[Any, Any]:
    """Rebuild ``(purchase_model, spend_model)`` from :func:`clv_model_spec` (fitted copies via ``with_params``)."""
    if int(spec.get("spec_version", 0)) != SPEC_VERSION:
        raise ValueError(f"unknown CLV model spec version {spec.get('spec_version')!r} (this code reads {SPEC_VERSION})")
    purchase = spec["purchase_model"]
    if purchase["model"] not in PURCHASE_MODELS:
        raise ValueError(f"unknown purchase model {purchase['model']!r}")
    purchase_model = PURCHASE_MODELS[purchase["model"]]().with_params(**purchase["params"])
    spend = spec.get("spend_model")
    if spend is None:
        spend_model = None
    elif spend["model"] == "constant":
        spend_model = float(spend["value"])
    elif spend["model"] == "GammaGammaModel":
        spend_model = GammaGammaModel().with_params(**spend["params"])
    else:
        raise ValueError(f"unknown spend model {spend['model']!r}")
    return purchase_model, spend_model


def predict_from_spec(spec: Mapping[str, Any], frame: pd.DataFrame, models: tuple[Any, Any] | None = None) -> pd.DataFrame:
    """P(alive), expected purchases over the horizon, expected spend and CLV for each row of ``frame``."""
    from crm_models.clv import customer_lifetime_value

    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(frame)
    constant_spend = (spec.get("spend_model") or {}).get("model") == "constant"
    needed = list(INPUT_COLUMNS[:3]) if constant_spend else list(INPUT_COLUMNS)
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise DataContractError(
            f"the CLV model needs column(s) {missing}; the frame has {list(frame.columns)[:12]}",
            column=missing[0],
            rule="required column present",
        )
    purchase_model, spend_model = models if models is not None else models_from_spec(spec)
    valuation = dict(spec["valuation"])
    monetary = frame["monetary_value"] if "monetary_value" in frame.columns else None
    out = customer_lifetime_value(
        purchase_model, spend_model, frame["frequency"], frame["recency"], frame["T"], monetary, **valuation
    )
    return out[list(OUTPUT_COLUMNS)].astype(float)


class CLVPyfuncModel(mlflow.pyfunc.PythonModel):
    """MLflow pyfunc wrapper: reads ``clv_model.json`` at load time and values a customer-summary frame."""

    def load_context(self, context: Any) -> None:
        with open(context.artifacts[ARTIFACT_KEY], encoding="utf-8") as handle:
            self.spec_ = json.load(handle)
        self.models_ = models_from_spec(self.spec_)

    # ``pd.DataFrame`` is a type hint MLflow accepts without deriving a schema from it (the signature comes
    # from the input example); other hints would be read as a list-based input schema
    def predict(self, context: Any, model_input: pd.DataFrame, params: dict[str, Any] | None = None) -> pd.DataFrame:
        if not hasattr(self, "spec_"):
            self.load_context(context)
        return predict_from_spec(self.spec_, model_input, self.models_)


def log_clv_model(
    purchase_model: Any,
    spend_model: Any = None,
    *,
    horizon: float,
    time_unit: str | float,
    discount_rate: float,
    margin: float = 1.0,
    step: float | None = None,
    name: str = "clv_model",
    input_example: pd.DataFrame | None = None,
    pip_requirements: list[str] | None = None,
    registered_model_name: str | None = None,
) -> Any:
    """Log the fitted CLV models as a pyfunc model (and register it when ``registered_model_name`` is given).

    The signature is inferred from ``input_example`` (its ``frequency``/``recency``/``T``/``monetary_value``
    columns, with their dtypes: pass a slice of the frames you will score) and the model's own predictions
    on it; requirements are explicit (no inference). Returns
    MLflow's ``ModelInfo`` (``registered_model_version`` set when registered).
    """
    import mlflow
    from mlflow.models import infer_signature

    from crm_models.tracking.mlflow_helpers import _default_requirements, active_run

    spec = clv_model_spec(purchase_model, spend_model, horizon=horizon, time_unit=time_unit,
                          discount_rate=discount_rate, margin=margin, step=step)
    if pip_requirements is None:
        pip_requirements = _default_requirements(CLV_REQUIREMENTS)
    signature = None
    example = None
    if input_example is not None:
        example = pd.DataFrame(input_example)
        # the caller's dtypes are kept (customer_summary gives an integer frequency): MLflow's schema
        # enforcement refuses an int64 column where the signature says double
        example = example[[c for c in INPUT_COLUMNS if c in example.columns]].reset_index(drop=True)
        signature = infer_signature(example, predict_from_spec(spec, example))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"{ARTIFACT_KEY}.json"
        path.write_text(json.dumps(spec, indent=2, sort_keys=True), encoding="utf-8")
        with active_run():
            return mlflow.pyfunc.log_model(
                name=name,
                python_model=str(Path(__file__).with_name("clv_model_code.py")),  # models from code: no pickle
                artifacts={ARTIFACT_KEY: str(path)},
                signature=signature,
                input_example=example,
                pip_requirements=pip_requirements,
                registered_model_name=registered_model_name,
            )
