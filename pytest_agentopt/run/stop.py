"""The stop flag: how the controller tells every worker that the sequential test has decided.

The controller publishes it first (an atomic ``os.replace`` of a small file whose per-session path reached the
workers through ``workerinput``), then stops dispatching. Workers look for it before each agent item and skip the
item with the published reason. The path is new for every session, so a stale flag never skips a new run.
In a single process the flag is also kept in memory. A remote worker (another machine) has no flag file: the
scheduler stops handing it items (``shell/remote_workers.py``).

With several candidates, a candidate that has decided gets a flag of its own (``<path>.<arm>``): workers skip
that arm's items they already hold while the others run on, and the scheduler hands out none of its items any
more (``shell/xdist_scheduler.py``). Only runs with several candidates look for these flags (``arm_flags``). A
remote worker sees no arm flag either: it runs the one item of the decided candidate it may hold, recorded as
after that candidate's decision (it never enters its test).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


class StopSignal:
    """``watch_file``: look for the flag on disk (xdist workers); the single process only needs memory.

    ``path`` is ``None`` on a remote worker: nothing is published or looked for on disk.
    """

    def __init__(self, path: Path | None, *, watch_file: bool = True, arm_flags: bool = False) -> None:
        self.path = path
        self.watch_file = watch_file
        self.arm_flags = arm_flags
        self._reason: str | None = None
        self._arm_reasons: dict[str, str] = {}

    def arm_path(self, arm: str) -> Path | None:
        return None if self.path is None else self.path.with_name(f"{self.path.name}.{arm}")

    def publish_arm(self, arm: str, reason: str) -> None:
        """Stop one candidate arm (its test has decided); the run goes on for the others."""
        self._arm_reasons[arm] = reason
        self._write(self.arm_path(arm), reason)

    def reason_for(self, arm: str) -> str | None:
        """Why an item of ``arm`` must not run: the run's stop, else the arm's own (``None``: run it)."""
        reason = self.reason()
        if reason is not None or not self.arm_flags:
            return reason
        arm_path = self.arm_path(arm)
        if arm not in self._arm_reasons and self.watch_file and arm_path is not None:
            try:
                self._arm_reasons[arm] = arm_path.read_text(encoding="utf-8") or "stopped"
            except FileNotFoundError:
                return None
        return self._arm_reasons.get(arm)

    def publish(self, reason: str) -> None:
        """Raise the flag. On a full disk the flag is an empty file (it needs no data block; workers then give
        "stopped" as the reason); if not even that can be created, the scheduler's stop still holds back every
        item not yet sent, so nothing here raises."""
        self._reason = reason
        self._write(self.path, reason)

    @staticmethod
    def _write(path: Path | None, reason: str) -> None:
        if path is None:
            return
        tmp = path.with_name(path.name + ".tmp")
        for content in (reason, ""):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp.write_text(content, encoding="utf-8", errors="backslashreplace")
                os.replace(tmp, path)
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
            for arm in self._arm_reasons:
                self.path.with_name(f"{self.path.name}.{arm}").unlink(missing_ok=True)
