"""Pre-flight checks of a notebook's data files, before a kernel starts: a bad file is named, with the reason.

The runner checks the files listed under ``data:`` in the suite and every parameter that names a data
file (a path with a data suffix, or a parameter called ``*_path``, ``*_file``, ``*_dir``), and refuses to
run the notebook (exit code 3, the report says why) when one is:

* missing;
* empty (0 bytes);
* a Parquet file that is not one (no ``PAR1`` magic at both ends) or whose footer cannot be read;
* a CSV file cut in the middle of a row: its last line has no newline *and* fewer fields than the header
  (pandas would read the short row, so that ``35.02`` cut after the ``3`` would become 3).

The checks read only the ends of each file (the Parquet footer, the CSV's first and last lines), so they
cost milliseconds on any size. The data contract itself stays with ``crm_models.data``.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DATA_SUFFIXES", "DataFileProblem", "check_data_files", "data_paths_in_parameters"]

DATA_SUFFIXES = frozenset({".csv", ".tsv", ".txt", ".parquet", ".pq", ".json", ".jsonl", ".xlsx", ".feather",
                           ".arrow", ".gz", ".zip"})
_PATH_NAMES = ("_path", "_file", "_dir", "_folder")
_TAIL_BYTES = 65536


@dataclass(frozen=True)
class DataFileProblem:
    """One data file that cannot be used, and why (in words)."""

    path: Path
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


def data_paths_in_parameters(parameters: Mapping[str, Any]) -> list[Path]:
    """Parameters that name data: a string path with a data suffix, or a parameter called ``*_path`` etc."""
    found = []
    for name, value in parameters.items():
        if not isinstance(value, str) or not value.strip() or "\n" in value:
            continue
        path = Path(value)
        named = name.lower().endswith(_PATH_NAMES)
        data_suffix = path.suffix.lower() in DATA_SUFFIXES
        if (data_suffix and (named or path.is_absolute() or "/" in value)) or (named and path.is_absolute()):
            found.append(path)
    return found


def _check_parquet(path: Path) -> str | None:
    with open(path, "rb") as handle:
        head = handle.read(4)
        handle.seek(max(0, path.stat().st_size - 4))
        tail = handle.read(4)
    if head != b"PAR1" or tail != b"PAR1":
        return "not a valid Parquet file (no PAR1 marker at its start and end: corrupt or cut short)"
    try:
        import pyarrow.parquet as pq

        pq.read_metadata(path)
    except Exception as exc:  # noqa: BLE001 - any pyarrow failure means the file cannot be read
        return f"corrupt Parquet file ({type(exc).__name__}: {str(exc)[:160]})"
    return None


def _check_csv(path: Path, delimiter: str) -> str | None:
    size = path.stat().st_size
    with open(path, "rb") as handle:
        first = handle.readline(_TAIL_BYTES)
        handle.seek(max(0, size - _TAIL_BYTES))
        tail = handle.read()
    if tail.endswith(b"\n") or b"\n" not in tail:
        return None  # complete last line, or a header-only file without newline
    last = tail.rsplit(b"\n", 1)[1]
    try:
        header = next(csv.reader(io.StringIO(first.decode("utf-8", errors="replace")), delimiter=delimiter))
        row = next(csv.reader(io.StringIO(last.decode("utf-8", errors="replace")), delimiter=delimiter), [])
    except (csv.Error, StopIteration):
        return None
    if len(row) < len(header):
        return (f"CSV file cut in the middle of a row: the last line has no newline and {len(row)} of "
                f"{len(header)} fields ({last[:60].decode('utf-8', errors='replace')!r}); "
                "the file was truncated (copy it again)")
    return None


def _check_file(path: Path) -> str | None:
    if path.stat().st_size == 0:
        return "empty file (0 bytes)"
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        return _check_parquet(path)
    if suffix == ".csv":
        return _check_csv(path, ",")
    if suffix == ".tsv":
        return _check_csv(path, "\t")
    return None


def check_data_files(paths: Iterable[str | os.PathLike[str]]) -> list[DataFileProblem]:
    """The problems found in ``paths`` (files, or folders whose data files are checked); empty when all is well."""
    problems = []
    for entry in paths:
        path = Path(entry)
        if not path.exists():
            problems.append(DataFileProblem(path, "file not found"))
            continue
        files = [path] if path.is_file() else sorted(
            p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in DATA_SUFFIXES
        )
        for file in files:
            try:
                reason = _check_file(file)
            except OSError as exc:
                reason = f"cannot be read ({exc.strerror or exc})"
            if reason:
                problems.append(DataFileProblem(file, reason))
    return problems
