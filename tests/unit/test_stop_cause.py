"""The one line that ends a run that stopped on its own, whatever stopped it."""

from __future__ import annotations

import errno
from pathlib import Path

from pytest_agentopt.run.stop_cause import NO_MORE_WORKERS, STUCK_TRIAL, OperationalStop
from pytest_agentopt.run.write_failure import WriteFailure

COMMAND = "pytest --agent-resume r1 tests -n 2"


def test_a_full_disk_names_the_file_what_to_do_and_the_exact_resume_command() -> None:
    failure = WriteFailure(Path("runs/r1/trials.jsonl"), OSError(errno.ENOSPC, "No space left on device"))
    assert failure.line(COMMAND) == (
        "agentopt: ERROR: cannot write runs/r1/trials.jsonl: No space left on device (ENOSPC); the run stopped "
        f"(exit 2); free space, then continue it with {COMMAND}"
    )
    assert failure.operational_stop().cause == failure.stop_cause()
    failure.unrecorded = 2
    note = failure.note(COMMAND)
    assert note.startswith("warning: cannot write runs/r1/trials.jsonl")
    assert "2 finished trials could not be recorded" in note
    assert note.endswith(f"free space, then continue with {COMMAND}")


def test_the_crash_and_timeout_stops_end_with_the_same_kind_of_line() -> None:
    for cause in (STUCK_TRIAL, NO_MORE_WORKERS):
        assert OperationalStop(cause).line(COMMAND) == (
            f"agentopt: ERROR: {cause}; the run stopped (exit 2); continue it with {COMMAND}"
        )
