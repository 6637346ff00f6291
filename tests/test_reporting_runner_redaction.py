"""Issue 21: which settings the runner hands to the output redaction of a notebook: whether ids are
pseudonymized (the notebook's ``pseudonymize_ids``) and the run's customer ids (its customer table)."""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.reporting.runner import _ids_pseudonymized, _run_customer_ids


@pytest.mark.parametrize("value", [False, "false", "False", " no ", "0", 0, "off"])
def test_pseudonymize_ids_turned_off(value):
    """Guards against: the parameter name or the words read as "off" changed."""
    assert _ids_pseudonymized({"pseudonymize_ids": value}) is False


@pytest.mark.parametrize("params", [{}, {"pseudonymize_ids": True}, {"pseudonymize_ids": "yes"},
                                    {"pseudonymize_ids": 1}, {"other": False}])
def test_pseudonymize_ids_on_by_default(params):
    assert _ids_pseudonymized(params) is True


def test_run_customer_ids_come_from_the_table_folder(tmp_path):
    """Guards against: the folder parameter or the file name changed, a missing or odd table failing the run."""
    pd.DataFrame({"customer_id": ["C1", "C2"], "segment": ["a", "b"]}).to_parquet(tmp_path / "customers.parquet")
    assert _run_customer_ids({"customer_table": str(tmp_path)}) == ["C1", "C2"]
    assert _run_customer_ids({"customer_table": tmp_path}) == ["C1", "C2"]
    assert _run_customer_ids({}) == [] and _run_customer_ids({"customer_table": ""}) == []
    assert _run_customer_ids({"customer_table": str(tmp_path / "absent")}) == []
    odd = tmp_path / "odd"
    odd.mkdir()
    pd.DataFrame({"id": ["C1"]}).to_parquet(odd / "customers.parquet")
    assert _run_customer_ids({"customer_table": str(odd)}) == []
    (odd / "customers.parquet").write_bytes(b"not parquet")
    assert _run_customer_ids({"customer_table": str(odd)}) == []
