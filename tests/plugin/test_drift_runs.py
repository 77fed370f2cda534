"""The drift report end to end: a fake agent whose test config takes more steps, one where nothing changed, the
gate option's exit code and its usage errors (in process, and under ``-n 2``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.plugin.helpers import only_run, write_configs

# Steps, tool calls and tokens are drawn from the trial's seed, so both arms of a pair share them unless the test
# config (the one with guidelines) takes STEP_FACTOR times as many steps. Success is the same draw in both arms.
DRIFT_SUITE = """
import random
import pytest

STEP_FACTOR = {step_factor}

@pytest.mark.parametrize("task", [f"t{{i}}" for i in range(10)])
def test_task(task, agent_config, agent_trial):
    rng = random.Random(agent_trial.seed)
    steps = 4 + int(task[1:]) + rng.randint(0, 6)
    if agent_config.guidelines:
        steps = round(steps * STEP_FACTOR)
    agent_trial.record_usage(input_tokens=150 * steps + rng.randint(0, 50), output_tokens=30 * steps)
    agent_trial.record(steps=steps, tool_calls=steps // 2)
    assert rng.random() < 0.8, "wrong answer"
"""


# pytest times each call with ``_pytest.timing.perf_counter`` (``CallInfo.from_call``); a clock that advances by a
# fixed step per reading gives every trial the same latency, so a no-change run has no latency noise to flag.
FIXED_CLOCK_CONFTEST = """
import itertools

import _pytest.timing

_real = _pytest.timing.perf_counter


def pytest_configure(config):
    ticks = itertools.count()
    _pytest.timing.perf_counter = lambda: next(ticks) * 0.001


def pytest_unconfigure(config):
    _pytest.timing.perf_counter = _real
"""


def write_drift_suite(pytester: pytest.Pytester, step_factor: float) -> None:
    write_configs(pytester)
    pytester.makepyfile(test_suite=DRIFT_SUITE.format(step_factor=step_factor))


def drift_of(pytester: pytest.Pytester) -> dict[str, Any]:
    drift: dict[str, Any] = json.loads((only_run(pytester) / "summary.json").read_text())["drift"]
    return drift


RUN = ("--agent-config=configs/improved.json", "--agent-trials=6", "--agent-seed=5", "-p", "no:randomly")


def test_more_steps_in_the_test_config_is_reported_and_does_not_fail_the_run(pytester: pytest.Pytester) -> None:
    write_drift_suite(pytester, step_factor=1.3)
    result = pytester.runpytest(*RUN)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.stdout.fnmatch_lines(
        ["drift    behaviour drift at equal outcome: steps +*(test - control, family-wise intervals; omnibus p *)"]
    )
    drift = drift_of(pytester)
    assert drift["status"] == "drift"
    assert "steps" in drift["moved"]
    assert drift["pairs"] == 60  # success is the same draw in both arms: every pair has the same outcome
    steps = next(feature for feature in drift["features"] if feature["name"] == "steps")
    assert steps["lower"] > 0
    assert 0.15 < steps["relative"] < 0.45


def test_the_drift_gate_fails_the_run_and_quiet_mode_says_why(pytester: pytest.Pytester) -> None:
    write_drift_suite(pytester, step_factor=1.3)
    result = pytester.runpytest(*RUN, "--agent-drift-gate", "-q")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.stdout.fnmatch_lines(
        [
            "agentopt: behaviour drift at equal outcome: steps +*",
            "agentopt: FAILED: behaviour drift at equal outcome: steps +*(--agent-drift-gate)",
        ]
    )
    summary = json.loads((only_run(pytester) / "summary.json").read_text())
    assert summary["gate"]["passed"] is False


def test_nothing_changed_prints_no_false_drift_and_passes_the_gate(pytester: pytest.Pytester) -> None:
    """Every feature is the same in both arms of a pair. The latency is the machine's wall time, so pytest's clock
    is replaced by one that advances by a fixed step per reading: the test cannot depend on the host's timing."""
    write_drift_suite(pytester, step_factor=1.0)
    pytester.makeconftest(FIXED_CLOCK_CONFTEST)
    result = pytester.runpytest(*RUN, "--agent-drift-gate", "--agent-drift-alpha=0.001")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert "behaviour drift at equal outcome" not in result.stdout.str()
    result.stdout.fnmatch_lines(
        ["drift    no behaviour drift found (omnibus p * over * features, 60 same-outcome pairs)"]
    )
    drift = drift_of(pytester)
    assert drift["status"] == "no_drift"
    assert drift["moved"] == []
    assert drift["alpha"] == 0.001
    ledger = (only_run(pytester) / "trials.jsonl").read_text().splitlines()
    assert len({json.loads(line)["latency_s"] for line in ledger}) == 1  # the fixed clock took effect


def test_the_drift_report_under_xdist(pytester: pytest.Pytester) -> None:
    write_drift_suite(pytester, step_factor=1.3)
    result = pytester.runpytest(*RUN, "-n", "2", "--agent-drift-gate")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.stdout.fnmatch_lines(["*FAILED: behaviour drift at equal outcome: steps +*"])
    assert "steps" in drift_of(pytester)["moved"]


def test_a_sequential_run_tests_the_pairs_before_its_decision(pytester: pytest.Pytester) -> None:
    write_drift_suite(pytester, step_factor=1.3)
    result = pytester.runpytest(
        "--agent-config=configs/improved.json", "--sprt", "--agent-seed=5", "-p", "no:randomly", "-q"
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    summary = json.loads((only_run(pytester) / "summary.json").read_text())
    drift = summary["drift"]
    assert drift["pairs_complete"] <= summary["pairs_used"]
    assert drift["pairs"] + drift["pairs_other_outcome"] == drift["pairs_complete"]
    assert drift["status"] == "drift"
    result.stdout.fnmatch_lines(["agentopt: behaviour drift at equal outcome: steps +*"])


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("--agent-drift-alpha=0.7", "*--agent-drift-alpha=0.7: must be between 0 and 0.5 (exclusive)*"),
        ("--agent-drift-alpha=often", "*--agent-drift-alpha=often: must be a number*"),
    ],
)
def test_bad_drift_options_exit_4_and_name_the_option(pytester: pytest.Pytester, argument: str, message: str) -> None:
    write_drift_suite(pytester, step_factor=1.0)
    result = pytester.runpytest(*RUN, argument)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert not (pytester.path / ".agentopt" / "runs").exists() or not list(
        (pytester.path / ".agentopt" / "runs").iterdir()
    )


def test_the_drift_gate_needs_a_control(pytester: pytest.Pytester) -> None:
    write_drift_suite(pytester, step_factor=1.0)
    pytester.makeini("[pytest]\nagent_drift_gate = true\n")
    result = pytester.runpytest("--agent-config=configs/improved.json", "--agent-control=none", "--agent-trials=1")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*agent_drift_gate = True (tox.ini) needs a control config*"])
