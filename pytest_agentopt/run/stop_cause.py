"""Why a session ended before its planned trials ran: the words the summary and the terminal use for it.

pytest ends a session early in several ways, and each reaches the controller's ``pytest_runtestloop`` wrapper
differently:

* ``-x`` / ``--maxfail`` on a failing test: pytest raises ``Session.Failed`` (the session exits 1); under xdist
  the controller raises xdist's ``Interrupted("stopping after N failures")`` (it exits 2);
* errors during collection: ``Session.Interrupted("N errors during collection")`` (exit 2);
* Ctrl-C: a plain ``KeyboardInterrupt`` (exit 2);
* ``pytest.exit(reason, returncode)``: ``pytest.exit.Exception`` (exit ``returncode``, 2 by default);
* another plugin setting ``session.shouldstop`` / ``shouldfail``.

The summary says which one happened, in the words of pytest's own message, never a guessed exit status.

A run can also stop on its own, because of the machine rather than the agent or the user: a run file that cannot
be written (a full disk, see ``write_failure.py``), a trial that could not be interrupted after its timeout in a
single process (``timeouts.py``), crashed xdist workers that are no longer replaced (``--max-worker-restart``).
Each is an :class:`OperationalStop`: the session exits 2, like an interruption (the run resumes), and its last
line names the reason and the exact command that continues the run.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

__all__ = ["NO_MORE_WORKERS", "STUCK_TRIAL", "OperationalStop", "stop_cause"]

STUCK_TRIAL = "a trial could not be interrupted after its timeout"
NO_MORE_WORKERS = "xdist stopped replacing crashed workers: --max-worker-restart reached"


@dataclass(frozen=True)
class OperationalStop:
    """A run that stopped on its own: why (``stopped_by``), and what to do before continuing it, if anything."""

    cause: str
    remedy: str | None = None
    """``free space``: said before the resume command (``None``: resuming is all it takes)."""

    def line(self, resume_command: str) -> str:
        """The one line that ends the session (exit status 2)."""
        then = f"{self.remedy}, then continue" if self.remedy else "continue"
        return f"agentopt: ERROR: {self.cause}; the run stopped (exit 2); {then} it with {resume_command}"


def stop_cause(error: BaseException | None, session: pytest.Session) -> str | None:
    """What stopped the session early, in a few words; ``None`` when it ran to its end."""
    if isinstance(error, pytest.exit.Exception):
        return f"pytest.exit() was called: {error.msg}" if error.msg else "pytest.exit() was called"
    if isinstance(error, KeyboardInterrupt) and type(error) is KeyboardInterrupt:
        return "interrupted with Ctrl-C"
    if error is not None and isinstance(error, KeyboardInterrupt | session.Failed):
        message = str(error)
    elif session.shouldfail or session.shouldstop:
        message = str(session.shouldfail or session.shouldstop)
    else:
        return None
    maxfail = session.config.getoption("maxfail", 0)
    if maxfail and message.startswith("stopping after"):
        option = "-x" if maxfail == 1 else f"--maxfail={maxfail}"
        return f"{option}: {message}"
    return message or "the session was stopped"
