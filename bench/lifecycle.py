"""Lifecycle at scale: a five-stage closed funnel over large synthetic web events, out of core on DuckDB.

Generates (once, under data/processed/bench/) web events from the demo brand's generator
(:func:`crm_models.datasets.demo_events.simulate_web_events`, known stage conversion) as partitioned Parquet,
one block of customers at a time, then times :func:`crm_models.lifecycle.funnel` on the folder in a fresh
process with a DuckDB memory limit, recording wall time, peak memory and the largest gap between the estimated
and the known stage conversion.

    python bench/lifecycle.py                  # 10M and 100M events
    python bench/lifecycle.py --quick          # 1M and 10M events
    python bench/lifecycle.py --events 3000000 # one size
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PROJECT_ROOT, machine_description, run_child, write_fragment

DATA_DIR = PROJECT_ROOT / "data" / "processed" / "bench"
CUSTOMERS_PER_BLOCK = 500_000
EVENTS_PER_CUSTOMER = 2.84  # measured mean of the generator with its default conversion and noise

FUNNEL_CHILD = """
import json, time
import numpy as np
from crm_models.datasets.demo_events import STAGES
from crm_models.lifecycle import funnel
truth = json.load(open({manifest!r}))["truth"]["conversion_from_previous"]
start = time.perf_counter()
result = funnel({path!r}, list(STAGES), window="1D", memory_limit={limit!r}, temp_directory={tmp!r})
elapsed = time.perf_counter() - start
gap = float(np.abs(result["conversion_from_previous"].to_numpy()[1:] - np.asarray(truth)).max())
print(json.dumps({{"seconds": elapsed, "entered": int(result["customers"].iloc[0]),
                  "paid": int(result["customers"].iloc[-1]), "max_abs_error": gap}}))
"""


def write_events(folder: Path, n_events: int, seed: int = 7) -> dict:
    """Write about ``n_events`` demo web events to ``folder/part-XXXXX.parquet`` block by block; return a manifest."""
    import numpy as np

    from crm_models.datasets.demo_events import simulate_web_events

    folder.mkdir(parents=True, exist_ok=True)
    n_customers = max(10, round(n_events / EVENTS_PER_CUSTOMER))
    blocks = -(-n_customers // CUSTOMERS_PER_BLOCK)
    seeds = np.random.SeedSequence(seed).generate_state(blocks)
    rows, truth = 0, None
    for block in range(blocks):
        size = min(CUSTOMERS_PER_BLOCK, n_customers - block * CUSTOMERS_PER_BLOCK)
        ids = [f"B{block:04d}-{i:06d}" for i in range(size)]
        demo = simulate_web_events(size, seed=int(seeds[block]), customer_ids=ids, days=365)
        path = folder / f"part-{block:05d}.parquet"
        tmp = path.with_suffix(".tmp")
        demo.events.to_parquet(tmp, index=False, row_group_size=1_000_000)
        os.replace(tmp, path)
        rows += len(demo.events)
        truth = demo.truth
    manifest = {"n_events": rows, "n_customers": n_customers, "blocks": blocks, "seed": seed, "truth": truth}
    (folder / "_manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest


def ensure_events(n_events: int) -> Path:
    folder = DATA_DIR / f"events_{n_events}"
    if not (folder / "_manifest.json").exists():
        print(f"generating about {n_events:,} web events in {folder} ...", flush=True)
        write_events(folder, n_events)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1M and 10M events instead of 10M and 100M")
    parser.add_argument("--events", type=int, nargs="*", help="explicit sizes (number of events)")
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory limit (default 2GB)")
    args = parser.parse_args()
    sizes = args.events or ([1_000_000, 10_000_000] if args.quick else [10_000_000, 100_000_000])
    rows = []
    for n in sizes:
        folder = ensure_events(n)
        manifest_path = folder / "_manifest.json"
        manifest = json.loads(manifest_path.read_text())
        result = run_child(FUNNEL_CHILD.format(path=str(folder), manifest=str(manifest_path), limit=args.memory_limit,
                                               tmp=str(DATA_DIR / "duckdb_tmp")))
        rows.append((manifest, result))
        peak = result["peak_rss_mib"]
        print(f"{manifest['n_events']:>12,} events, {result['entered']:,} customers entered: funnel "
              f"{result['seconds']:.1f} s (process {result['wall_seconds']:.1f} s), peak memory "
              f"{peak if peak else float('nan'):.0f} MiB, max |conversion - truth| {result['max_abs_error']:.4f}",
              flush=True)
    lines = [
        "## Lifecycle: five-stage funnel over web events (DuckDB, out of core)",
        "",
        (f"Machine: {machine_description()}. DuckDB memory limit {args.memory_limit}; partitioned Parquet input "
        "from the demo web-events generator (known stage conversion); closed funnel with a one-day window; one "
        "fresh process per size (peak memory = its maximum resident set)."),
        "",
        ("| events | customers entered | paid | funnel time (s) | process wall (s) | peak memory (MiB) | "
        "max abs. error vs truth |"),
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for manifest, result in rows:
        peak = f"{result['peak_rss_mib']:.0f}" if result["peak_rss_mib"] else "n/a"
        lines.append(f"| {manifest['n_events']:,} | {result['entered']:,} | {result['paid']:,} | "
                     f"{result['seconds']:.1f} | {result['wall_seconds']:.1f} | {peak} | "
                     f"{result['max_abs_error']:.4f} |")
    write_fragment("lifecycle", "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
