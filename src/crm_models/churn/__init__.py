"""Churn early warning: leakage-free labels and features, a calibrated XGBoost model with reasons,
rolling-origin backtests against baselines, and decisions (risk tiers, value at risk, actions).

```python
from crm_models.churn import make_churn_dataset, ChurnModel, backtest
train = make_churn_dataset(transactions, "2011-06-01", horizon=90)
model = ChurnModel().fit(train.X, train.y)
```
"""

from crm_models.churn.backtest import BacktestResult, backtest
from crm_models.churn.decisions import action_table, churn_decisions, risk_tiers, value_at_risk
from crm_models.churn.features import ChurnDataset, make_churn_dataset, make_training_set
from crm_models.churn.metrics import calibration_table, churn_scores, gain_curve, lift_and_capture
from crm_models.churn.model import ChurnModel
from crm_models.churn.reasons import describe_feature

__all__ = [
    "BacktestResult",
    "ChurnDataset",
    "ChurnModel",
    "action_table",
    "backtest",
    "calibration_table",
    "churn_decisions",
    "churn_scores",
    "describe_feature",
    "gain_curve",
    "lift_and_capture",
    "make_churn_dataset",
    "make_training_set",
    "risk_tiers",
    "value_at_risk",
]
