"""An exclusive lock on a reports folder, so that two suite runs never write the same outputs.

The lock is an ``fcntl.flock`` on ``<reports>/.crm-run.lock``: the operating system releases it when the
holder exits, even after a crash, so there are no stale locks to clean up by hand. The file records who
holds it (pid, host, suite, start time, and the suite run id once known) for the message the second run
prints. A clean release empties the file; a holder that was killed leaves its record behind, which the
next holder finds in :attr:`RunLock.stale` (the runner then marks that run's MLflow runs KILLED).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sys
import time
from pathlib import Path
from typing import Any, Self, TextIO

LOCK_NAME = ".crm-run.lock"

__all__ = ["LOCK_NAME", "LockBusyError", "RunLock"]


class LockBusyError(RuntimeError):
    """Another run holds the lock (and we were told not to wait, or waited long enough)."""


class RunLock:
    """Context manager: ``with RunLock(reports_dir, wait=600): ...``.

    ``wait`` is the number of seconds to wait for another run to finish (0: refuse at once,
    ``None``: wait for ever). While waiting, a message naming the holder goes to ``stream`` once.
    """

    def __init__(
        self,
        folder: str | os.PathLike[str],
        *,
        wait: float | None = 0,
        label: str = "",
        stream: TextIO | None = None,
        poll: float = 0.5,
    ) -> None:
        self.path = Path(folder) / LOCK_NAME
        self.wait = wait
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.poll = poll
        self._handle: Any = None
        self.stale: dict[str, Any] | None = None
        self._info: dict[str, Any] = {}

    def holder(self) -> str:
        """A readable description of the current holder (best effort)."""
        try:
            info = json.loads(self.path.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            return "another crm run"
        return (
            f"pid {info.get('pid', '?')} on {info.get('host', '?')}, suite {info.get('label', '?')!r}, "
            f"started {info.get('started', '?')}"
        )

    def acquire(self) -> None:
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held until release()
        deadline = None if self.wait is None else time.monotonic() + self.wait
        told = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if deadline is not None and time.monotonic() >= deadline:
                    handle.close()
                    waited = f" after waiting {self.wait:g} s" if self.wait else ""
                    raise LockBusyError(
                        f"another run is writing to {self.path.parent}{waited} ({self.holder()}); "
                        "try again when it has finished, or pass --wait SECONDS to queue behind it"
                    ) from None
                if not told:
                    print(
                        f"crm: waiting for the run that holds {self.path} ({self.holder()})",
                        file=self.stream,
                        flush=True,
                    )
                    told = True
                time.sleep(self.poll)
        handle.seek(0)
        left = handle.read()
        try:  # a record left behind: its holder died without releasing (kill -9, power loss)
            self.stale = json.loads(left) if left.strip() else None
        except ValueError:
            self.stale = {"unreadable": left[:200]}
        self._handle = handle
        self._info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "label": self.label,
            "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        self._write()

    def _write(self) -> None:
        self._handle.seek(0)
        self._handle.truncate()
        self._handle.write(json.dumps(self._info))
        self._handle.flush()

    def annotate(self, **info: Any) -> None:
        """Add facts to the holder's record (e.g. ``run_id``), so that a successor can clean up after a crash."""
        if self._handle is None:
            raise RuntimeError("annotate() needs the lock to be held")
        self._info.update(info)
        self._write()

    def release(self) -> None:
        import fcntl

        if self._handle is None:
            return
        try:
            self._handle.seek(0)
            self._handle.truncate()
            fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
        finally:
            self._handle.close()
            self._handle = None

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
