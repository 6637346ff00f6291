"""A notebook's order lines from its parameters: Online Retail's line items, the transactions' own product lines,
or, for the demo brand (one product category per order, no product lines), simulated lines with planted pairs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from crm_models.data.order_lines import clean_order_lines, read_order_lines
from crm_models.data.quality import QualityReport
from crm_models.datasets.demo_order_lines import demo_catalogue, simulate_order_lines
from crm_models.datasets.demo_transactions import PRODUCT_CATEGORIES
from crm_models.datasets.order_lines import load_online_retail_lines
from crm_models.datasets.sources import detect_format
from crm_models.exceptions import DataContractError


@dataclass
class LoadedOrderLines:
    """Canonical order lines (returns kept as negative lines), the quality report, product labels
    (``product_id -> description``), where the lines came from, and whether they were simulated."""

    lines: pd.DataFrame
    report: QualityReport
    labels: pd.Series
    description: str
    simulated: bool


def _labels(lines: pd.DataFrame) -> pd.Series:
    """The most frequent description of each product (Online Retail spells some products several ways)."""
    if "description" not in lines.columns:
        return pd.Series(dtype="string")
    named = lines.dropna(subset=["description"])
    counts = named.groupby(["product_id", "description"], sort=True).size().rename("n").reset_index()
    best = counts.sort_values(["product_id", "n"], ascending=[True, False], kind="stable")
    return best.drop_duplicates("product_id").set_index("product_id")["description"].astype("string")


def _is_demo(data_source: Any, fmt: str, transactions: pd.DataFrame) -> bool:
    """True for the demo brand: the source is ``"demo"`` or a file written by ``DemoData.write`` (its
    ``truth.json`` lies beside it), and the transactions have one line per order whose product ids are the
    demo's categories. Anyone else's data are never padded with simulated lines."""
    from_demo = fmt == "demo" or (not isinstance(data_source, pd.DataFrame)
                                  and (Path(str(data_source)).parent / "truth.json").is_file())
    if not from_demo or "product_id" not in transactions.columns or "order_id" not in transactions.columns:
        return False
    one_per_order = not transactions["order_id"].duplicated().any()
    return one_per_order and set(transactions["product_id"].dropna().unique()) <= set(PRODUCT_CATEGORIES)


def load_order_lines_source(
    data_source: str | os.PathLike[str] | pd.DataFrame,
    *,
    source_format: str = "auto",
    transactions: pd.DataFrame | None = None,
    observation_end: Any = None,
    seed: int = 42,
) -> LoadedOrderLines:
    """Order lines for a run.

    - Online Retail (``source_format="online_retail"`` or detected): its line items through
      :func:`~crm_models.datasets.load_online_retail_lines` (cancellations kept as returns).
    - Otherwise the run's clean ``transactions`` (returns kept) are used: for the demo brand (``"demo"``, or its
      files beside their ``truth.json``; one category per order) the product lines are simulated with
      :func:`simulate_order_lines` (seeded, with planted pairs); when orders carry several products they are
      read as order lines.

    Raises
    ------
    DataContractError
        When the transactions have one product per order (nothing is ever bought together) and are not the
        demo brand's, or lack ``order_id``/``product_id``.
    """
    fmt = "transactions" if isinstance(data_source, pd.DataFrame) else (
        detect_format(data_source) if source_format in ("auto", None, "") else source_format)
    if fmt == "online_retail":
        lines, report = load_online_retail_lines(data_source, cancellations="returns",
                                                 observation_end=observation_end, return_report=True)
        return LoadedOrderLines(lines, report, _labels(lines), f"UCI Online Retail line items "
                                f"({Path(str(data_source)).name})", False)
    if transactions is None:
        raise DataContractError(f"order lines for source format {fmt!r} come from the run's transactions; "
                                "pass transactions=", rule="transactions needed")
    if _is_demo(data_source, fmt, transactions):
        lines = read_order_lines(simulate_order_lines(transactions, seed=seed))
        lines, report = clean_order_lines(lines, returns="keep", drop_duplicates=False)
        report.notes.append(f"{len(lines):,} product lines simulated for the demo brand's "
                            f"{transactions['order_id'].nunique():,} orders (seed {seed}), with planted pairs")
        labels = demo_catalogue()["description"]
        return LoadedOrderLines(lines, report, labels, "product lines simulated for the demo brand's orders", True)
    for column in ("order_id", "product_id"):
        if column not in transactions.columns:
            raise DataContractError(f"the transactions lack the column {column!r}: recommendations need order lines",
                                    column=column, rule="order lines need an order id and a product id")
    if not transactions["order_id"].duplicated().any():
        example = transactions[["order_id", "product_id"]].head(3).to_dict("records")
        raise DataContractError("every order has exactly one product line, so no products are ever bought "
                                f"together; e.g. {example}", column="order_id",
                                rule="baskets need orders with several product lines")
    lines, report = clean_order_lines(read_order_lines(transactions), returns="keep")
    return LoadedOrderLines(lines, report, _labels(lines), "the transactions' product lines", False)
