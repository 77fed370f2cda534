"""The cap of a run against --agent-target: derived from the one-sample design when --agent-trials is not given,
said at start-up when a given cap cannot deliver the error rates, and decided by the last look when reached."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest

from pytest_agentopt.stats.target_design import target_design
from tests.plugin.helpers import only_run, read_trials, write_configs, write_suite

TARGET, EFFECT = 0.9, 0.15


def summary_of(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((only_run(pytester) / "summary.json").read_text())
    return data


def required_trials() -> int:
    required = target_design(TARGET, 0.05, 0.10, EFFECT).required_trials
    assert required is not None
    return required


@pytest.mark.parametrize("workers", [None, "2"])
def test_without_agent_trials_the_cap_is_the_trials_the_design_needs(
    pytester: pytest.Pytester, workers: str | None
) -> None:
    write_configs(pytester)
    write_suite(pytester, p_control=0.95, p_test=0.95, tasks=6)
    xdist = ["-n", workers] if workers else []
    result = pytester.runpytest(
        "--agent-config=configs/improved.json", "--sprt", f"--agent-target={TARGET}", "--agent-seed=2", *xdist
    )
    assert result.ret == pytest.ExitCode.OK
    trials = math.ceil(required_trials() / 6)
    result.stdout.fnmatch_lines([f"agentopt: *cap {required_trials()} trials (trials per task derived from it)*"])
    assert not any("warning: with" in line for line in result.stdout.lines)
    summary = summary_of(pytester)
    assert summary["trials_planned"] == 6 * trials
    design = summary["design"]
    assert design["direction"] == "target"
    assert (design["tasks"], design["trials_per_task"], design["cap_trials"]) == (6, trials, 6 * trials)
    assert design["required_trials"] == required_trials()
    assert design["alpha_at_cap"] <= 0.05
    assert design["beta_at_cap"] <= 0.10
    assert design["power_at_cap"] >= 0.90
    assert design["below_miss_at_cap"] <= 0.05
    assert summary["verdict"] in ("meets_target", "below_target")


def test_a_given_cap_too_small_is_said_at_start_up_and_the_last_look_decides(pytester: pytest.Pytester) -> None:
    # Every trial succeeds: 12 successes stay below Wald's upper bound, so only the last look can decide.
    write_configs(pytester)
    write_suite(pytester, p_control=1.0, p_test=1.0, tasks=6)
    result = pytester.runpytest(
        "--agent-config=configs/improved.json", "--sprt", f"--agent-target={TARGET}", "--agent-trials=2"
    )
    assert result.ret == pytest.ExitCode.OK
    figures = target_design(TARGET, 0.05, 0.10, EFFECT).at_cap(12)
    assert figures is not None
    needed = math.ceil(required_trials() / 6)
    warning = (
        f"agentopt: warning: with 6 tasks x 2 trials (12 trials) this run misses 'meets_target' for a config at "
        f"the target 0.9 {100 * figures.miss:.0f} % of the time, and 'below_target' for one at 0.75 "
        f"{100 * figures.below_miss:.0f} %; --agent-trials={needed} gives at most 10 % and 5 %"
    )
    assert warning in result.stdout.lines
    assert result.stdout.lines.index(warning) < len(result.stdout.lines) - 3  # before the run's progress
    summary = summary_of(pytester)
    assert len(read_trials(only_run(pytester))) == 12
    assert summary["verdict"] == "meets_target"
    assert summary["decided_at_cap"] is True
    assert "(the last look at the cap)" in summary["verdict_reason"]
    design = summary["design"]
    assert design["power_at_cap"] == pytest.approx(1 - figures.miss)
    assert design["trials_needed"] == needed
    assert design["last_look"] == [figures.below_under, figures.meets_from]
    result.stdout.fnmatch_lines([f"cap      12 trials (6 tasks x 2 trials): alpha *, power {1 - figures.miss:.3f}*"])
