"""Exceptions raised by crm_models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class CrmModelsError(Exception):
    """Base class of every error the package raises on purpose."""


class DataContractError(CrmModelsError, ValueError):
    """Input data breaks the data contract.

    The message names the column, the broken rule and a few offending rows, so that a user can fix
    the source without guessing.
    """

    def __init__(
        self,
        message: str,
        *,
        column: str | None = None,
        rule: str | None = None,
        examples: Any = None,
    ) -> None:
        self.column = column
        self.rule = rule
        self.examples = examples
        parts = [message]
        if column is not None:
            parts.append(f"column: {column!r}")
        if rule is not None:
            parts.append(f"rule: {rule}")
        if examples is not None:
            parts.append(f"example rows:\n{_format_examples(examples)}")
        super().__init__("\n".join(parts))


class ConvergenceError(CrmModelsError, RuntimeError):
    """An optimizer did not converge; the message says what to try."""


class ConvergenceWarning(UserWarning):
    """A fit finished but the data do not identify the model well (a parameter at a boundary, or a singular
    Hessian); the message names the cause."""


class NotFittedError(CrmModelsError, AttributeError):
    """A method that needs a fitted model was called before ``fit``."""


class ConfigurationError(CrmModelsError, ValueError):
    """A suite or run configuration is invalid."""


def _format_examples(examples: Any, limit: int = 5) -> str:
    """Render a few offending rows (a DataFrame, Series or sequence) for an error message."""
    try:
        import pandas as pd

        if isinstance(examples, pd.DataFrame | pd.Series):
            return examples.head(limit).to_string()
    except ImportError:  # pragma: no cover - pandas is a hard dependency
        pass
    if isinstance(examples, Sequence) and not isinstance(examples, str):
        return ", ".join(repr(e) for e in list(examples)[:limit])
    return repr(examples)
