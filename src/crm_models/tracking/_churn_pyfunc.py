"""MLflow "models from code" entry for a churn model stored as JSON (see ``crm_models.tracking.churn_model``).

MLflow copies this file beside the model and runs it on load (instead of unpickling a Python object); it
reads the JSON artifacts with :func:`crm_models.tracking.churn_model.load_churn_model`. Not imported by the
package: importing it registers the model with MLflow (``mlflow.models.set_model``).
"""

from __future__ import annotations

from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class ChurnJsonModel(PythonModel):
    """Predicts ``churn_probability`` per row with the churn model read from the ``churn_model`` artifact."""

    def load_context(self, context: Any) -> None:
        from crm_models.tracking.churn_model import load_churn_model

        self.model = load_churn_model(context.artifacts["churn_model"])

    def predict(self, context: Any, model_input: pd.DataFrame, params: Any = None) -> pd.DataFrame:
        return pd.DataFrame({"churn_probability": self.model.predict_proba(model_input)[:, 1]},
                            index=model_input.index)


mlflow.models.set_model(ChurnJsonModel())
