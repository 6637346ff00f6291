"""Helpers shared by the benchmarks: machine description, peak memory of a child process, markdown output."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
RESULTS_DIR = BENCH_DIR / "results"
PROJECT_ROOT = BENCH_DIR.parent


def machine_description() -> str:
    """CPU model, core count, memory and Python version of this machine."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f"{pages / 2**30:.0f} GiB"
    except (ValueError, OSError):
        memory = "unknown memory"
    return f"{cpu}, {os.cpu_count()} cores, {memory}, Python {platform.python_version()}, {platform.system()}"


def run_child(code: str, timeout: float | None = None) -> dict:
    """Run ``code`` in a fresh Python process; return its JSON result plus wall time and peak RSS (MiB).

    The child prints one JSON object on its last line. Peak memory is the child's maximum resident set size,
    which includes DuckDB's and native libraries' allocations.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=timeout,
                          cwd=PROJECT_ROOT)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"benchmark child failed:\n{done.stderr[-3000:]}")
    peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = wall
    # ru_maxrss of children is the maximum over all children so far; report it only when it grew.
    result["peak_rss_mib"] = peak_kib / 1024 if peak_kib > before else None
    return result


def write_fragment(name: str, markdown: str) -> Path:
    """Write ``bench/results/<name>.md`` (collected into docs/benchmarks.md by bench/run_all.py)."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.md"
    path.write_text(markdown)
    return path
