"""Benchmark: crm_models CLV fits (and summary building) against lifetimes, same data, one run.

Data
----
* 2,357 customers: the real CDNOW 39-week summary (``../shared/data/cdnow_summary_39wk.csv``), weeks.
* 100k and 1M customers: simulated from the BG/NBD process with CDNOW-like parameters (r=0.243,
  alpha=4.414, a=0.793, b=2.426, weeks), first purchases spread over a year on a daily grid and
  purchase times rounded up to whole days (what ``customer_summary(time_unit="W")`` produces from
  real transaction dates); spend per transaction from a Gamma-Gamma process (p=6.25, q=3.74,
  gamma=15.44). Pareto/NBD is fitted to the same data.

For each model and size: wall time of ``fit`` for crm_models (including input checks and grouping of
identical rows) and for lifetimes (``BetaGeoFitter``, ``ParetoNBDFitter``, ``GammaGammaFitter``, on
the raw per-customer rows, as its documentation uses them), the time ratio, both log-likelihoods
evaluated by *our* exact likelihood at each tool's parameters (so they are comparable), and the
largest relative parameter difference. lifetimes runs in a child process with a time limit
(``--timeout``, default 900 s); a fit that hits it is reported as "> limit" and the ratio as a lower
bound.

Summary building (``--summary``): ``crm_models.summary.customer_summary`` (ibis on DuckDB) against
``lifetimes.utils.summary_data_from_transaction_data`` on synthetic transactions (1M and 10M rows).

Run: ``python bench/clv.py`` (all sizes), ``python bench/clv.py --quick`` (2,357 and 100k only),
``--summary`` to add summary building. Writes ``bench/results/clv.md``.
Needs the ``bench`` extra (``lifetimes``, ``setuptools<81`` for its ``pkg_resources`` import, ``psutil``).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from crm_models.clv import BetaGeoModel, GammaGammaModel, ParetoNBDModel

SEED = 20261123
SHARED = ROOT.parent / "shared" / "data"
BG_TRUTH = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GG_TRUTH = {"p": 6.25, "q": 3.74, "gamma": 15.44}
DAYS_PER_WEEK = 7.0


# ---------------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------------
def simulated_summary(n: int, seed: int = SEED) -> pd.DataFrame:
    """``n`` customers: BG/NBD purchases on a daily grid (weeks), Gamma-Gamma mean spend."""
    rng = np.random.default_rng(seed)
    T = np.round(rng.uniform(1, 52 * DAYS_PER_WEEK, n)) / DAYS_PER_WEEK + 39.0  # ages 39-91 weeks
    x, tx, T = BetaGeoModel().with_params(**BG_TRUTH).simulate(n, T=T, seed=rng)
    tx = np.where(x > 0, np.minimum(np.ceil(tx * DAYS_PER_WEEK) / DAYS_PER_WEEK, T), 0.0)
    spend = GammaGammaModel().with_params(**GG_TRUTH).simulate(np.maximum(x, 1), seed=rng)
    return pd.DataFrame({"frequency": x, "recency": tx, "T": T, "monetary_value": np.where(x > 0, spend, 0.0)})


def cdnow_summary() -> pd.DataFrame:
    raw = pd.read_csv(SHARED / "cdnow_summary_39wk.csv")
    return pd.DataFrame({"frequency": raw["x"].astype(float), "recency": raw["t_x"], "T": raw["T"],
                         "monetary_value": raw["zbar"]})


# ---------------------------------------------------------------------------------------------------
# lifetimes in a child process (time limit)
# ---------------------------------------------------------------------------------------------------
def _lifetimes_fit(kind: str, frame: pd.DataFrame, queue: mp.Queue) -> None:
    warnings.filterwarnings("ignore")  # lifetimes' own deprecation noise, in the child only
    import lifetimes

    start = time.perf_counter()
    try:
        if kind == "bgnbd":
            model = lifetimes.BetaGeoFitter().fit(frame["frequency"], frame["recency"], frame["T"])
            params = [model.params_[k] for k in ("r", "alpha", "a", "b")]
        elif kind == "pareto":
            model = lifetimes.ParetoNBDFitter().fit(frame["frequency"], frame["recency"], frame["T"])
            params = [model.params_[k] for k in ("r", "alpha", "s", "beta")]
        else:
            rep = frame[frame["frequency"] > 0]
            model = lifetimes.GammaGammaFitter().fit(rep["frequency"], rep["monetary_value"])
            params = [model.params_[k] for k in ("p", "q", "v")]
        queue.put(("ok", time.perf_counter() - start, params))
    except Exception as exc:  # noqa: BLE001 - any lifetimes failure is reported by the parent, not hidden
        queue.put(("error", time.perf_counter() - start, f"{type(exc).__name__}: {exc}"))


def lifetimes_fit(kind: str, frame: pd.DataFrame, timeout: float) -> tuple[str, float, object]:
    ctx = mp.get_context("fork")
    queue: mp.Queue = ctx.Queue()
    proc = ctx.Process(target=_lifetimes_fit, args=(kind, frame, queue))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        return "timeout", timeout, None
    if queue.empty():
        return "error", float("nan"), f"child exited with code {proc.exitcode}"
    return queue.get()


# ---------------------------------------------------------------------------------------------------
# one comparison
# ---------------------------------------------------------------------------------------------------
MODELS = {
    "bgnbd": (BetaGeoModel, ("r", "alpha", "a", "b")),
    "pareto": (ParetoNBDModel, ("r", "alpha", "s", "beta")),
    "gg": (GammaGammaModel, ("p", "q", "gamma")),
}


def our_loglik(kind: str, model, frame: pd.DataFrame) -> float:
    if kind == "gg":
        rep = frame[frame["frequency"] > 0]
        from crm_models.clv._base import FitData

        data = FitData({"x": rep["frequency"].to_numpy(float), "m": rep["monetary_value"].to_numpy(float)},
                       np.ones(len(rep)), float(len(rep)))
        ll, _ = model._loglik(np.log(model.params_.to_numpy()), data, False)
        return float(ll.sum())
    return float(model._loglik_rows(frame["frequency"], frame["recency"], frame["T"]).sum())


def compare(kind: str, frame: pd.DataFrame, timeout: float, label: str) -> dict:
    cls, names = MODELS[kind]
    start = time.perf_counter()
    ours = cls().fit(frame["frequency"], frame["monetary_value"]) if kind == "gg" else cls().fit(
        frame["frequency"], frame["recency"], frame["T"])
    ours_time = time.perf_counter() - start
    ll_ours = our_loglik(kind, ours, frame)
    status, their_time, their = lifetimes_fit(kind, frame, timeout)
    row = {"data": label, "customers": len(frame), "model": {"bgnbd": "BG/NBD", "pareto": "Pareto/NBD",
                                                             "gg": "Gamma-Gamma"}[kind],
           "distinct_rows": getattr(ours, "n_distinct_rows_", np.nan), "ours_s": ours_time,
           "lifetimes_s": their_time, "status": status, "ll_ours": ll_ours, "ll_lifetimes": np.nan,
           "max_param_rel_diff": np.nan, "ours_params": ", ".join(f"{n}={ours.params_[n]:.4g}" for n in names),
           "lifetimes_params": ""}
    if status == "ok":
        their_model = ours.with_params(**dict(zip(names, their, strict=True)))
        row["ll_lifetimes"] = our_loglik(kind, their_model, frame)
        ours_p = ours.params_.to_numpy()
        row["max_param_rel_diff"] = float(np.max(np.abs(np.asarray(their) - ours_p) / ours_p))
        row["lifetimes_params"] = ", ".join(f"{n}={v:.4g}" for n, v in zip(names, their, strict=True))
    elif status == "error":
        row["lifetimes_params"] = str(their)[:120]
    row["ratio"] = their_time / ours_time
    return row


def summary_benchmark(n_rows: int, timeout: float) -> dict:
    """customer_summary (ibis/DuckDB) vs lifetimes.utils.summary_data_from_transaction_data."""
    from crm_models.summary import customer_summary

    rng = np.random.default_rng(SEED)
    n_customers = max(n_rows // 10, 10)
    start_day = pd.Timestamp("2023-01-01")
    transactions = pd.DataFrame({
        "customer_id": rng.integers(0, n_customers, n_rows).astype(np.int64),
        "timestamp": start_day + pd.to_timedelta(rng.integers(0, 730 * 86_400, n_rows), unit="s"),
        "amount": np.round(rng.gamma(2.0, 20.0, n_rows), 2),
    })
    end = pd.Timestamp("2024-12-30")
    t0 = time.perf_counter()
    ours = customer_summary(transactions, observation_end=end, time_unit="D")
    ours_time = time.perf_counter() - t0

    ctx = mp.get_context("fork")
    queue: mp.Queue = ctx.Queue()

    def run(q):
        warnings.filterwarnings("ignore")
        from lifetimes.utils import summary_data_from_transaction_data

        s = time.perf_counter()
        out = summary_data_from_transaction_data(transactions, "customer_id", "timestamp", "amount",
                                                 observation_period_end=end, freq="D")
        q.put((time.perf_counter() - s, int(out["frequency"].sum())))

    proc = ctx.Process(target=run, args=(queue,))
    proc.start()
    proc.join(timeout)
    if proc.is_alive():
        proc.terminate()
        proc.join()
        their_time, status, same = timeout, "timeout", ""
    elif queue.empty():
        their_time, status, same = float("nan"), f"error (exit {proc.exitcode})", ""
    else:
        their_time, their_freq = queue.get()
        status, same = "ok", str(their_freq == int(ours["frequency"].sum()))
    return {"transactions": n_rows, "customers": len(ours), "ours_s": ours_time, "lifetimes_s": their_time,
            "status": status, "ratio": their_time / ours_time, "same_total_frequency": same}


# ---------------------------------------------------------------------------------------------------
def fmt_time(row: dict, key: str) -> str:
    value = row[key]
    if key == "lifetimes_s" and row["status"] == "timeout":
        return f"> {value:.0f}"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2,357 and 100k customers only")
    parser.add_argument("--summary", action="store_true", help="also benchmark summary building")
    parser.add_argument("--timeout", type=float, default=900.0, help="time limit per lifetimes fit (s)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "clv.md")
    parser.add_argument("--models", default="bgnbd,pareto,gg", help="comma list of bgnbd, pareto, gg")
    parser.add_argument("--sizes", default=None,
                        help="comma list of simulated sizes (0 = the CDNOW sample); default 0,100000,1000000")
    args = parser.parse_args()

    if args.sizes:
        sizes = [("CDNOW", None) if int(s) == 0 else ("simulated", int(s)) for s in args.sizes.split(",")]
    else:
        sizes = [("CDNOW", None), ("simulated", 100_000)] + ([] if args.quick else [("simulated", 1_000_000)])
    rows = []
    for label, n in sizes:
        frame = cdnow_summary() if n is None else simulated_summary(n)
        for kind in args.models.split(","):
            row = compare(kind, frame, args.timeout, label)
            rows.append(row)
            print(f"{row['model']:<12} {row['customers']:>9,} customers ({row['distinct_rows']:>8} distinct): "
                  f"ours {fmt_time(row, 'ours_s')} s, lifetimes {fmt_time(row, 'lifetimes_s')} s "
                  f"[{row['status']}], ratio {'>' if row['status'] == 'timeout' else ''}{row['ratio']:.1f}x, "
                  f"LL ours {row['ll_ours']:.2f} vs lifetimes {row['ll_lifetimes']:.2f} "
                  f"(diff {row['ll_ours'] - row['ll_lifetimes']:+.1e}), "
                  f"max param diff {row['max_param_rel_diff']:.2e}", flush=True)
    summary_rows = []
    if args.summary:
        for n_rows in ([1_000_000] if args.quick else [1_000_000, 10_000_000]):
            srow = summary_benchmark(n_rows, args.timeout)
            summary_rows.append(srow)
            print(f"summary {n_rows:,} transactions: ours {srow['ours_s']:.2f} s, lifetimes "
                  f"{'> ' if srow['status'] == 'timeout' else ''}{srow['lifetimes_s']:.2f} s, ratio "
                  f"{srow['ratio']:.1f}x, same total frequency: {srow['same_total_frequency']}", flush=True)

    import lifetimes

    lines = [
        "# CLV benchmark: crm_models vs lifetimes",
        "",
        (f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {platform.machine()}, {os.cpu_count()} CPUs, "
         f"Python {platform.python_version()}, lifetimes {lifetimes.__version__}; command: "
         f"`python {' '.join(sys.argv)}`."),
        ("Times are wall-clock seconds of `fit` on per-customer arrays (ours includes input checks and grouping of "
         "identical rows). Both log-likelihoods are evaluated by crm_models' exact likelihood at each tool's "
         f"parameters. lifetimes runs in a child process with a {args.timeout:.0f} s limit."),
        "",
        ("| data | customers | distinct rows | model | ours (s) | lifetimes (s) | ratio | LL ours | LL lifetimes "
         "| LL ours - lifetimes | max rel. param diff | ours | lifetimes |"),
        "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in rows:
        ratio = f"{'>' if r['status'] == 'timeout' else ''}{r['ratio']:.1f}x"
        lines.append(
            f"| {r['data']} | {r['customers']:,} | {r['distinct_rows']:,} | {r['model']} | {fmt_time(r, 'ours_s')} | "
            f"{fmt_time(r, 'lifetimes_s')} ({r['status']}) | {ratio} | {r['ll_ours']:.2f} | {r['ll_lifetimes']:.2f} | "
            f"{r['ll_ours'] - r['ll_lifetimes']:+.2e} | {r['max_param_rel_diff']:.1e} | {r['ours_params']} | "
            f"{r['lifetimes_params']} |"
        )
    if summary_rows:
        lines += ["", "Summary building (per-customer frequency/recency/T/monetary value from transactions, daily):",
                  "", "| transactions | customers | ours (s) | lifetimes (s) | ratio | same total frequency |",
                  "|---:|---:|---:|---:|---:|---|"]
        for s in summary_rows:
            prefix = "> " if s["status"] == "timeout" else ""
            lines.append(f"| {s['transactions']:,} | {s['customers']:,} | {s['ours_s']:.2f} | {prefix}"
                         f"{s['lifetimes_s']:.2f} | {prefix}{s['ratio']:.1f}x | {s['same_total_frequency']} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
