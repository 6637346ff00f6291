"""MLflow "models from code" entry script for the CLV pyfunc model.

:func:`crm_models.tracking.clv_model.log_clv_model` logs this file as the model's code, so the MLflow store holds
source code plus ``clv_model.json`` (parameters as data) and no pickle: loading the model runs this reviewed file
from the project instead of unpickling bytes that whoever can write the store could have replaced. The package
never imports this module; MLflow executes it when the model is logged and loaded.
"""

import mlflow

from crm_models.tracking.clv_model import CLVPyfuncModel

mlflow.models.set_model(CLVPyfuncModel())
