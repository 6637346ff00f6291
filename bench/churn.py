"""Benchmark: churn feature building and model training at 100k and 1M customers (demo data).

Data: demo transactions (BG/NBD purchases with Gamma-Gamma spend, see ``crm_models.datasets.big``) written once as
partitioned Parquet under ``data/processed/bench/churn_<n>``; the features read the Parquet folder directly.

For each size, in one process:

* **features**: ``make_churn_dataset`` (ibis on DuckDB, all ~48 features incl. the BG/NBD fit) at a cutoff
  90 days before the end of the data, against a hand-written pandas implementation of a *subset* of the
  features (RFM, four windows, inter-purchase statistics) on the same rows already in memory (the pandas
  read time is reported separately) - the pipeline a data scientist would write instead;
* **training**: ``ChurnModel`` (XGBoost hist, class weights, BG/NBD prior, calibration chosen on validation;
  all ``--trees`` rounds run, early stopping only picks the best iteration) against a plain
  ``xgboost.XGBClassifier`` with the same depth, rounds and threads on the same rows - the ratio is the price
  of the validation split, the prior and the calibration;
* **scoring**: ``predict_proba`` and ``explain`` (tree SHAP + reasons) for 100k customers.

    python bench/churn.py            # 100k and 1M customers
    python bench/churn.py --quick    # 20k and 100k customers
    python bench/churn.py --online-retail   # backtest ROC AUC on Online Retail (model and every baseline)

Writes ``bench/results/churn.md``; ``--online-retail`` prints the backtest's ROC AUC per cutoff and scorer
(the numbers issue 11 asks for before and after a change) without writing the fragment.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PROJECT_ROOT, machine_description, write_fragment

sys.path.insert(0, str(PROJECT_ROOT / "src"))

DATA_DIR = PROJECT_ROOT / "data" / "processed" / "bench"
CUTOFF = pd.Timestamp("2024-10-03")  # demo data end 2024-12-31 (inclusive): a full 90-day label window
HORIZON = 90
SEED = 7


def ensure_data(n_customers: int) -> Path:
    from crm_models.datasets.big import expected_transactions_per_customer, write_big_demo

    folder = DATA_DIR / f"churn_{n_customers}"
    if not (folder / "_manifest.json").exists():
        per_customer = expected_transactions_per_customer(SEED)
        print(f"generating demo data for about {n_customers:,} customers in {folder} ...", flush=True)
        write_big_demo(folder, round(n_customers * per_customer), seed=SEED)
    return folder


def pandas_features(tx: pd.DataFrame, cutoff: pd.Timestamp) -> pd.DataFrame:
    """The peer: RFM, window counts/spend and inter-purchase statistics with pandas groupby."""
    bound = cutoff.normalize() + pd.Timedelta(days=1)  # a cutoff date means the whole day, as in make_churn_dataset
    before = tx[(tx["timestamp"] < bound) & (tx["amount"] > 0)]
    age = (bound - before["timestamp"]) / pd.Timedelta(days=1)
    frame = pd.DataFrame(
        {
            "customer_id": before["customer_id"].to_numpy(),
            "age": age.to_numpy(),
            "amount": before["amount"].to_numpy(),
        }
    )
    grouped = frame.groupby("customer_id", sort=False)
    out = grouped.agg(
        n_orders=("age", "size"),
        recency_days=("age", "min"),
        tenure_days=("age", "max"),
        spend_total=("amount", "sum"),
        order_value_mean=("amount", "mean"),
    )
    for w in (30, 90, 180, 365):
        inside = frame["age"] <= w
        out[f"orders_{w}d"] = inside.groupby(frame["customer_id"], sort=False).sum()
        out[f"spend_{w}d"] = (
            frame["amount"].where(inside, 0.0).groupby(frame["customer_id"], sort=False).sum()
        )
    days = frame.assign(day=np.floor(-frame["age"])).drop_duplicates(["customer_id", "day"])
    days = days.sort_values(["customer_id", "day"])
    days["gap"] = days.groupby("customer_id", sort=False)["day"].diff()
    gaps = days.groupby("customer_id", sort=False)["gap"].agg(["mean", "std", "max"])
    out = out.join(gaps.add_prefix("ipt_"))
    out = out[out["recency_days"] <= 365]
    out["recency_over_ipt"] = out["recency_days"] / out["ipt_mean"]
    return out


def bench_size(n_customers: int, n_estimators: int) -> dict:
    import xgboost as xgb

    from crm_models.churn import ChurnModel, make_churn_dataset

    folder = ensure_data(n_customers)
    data_end = pd.Timestamp("2025-01-01")
    start = time.perf_counter()
    dataset = make_churn_dataset(folder, CUTOFF, HORIZON, data_end=data_end)
    t_features = time.perf_counter() - start

    start = time.perf_counter()
    tx = pd.read_parquet(folder, columns=["customer_id", "timestamp", "amount"])
    t_read = time.perf_counter() - start
    start = time.perf_counter()
    peer = pandas_features(tx, CUTOFF)
    t_peer = time.perf_counter() - start
    assert len(peer) == dataset.n_customers, (len(peer), dataset.n_customers)

    # every round is run (early stopping only picks the best iteration), like the peer
    model = ChurnModel(n_estimators=n_estimators, early_stopping_rounds=n_estimators)
    start = time.perf_counter()
    model.fit(dataset.X, dataset.y)
    t_train = time.perf_counter() - start
    plain = xgb.XGBClassifier(
        n_estimators=n_estimators,
        learning_rate=model.learning_rate,
        max_depth=model.max_depth,
        min_child_weight=model.min_child_weight,
        subsample=model.subsample,
        colsample_bytree=model.colsample_bytree,
        tree_method="hist",
        n_jobs=1,
        random_state=0,
    )
    start = time.perf_counter()
    plain.fit(dataset.X.to_numpy(dtype="float32"), dataset.y.to_numpy())
    t_plain = time.perf_counter() - start

    sample = dataset.X.iloc[: min(100_000, dataset.n_customers)]
    start = time.perf_counter()
    model.predict_proba(sample)
    t_predict = time.perf_counter() - start
    start = time.perf_counter()
    model.explain(sample)
    t_explain = time.perf_counter() - start
    return {
        "customers": n_customers,
        "transactions": len(tx),
        "active": dataset.n_customers,
        "features": dataset.X.shape[1],
        "churn_rate": dataset.churn_rate,
        "t_features": t_features,
        "t_read_pandas": t_read,
        "t_peer": t_peer,
        "t_train": t_train,
        "t_plain": t_plain,
        "trees": model.n_trees_,
        "calibration": model.calibration_method_,
        "scored": len(sample),
        "t_predict": t_predict,
        "t_explain": t_explain,
    }


def to_markdown(rows: list[dict], quick: bool) -> str:
    lines = [
        "## Churn: feature building and training",
        "",
        (
            f"Machine: {machine_description()}. Demo data (BG/NBD + Gamma-Gamma truth), cutoff {CUTOFF:%Y-%m-%d}, "
            f"horizon {HORIZON} days{' (quick run)' if quick else ''}. Single-threaded xgboost (the default; see "
            "`ChurnModel.n_jobs`). Times in seconds; ratio = peer time / ours."
        ),
        "",
        (
            "| customers | transactions | active at cutoff | features: ours (ibis/DuckDB, all) | pandas peer (subset) "
            "| ratio | pandas read | train: ChurnModel | plain XGBClassifier | overhead | trees kept | predict 100k "
            "| explain 100k |"
        ),
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['customers']:,} | {r['transactions']:,} | {r['active']:,} | {r['t_features']:.1f} "
            f"({r['features']} features) | {r['t_peer']:.1f} (22 features) | {r['t_peer'] / r['t_features']:.2f} "
            f"| {r['t_read_pandas']:.1f} | {r['t_train']:.1f} | {r['t_plain']:.1f} "
            f"| {r['t_train'] / r['t_plain']:.2f}x | {r['trees']} | {r['t_predict']:.2f} | {r['t_explain']:.1f} |"
        )
    lines += [
        "",
        (
            "Our feature time includes reading the Parquet folder and fitting BG/NBD on the snapshot; "
            "the pandas peer starts from a frame already in memory."
        ),
        "",
    ]
    return "\n".join(lines)


ONLINE_RETAIL_CUTOFFS = ["2011-06-01", "2011-07-01", "2011-07-31", "2011-08-30"]  # as tests/test_churn_realdata.py


def online_retail_backtest() -> pd.DataFrame:
    """ROC AUC of the default ``ChurnModel`` and of every baseline at each Online Retail cutoff (90-day horizon)."""
    from crm_models.churn import ChurnModel, backtest
    from crm_models.datasets import load_online_retail

    path = PROJECT_ROOT.parent / "shared" / "data" / "online_retail.csv.gz"
    transactions = load_online_retail(path)
    result = backtest(transactions, ONLINE_RETAIL_CUTOFFS, horizon=90, model=ChurnModel(), n_train_snapshots=3)
    auc = result.compare("roc_auc", all_scorers=True)
    auc.insert(0, "churn_rate", result.summary()["churn_rate"])
    auc.insert(0, "n_customers", result.summary()["n_customers"])
    return auc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20k and 100k customers instead of 100k and 1M")
    parser.add_argument("--trees", type=int, default=200, help="boosting rounds (default 200)")
    parser.add_argument("--online-retail", action="store_true",
                        help="print the Online Retail backtest ROC AUC (model and every baseline) and stop")
    args = parser.parse_args()
    if args.online_retail:
        table = online_retail_backtest()
        print(table.round(3).to_string())
        return
    sizes = (20_000, 100_000) if args.quick else (100_000, 1_000_000)
    rows = []
    for n in sizes:
        row = bench_size(n, args.trees)
        rows.append(row)
        print(
            f"{n:>9,} customers: features {row['t_features']:.1f}s (pandas subset {row['t_peer']:.1f}s, "
            f"ratio {row['t_peer'] / row['t_features']:.2f}); train {row['t_train']:.1f}s "
            f"(plain xgboost {row['t_plain']:.1f}s); explain {row['scored']:,} rows {row['t_explain']:.1f}s",
            flush=True,
        )
    path = write_fragment("churn", to_markdown(rows, args.quick))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
