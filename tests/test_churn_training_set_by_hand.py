"""``make_training_set`` runs on the backend it is given (issue 21: a surviving mutant of ``churn/features``
dropped the ``backend=`` keyword before the data were read, so the frame went to a fresh default connection and
no test noticed). Small seeded data, one DuckDB connection."""

from __future__ import annotations

import pandas as pd

from crm_models.churn import make_training_set
from crm_models.churn._synthetic import rhythm_transactions
from crm_models.data import duckdb_backend


def _tables(con) -> set[str]:
    return {row[0] for row in con.con.execute("SHOW TABLES").fetchall()}


def test_training_set_registers_its_data_on_the_given_backend() -> None:
    """Guards ``kwargs.pop("backend", None)`` -> ``kwargs.pop(None, None)`` (the data then go to a new default
    connection): the given connection holds the registered transactions afterwards, and the snapshots are the
    same as on the default backend."""
    frame = rhythm_transactions(seed=6, n_customers=60)
    con = duckdb_backend()
    before = _tables(con)
    X, y, time = make_training_set(frame, ["2023-02-01", "2023-03-01"], 30, use_bgnbd=False, backend=con)
    assert _tables(con) - before, "the transactions were not registered on the given backend"
    X0, y0, time0 = make_training_set(frame, ["2023-02-01", "2023-03-01"], 30, use_bgnbd=False)
    pd.testing.assert_frame_equal(X, X0)
    pd.testing.assert_series_equal(y, y0)
    pd.testing.assert_series_equal(time, time0)
