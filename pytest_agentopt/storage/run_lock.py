"""One live session per run directory: the lock a controller holds while it runs trials of a run.

Two sessions of one run (two ``--agent-resume`` of the same interrupted run, started from two terminals or two CI
jobs) would both run the unfinished trials: every one of them paid for twice, and the ledger holding two records of
each. So the controller of a new run or a resume holds ``<run-dir>/session.lock`` for the whole session, and a
second session is refused (a usage error, exit 4, nothing run) with a message naming the holder, which each
holder writes to ``<run-dir>/session.json``: process id, host, start time and command.

The lock is an operating-system lock (``flock`` through the ``filelock`` package): the kernel releases it when its
process ends, however it ends (``kill -9``, a crash, the OOM killer), so a lock is never left stale by a dead
session on the same machine; the next session takes the run over and says whose session ended without finishing
(its ``session.json`` is still there). On NFS, Linux maps ``flock`` to the server's byte-range locks, so a
session on another host is seen too; if that host crashes, the server releases its lock when the host's lease
expires (about 90 seconds with NFSv4; with NFSv3, when the host's lock daemon reports the reboot). A file system
mounted with ``nolock`` keeps locks local to each host and cannot protect a run shared between hosts.
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout

from pytest_agentopt.errors import LedgerError
from pytest_agentopt.storage.ledger import write_json_atomic

if TYPE_CHECKING:
    from filelock import BaseFileLock

LOCK = "session.lock"
HOLDER = "session.json"


@dataclass(frozen=True)
class Holder:
    """The session that holds (or last held) a run, as it described itself in ``session.json``."""

    pid: int | None
    host: str | None
    started_at: str | None
    command: str | None

    def describe(self) -> str:
        """``pid 4242 on host ci-7, started 2026-11-23T15:55:01.123Z (pytest ... --agent-resume ...)``."""
        parts = [f"pid {self.pid}" if self.pid is not None else "an unknown process"]
        if self.host:
            parts.append(f"on host {self.host}")
        text = " ".join(parts)
        if self.started_at:
            text += f", started {self.started_at}"
        if self.command:
            text += f" ({_clip(self.command)})"
        return text

    @classmethod
    def of_this_process(cls, started_at: str) -> Holder:
        return cls(os.getpid(), socket.gethostname(), started_at, shlex.join(sys.argv))

    def as_json(self) -> dict[str, object]:
        return {"pid": self.pid, "host": self.host, "started_at": self.started_at, "command": self.command}


class RunLock:
    """The lock on one run directory, held by this process from :func:`lock_run` until :meth:`release`."""

    def __init__(self, directory: Path, lock: BaseFileLock, took_over: Holder | None) -> None:
        self.directory = directory
        self._lock = lock
        self.took_over = took_over
        """The session whose ``session.json`` was still there: it ended without finishing (killed, crashed)."""

    def release(self) -> None:
        """Forget the holder, then free the lock (a session that waits never reads a stale holder)."""
        if not self._lock.is_locked:
            return
        # The lock is what protects the run; a holder file left behind only adds a note next time.
        with contextlib.suppress(OSError):
            (self.directory / HOLDER).unlink(missing_ok=True)
        self._lock.release(force=True)


def lock_run(directory: Path, *, run_id: str, started_at: str) -> RunLock:
    """Take the run in ``directory`` for this session, or raise :class:`LedgerError` naming the session that has it.

    The directory must exist. Raises ``OSError`` when the lock file cannot be created (an unwritable directory).
    """
    # The session's lock, not a thread's: the timeout watchdog's thread releases it when it ends a stuck run.
    lock = FileLock(str(directory / LOCK), timeout=0, thread_local=False)
    try:
        lock.acquire()
    except Timeout:
        raise LedgerError(_in_use_message(run_id, read_holder(directory))) from None
    try:
        previous = read_holder(directory)
        holder = Holder.of_this_process(started_at)
        _write_holder(directory / HOLDER, holder)
    except BaseException:
        lock.release(force=True)
        raise
    return RunLock(directory, lock, previous)


def read_holder(directory: Path) -> Holder | None:
    """The holder ``session.json`` describes, or ``None`` when there is none (or it cannot be read)."""
    try:
        data = json.loads((directory / HOLDER).read_bytes())
    except (OSError, ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    pid = data.get("pid")
    return Holder(
        pid=pid if isinstance(pid, int) and not isinstance(pid, bool) else None,
        host=_text(data.get("host")),
        started_at=_text(data.get("started_at")),
        command=_text(data.get("command")),
    )


def took_over_note(run_id: str, previous: Holder) -> str:
    return (
        f"warning: run {run_id} was last held by a session that ended without finishing ({previous.describe()}); "
        "this session took it over"
    )


def _in_use_message(run_id: str, holder: Holder | None) -> str:
    who = holder.describe() if holder is not None else "a session that has not written its details yet"
    advice = "wait for it to finish, or stop it; then resume"
    if holder is not None and holder.host and holder.host != socket.gethostname():
        advice += (
            "; it runs on another host: if that host crashed, its lock is released by the file server when the "
            "host's lease expires (about 90 seconds with NFSv4)"
        )
    elif holder is not None and holder.pid is not None and not _is_alive(holder.pid):
        advice = (
            f"pid {holder.pid} has ended, but a process it started still holds the lock (e.g. an agent's "
            "subprocess): end that process, then resume"
        )
    return f"run {run_id} is in use by another session: {who}; {advice} (a run is run by one session at a time)"


def _write_holder(path: Path, holder: Holder) -> None:
    write_json_atomic(path, holder.as_json())


def _is_alive(pid: int) -> bool:
    if sys.platform == "win32":
        return True  # os.kill(pid, 0) would terminate the process there: do not claim it ended
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # it exists (owned by another user), or we cannot tell: do not claim it ended
    return True


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _clip(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
