"""Association rules: crm_models (ibis on DuckDB) against mlxtend (fpgrowth + association_rules), and pair
counting at scale with a bounded DuckDB memory limit.

Synthetic baskets (seeded): products with Zipf-like popularity, 1 + Poisson(3) lines per basket, and 30 planted
three-product bundles added to 15% of baskets, so that pairs and triples clear the support threshold. Both
libraries get the same baskets in the same run; each runs in a fresh process (peak memory = that process's maximum
resident set, DuckDB's buffers included; CPU seconds = user + system time of all its threads).
mlxtend is timed from its one-hot input (building that table is not counted against it); crm_models is timed
from the order lines (Parquet) to the rules.

    python bench/recommend.py                       # 1M baskets vs mlxtend, then scale sizes
    python bench/recommend.py --quick               # 100k baskets vs mlxtend, small scale size
    python bench/recommend.py --scale-lines 30000000 --memory-limit 2GB
    python bench/recommend.py --evaluation-only     # the Online Retail evaluation table alone
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import PROJECT_ROOT, machine_description, run_child, write_fragment

DATA_DIR = PROJECT_ROOT / "data" / "processed" / "bench"
N_PRODUCTS = 1_000
MIN_SUPPORT = 0.002
MIN_CONFIDENCE = 0.1


CHUNK_BASKETS = 2_000_000


def write_baskets(n_baskets: int, folder: Path, seed: int = 15) -> int:
    """Write ``order_id, customer_id, product_id, quantity`` lines of ``n_baskets`` baskets as a folder of
    Parquet files (chunks of 2M baskets, so that memory stays small at any size); returns the line count."""
    import numpy as np
    import pandas as pd

    popularity = 1.0 / np.arange(1, N_PRODUCTS + 1) ** 0.9
    popularity /= popularity.sum()
    bundles = np.random.default_rng(seed).choice(N_PRODUCTS, size=(30, 3), replace=False)
    folder.mkdir(parents=True, exist_ok=True)
    total = 0
    for chunk, first in enumerate(range(0, n_baskets, CHUNK_BASKETS)):
        rng = np.random.default_rng([seed, chunk])
        count = min(CHUNK_BASKETS, n_baskets - first)
        sizes = 1 + rng.poisson(3.0, count)
        orders = np.repeat(np.arange(first, first + count, dtype=np.int64), sizes)
        products = rng.choice(N_PRODUCTS, size=len(orders), p=popularity)
        with_bundle = first + np.flatnonzero(rng.random(count) < 0.15)
        chosen = bundles[rng.integers(0, 30, len(with_bundle))]
        orders = np.concatenate([orders, np.repeat(with_bundle, 3)])
        products = np.concatenate([products, chosen.ravel()])
        frame = pd.DataFrame({"order_id": orders, "customer_id": orders // 3, "product_id": products,
                              "quantity": np.ones(len(orders))})
        frame.to_parquet(folder / f"part-{chunk:04d}.parquet", index=False)
        total += len(frame)
    return total


def ensure_baskets(n_baskets: int) -> Path:
    folder = DATA_DIR / f"baskets_{n_baskets}"
    if not (folder / "part-0000.parquet").exists():
        print(f"generating {n_baskets:,} baskets in {folder} ...", flush=True)
        write_baskets(n_baskets, folder)
    return folder


CPU = "sum(resource.getrusage(resource.RUSAGE_SELF)[:2])"  # user + system seconds of every thread
PEAK = "resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024"  # this process's own peak RSS in MiB

OURS_CHILD = """
import json, resource, time
import ibis, ibis.backends.duckdb
from crm_models.data import duckdb_backend
from crm_models.recommend import association_rules
start, cpu = time.perf_counter(), {cpu}
backend = duckdb_backend(memory_limit={limit!r}, temp_directory={tmp!r})
rules = association_rules({path!r}, min_support={support!r}, min_confidence={confidence!r}, backend=backend)
seconds, cpu = time.perf_counter() - start, {cpu} - cpu
rules.assign(antecedents=rules.antecedents.map(list), consequents=rules.consequents.map(list)).to_parquet({out!r})
print(json.dumps({{"seconds": seconds, "cpu_seconds": cpu, "peak_mib": {peak}, "rules": len(rules),
                   "triples": int((rules.antecedents.map(len) + rules.consequents.map(len) == 3).sum())}}))
"""

MLXTEND_CHILD = """
import json, resource, time
import pandas as pd, scipy.sparse as sp
from mlxtend.frequent_patterns import association_rules, fpgrowth
prepare = time.perf_counter()
lines = pd.read_parquet({path!r}, columns=["order_id", "product_id"]).drop_duplicates()
orders, order_index = pd.factorize(lines["order_id"])
products, product_index = pd.factorize(lines["product_id"])
matrix = sp.csr_matrix(([True] * len(lines), (orders, products)), shape=(len(order_index), len(product_index)))
onehot = pd.DataFrame(matrix.toarray(), columns=product_index.astype(str))
start, cpu = time.perf_counter(), {cpu}
prepare = start - prepare
itemsets = fpgrowth(onehot, min_support={support!r}, use_colnames=True, max_len=3)
rules = association_rules(itemsets, num_itemsets=len(onehot), metric="confidence", min_threshold={confidence!r})
seconds, cpu = time.perf_counter() - start, {cpu} - cpu
out = rules[["antecedents", "consequents", "support", "confidence", "lift", "leverage", "conviction"]]
out = out.assign(antecedents=out.antecedents.map(lambda s: sorted(int(x) for x in s)),
                 consequents=out.consequents.map(lambda s: sorted(int(x) for x in s)))
out.to_parquet({out_path!r})
print(json.dumps({{"seconds": seconds, "cpu_seconds": cpu, "peak_mib": {peak}, "prepare_seconds": prepare,
                  "rules": len(rules)}}))
"""

PAIRS_CHILD = """
import json, resource, time
import ibis, ibis.backends.duckdb
from crm_models.data import duckdb_backend
from crm_models.recommend import frequent_itemsets
start = time.perf_counter()
backend = duckdb_backend(memory_limit={limit!r}, temp_directory={tmp!r})
counted = frequent_itemsets({path!r}, min_support={support!r}, max_size={size}, backend=backend)
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "peak_mib": {peak}, "baskets": counted.n_baskets,
                  "itemsets": len(counted.itemsets)}}))
"""


def _count_lines(path: Path) -> int:
    import pyarrow.parquet as pq

    return sum(int(pq.ParquetFile(part).metadata.num_rows) for part in sorted(path.glob("*.parquet")))


def compare_rules(ours_path: Path, theirs_path: Path) -> float:
    """Largest absolute difference of the rule measures between the two outputs (NaN if the rule sets differ)."""
    import numpy as np
    import pandas as pd

    def keyed(path: Path) -> pd.DataFrame:
        frame = pd.read_parquet(path)
        keys = [(tuple(int(x) for x in a), tuple(int(x) for x in c))
                for a, c in zip(frame["antecedents"], frame["consequents"], strict=True)]
        return frame.set_index(pd.MultiIndex.from_tuples(keys)).sort_index()

    ours, theirs = keyed(ours_path), keyed(theirs_path)
    if list(ours.index) != list(theirs.index):
        return float("nan")
    columns = ["support", "confidence", "lift", "leverage"]
    return float(np.max(np.abs(ours[columns].to_numpy() - theirs[columns].to_numpy())))


def evaluation_table(path: Path) -> str:
    """Markdown of the temporal evaluation on Online Retail (cutoff 2011-09-01, 90 days, top 10)."""
    import time

    import pandas as pd

    from crm_models.datasets import load_online_retail_lines
    from crm_models.recommend import (
        ALSRecommender,
        EASERecommender,
        ItemCosineRecommender,
        evaluate_recommenders,
    )
    from crm_models.recommend.evaluation import METRIC_LABELS

    lines = load_online_retail_lines(path, cancellations="exclude")
    models = {"item cosine": ItemCosineRecommender(), "EASE": EASERecommender()}
    try:
        import implicit  # noqa: F401

        models["implicit ALS"] = ALSRecommender()
    except ImportError:
        pass
    start = time.perf_counter()
    result = evaluate_recommenders(models, lines, cutoff="2011-09-01", horizon_days=90, k=10)
    seconds = time.perf_counter() - start
    last_day = (result.window_end - pd.Timedelta(days=1)).normalize()
    metrics = list(METRIC_LABELS)
    out = [
        "### Temporal evaluation on Online Retail",
        "",
        (f"Train on purchases up to and including 2011-09-01, test on the next 90 days (to "
        f"{last_day:%Y-%m-%d}), new products only, top 10; "
        f"{result.n_customers:,} customers bought a new product in the window (the issue's reference: 1,791). "
        "Loader: `load_online_retail_lines(path, cancellations=\"exclude\")` (postage and fees dropped). "
        f"Fitting and scoring all models took {seconds:.0f} s. Command: `python bench/recommend.py "
        "--evaluation-only`."),
        "",
        "| model | " + " | ".join(METRIC_LABELS[m].replace("@k", "@10") for m in metrics)
        + " | precision vs popularity |",
        "|---|" + "---:|" * (len(metrics) + 1),
    ]
    for name, row in result.table.iterrows():
        out.append(f"| {name} | " + " | ".join(f"{row[m]:.3f}" for m in metrics)
                   + f" | {row['precision_vs_baseline']:.2f}x |")
    out += ["", ("Reference precision@10 from the issue: popularity 0.047, implicit ALS 0.079, item cosine 0.089, "
            "EASE 0.105."), ""]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100k baskets and a small scale size")
    parser.add_argument("--baskets", type=int, default=None, help="baskets for the mlxtend comparison")
    parser.add_argument("--scale-lines", type=int, nargs="*", default=None,
                        help="order-line counts for the pair-counting scale runs")
    parser.add_argument("--memory-limit", default="2GB", help="DuckDB memory limit (default 2GB)")
    parser.add_argument("--evaluation-only", action="store_true",
                        help="only print the Online Retail evaluation table (no fragment written)")
    parser.add_argument("--online-retail", type=Path,
                        default=PROJECT_ROOT.parent / "shared" / "data" / "online_retail.csv.gz")
    args = parser.parse_args()
    if args.evaluation_only:
        online_retail_evaluation(args.online_retail)
        return
    n_baskets = args.baskets or (100_000 if args.quick else 1_000_000)
    tmp = str(DATA_DIR / "duckdb_tmp")
    options = {"support": MIN_SUPPORT, "confidence": MIN_CONFIDENCE, "limit": args.memory_limit, "tmp": tmp}

    path = ensure_baskets(n_baskets)
    n_lines = _count_lines(path)
    ours_out, theirs_out = DATA_DIR / "rules_ours.parquet", DATA_DIR / "rules_mlxtend.parquet"
    ours = run_child(OURS_CHILD.format(path=str(path), out=str(ours_out), cpu=CPU, peak=PEAK, **options))
    print(f"crm_models: {ours['rules']:,} rules ({ours['triples']:,} over three products) in "
          f"{ours['seconds']:.1f} s ({ours['cpu_seconds']:.1f} CPU s), "
          f"peak {ours['peak_mib']:.0f} MiB", flush=True)

    scale_sizes = args.scale_lines if args.scale_lines is not None else ([2_000_000] if args.quick
                                                                         else [10_000_000, 30_000_000])
    scale_rows = []
    for lines_wanted in scale_sizes:
        scale_path = ensure_baskets(int(lines_wanted / 4.45))  # 1 + Poisson(3) + 0.45 bundle lines per basket
        result = run_child(PAIRS_CHILD.format(path=str(scale_path), size=2, peak=PEAK, **options))
        scale_rows.append((_count_lines(scale_path), result))
        print(f"scale: {scale_rows[-1][0]:,} lines, {result['baskets']:,} baskets -> {result['itemsets']:,} frequent "
              f"items and pairs in {result['seconds']:.1f} s, peak {result['peak_mib']:.0f} MiB",
              flush=True)

    theirs = run_child(MLXTEND_CHILD.format(path=str(path), out_path=str(theirs_out), cpu=CPU, peak=PEAK,
                                            support=MIN_SUPPORT,
                                            confidence=MIN_CONFIDENCE))
    print(f"mlxtend:    {theirs['rules']:,} rules in {theirs['seconds']:.1f} s ({theirs['cpu_seconds']:.1f} CPU s), "
          f"peak {theirs['peak_mib']:.0f} MiB", flush=True)
    ratio = theirs["seconds"] / ours["seconds"]
    end_to_end = (theirs["seconds"] + theirs["prepare_seconds"]) / ours["seconds"]
    difference = compare_rules(ours_out, theirs_out)
    print(f"ratio (mlxtend time / crm_models time): {ratio:.1f}x on mlxtend's algorithm alone, {end_to_end:.1f}x "
          f"counting its one-hot preparation ({theirs['prepare_seconds']:.1f} s); largest difference in the "
          f"measures: {difference:.2e}", flush=True)

    def peak(result: dict) -> str:
        return f"{result['peak_mib']:.0f}"

    setup = (f"Machine: {machine_description()}. Command: `python bench/recommend.py"
             f"{' --quick' if args.quick else ''}`. Synthetic baskets (seed 15): {N_PRODUCTS:,} products with "
             "Zipf-like popularity, 1 + Poisson(3) lines per basket, 30 planted three-product bundles in 15% of "
             f"baskets. Item sets up to three products, min support {MIN_SUPPORT}, min confidence {MIN_CONFIDENCE}. "
             "crm_models is timed from the Parquet order lines to the rules (DuckDB memory limit "
             f"{args.memory_limit}); mlxtend (fpgrowth + association_rules) from its one-hot table, with the time "
             "to build that table from the same lines given apart.")
    result_row = (f"| {n_baskets:,} | {n_lines:,} | {ours['rules']:,} | {ours['seconds']:.1f} | "
                  f"{theirs['seconds']:.1f} | {theirs['prepare_seconds']:.1f} | {ratio:.1f}x | {end_to_end:.1f}x | "
                  f"{ours['cpu_seconds']:.1f} / {theirs['cpu_seconds']:.1f} | {peak(ours)} / {peak(theirs)} | "
                  f"{difference:.1e} |")
    lines = [
        "## Recommend: association rules (crm_models on DuckDB vs mlxtend)",
        "",
        setup,
        "",
        ("| baskets | order lines | rules | crm_models (s) | mlxtend algorithm (s) | mlxtend one-hot prep (s) | "
        "ratio, algorithm | ratio, end to end | CPU s ours / mlxtend | peak MiB ours / mlxtend | "
        "max abs difference |"),
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        result_row,
        "",
        "### Pair counting at scale (frequent products and pairs, DuckDB, bounded memory)",
        "",
        "| order lines | baskets | frequent items + pairs | time (s) | peak MiB |",
        "|---:|---:|---:|---:|---:|",
    ]
    for wanted, result in scale_rows:
        lines.append(f"| {wanted:,} | {result['baskets']:,} | {result['itemsets']:,} | {result['seconds']:.1f} | "
                     f"{peak(result)} |")
    # The evaluation runs in this process and makes it large, so it comes after the child processes: Linux keeps a
    # process's maximum resident set across exec, so a child started from a large parent reports the parent's peak.
    evaluation = online_retail_evaluation(args.online_retail)
    write_fragment("recommend", "\n".join(lines) + "\n" + ("\n" + evaluation if evaluation else ""))


def online_retail_evaluation(path: Path) -> str:
    """The evaluation table (printed), or "" when Online Retail is not at ``path``."""
    if not path.exists():
        print(f"Online Retail not found at {path}: evaluation skipped", flush=True)
        return ""
    evaluation = evaluation_table(path)
    print(evaluation, flush=True)
    return evaluation


if __name__ == "__main__":
    main()
