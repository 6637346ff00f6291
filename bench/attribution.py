"""Benchmark: exact Markov attribution (crm_models) against ChannelAttribution's simulation.

The same synthetic journeys (10 channels, path length 1-20, one row per journey in ChannelAttribution's
input format: ``path`` = "a > b > c", ``total_conversions``, ``total_null``, ``total_conversion_value``)
at 100k, 1M and 5M journeys, both tools in this one process, orders 1 and 3. Printed and written to
``bench/results/attribution.md``: wall time (ours includes parsing the path strings), peak resident
memory above the level before the call (sampled every 5 ms), the process's absolute peak, and how far
ChannelAttribution's simulated credit lies from our exact credit (half the L1 distance of the credit
shares, and the largest relative error of a channel).

Run: ``python bench/attribution.py`` (all sizes) or ``python bench/attribution.py --quick`` (100k only).
Needs the ``bench`` extra: ``ChannelAttribution`` (compiles C++) and ``psutil``.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import io
import os
import platform
import sys
import threading
import time
from pathlib import Path
from typing import Self

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from crm_models.attribution import encode_journeys, markov_attribution
from crm_models.data.files import atomic_write_text

N_CHANNELS = 10
MAX_LENGTH = 20
SEED = 20261123


def synthetic_journeys(n: int, seed: int = SEED) -> pd.DataFrame:
    """``n`` journeys over 10 channels, lengths uniform on 1..20, from a random first-order chain;
    conversion probability rises with the number of distinct high-effect channels touched."""
    rng = np.random.default_rng(seed)
    names = np.array([f"channel_{i:02d}" for i in range(N_CHANNELS)])
    initial = rng.dirichlet(np.full(N_CHANNELS, 2.0))
    move = rng.dirichlet(np.full(N_CHANNELS, 0.7), size=N_CHANNELS)
    cum_move = np.cumsum(move, axis=1)
    effect = np.linspace(-0.6, 0.9, N_CHANNELS)
    lengths = rng.integers(1, MAX_LENGTH + 1, size=n)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    codes = np.empty(int(offsets[-1]), dtype=np.int8)
    state = rng.choice(N_CHANNELS, size=n, p=initial).astype(np.int64)
    codes[offsets[:-1]] = state
    for step in range(1, MAX_LENGTH):
        alive = np.flatnonzero(lengths > step)
        u = rng.random(alive.size)
        nxt = np.minimum((u[:, None] > cum_move[state[alive]]).sum(axis=1), N_CHANNELS - 1)
        state[alive] = nxt
        codes[offsets[alive] + step] = nxt
    # conversion: logistic in the distinct channels touched
    path_index = np.repeat(np.arange(n), lengths)
    seen = np.zeros((n, N_CHANNELS), dtype=bool)
    seen[path_index, codes] = True
    logit = -2.2 + seen.astype(float) @ effect * 0.6
    converted = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    value = np.where(converted, np.round(rng.gamma(4.0, 12.5, size=n), 2), 0.0)
    del seen, path_index
    lists = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)),
                                     pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)),
                                                                    pa.array(names)).cast(pa.string()))
    paths = pc.binary_join(lists, " > ")
    return pd.DataFrame(
        {
            "path": pd.Series(pd.arrays.ArrowStringArray(paths) if hasattr(pd.arrays, "ArrowStringArray")
                              else paths.to_pylist(), copy=False),
            "total_conversions": converted.astype(np.int64),
            "total_null": (~converted).astype(np.int64),
            "total_conversion_value": value,
        }
    )


GRID_CHANNELS = (5, 10, 20, 30)
GRID_ORDERS = (1, 2, 3, 4)
GRID_SIZES = (200_000, 1_000_000)
GRID_SEED = 20261130
ZIPF_EXPONENT = 1.1
PARETO_SHAPE = 2.0  # path length 1 + floor(3 * Lomax(2)): mean about 4, tail P(L > l) ~ l^-2
MAX_GRID_LENGTH = 100


def grid_journeys(n: int, n_channels: int, seed: int = GRID_SEED) -> pd.DataFrame:
    """``n`` journeys over ``n_channels`` channels with Zipf popularity (touch ``i`` is channel ``j`` with
    probability proportional to ``j ** -1.1``, repeated from the previous touch with probability 0.3) and
    heavy-tailed lengths (``1 + floor(3 * Lomax(2))``, capped at 100); conversion logistic in the
    distinct channels touched. Deterministic in ``seed``: every process builds the same journeys."""
    rng = np.random.default_rng([seed, n_channels, n])
    names = np.array([f"ch_{i:02d}" for i in range(n_channels)])
    popularity = 1.0 / np.arange(1, n_channels + 1) ** ZIPF_EXPONENT
    popularity /= popularity.sum()
    lengths = np.minimum(1 + np.floor(rng.pareto(PARETO_SHAPE, size=n) * 3.0).astype(np.int64), MAX_GRID_LENGTH)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    total = int(offsets[-1])
    draws = rng.choice(n_channels, size=total, p=popularity)
    repeat = rng.random(total) < 0.3
    repeat[offsets[:-1]] = False
    source = np.where(repeat, 0, np.arange(total))
    np.maximum.accumulate(source, out=source)
    codes = draws[source]
    seen = np.zeros((n, n_channels), dtype=bool)
    seen[np.repeat(np.arange(n), lengths), codes] = True
    effect = rng.normal(0.2, 0.5, n_channels)
    converted = rng.random(n) < 1.0 / (1.0 + np.exp(2.5 - seen @ effect))
    value = np.where(converted, np.round(rng.gamma(4.0, 12.5, size=n), 2), 0.0)
    del seen
    lists = pa.ListArray.from_arrays(pa.array(offsets.astype(np.int32)),
                                     pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)),
                                                                    pa.array(names)).cast(pa.string()))
    return pd.DataFrame({
        "path": pc.binary_join(lists, " > ").to_pandas(),
        "total_conversions": converted.astype(np.int64),
        "total_null": (~converted).astype(np.int64),
        "total_conversion_value": value,
    })


def release_memory() -> None:
    """Give freed memory back to the OS, so that the next measurement starts from what is really in use
    (glibc keeps freed heap pages, Arrow keeps a pool; either would hide the next call's allocations)."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


class PeakMemory:
    """Peak resident set size of this process while the block runs.

    On Linux the kernel's high-water mark is reset before the block (``/proc/self/clear_refs``) and read
    after it (``VmHWM``): exact, and blind to neither tool (a sampling thread would not run while a C++
    extension holds the GIL). Elsewhere a thread samples the RSS every 5 ms.
    """

    def __init__(self) -> None:
        import psutil

        self._proc = psutil.Process(os.getpid())
        self.baseline = 0
        self.peak = 0
        self._stop = threading.Event()
        self._kernel = Path("/proc/self/clear_refs").exists()

    def _watch(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._proc.memory_info().rss)
            time.sleep(0.005)

    @staticmethod
    def _high_water_mark() -> int:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise OSError("no VmHWM")

    def __enter__(self) -> Self:
        release_memory()
        self.baseline = self._proc.memory_info().rss
        self.peak = self.baseline
        if self._kernel:
            try:
                Path("/proc/self/clear_refs").write_text("5")
            except OSError:
                self._kernel = False
        if not self._kernel:
            self._thread = threading.Thread(target=self._watch, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._kernel:
            self.peak = max(self.peak, self._high_water_mark())
        else:
            self._stop.set()
            self._thread.join()
        self.peak = max(self.peak, self._proc.memory_info().rss)

    @property
    def increase_mb(self) -> float:
        return (self.peak - self.baseline) / 2**20

    @property
    def peak_mb(self) -> float:
        return self.peak / 2**20


def run_ours(frame: pd.DataFrame, order: int) -> tuple[pd.DataFrame, float, float, PeakMemory]:
    with PeakMemory() as mem:
        start, cpu = time.perf_counter(), time.process_time()
        enc = encode_journeys(frame, conversions="total_conversions", nulls="total_null",
                              value="total_conversion_value")
        result = markov_attribution(enc, order=order, with_transitions=False)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return result.credit, elapsed, cpu, mem


def run_peer(frame: pd.DataFrame, order: int) -> tuple[pd.DataFrame, float, float, PeakMemory]:
    import ChannelAttribution as ca

    with PeakMemory() as mem:
        start, cpu = time.perf_counter(), time.process_time()
        with contextlib.redirect_stdout(io.StringIO()):
            out = ca.markov_model(frame, "path", "total_conversions", var_value="total_conversion_value",
                                  var_null="total_null", order=order, verbose=False)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    credit = out.set_index("channel_name").rename(
        columns={"total_conversions": "conversions", "total_conversion_value": "value"}
    )[["conversions", "value"]]
    return credit, elapsed, cpu, mem


def best_of(runner, frame: pd.DataFrame, order: int, repeat: int) -> tuple:
    """Run ``repeat`` times; keep the fastest wall time (and its CPU time), the largest memory."""
    runs = [runner(frame, order) for _ in range(repeat)]
    best = min(runs, key=lambda r: r[1])
    worst_memory = max(runs, key=lambda r: r[3].increase_mb)[3]
    return best[0], best[1], best[2], worst_memory


def distance(ours: pd.DataFrame, peer: pd.DataFrame) -> tuple[float, float]:
    """Half the L1 distance of conversion shares (0..1) and the largest relative error of a channel."""
    peer = peer.reindex(ours.index).fillna(0.0)
    a = ours["conversions"] / ours["conversions"].sum()
    b = peer["conversions"] / peer["conversions"].sum()
    rel = ((peer["conversions"] - ours["conversions"]).abs() / ours["conversions"].where(ours["conversions"] > 0))
    return float((a - b).abs().sum() / 2), float(rel.max())


def real_data_section(have_peer: bool) -> list[str]:
    """Exact credit vs ChannelAttribution (three seeds) on the public touchpoints, orders 1-3."""
    source = ROOT.parent / "shared" / "data" / "attribution_touchpoints.csv"
    if not source.exists() or not have_peer:
        return []
    from crm_models.attribution import build_journeys

    journeys = build_journeys(str(source), timestamp="time", value="conversion_value")
    frame = journeys.rename(columns={"conversions": "total_conversions", "nulls": "total_null",
                                     "value": "total_conversion_value"})
    rows = []
    credits = {}
    for order in (1, 2, 3):
        ours = markov_attribution(journeys, order=order).credit
        credits[(order, "exact")] = ours["conversions"]
        for seed in (0, 1, 2):
            import ChannelAttribution as ca

            with contextlib.redirect_stdout(io.StringIO()):
                out = ca.markov_model(frame, "path", "total_conversions", var_value="total_conversion_value",
                                      var_null="total_null", order=order, seed=seed, verbose=False)
            peer = out.set_index("channel_name").rename(columns={"total_conversions": "conversions"})
            credits[(order, f"CA seed {seed}")] = peer["conversions"].reindex(ours.index)
            tv, rel = distance(ours, peer)
            rows.append({"order": order, "seed": seed, "share_distance": tv, "max_rel_error": rel})
    table = pd.DataFrame(rows)
    wide = pd.DataFrame(credits)
    wide.columns = [f"order {o} {who}" for o, who in wide.columns]
    print("\nreal data (attribution_touchpoints.csv):")
    print(table.to_string(index=False))
    return [
        "## Real data: `attribution_touchpoints.csv` (1,838 conversions, 5 channels)",
        "",
        "Exact credit vs ChannelAttribution with three seeds (defaults otherwise).",
        "",
        _markdown_table(table),
        "",
        _markdown_table(wide.round(1).reset_index()),
        "",
    ]


GRID_REPEAT = 5
GRID_REPEAT_BUDGET = 10.0  # seconds: a tool is run again only while its runs of the cell took less


def grid_cell_child(tool: str, n_channels: int, n: int, order: int, repeat: int = GRID_REPEAT) -> None:
    """Child process of one grid cell: build the journeys, run one tool up to ``repeat`` times (again only
    while its runs took less than ``GRID_REPEAT_BUDGET`` seconds in all), print a JSON line with the
    fastest run's wall and CPU time and the largest memory increase of the runs. The same rule for both
    tools: on a shared machine the fastest run is the one least disturbed by other jobs."""
    import json

    frame = grid_journeys(n, n_channels)
    runner = run_ours if tool == "ours" else run_peer
    if tool == "ours":  # warm-up of imports and lazy kernels on a small sample
        run_ours(frame.head(2_000), order)
    runs = []
    spent = 0.0
    while len(runs) < max(repeat, 1) and (not runs or spent < GRID_REPEAT_BUDGET):
        runs.append(runner(frame, order))
        spent += runs[-1][1]
    credit, elapsed, cpu, _ = min(runs, key=lambda r: r[1])
    memory = max(r[3].increase_mb for r in runs)
    print(json.dumps({"seconds": elapsed, "cpu": cpu, "mem_mb": memory, "runs": len(runs),
                      "credit": credit["conversions"].to_dict()}))


def run_grid(args: argparse.Namespace) -> int:
    """Every cell (channels x order x journeys) in fresh child processes, the peer under a time limit."""
    import json
    import subprocess

    channels = [int(c) for c in args.grid_channels.split(",")]
    orders = [int(o) for o in args.orders.split(",")] if args.orders != "1,3" else list(GRID_ORDERS)
    sizes = [int(float(x)) for x in args.sizes.split(",")] if args.sizes else list(GRID_SIZES)
    rows = []
    started = time.perf_counter()

    def child(tool: str, k: int, n: int, order: int, limit: float | None) -> dict | None:
        code = [sys.executable, str(Path(__file__).resolve()), "--cell-child",
                f"{tool},{k},{n},{order},{args.grid_repeat}"]
        try:
            done = subprocess.run(code, capture_output=True, text=True, timeout=limit, cwd=ROOT, check=False)
        except subprocess.TimeoutExpired:
            return None
        if done.returncode != 0:
            return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"}
        return json.loads(done.stdout.strip().splitlines()[-1])

    for k in channels:
        for n in sizes:
            for order in orders:
                ours = child("ours", k, n, order, None)
                row = {"channels": k, "order": order, "journeys": n, "runs": str(ours.get("runs", 1)),
                       "ours_s": ours["seconds"],
                       "ours_cpu_s": ours["cpu"], "ours_mem_mb": ours["mem_mb"]}
                peer = child("peer", k, n, order, args.peer_limit)
                if peer is None or "error" in peer:
                    row["runs"] += "/-"
                if peer is None:
                    row.update({"peer_s": f"> {args.peer_limit:.0f} (stopped)", "peer_cpu_s": np.nan,
                                "peer_mem_mb": np.nan, "speedup": f"> {args.peer_limit / ours['seconds']:.0f}",
                                "speedup_cpu": "", "share_distance": np.nan})
                elif "error" in peer:
                    row.update({"peer_s": f"failed: {peer['error'][:60]}", "peer_cpu_s": np.nan,
                                "peer_mem_mb": np.nan, "speedup": "", "speedup_cpu": "", "share_distance": np.nan})
                else:
                    a = pd.Series(ours["credit"])
                    b = pd.Series(peer["credit"]).reindex(a.index).fillna(0.0)
                    row["runs"] += f"/{peer.get('runs', 1)}"
                    row.update({"peer_s": peer["seconds"], "peer_cpu_s": peer["cpu"], "peer_mem_mb": peer["mem_mb"],
                                "speedup": f"{peer['seconds'] / ours['seconds']:.1f}",
                                "speedup_cpu": f"{peer['cpu'] / max(ours['cpu'], 1e-9):.1f}",
                                "share_distance": float((a / a.sum() - b / b.sum()).abs().sum() / 2)})
                rows.append(row)
                print(row, flush=True)
    total = time.perf_counter() - started
    table = pd.DataFrame(rows)
    lines = [
        "# Markov attribution grid: crm_models (exact) vs ChannelAttribution (simulation)",
        "",
        (f"Synthetic journeys (`bench/attribution.py::grid_journeys`, seed {GRID_SEED}): Zipf channel popularity "
         f"(exponent {ZIPF_EXPONENT}), heavy-tailed path lengths (1 + floor(3 Lomax({PARETO_SHAPE:g})), capped at "
         f"{MAX_GRID_LENGTH}), one row per journey. Each tool runs in its own fresh process on the same journeys "
         "(built from the seed in each process); time includes parsing the path strings. Each tool runs up to "
         f"{args.grid_repeat} times while its runs of the cell take less than {GRID_REPEAT_BUDGET:.0f} s in all "
         "(`runs`: ours/peer) and the fastest run counts (its wall and CPU time; memory: the largest of the "
         "runs); crm_models is warmed up on 2,000 journeys first. "
         "Wall and CPU (process) seconds: the machine was shared while measured, so wall times carry other "
         "jobs' waiting; CPU time is the fairer ratio (both tools run single-threaded here). "
         "Memory: peak RSS increase during the call (VmHWM). ChannelAttribution defaults (nsim_start=1e5, one "
         f"core), stopped after {args.peer_limit:.0f} s per cell. `share_distance`: half the L1 distance between "
         "the two tools' conversion-credit shares."),
        "",
        (f"Machine: {platform.platform()}, {os.cpu_count()} CPUs (shared with other jobs while measured), "
         f"Python {platform.python_version()}. Whole grid: {total / 60:.0f} min."),
        "",
        _markdown_table(table),
        "",
    ]
    atomic_write_text(args.out, "\n".join(lines))
    print(f"\nwhole grid {total:.0f} s; written to {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k journeys only")
    parser.add_argument("--sizes", type=str, default=None, help="comma-separated journey counts")
    parser.add_argument("--orders", type=str, default="1,3")
    parser.add_argument("--no-peer-above", type=int, default=None,
                        help="skip ChannelAttribution above this many journeys")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement (fastest kept), both tools")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "attribution.md")
    parser.add_argument("--grid", action="store_true",
                        help="the channels x orders x journeys grid (Zipf popularity, heavy-tailed lengths)")
    parser.add_argument("--grid-channels", type=str, default=",".join(map(str, GRID_CHANNELS)))
    parser.add_argument("--peer-limit", type=float, default=120.0, help="seconds per grid cell for the peer")
    parser.add_argument("--grid-repeat", type=int, default=GRID_REPEAT,
                        help=f"runs per grid cell and tool (fastest kept; again only within {GRID_REPEAT_BUDGET:.0f} s)")
    parser.add_argument("--cell-child", type=str, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.cell_child:
        tool, k, n, order, *repeat = args.cell_child.split(",")
        grid_cell_child(tool, int(k), int(n), int(order), int(repeat[0]) if repeat else GRID_REPEAT)
        return 0
    if args.grid:
        if args.out == ROOT / "bench" / "results" / "attribution.md":
            args.out = ROOT / "bench" / "results" / "attribution_grid.md"
        return run_grid(args)
    sizes = [100_000] if args.quick else [100_000, 1_000_000, 5_000_000]
    if args.sizes:
        sizes = [int(float(s)) for s in args.sizes.split(",")]
    orders = [int(o) for o in args.orders.split(",")]
    try:
        import ChannelAttribution  # noqa: F401

        have_peer = True
    except ImportError:
        have_peer = False
        print("ChannelAttribution not installed: measuring crm_models only", flush=True)

    # warm up both tools (imports, lazy kernels) so that the first measurement is not penalized
    warm = synthetic_journeys(2_000, seed=1)
    for order in orders:
        run_ours(warm, order)
        if have_peer:
            run_peer(warm, order)
    rows = []
    for n in sizes:
        t0 = time.perf_counter()
        frame = synthetic_journeys(n)
        print(f"\n{n:,} journeys generated in {time.perf_counter() - t0:.1f} s "
              f"({int(frame['total_conversions'].sum()):,} conversions)", flush=True)
        for order in orders:
            repeat = args.repeat if n <= 1_000_000 else 1
            ours, t_ours, c_ours, m_ours = best_of(run_ours, frame, order, repeat)
            row = {"journeys": n, "order": order, "ours_s": t_ours, "ours_cpu_s": c_ours,
                   "ours_mem_mb": m_ours.increase_mb, "ours_peak_rss_mb": m_ours.peak_mb}
            print(f"  order {order}: crm_models {t_ours:7.2f} s (cpu {c_ours:6.2f} s)  +{m_ours.increase_mb:7.0f} MB "
                  f"(process peak {m_ours.peak_mb:.0f} MB)", flush=True)
            if have_peer and (args.no_peer_above is None or n <= args.no_peer_above):
                peer, t_peer, c_peer, m_peer = best_of(run_peer, frame, order, repeat)
                tv, rel = distance(ours, peer)
                row.update({"peer_s": t_peer, "peer_cpu_s": c_peer, "peer_mem_mb": m_peer.increase_mb,
                            "speedup": t_peer / t_ours, "speedup_cpu": c_peer / max(c_ours, 1e-9),
                            "memory_ratio": m_peer.increase_mb / max(m_ours.increase_mb, 1.0),
                            "share_distance": tv, "max_rel_error": rel})
                print(f"           ChannelAttribution {t_peer:7.2f} s (cpu {c_peer:6.2f} s)  +{m_peer.increase_mb:7.0f} MB  "
                      f"speed-up {t_peer / t_ours:5.1f}x (cpu {c_peer / max(c_ours, 1e-9):5.1f}x)  "
                      f"credit distance {100 * tv:.2f}% (worst channel {100 * rel:.1f}%)", flush=True)
            rows.append(row)
            gc.collect()
        del frame
        gc.collect()

    table = pd.DataFrame(rows)
    lines = [
        "# Markov attribution: crm_models (exact) vs ChannelAttribution (simulation)",
        "",
        (f"Synthetic journeys: {N_CHANNELS} channels, path length 1-{MAX_LENGTH}, one row per journey, seed {SEED}. "
         "Both tools in one process; times include parsing the path strings; wall and CPU (process) time, "
        "the fastest of `--repeat` runs (up to 1M journeys). Memory: peak RSS increase during "
        "the call (kernel high-water mark, VmHWM); `ours_peak_rss_mb` is the whole process, input data included. "
        "`share_distance`: half the L1 distance between the two tools' credit shares; `max_rel_error`: the "
         "largest relative difference of a channel's credit. ChannelAttribution defaults (nsim_start=1e5)."),
        "",
        f"Machine: {platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}.",
        "",
        _markdown_table(table),
        "",
    ]
    if not args.quick:
        lines += real_data_section(have_peer)
        grid = args.out.parent / "attribution_grid.md"
        if grid.exists():  # the grid (``--grid``, about 40 minutes) keeps its place on the benchmark page
            lines += ["#" + grid.read_text().rstrip(), ""]
    atomic_write_text(args.out, "\n".join(lines))
    print(f"\nwritten to {args.out}")
    return 0


def _markdown_table(table: pd.DataFrame) -> str:
    """A GitHub markdown table (no tabulate dependency)."""

    def fmt(value: object) -> str:
        if isinstance(value, float | np.floating):
            return "" if np.isnan(value) else f"{value:,.3g}" if abs(value) < 1000 else f"{value:,.0f}"
        if isinstance(value, int | np.integer):
            return f"{value:,}"
        return str(value)

    header = "| " + " | ".join(table.columns) + " |"
    rule = "|" + "|".join("---:" for _ in table.columns) + "|"
    rows = ["| " + " | ".join(fmt(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join([header, rule, *rows])


if __name__ == "__main__":
    raise SystemExit(main())
