"""One entry point for notebooks: turn a ``data_source`` parameter into clean transactions and a quality report.

Notebooks take ``data_source`` as a parameter: ``"demo"`` (the synthetic brand from :func:`make_demo`), a path to
the UCI Online Retail file, a CDNOW file, or any CSV/Parquet of transactions with a column mapping. Code that
every notebook needs lives here rather than being copied between notebooks.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from crm_models.data.contract import read_transactions
from crm_models.data.quality import QualityReport, clean_transactions
from crm_models.data.timestamps import end_exclusive, end_inclusive_day, utc_day

SourceFormat = Literal["auto", "demo", "online_retail", "cdnow", "transactions"]


@dataclass
class LoadedTransactions:
    """Clean transactions, the report of what was dropped, and where they came from."""

    transactions: pd.DataFrame
    report: QualityReport
    description: str
    source_format: str
    observation_end: pd.Timestamp
    demo: Any = None  # the DemoData when the source is the demo brand


def detect_format(source: str | os.PathLike[str]) -> str:
    """Guess the format of a file from its name and first line."""
    text = str(source)
    if text == "demo":
        return "demo"
    name = Path(text).name.lower()
    if "online_retail" in name or "online-retail" in name:
        return "online_retail"
    if "cdnow" in name:
        return "cdnow"
    if name.endswith((".csv", ".csv.gz")):
        import gzip

        opener = gzip.open if name.endswith(".gz") else open
        with opener(text, "rt", encoding="utf-8", errors="replace") as handle:
            header = handle.readline()
        if header.startswith("InvoiceNo,StockCode"):
            return "online_retail"
    return "transactions"


def load_transactions_source(
    data_source: str | os.PathLike[str] | pd.DataFrame = "demo",
    *,
    source_format: SourceFormat = "auto",
    columns: Mapping[str, str] | None = None,
    timestamp_format: str | None = None,
    timestamp_unit: str | None = None,
    dayfirst: bool | None = None,
    observation_end: str | pd.Timestamp | None = None,
    returns: Literal["drop", "keep"] = "drop",
    seed: int = 42,
    n_customers: int = 5_000,
) -> LoadedTransactions:
    """Load, check and clean transactions from a notebook's ``data_source`` parameter.

    Parameters
    ----------
    data_source : ``"demo"``, a file path, or a DataFrame of transactions.
    source_format : ``"auto"`` guesses from the name and header.
    columns : mapping from canonical names to the file's names (generic transactions only).
    timestamp_format, timestamp_unit, dayfirst : how to read the timestamp column of generic transactions (see
        :func:`crm_models.data.read_transactions`: numbers need a unit, dates like 02/06/2024 need ``dayfirst``).
    observation_end : inclusive end; later rows are dropped and counted. A date (string or midnight timestamp)
        keeps the whole day. Defaults to the last day in the data (the demo's window end for the demo). A value that
        is not a date raises ``ConfigurationError`` before any file is read.
    returns : drop returns (negative amounts, the default) or keep them (they lower monetary value).
    seed, n_customers : size and seed of the demo brand.
    """
    from crm_models.datasets.demo import make_demo
    from crm_models.datasets.public import load_cdnow, load_online_retail

    if observation_end is not None:
        end_exclusive(observation_end, "observation_end")  # a bad end fails before any data is read
    demo = None
    if isinstance(data_source, pd.DataFrame):
        fmt = "transactions"
    else:
        fmt = detect_format(data_source) if source_format == "auto" else source_format
    line_report: QualityReport | None = None
    if fmt == "demo":
        demo = make_demo(seed=seed, n_customers=n_customers)
        raw = demo.transactions
        description = f"the synthetic demo brand ({n_customers:,} customers, seed {seed})"
        if observation_end is None:
            observation_end = demo.observation_end
    elif fmt == "online_retail":
        raw, line_report = load_online_retail(data_source, return_report=True)
        description = f"UCI Online Retail ({Path(str(data_source)).name})"
    elif fmt == "cdnow":
        raw = load_cdnow(data_source)
        description = f"CDNOW ({Path(str(data_source)).name})"
    elif fmt == "transactions":
        raw = read_transactions(data_source, columns=columns, timestamp_format=timestamp_format,
                                timestamp_unit=timestamp_unit, dayfirst=dayfirst)
        description = "your transactions" if isinstance(data_source, pd.DataFrame) else Path(str(data_source)).name
    else:
        raise ValueError(f"unknown source_format {source_format!r}")
    if observation_end is None:
        observation_end = utc_day(raw["timestamp"].max())
    # The end is passed on as given: clean_transactions applies the one rule for end dates (a date keeps the
    # whole day, a time keeps rows up to that instant); the loaded window's last day is reported.
    clean, report = clean_transactions(raw, returns=returns, observation_end=observation_end)
    if line_report is not None:
        report = line_report.merge(report)
    return LoadedTransactions(clean, report, description, fmt, end_inclusive_day(observation_end, "observation_end"),
                              demo)


# Column names of the public attribution sample in ../shared/data (a Criteo-style export): canonical -> file.
ATTRIBUTION_SAMPLE_COLUMNS = {"timestamp": "time", "value": "conversion_value"}


@dataclass
class LoadedTouchpoints:
    """Canonical touchpoints, where they came from, and the simulated truth for the demo brand."""

    touchpoints: pd.DataFrame
    description: str
    source_format: str
    truth: Any = None  # the demo's attribution truth (None for real data)


def load_touchpoints_source(
    data_source: str | os.PathLike[str] | pd.DataFrame = "demo",
    *,
    columns: Mapping[str, str] | None = None,
    timestamp_format: str | None = None,
    timestamp_unit: str | None = None,
    dayfirst: bool | None = None,
    seed: int = 42,
    n_customers: int = 5_000,
) -> LoadedTouchpoints:
    """Load and check touchpoints from a notebook's ``data_source`` parameter (the attribution notebook's way in).

    Parameters
    ----------
    data_source : ``"demo"`` (the demo brand's touchpoints and their truth), a CSV/Parquet path, or a DataFrame.
    columns : mapping from canonical names (``customer_id, timestamp, channel, conversion, value``) to the
        source's names. Without one, a file whose header has ``time`` and no ``timestamp`` (the public
        attribution sample) is mapped with :data:`ATTRIBUTION_SAMPLE_COLUMNS`.
    timestamp_format, timestamp_unit, dayfirst : how to read the timestamp column
        (see :func:`crm_models.data.read_transactions`).
    seed, n_customers : size and seed of the demo brand.

    Returns canonical touchpoints checked by :func:`crm_models.data.read_touchpoints` (time-zone-aware
    timestamps converted to UTC, conversion 0/1, a channel on every row).
    """
    from crm_models.data.contract import read_touchpoints
    from crm_models.datasets.demo import make_demo

    if isinstance(data_source, str) and data_source == "demo":
        demo = make_demo(seed=seed, n_customers=n_customers)
        touchpoints = read_touchpoints(demo.touchpoints)
        return LoadedTouchpoints(touchpoints, f"the demo brand ({n_customers:,} customers, seed {seed})", "demo",
                                 demo.truth["attribution"])
    mapping = dict(columns or {})
    if not mapping:
        header = _header(data_source)
        if "time" in header and "timestamp" not in header:
            mapping = {canonical: name for canonical, name in ATTRIBUTION_SAMPLE_COLUMNS.items() if name in header}
    touchpoints = read_touchpoints(data_source, columns=mapping, timestamp_format=timestamp_format,
                                   timestamp_unit=timestamp_unit, dayfirst=dayfirst)
    description = ("your touchpoints" if isinstance(data_source, pd.DataFrame)
                   else Path(str(data_source)).name)
    return LoadedTouchpoints(touchpoints, description, "touchpoints")


def load_spend_source(
    spend_source: str | os.PathLike[str] | pd.DataFrame | None,
    touchpoints: pd.DataFrame | None = None,
    *,
    demo: bool = False,
) -> pd.DataFrame | None:
    """Spend per channel from a notebook's ``spend_source`` parameter (checked later by
    :func:`crm_models.attribution.channel_roi`: ``channel``, ``spend`` [, ``period``]).

    ``"demo"`` (or ``None`` with ``demo=True``, the demo brand's own touchpoints) is the demo brand's cost per touch
    on ``touchpoints`` (:func:`crm_models.datasets.demo_touchpoints.channel_spend`); a CSV/Parquet path is read; a
    frame is returned as it is; ``None`` otherwise means no spend.
    """
    if spend_source is None and not demo:
        return None
    if spend_source is None or (isinstance(spend_source, str) and spend_source == "demo"):
        from crm_models.datasets.demo_touchpoints import channel_spend

        if touchpoints is None:
            raise ValueError("the demo spend is computed from touchpoints: pass touchpoints=")
        return channel_spend(touchpoints)
    if isinstance(spend_source, pd.DataFrame):
        return spend_source
    path = str(spend_source)
    return pd.read_parquet(path) if path.lower().endswith((".parquet", ".pq")) else pd.read_csv(path)


@dataclass
class LoadedExperiment:
    """A checked experiment table (one row per unit), where it came from, and the demo's truth."""

    experiment: pd.DataFrame
    description: str
    source_format: str
    truth: Any = None  # the demo's experiment truth (None for real data)


def load_experiment_source(
    data_source: str | os.PathLike[str] | pd.DataFrame | None = "demo",
    *,
    variant: str = "variant",
    unit_id: str = "unit_id",
    outcomes: Sequence[str] = ("converted", "revenue"),
    covariates: Sequence[str] = (),
    seed: int = 42,
    n_customers: int = 20_000,
) -> LoadedExperiment:
    """Load and check an experiment from a notebook parameter (the A/B and uplift notebook's way in).

    ``data_source`` is ``"demo"`` or ``None`` (the demo brand's coupon experiment and its truth), a CSV/Parquet
    path, or a DataFrame with one row per unit. Files are checked by :func:`crm_models.data.read_experiment`:
    ``unit_id`` unique, a ``variant`` on every row, numeric ``outcomes`` and ``covariates``; ``variant`` and
    ``unit_id`` are renamed to the canonical names and every other column is kept.
    """
    from crm_models.data.contract import read_experiment
    from crm_models.datasets.demo import make_demo

    if data_source is None or (isinstance(data_source, str) and data_source == "demo"):
        demo = make_demo(seed=seed, n_customers=n_customers)
        return LoadedExperiment(demo.experiment, f"the demo brand's coupon experiment ({n_customers:,} customers, "
                                f"seed {seed})", "demo", demo.truth["experiment"])
    experiment = read_experiment(data_source, variant=variant, unit_id=unit_id, outcomes=list(outcomes),
                                 covariates=list(covariates))
    description = ("your experiment" if isinstance(data_source, pd.DataFrame)
                   else Path(str(data_source)).name)
    return LoadedExperiment(experiment, description, "experiment")


def _header(source: str | os.PathLike[str] | pd.DataFrame) -> list[str]:
    """The column names of a frame, a Parquet file or the first line of a CSV (without reading the rows)."""
    if isinstance(source, pd.DataFrame):
        return [str(c) for c in source.columns]
    path = str(source)
    if path.lower().endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    return [str(c) for c in pd.read_csv(path, nrows=0).columns]
