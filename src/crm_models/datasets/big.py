"""Large synthetic transaction sets written as partitioned Parquet, streaming, in bounded memory.

The same generative truth as :func:`crm_models.datasets.make_demo` (BG/NBD purchases with Gamma-Gamma spend;
see :mod:`crm_models.datasets.demo_transactions`), produced one block of customers at a time: each block is
simulated, written as one Parquet file and released, so memory stays at one block whatever the total size.
Blocks get independent random streams spawned from one seed, so the output is deterministic.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from crm_models.datasets.demo import DEFAULT_END, DEFAULT_START
from crm_models.datasets.demo_transactions import PurchaseTruth, simulate_customers, simulate_purchases

CUSTOMERS_PER_BLOCK = 250_000


def expected_transactions_per_customer(seed: int = 0, sample: int = 20_000,
                                       truth: PurchaseTruth | None = None,
                                       start: str = DEFAULT_START, end: str = DEFAULT_END) -> float:
    """Mean purchases per customer under ``truth`` over the window, estimated on a seeded pilot sample."""
    truth = truth or PurchaseTruth(return_rate=0.0)
    rng = np.random.default_rng(seed)
    window_start, window_end = pd.Timestamp(start), pd.Timestamp(end)
    signup_end = window_start + (window_end - window_start) * 2 / 3
    customers = simulate_customers(rng, sample, window_start, signup_end, truth)
    purchases = simulate_purchases(rng, customers, window_end, truth)
    return len(purchases) / sample


def write_big_demo(
    folder: str | os.PathLike[str],
    n_transactions: int,
    *,
    seed: int = 0,
    customers_per_block: int = CUSTOMERS_PER_BLOCK,
    truth: PurchaseTruth | None = None,
    start: str = DEFAULT_START,
    end: str = DEFAULT_END,
) -> dict:
    """Write about ``n_transactions`` demo transactions to ``folder/part-XXXXX.parquet``; return a manifest.

    The number of customers is chosen from a pilot estimate of purchases per customer, so the total lands
    within a few percent of ``n_transactions``. Customer ids are unique across blocks. Returns (and writes as
    ``_manifest.json``) the truth, the block count and the exact number of rows written.
    """
    truth = truth or PurchaseTruth(return_rate=0.0)
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    per_customer = expected_transactions_per_customer(seed, truth=truth, start=start, end=end)
    n_customers = max(10, round(n_transactions / per_customer))
    window_start, window_end = pd.Timestamp(start).normalize(), pd.Timestamp(end).normalize()
    last_instant = window_end + pd.Timedelta(days=1) - pd.Timedelta(seconds=1)
    signup_end = window_start + (window_end - window_start) * 2 / 3
    blocks = int(np.ceil(n_customers / customers_per_block))
    streams = np.random.SeedSequence(seed).spawn(blocks)
    rows = 0
    width = len(str(n_customers)) + 1
    for block, stream in enumerate(streams):
        rng = np.random.default_rng(stream)
        size = min(customers_per_block, n_customers - block * customers_per_block)
        customers = simulate_customers(rng, size, window_start, signup_end, truth)
        offset = block * customers_per_block
        customers["customer_id"] = pd.array([f"C{offset + i:0{width}d}" for i in range(1, size + 1)], dtype="string")
        purchases = simulate_purchases(rng, customers, last_instant, truth)
        purchases["order_id"] = f"B{block:05d}-" + purchases["order_id"].astype(str)
        path = target / f"part-{block:05d}.parquet"
        tmp = path.with_suffix(".tmp")
        purchases.to_parquet(tmp, index=False, row_group_size=1_000_000)
        os.replace(tmp, path)
        rows += len(purchases)
        del customers, purchases
    manifest = {"n_transactions": rows, "n_customers": n_customers, "blocks": blocks, "seed": seed,
                "observation_start": str(window_start.date()), "observation_end": str(window_end.date()),
                "truth": truth.as_dict()}
    (target / "_manifest.json").write_text(json.dumps(manifest, indent=2))
    return manifest
