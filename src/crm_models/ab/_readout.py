"""Pieces shared by the per-unit read-outs (ratio metrics, segments, repurchase curves): input checks and the
Holm / Benjamini-Hochberg columns of a read-out table."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from crm_models.ab.multiplicity import benjamini_hochberg, holm
from crm_models.exceptions import DataContractError


def require_columns(data: pd.DataFrame, columns: Iterable[str]) -> None:
    """A ``DataContractError`` naming the first of ``columns`` that ``data`` lacks (with the columns it has)."""
    for col in columns:
        if col not in data.columns:
            raise DataContractError(f"column {col!r} not found", column=col, rule="required column",
                                    examples=list(data.columns))


def require_finite(data: pd.DataFrame, columns: Iterable[str], *, what: str = "column") -> None:
    """A ``DataContractError`` naming the first of ``columns`` with a missing, non-numeric or infinite value.

    ``what`` names the role of the column in the message (``"column"``, ``"outcome"``).
    """
    for col in columns:
        num = pd.to_numeric(data[col], errors="coerce")
        bad = num.isna() | ~np.isfinite(num.astype(float))
        if bad.any():
            raise DataContractError(f"{what} {col!r} has missing or non-numeric values (an incomplete window?)",
                                    column=col, rule="numeric and finite", examples=data.loc[bad])


def arms_and_control(data: pd.DataFrame, variant: str, control: str | None) -> tuple[np.ndarray, list[str], str]:
    """The arm label of every unit (as strings), the sorted arm names and the control arm.

    Without ``control`` the arm named control/ctrl/baseline/holdout is taken
    (:func:`crm_models.ab.analyze._choose_control`); a ``control`` that is not an arm is a
    ``DataContractError``.
    """
    from crm_models.ab.analyze import _choose_control

    labels = data[variant].astype(str).to_numpy()
    arms = sorted(pd.unique(labels))
    control = str(control) if control is not None else _choose_control(arms, variant)
    if control not in arms:
        raise DataContractError(f"control arm {control!r} not found; arms are {arms}", column=variant,
                                rule="control is one of the arms", examples=arms)
    return labels, arms, control


def add_adjusted_p_values(table: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """``table`` with ``p_holm`` (Holm 1979) and ``p_bh`` (Benjamini & Hochberg 1995) over all its rows'
    ``p_value`` (NaN stays NaN, out of the family) and ``significant`` = ``p_holm < alpha``."""
    p = table["p_value"].to_numpy(float)
    table["p_holm"] = holm(p)
    table["p_bh"] = benjamini_hochberg(p)
    table["significant"] = table["p_holm"] < alpha
    return table
