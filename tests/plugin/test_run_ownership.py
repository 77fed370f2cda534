"""A run directory belongs to one live session: a second one is refused, a dead one's run is taken over, and two
runs never share a directory."""

from __future__ import annotations

import importlib
import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pytest_agentopt.errors import LedgerError
from pytest_agentopt.storage.run_lock import HOLDER, lock_run, read_holder
from tests.plugin.helpers import only_run, read_trials, write_configs, write_suite

ARGS = ["--agent-config=configs/improved.json", "-p", "no:randomly", "-p", "no:cacheprovider"]

HOLD = """
import sys, time
from pathlib import Path
from pytest_agentopt.storage.run_lock import lock_run

lock = lock_run(Path(sys.argv[1]), run_id=Path(sys.argv[1]).name, started_at="2026-11-23T15:55:01.123Z")
print("locked", flush=True)
time.sleep(600)
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    write_configs(pytester)
    write_suite(pytester, p_control=0.5, p_test=0.5, tasks=2)
    return pytester


def hold(run: Path) -> subprocess.Popen[str]:
    """Another session's controller: a process that holds the run's lock until it is killed."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(run)], stdout=subprocess.PIPE, text=True, env={**os.environ}
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "locked"
    return process


def test_a_second_session_of_a_run_is_refused_naming_the_holder(suite: pytest.Pytester) -> None:
    suite.runpytest(*ARGS, "--agent-trials=2")
    run = only_run(suite)
    lines = (run / "trials.jsonl").read_text().splitlines()
    (run / "trials.jsonl").write_text("\n".join(lines[:3]) + "\n")  # an interrupted run
    holder = hold(run)
    try:
        result = suite.runpytest(f"--agent-resume={run.name}")
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines(
            [
                f"ERROR: run {run.name} is in use by another session: pid {holder.pid} on host *, started "
                "2026-11-23T15:55:01.123Z (*); wait for it to finish, or stop it; then resume*"
            ]
        )
        assert len(read_trials(run)) == 3  # it ran nothing
    finally:
        holder.kill()
        holder.wait()
    # The holder died without releasing (SIGKILL): its lock died with it, and the next session takes the run over.
    result = suite.runpytest(f"--agent-resume={run.name}", "-q")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            f"agentopt: warning: run {run.name} was last held by a session that ended without finishing "
            f"(pid {holder.pid} *"
        ]
    )
    records = read_trials(run)
    assert len(records) == len(lines)
    assert len({(r["task_id"], r["arm"], r["trial"]) for r in records}) == len(lines)
    assert not (run / HOLDER).exists()  # released at the end


def test_two_concurrent_resumes_never_run_a_trial_twice(suite: pytest.Pytester) -> None:
    """Two real sessions started together: one runs the unfinished trials, the other is refused.

    The trials wait for a file the test writes only once one session has ended, so the session that got the run
    is still running it when the other one asks, whatever the machine's load.
    """
    go = suite.path / "go"
    suite.makepyfile(
        test_suite=textwrap.dedent(
            f"""
            import os, time
            import pytest

            @pytest.mark.parametrize("task", ["t0", "t1", "t2"])
            def test_task(task, agent_config, agent_trial):
                deadline = time.monotonic() + 120
                while not os.path.exists({str(go)!r}) and time.monotonic() < deadline:
                    time.sleep(0.01)
            """
        )
    )
    go.touch()
    suite.runpytest(*ARGS, "--agent-trials=3", "--agent-seed=2")
    go.unlink()
    run = only_run(suite)
    lines = (run / "trials.jsonl").read_text().splitlines()
    (run / "trials.jsonl").write_text("\n".join(lines[:2]) + "\n")
    command = [sys.executable, "-m", "pytest", f"--agent-resume={run.name}", "-p", "no:randomly", "-q"]
    sessions = [
        subprocess.Popen(command, cwd=suite.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + 120
        while all(session.poll() is None for session in sessions) and time.monotonic() < deadline:
            time.sleep(0.02)
        (first,) = [session for session in sessions if session.poll() is not None]
        assert first.returncode == 4
        go.touch()  # now let the other session run its trials
        outputs = [session.communicate(timeout=120)[0] for session in sessions]
    finally:
        go.touch()
        for session in sessions:
            session.kill()
            session.wait()
    assert sorted(session.returncode for session in sessions) == [0, 4], outputs
    # The refused session names the holder by pid, or, when it asked in the moment between the holder taking the
    # lock and writing its details (it happens under load), says so: both are the refusal this test is about.
    refusal = re.compile(
        rf"run {re.escape(run.name)} is in use by another session: (pid |a session that has not written its details)"
    )
    assert any(refusal.search(output) for output in outputs), outputs
    records = read_trials(run)
    assert len(records) == len(lines) == len({(r["task_id"], r["arm"], r["trial"]) for r in records})


def test_a_session_whose_holder_ran_on_another_host_is_named_with_its_host(tmp_path: Path) -> None:
    run = tmp_path / "20261123-155501-exp-0001"
    run.mkdir()
    lock = lock_run(run, run_id=run.name, started_at="2026-11-23T15:55:01.123Z")
    try:
        (run / HOLDER).write_text(
            json.dumps({"pid": 7, "host": "elsewhere", "started_at": "then", "command": "pytest"})
        )
        with pytest.raises(LedgerError, match=r"pid 7 on host elsewhere, started then \(pytest\); .*lease"):
            lock_run(run, run_id=run.name, started_at="now")
    finally:
        lock.release()
    assert read_holder(run) is None


def test_run_ids_never_collide(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """A forced collision: the first id drawn is taken, so the run gets the next one, and the other is untouched."""
    ids = iter(["20261123-155501-improved-0000", "20261123-155501-improved-0000", "20261123-155501-improved-0001"])
    # The module the run will use (pytester's in-process runs may have imported it anew).
    run_ledger = importlib.import_module("pytest_agentopt.storage.ledger")
    monkeypatch.setattr(run_ledger, "new_run_id", lambda experiment_id: next(ids))
    taken = suite.path / ".agentopt" / "runs" / "20261123-155501-improved-0000"
    taken.mkdir(parents=True)
    (taken / "trials.jsonl").write_text("")
    result = suite.runpytest(*ARGS, "--agent-trials=1")
    assert result.ret == pytest.ExitCode.OK
    assert (taken / "trials.jsonl").read_text() == ""
    assert not (taken / "manifest.json").exists()
    records = read_trials(suite.path / ".agentopt" / "runs" / "20261123-155501-improved-0001")
    assert {r["run_id"] for r in records} == {"20261123-155501-improved-0001"}


def test_a_killed_holder_releases_the_lock_at_once(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    holder = hold(run)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    deadline = time.monotonic() + 10
    while True:
        try:
            lock = lock_run(run, run_id="run", started_at="now")
            break
        except LedgerError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    assert lock.took_over is not None
    assert lock.took_over.pid == holder.pid
    lock.release()
