"""A file of the run that could not be written: a full disk, a quota, an I/O error.

This is not a bug and not the user's input: it is the machine. Once the ledger cannot take a trial, every further
trial would be paid for and lost, so the controller stops the run at once (as a decision would: nothing more is
dispatched), does not count trials it could not record (a resume runs them again), and ends the session with
exit status 2 and one line that names the file and the reason. The ledger holds whole records only (a line that
could not be written whole is cut off again), so ``--agent-resume`` continues where the ledger ends.
"""

from __future__ import annotations

import errno
from dataclasses import dataclass
from pathlib import Path

from pytest_agentopt.run.stop_cause import OperationalStop


@dataclass
class WriteFailure:
    path: Path
    error: OSError
    unrecorded: int = 0
    """Trials that finished after the failure (or at it) and are not in the ledger."""

    def cause(self) -> str:
        """``No space left on device (ENOSPC)``."""
        code = errno.errorcode.get(self.error.errno or 0)
        text = self.error.strerror or str(self.error) or type(self.error).__name__
        return f"{text} ({code})" if code else text

    def stop_cause(self) -> str:
        """What stopped the session, in the summary's ``stopped_by`` words."""
        return f"cannot write {self.path}: {self.cause()}"

    def stop_reason(self) -> str:
        """Why never-run trials were skipped."""
        return f"agentopt: stopped: cannot write {self.path}: {self.cause()}"

    def operational_stop(self) -> OperationalStop:
        return OperationalStop(self.stop_cause(), remedy="free space")

    def note(self, resume_command: str) -> str:
        """The summary's note (a warning, so ``-q`` shows it too): what is and is not in the ledger."""
        plural = self.unrecorded != 1
        unrecorded = (
            f"{self.unrecorded} finished trial{'s' if plural else ''} could not be recorded and "
            f"{'are' if plural else 'is'} not counted (a resume runs {'them' if plural else 'it'} again); "
            if self.unrecorded
            else ""
        )
        return (
            f"warning: cannot write {self.path}: {self.cause()}; the run stopped; {unrecorded}every trial recorded "
            f"before is in the ledger: free space, then continue with {resume_command}"
        )

    def line(self, resume_command: str) -> str:
        """The one line that ends the session (exit status 2)."""
        return self.operational_stop().line(resume_command)
