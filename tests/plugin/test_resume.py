"""Resuming interrupted runs: nothing lost, nothing duplicated, the same verdict as an uninterrupted run."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.helpers import read_trials, write_configs

SUITE = """
import random
import time
import pytest

@pytest.mark.parametrize("task", [f"t{i}" for i in range(6)])
def test_task(task, agent_config, agent_trial):
    rng = random.Random(agent_trial.seed)
    p = 0.85 if agent_config.guidelines else 0.35
    time.sleep(0.02)
    agent_trial.record_usage(input_tokens=100, output_tokens=10)
    assert rng.random() < p
"""

ARGS = ["--agent-config=configs/improved.json", "--agent-trials=10", "--agent-seed=11", "-p", "no:randomly"]


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    write_configs(pytester)
    pytester.makepyfile(test_suite=SUITE)
    return pytester


def runs(pytester: pytest.Pytester, agent_dir: str = ".agentopt") -> list[Path]:
    return sorted((pytester.path / agent_dir / "runs").iterdir())


def kill_after(pytester: pytest.Pytester, lines: int, *extra: str, base: list[str] = ARGS) -> Path:
    """Start a run in a subprocess and SIGKILL it once its ledger has ``lines`` records."""
    process = subprocess.Popen(
        [sys.executable, "-m", "pytest", *base, "--agent-dir=killed", *extra],
        cwd=pytester.path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            found = list((pytester.path / "killed" / "runs").glob("*/trials.jsonl"))
            if found and found[0].read_bytes().count(b"\n") >= lines:
                break
            if process.poll() is not None:
                pytest.fail("the run ended before it could be killed")
            time.sleep(0.005)
        else:
            pytest.fail("the ledger never reached the expected size")
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    (run_dir,) = runs(pytester, "killed")
    return run_dir


def keys(records: list[dict[str, Any]]) -> Counter[tuple[str, str, int]]:
    return Counter((r["task_id"], r["arm"], r["trial"]) for r in records)


@pytest.mark.parametrize("mode", [[], ["--sprt"], ["--sprt", "-n", "2"]], ids=["fixed", "sprt", "sprt-xdist"])
def test_a_killed_run_resumes_to_the_same_verdict_without_losing_or_repeating_trials(
    suite: pytest.Pytester, mode: list[str]
) -> None:
    reference = suite.runpytest(*ARGS, *mode)
    assert reference.ret == pytest.ExitCode.OK
    (reference_dir,) = runs(suite)
    expected = json.loads((reference_dir / "summary.json").read_text())
    expected_records = read_trials(reference_dir)

    kill_point = random.Random(len(mode)).randint(5, 40)
    run_dir = kill_after(suite, kill_point, *mode)
    before = read_trials(run_dir)
    assert len(before) >= kill_point
    resumed = suite.runpytest(f"--agent-resume={run_dir}", "--agent-dir=killed", *mode[1:])
    assert resumed.ret == pytest.ExitCode.OK
    records = read_trials(run_dir)
    assert max(keys(records).values()) == 1  # nothing duplicated
    assert set(keys(before)) <= set(keys(records))  # nothing finished before the kill was rerun or lost
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["verdict"] == expected["verdict"]
    assert summary["pairs_used"] == expected["pairs_used"]
    if "--sprt" in mode:
        decision = json.loads((run_dir / "decision.json").read_text())
        assert decision["seq"] == json.loads((reference_dir / "decision.json").read_text())["seq"]
        prefix = {k for k, n in keys(expected_records).items() if n and k in keys(records)}
        assert {(r["task_id"], r["arm"], r["trial"]) for r in records if r["seq"] <= decision["seq"]} == {
            (r["task_id"], r["arm"], r["trial"]) for r in expected_records if r["seq"] <= decision["seq"]
        }
        assert prefix
    else:
        assert set(keys(records)) == set(keys(expected_records))  # every planned trial exactly once
    outcomes = {(r["task_id"], r["arm"], r["trial"]): r["outcome"] for r in expected_records}
    assert all(outcomes.get((r["task_id"], r["arm"], r["trial"]), r["outcome"]) == r["outcome"] for r in records)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert len(manifest["resumes"]) == 1


def test_a_run_with_a_derived_cap_resumes_with_the_same_plan(suite: pytest.Pytester) -> None:
    # Without --agent-trials the trials per task come from the cap in pairs the manifest keeps: a resumed run
    # plans the same trials, so the finished ones are recognised and the verdict is the uninterrupted run's.
    base = [arg for arg in ARGS if not arg.startswith("--agent-trials")]
    mode = ["--sprt", "--agent-direction=worse"]
    reference = suite.runpytest(*base, *mode)
    assert reference.ret == pytest.ExitCode.OK
    (reference_dir,) = runs(suite)
    expected = json.loads((reference_dir / "summary.json").read_text())
    run_dir = kill_after(suite, 12, *mode, base=base)
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["run"]["cap_pairs"] == expected["settings"]["cap_pairs"] > 0
    resumed = suite.runpytest(f"--agent-resume={run_dir}", "--agent-dir=killed")
    assert resumed.ret == pytest.ExitCode.OK
    summary = json.loads((run_dir / "summary.json").read_text())
    assert (summary["verdict"], summary["pairs_used"]) == (expected["verdict"], expected["pairs_used"])
    assert summary["trials_planned"] == expected["trials_planned"]
    assert max(keys(read_trials(run_dir)).values()) == 1


def test_a_torn_last_line_is_tolerated_and_reported(suite: pytest.Pytester) -> None:
    run_dir = kill_after(suite, 8)
    with (run_dir / "trials.jsonl").open("ab") as ledger:
        ledger.write(b'{"schema": 1, "run_id": "torn')
    result = suite.runpytest(f"--agent-resume={run_dir.name}", "--agent-dir=killed")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["note: *trials.jsonl:*: skipped a torn last line*"])
    records = read_trials_tolerant(run_dir)
    assert len(records) == 120
    assert max(keys(records).values()) == 1


def read_trials_tolerant(run_dir: Path) -> list[dict[str, Any]]:
    from pytest_agentopt.storage.ledger import read_ledger

    return [dict(record) for record in read_ledger(run_dir / "trials.jsonl").records]


def test_resuming_a_finished_run_runs_nothing_and_exits_zero(suite: pytest.Pytester) -> None:
    suite.runpytest(*ARGS)
    (run_dir,) = runs(suite)
    result = suite.runpytest(f"--agent-resume={run_dir.name}")
    assert result.ret == pytest.ExitCode.OK  # not 5: every trial came from the ledger
    assert len(read_trials(run_dir)) == 120
    result.stdout.fnmatch_lines(["*120 deselected*", "agentopt: verdict *"])


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["single-process", "xdist-2"])
def test_resume_refuses_a_suite_whose_tasks_changed(suite: pytest.Pytester, workers: list[str]) -> None:
    run_dir = kill_after(suite, 5)
    suite.makepyfile(test_suite=SUITE.replace("range(6)", "range(7)"))
    result = suite.runpytest(f"--agent-resume={run_dir.name}", "--agent-dir=killed", *workers)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: cannot resume run {run_dir.name}: its trial *was planned at position*"])
    assert json.loads((run_dir / "manifest.json").read_text())["resumes"] == []  # a refused resume writes nothing
