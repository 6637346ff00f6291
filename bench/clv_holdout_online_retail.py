"""CLV holdout error on Online Retail, as the ``online_retail`` suite computes it (notebooks/02_clv.ipynb).

Settings from ``experiments/uci_retail.yaml``: Pareto/NBD, 13-week holdout, observation end 2011-12-09, weeks.
Prints the fitted parameters, the holdout relative error of total repeat purchases, MAE, RMSE and AUC.

Run: ``.venv/bin/python bench/clv_holdout_online_retail.py [--model pareto|bgnbd]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from crm_models.clv import BetaGeoModel, ParetoNBDModel, holdout_comparison, ranking_metrics
from crm_models.datasets.sources import load_transactions_source
from crm_models.summary import customer_summary

DATA = ROOT.parent / "shared" / "data" / "online_retail.csv.gz"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="pareto", choices=["pareto", "bgnbd"])
    parser.add_argument("--holdout-weeks", type=int, default=13)
    args = parser.parse_args()
    loaded = load_transactions_source(str(DATA), source_format="online_retail", observation_end="2011-12-09")
    tx, obs_end = loaded.transactions, loaded.observation_end
    cal_end = obs_end - pd.Timedelta(weeks=args.holdout_weeks)
    cal = customer_summary(tx, observation_end=obs_end, calibration_end=cal_end, time_unit="W")
    model = {"pareto": ParetoNBDModel, "bgnbd": BetaGeoModel}[args.model]().fit_from_summary(cal)
    duration = float(cal["duration_holdout"].iloc[0])
    holdout = holdout_comparison(model, cal["frequency"], cal["recency"], cal["T"], cal["frequency_holdout"],
                                 cal["duration_holdout"])
    predicted = np.asarray(model.expected_purchases(duration, cal["frequency"], cal["recency"], cal["T"]))
    actual = cal["frequency_holdout"].to_numpy(dtype=float)
    err = (holdout.loc["all", "expected"] - holdout.loc["all", "actual"]) / holdout.loc["all", "actual"]
    ranking = ranking_metrics(predicted, actual)
    print(f"model={type(model).__name__} customers={len(cal)} calibration_end={cal_end.date()} "
          f"holdout_weeks={duration:.2f}")
    print("params:", {k: round(float(v), 4) for k, v in model.params_.items()})
    print(f"log_likelihood={model.log_likelihood_:.2f}")
    print(f"expected_total={holdout.loc['all', 'expected'] * len(cal):.1f} "
          f"actual_total={holdout.loc['all', 'actual'] * len(cal):.1f} relative_error={err:+.4f}")
    print(f"mae={np.mean(np.abs(predicted - actual)):.4f} rmse={np.sqrt(np.mean((predicted - actual) ** 2)):.4f} "
          f"auc={ranking['auc']:.4f}")


if __name__ == "__main__":
    main()
