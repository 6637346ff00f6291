"""Scale: transactions -> customer summary from partitioned Parquet, out of core on DuckDB.

Generates (once, under data/processed/bench/) 10M and 100M demo transactions as Parquet, then times
``customer_summary`` on each in a fresh process with a DuckDB memory limit, recording wall time and peak memory.

    python bench/scale.py            # 10M and 100M
    python bench/scale.py --quick    # 1M and 10M
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PROJECT_ROOT, machine_description, run_child, write_fragment

DATA_DIR = PROJECT_ROOT / "data" / "processed" / "bench"

SUMMARY_CHILD = """
import json, time
from crm_models.summary import customer_summary
start = time.perf_counter()
summary = customer_summary({path!r}, observation_end="2024-12-31", time_unit="W", memory_limit={limit!r},
                           temp_directory={tmp!r})
elapsed = time.perf_counter() - start
print(json.dumps({{"customers": len(summary), "seconds": elapsed, "repeaters": int((summary.frequency > 0).sum())}}))
"""


def ensure_data(n_transactions: int, name: str) -> Path:
    from crm_models.datasets.big import write_big_demo

    folder = DATA_DIR / name
    if not (folder / "_manifest.json").exists():
        print(f"generating {n_transactions:,} transactions in {folder} ...", flush=True)
        write_big_demo(folder, n_transactions, seed=7)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1M and 10M instead of 10M and 100M")
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB memory limit (default 4GB)")
    args = parser.parse_args()
    sizes = [(1_000_000, "tx_1m"), (10_000_000, "tx_10m")] if args.quick else [(10_000_000, "tx_10m"),
                                                                               (100_000_000, "tx_100m")]
    rows = []
    for n, name in sizes:
        folder = ensure_data(n, name)
        manifest = json.loads((folder / "_manifest.json").read_text())
        result = run_child(SUMMARY_CHILD.format(path=str(folder), limit=args.memory_limit,
                                                tmp=str(DATA_DIR / "duckdb_tmp")))
        rows.append((manifest["n_transactions"], result))
        print(f"{manifest['n_transactions']:>12,} transactions -> {result['customers']:,} customers: "
              f"summary {result['seconds']:.1f} s (process {result['wall_seconds']:.1f} s), "
              f"peak memory {result['peak_rss_mib'] or float('nan'):.0f} MiB", flush=True)
    lines = [
        "## Scale: transactions to customer summary (DuckDB, out of core)",
        "",
        f"Machine: {machine_description()}. DuckDB memory limit {args.memory_limit}; partitioned Parquet input; "
        "one fresh process per size (peak memory = its maximum resident set).",
        "",
        "| transactions | customers | summary time (s) | process wall (s) | peak memory (MiB) |",
        "|---:|---:|---:|---:|---:|",
    ]
    for n, result in rows:
        peak = result["peak_rss_mib"]
        lines.append(f"| {n:,} | {result['customers']:,} | {result['seconds']:.1f} | {result['wall_seconds']:.1f} | "
                     f"{peak:.0f} |" if peak else f"| {n:,} | {result['customers']:,} | {result['seconds']:.1f} | "
                     f"{result['wall_seconds']:.1f} | n/a |")
    write_fragment("scale", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
