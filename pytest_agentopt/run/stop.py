"""The stop flag: how the controller tells every worker that the sequential test has decided.

The controller publishes it first (an atomic ``os.replace`` of a small file whose per-session path reached the
workers through ``workerinput``), then stops dispatching. Workers look for it before each agent item and skip the
item with the published reason. The path is new for every session, so a stale flag never skips a new run.
In a single process the flag is also kept in memory. A remote worker (another machine) has no flag file: the
scheduler stops handing it items (``shell/remote_workers.py``).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


class StopSignal:
    """``watch_file``: look for the flag on disk (xdist workers); the single process only needs memory.

    ``path`` is ``None`` on a remote worker: nothing is published or looked for on disk.
    """

    def __init__(self, path: Path | None, *, watch_file: bool = True) -> None:
        self.path = path
        self.watch_file = watch_file
        self._reason: str | None = None

    def publish(self, reason: str) -> None:
        """Raise the flag. On a full disk the flag is an empty file (it needs no data block; workers then give
        "stopped" as the reason); if not even that can be created, the scheduler's stop still holds back every
        item not yet sent, so nothing here raises."""
        self._reason = reason
        if self.path is None:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        for content in (reason, ""):
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp.write_text(content, encoding="utf-8", errors="backslashreplace")
                os.replace(tmp, self.path)
            except OSError:
                continue
            return

    def reason(self) -> str | None:
        """The published reason, or ``None`` while the run goes on."""
        if self._reason is None and self.watch_file and self.path is not None:
            try:
                self._reason = self.path.read_text(encoding="utf-8") or "stopped"
            except FileNotFoundError:
                return None
        return self._reason

    def remove(self) -> None:
        """Delete the flag at the end of the session (it has no meaning after it)."""
        if self.path is None:
            return
        with contextlib.suppress(OSError):  # the run directory was never usable (a usage error said so already)
            self.path.unlink(missing_ok=True)
