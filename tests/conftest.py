"""Shared fixtures: where the real reference data live, and seeded generators."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from itertools import permutations
from pathlib import Path

import numpy as np
import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The folder of real public data sets (``../shared/data``); skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real reference data not found at {SHARED_DATA} (it sits beside the project in CI)")
    return SHARED_DATA


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded random generator, so that every test run sees the same draws."""
    return np.random.default_rng(20261123)


def _shapley_by_permutations(value: Callable[[frozenset], float], players: Sequence[Hashable]) -> dict:
    """Shapley (1953) by its definition: each player's marginal contribution ``value(S | {i}) - value(S)``
    averaged over every ordering of the players (exponential: for small hand-made games only)."""
    credit = dict.fromkeys(players, 0.0)
    orders = list(permutations(players))
    for order in orders:
        members: frozenset = frozenset()
        for player in order:
            credit[player] += value(members | {player}) - value(members)
            members = members | {player}
    return {p: c / len(orders) for p, c in credit.items()}


@pytest.fixture(scope="session")
def shapley_by_permutations() -> Callable[[Callable[[frozenset], float], Sequence[Hashable]], dict]:
    """``shapley_by_permutations(value, players)``: the exact Shapley value of a small coalition game, the
    reference the attribution tests check ``shapley_attribution`` against."""
    return _shapley_by_permutations


@pytest.fixture
def isolated_mlflow(tmp_path, monkeypatch):
    """A throw-away MLflow file store, so the test neither touches nor waits on the project's sqlite store."""
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    return tmp_path / "mlruns"


@pytest.fixture(scope="session", autouse=True)
def _isolated_pseudonym_key(tmp_path_factory):
    """Every test (and every kernel it starts) uses a throw-away pseudonymization key, never the user's."""
    import os

    from crm_models.reporting.privacy import KEY_FILE_ENV, SALT_ENV, resolve_salt

    saved = {name: os.environ.get(name) for name in (KEY_FILE_ENV, SALT_ENV)}
    os.environ.pop(SALT_ENV, None)
    os.environ[KEY_FILE_ENV] = str(tmp_path_factory.mktemp("pseudonym") / "pseudonym.key")
    resolve_salt()  # create it, mode 0600
    yield
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def spark():
    """A local Spark session (2 threads, UTC) shared by the parity tests of this worker; skips with the reason
    when pyspark or Java 17 is missing."""
    import shutil

    pytest.importorskip("pyspark", reason="pyspark is not installed (pip install -e '.[spark]')")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime on PATH: a local Spark session needs Java 17")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("crm-models-parity")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="session")
def spark_table(spark):
    """``spark_table(frame, name)``: a pandas frame as an ibis table on the Spark session (string columns as
    Python objects, which Spark's converter expects)."""
    import ibis
    import pandas as pd

    def to_spark_table(frame: pd.DataFrame, name: str):
        plain = frame.copy()
        for column in plain.columns:
            if pd.api.types.is_string_dtype(plain[column]):
                plain[column] = plain[column].astype(object)
        spark.createDataFrame(plain).createOrReplaceTempView(name)
        return ibis.pyspark.connect(spark).table(name)

    return to_spark_table


@pytest.fixture(scope="session")
def _migrated_mlflow_store(tmp_path_factory):
    """An MLflow sqlite database with its tables created: the schema migrations take seconds, so tests copy this
    file (``mlflow_db``) instead of each building its own."""
    from mlflow.tracking import MlflowClient

    path = tmp_path_factory.mktemp("mlflow-template") / "mlflow.db"
    MlflowClient(f"sqlite:///{path}").search_experiments()
    return path


@pytest.fixture
def mlflow_db(tmp_path, _migrated_mlflow_store):
    """``tmp_path / "mlflow.db"``: a fresh copy of a migrated MLflow store, one per test."""
    import shutil

    shutil.copyfile(_migrated_mlflow_store, tmp_path / "mlflow.db")
    return tmp_path / "mlflow.db"
