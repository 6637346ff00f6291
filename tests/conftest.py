"""Shared fixtures: where the real reference data live, and seeded generators."""

from __future__ import annotations

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


@pytest.fixture
def isolated_mlflow(tmp_path, monkeypatch):
    """A throw-away MLflow file store, so the test neither touches nor waits on the project's sqlite store."""
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", (tmp_path / "mlruns").as_uri())
    monkeypatch.delenv("MLFLOW_RUN_ID", raising=False)
    return tmp_path / "mlruns"
