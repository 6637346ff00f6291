"""Pseudonymization: stable, salted, type-preserving, and missing values stay missing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from crm_models.reporting.privacy import pseudonymize, pseudonymize_frame


def test_same_id_same_token_and_salt_changes_it():
    assert pseudonymize("alice@example.com", salt="s1") == pseudonymize("alice@example.com", salt="s1")
    assert pseudonymize("alice@example.com", salt="s1") != pseudonymize("alice@example.com", salt="s2")
    token = pseudonymize("alice@example.com", salt="s1")
    assert token.startswith("c_") and "alice" not in token and len(token) == 12


def test_integer_and_float_ids_agree_and_containers_are_kept():
    assert pseudonymize(12345, salt="s") == pseudonymize(12345.0, salt="s") == pseudonymize("12345", salt="s")
    series = pd.Series([1, 2, None], index=[10, 11, 12], name="customer_id")
    out = pseudonymize(series, salt="s")
    assert isinstance(out, pd.Series) and list(out.index) == [10, 11, 12] and out.name == "customer_id"
    assert out.iloc[:2].str.startswith("c_").all() and pd.isna(out.iloc[2])
    assert isinstance(pseudonymize(np.array([1, 2]), salt="s"), np.ndarray)
    assert isinstance(pseudonymize((1, 2), salt="s"), tuple)
    assert isinstance(pseudonymize(pd.Index(["a"], name="customer_id"), salt="s"), pd.Index)


def test_salt_from_environment(monkeypatch):
    monkeypatch.setenv("CRM_PSEUDONYM_SALT", "from-env")
    assert pseudonymize("x") == pseudonymize("x", salt="from-env")
    with pytest.raises(ValueError, match="salt"):
        pseudonymize("x", salt="")


def test_frame_helper_drops_personal_columns():
    frame = pd.DataFrame({"customer_id": ["u1", "u2"], "Email": ["a@b.c", "d@e.f"], "value": [1.0, 2.0]})
    out = pseudonymize_frame(frame, salt="s")
    assert list(out.columns) == ["customer_id", "value"]
    assert not out["customer_id"].isin(["u1", "u2"]).any()
    assert frame["customer_id"].tolist() == ["u1", "u2"]  # the input is untouched
