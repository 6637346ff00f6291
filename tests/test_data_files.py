"""Atomic writes: the target is replaced whole or not at all."""

from __future__ import annotations

import pandas as pd
import pytest

from crm_models.data.files import atomic_write, atomic_write_csv, atomic_write_text


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path) -> None:
    target = atomic_write_text(tmp_path / "sub" / "a.txt", "old")

    def half_then_fail(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8") as handle:
            handle.write("half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half_then_fail)
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in target.parent.iterdir()] == ["a.txt"]


def test_csv_round_trip_without_index(tmp_path) -> None:
    frame = pd.DataFrame({"customer_id": ["a", "b"], "priority": [2, 1]}, index=[10, 11])
    path = atomic_write_csv(tmp_path / "x.csv", frame)
    pd.testing.assert_frame_equal(pd.read_csv(path), frame.reset_index(drop=True), check_dtype=False)
    assert oct(path.stat().st_mode & 0o777) == "0o644"
