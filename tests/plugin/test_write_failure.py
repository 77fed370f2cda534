"""A run file that cannot be written (a full disk): one line naming the path, exit 2, a ledger that resumes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.plugin.helpers import only_run, read_trials, write_configs, write_suite

ARGS = ["--agent-config=configs/improved.json", "--agent-seed=4", "-p", "no:randomly", "-p", "no:cacheprovider"]

# A conftest that makes the ledger's disk full after a number of whole records: the first write of a line that
# would go beyond them writes half the line (as a real full disk does), then fails with ENOSPC.
FULL_DISK = """
import errno
import os
from pathlib import Path

import pytest_agentopt.storage.ledger as ledger

WHOLE_RECORDS = {records}
real_write = os.write
real_init = ledger.LedgerWriter.__init__
ledger_paths = {{}}


def init(self, path):
    real_init(self, path)
    ledger_paths[self._fd] = Path(path)


def write(fd, data):
    path = ledger_paths.get(fd)
    if path is not None and path.read_bytes().count(b"\\n") >= WHOLE_RECORDS:
        real_write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return real_write(fd, data)


def pytest_configure(config):
    ledger.LedgerWriter.__init__ = init
    ledger.os.write = write


def pytest_unconfigure(config):
    ledger.LedgerWriter.__init__ = real_init
    ledger.os.write = real_write
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    write_configs(pytester)
    write_suite(pytester, p_control=0.5, p_test=0.5, tasks=4)
    return pytester


def full_disk_after(pytester: pytest.Pytester, records: int) -> None:
    pytester.makeconftest(FULL_DISK.format(records=records))


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["single", "xdist"])
def test_a_full_disk_stops_the_run_with_one_line_and_exit_2_and_the_ledger_resumes(
    suite: pytest.Pytester, workers: list[str]
) -> None:
    full_disk_after(suite, 5)
    result = suite.runpytest(*ARGS, "--agent-trials=5", "-q", *workers)
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, output
    assert "INTERNALERROR" not in output
    assert "Traceback" not in output
    run = only_run(suite)
    ledger = run.relative_to(suite.path) / "trials.jsonl"
    assert result.stdout.lines[-2].startswith(
        f"agentopt: ERROR: cannot write {ledger}: No space left on device (ENOSPC); the run stopped (exit 2); "
        f"free space, then continue it with pytest --agent-resume {run.name}"
    )
    # Whole records only (the half-written line was cut off again), and the summary counts exactly those.
    text = (run / "trials.jsonl").read_text()
    assert text.endswith("\n")
    assert len(read_trials(run)) == 5
    summary = json.loads((run / "summary.json").read_text())
    assert summary["interrupted"] is True
    assert summary["trials_started"] == 5
    assert any(note.startswith(f"warning: cannot write {ledger}: No space left") for note in summary["notes"])
    assert summary["stopped_by"] == f"cannot write {ledger}: No space left on device (ENOSPC)"
    # Free space again: the resume finishes the run, nothing lost, nothing twice.
    (suite.path / "conftest.py").unlink()
    resumed = suite.runpytest(f"--agent-resume={run.name}", "-p", "no:randomly", "-q", *workers)
    assert resumed.ret == pytest.ExitCode.OK, resumed.stdout.str()
    records = read_trials(run)
    assert len(records) == 4 * 2 * 5
    assert len({(r["task_id"], r["arm"], r["trial"]) for r in records}) == 40


@pytest.mark.skipif(sys.platform != "linux", reason="RLIMIT_FSIZE and SIGXFSZ as on Linux")
def test_a_real_file_size_limit_ends_the_run_cleanly(suite: pytest.Pytester) -> None:
    """Not simulated: the kernel refuses writes beyond a file size limit (EFBIG), as it refuses them on a full
    disk; Python ignores SIGXFSZ, so the write fails instead of killing the process."""
    import resource

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (12_000, 12_000))

    process = subprocess.run(
        [sys.executable, "-m", "pytest", *ARGS, "--agent-trials=10", "-q"],
        cwd=suite.path,
        preexec_fn=limit,  # a resource limit for the child only
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == 2, process.stdout + process.stderr
    assert "INTERNALERROR" not in process.stdout + process.stderr
    last = process.stdout.strip().splitlines()[-2]
    assert last.startswith("agentopt: ERROR: cannot write "), last
    assert "File too large (EFBIG)" in last
    run = only_run(suite)
    assert (run / "trials.jsonl").read_bytes().endswith(b"\n")
    assert all(isinstance(record, dict) for record in read_trials(run))


def test_a_decision_or_summary_that_cannot_be_written_is_reported_not_a_crash(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import importlib

    # The module the run will use (pytester's in-process runs may have imported it anew).
    controller = importlib.import_module("pytest_agentopt.shell.controller")
    real = controller.write_json_atomic

    def failing(path: Path, data: object) -> None:
        if path.name == "summary.json":
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
        real(path, data)

    monkeypatch.setattr(controller, "write_json_atomic", failing)
    result = suite.runpytest(*ARGS, "--agent-trials=2", "-q")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    run = only_run(suite)
    result.stdout.fnmatch_lines(
        [f"agentopt: ERROR: cannot write {run.relative_to(suite.path)}/summary.json: Disk quota exceeded (EDQUOT)*"]
    )
    assert len(read_trials(run)) == 16


@pytest.mark.slow
@pytest.mark.skipif(sys.platform != "linux", reason="mounts a tmpfs")
def test_a_real_full_file_system_stops_the_run_and_the_copy_resumes(suite: pytest.Pytester) -> None:
    """A 48 KiB tmpfs that fills up mid-run (needs the right to mount: skipped elsewhere)."""
    small = suite.path / "small"
    small.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=48k", "tmpfs", str(small)], capture_output=True, check=False
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (it needs root)")
    try:
        process = subprocess.run(
            [sys.executable, "-m", "pytest", *ARGS, "--agent-trials=20", f"--agent-dir={small / 'agent'}", "-q"],
            cwd=suite.path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        shutil.copytree(small / "agent", suite.path / "agent")
    finally:
        subprocess.run(["umount", str(small)], check=False)
    assert process.returncode == 2, process.stdout + process.stderr
    assert "No space left on device (ENOSPC)" in process.stdout.strip().splitlines()[-2]
    (run,) = (suite.path / "agent" / "runs").iterdir()
    assert (run / "trials.jsonl").read_bytes().endswith(b"\n")
    resumed = suite.runpytest(f"--agent-resume={run.name}", "--agent-dir=agent", "-p", "no:randomly", "-q")
    assert resumed.ret == pytest.ExitCode.OK
    records = read_trials(run)
    assert len(records) == len({(r["task_id"], r["arm"], r["trial"]) for r in records}) == 4 * 2 * 20
