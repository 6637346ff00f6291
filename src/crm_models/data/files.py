"""Atomic file writes: a reader (a report, the CRM platform picking up an export) never sees half a file.

Every file the workbench writes for others goes through a temporary file in the same folder, flushed to disk,
then renamed over the target (a rename within one file system is atomic).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def atomic_write(path: str | os.PathLike[str], write: Callable[[str], Any]) -> Path:
    """Call ``write(temporary_path)`` and rename the result over ``path``; the temporary file is removed when
    ``write`` fails. Creates the parent folder."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding=encoding))


def atomic_write_csv(path: str | os.PathLike[str], frame: Any) -> Path:
    """Write a DataFrame to ``path`` as CSV without its index, atomically (see :func:`atomic_write`)."""
    return atomic_write(path, lambda tmp: frame.to_csv(tmp, index=False))
