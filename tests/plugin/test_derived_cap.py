"""The cap of a sequential run: derived from the calibrated design when --agent-trials is not given, said at
start-up when a given cap cannot deliver the error rates, and decided by the last look when it is reached."""

from __future__ import annotations

import importlib
import json
import math
from typing import Any

import pytest

from pytest_agentopt.stats.design import calibrated_design
from tests.plugin.helpers import only_run, read_trials, write_configs, write_suite


def summary_of(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((only_run(pytester) / "summary.json").read_text())
    return data


def required_pairs(direction: str) -> int:
    design = calibrated_design(0.05, 0.10, 0.15, direction)  # type: ignore[arg-type]
    assert design is not None
    assert design.required_pairs is not None
    return design.required_pairs


def test_without_agent_trials_the_trials_per_task_come_from_the_pairs_the_design_needs(
    pytester: pytest.Pytester,
) -> None:
    write_configs(pytester)
    write_suite(pytester, p_control=0.5, p_test=0.5, tasks=7)
    result = pytester.runpytest(
        "--agent-config=configs/improved.json", "--sprt", "--agent-direction=worse", "--collect-only", "-q"
    )
    assert result.ret == pytest.ExitCode.OK
    trials = math.ceil(required_pairs("worse") / 7)
    ids = [line for line in result.stdout.lines if line.startswith("test_suite.py::")]
    # Items stay proportional to the cap: 7 tasks x 2 arms x trials, no more.
    assert len(ids) == 7 * 2 * trials
    assert "test_suite.py::test_task[t3-test-0]" in ids
    assert f"test_suite.py::test_task[t3-control-{trials - 1}]" in ids
    assert not any(f"-{trials}]" in nodeid for nodeid in ids)


def test_the_derived_cap_collects_alike_on_every_xdist_worker_and_runs(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    write_suite(pytester, p_control=0.6, p_test=0.6, tasks=5)
    result = pytester.runpytest(
        "--agent-config=configs/improved.json", "--sprt", "--agent-direction=worse", "--agent-seed=4", "-n", "2"
    )
    assert result.ret == pytest.ExitCode.OK
    trials = math.ceil(required_pairs("worse") / 5)
    result.stdout.fnmatch_lines(
        [
            f"agentopt: *cap {required_pairs('worse')} pairs (trials per task derived from it)*",
            f"*2 workers [[]{5 * 2 * trials} items[]]*",
        ]
    )
    summary = summary_of(pytester)
    assert summary["settings"]["trials_per_task_per_arm"] == trials
    assert summary["settings"]["cap_pairs"] == required_pairs("worse")
    design = summary["design"]
    assert (design["tasks"], design["trials_per_task"], design["cap_pairs"]) == (5, trials, 5 * trials)
    assert design["boundaries"] == "calibrated"
    assert design["power_at_cap"] >= 0.9
    assert design["alpha_at_cap"] <= 0.05
    assert summary["verdict"] in ("not_worse", "worse")
    assert summary["trials_planned"] == 5 * 2 * trials


def test_a_given_cap_too_small_for_beta_is_said_at_start_up_with_the_trials_that_fix_it(
    agent_suite: pytest.Pytester,
) -> None:
    result = agent_suite.runpytest(
        "--agent-config=configs/improved.json", "--sprt", "--agent-direction=worse", "--agent-trials=3", "-q"
    )
    assert result.ret == pytest.ExitCode.OK
    design = calibrated_design(0.05, 0.10, 0.15, "worse")
    assert design is not None
    figures = design.at_cap(18)
    assert figures is not None
    needed = design.pairs_for_miss(0.10)
    assert needed is not None
    warning = (
        f"agentopt: warning: with 6 tasks x 3 trials (18 pairs) this run misses a regression of 0.15 up to "
        f"{100 * figures.miss:.0f} % of the time (at the least favourable discordance); "
        f"--agent-trials={math.ceil(needed / 6)} gives at most 10 %"
    )
    assert warning in result.stdout.lines
    # Before the first trial: the warning comes before the progress of the run.
    assert result.stdout.lines.index(warning) < len(result.stdout.lines) - 3
    summary = summary_of(agent_suite)
    assert summary["design"]["miss_at_cap"] == figures.miss
    assert summary["design"]["power_at_cap"] == pytest.approx(1 - figures.miss)


def test_in_ci_a_paired_sprt_run_asks_only_the_gate_question(
    agent_suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    result = agent_suite.runpytest("--agent-config=configs/improved.json", "--sprt", "--agent-trials=20")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["agentopt: *one-sided: worse (CI detected)*"])
    summary = summary_of(agent_suite)
    assert summary["settings"]["direction"] == "worse"
    assert summary["verdict"] in ("not_worse", "worse")
    assert any("CI detected" in note for note in summary["notes"])
    # --agent-direction=both keeps every verdict in CI too.
    explicit = agent_suite.runpytest(
        "--agent-config=configs/improved.json", "--sprt", "--agent-trials=20", "--agent-direction=both"
    )
    assert explicit.ret == pytest.ExitCode.OK


def test_at_the_cap_the_last_look_decides_and_says_so(pytester: pytest.Pytester) -> None:
    # A small difference and a cap of 60 pairs: the boundaries are not reached, the last look at the cap decides.
    write_configs(pytester)
    write_suite(pytester, p_control=0.4, p_test=0.55, tasks=6)
    result = pytester.runpytest(
        "--agent-config=configs/improved.json",
        "--sprt",
        "--agent-direction=better",
        "--agent-trials=10",
        "--agent-seed=3",
    )
    assert result.ret == pytest.ExitCode.OK
    summary = summary_of(pytester)
    run = only_run(pytester)
    assert len(read_trials(run)) == 120  # every planned trial ran
    assert summary["decided_at_cap"] is True
    assert summary["verdict"] in ("better", "not_better")
    assert (
        summary["verdict_reason"].endswith("(the last look at the cap)")
        or "(the last look at the cap)" in (summary["verdict_reason"])
    )
    decision = json.loads((run / "decision.json").read_text())
    assert decision["at_cap"] is True
    look = summary["last_look"]
    llr = summary["llr"]["better"]
    assert (llr >= look[1]) if summary["verdict"] == "better" else (llr <= look[0])
    result.stdout.fnmatch_lines(["sprt     LLR better * (last look at the cap: at or *"])


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ((), "each becomes a pytest item only when it runs*"),
        (("--deselect=test_suite.py::no_such_test",), "each is a pytest item in every collecting process*"),
    ],
    ids=["made-on-demand", "all-collected"],
)
def test_a_large_explicit_cap_says_at_start_up_what_its_collection_costs(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, extra: tuple[str, ...], said: str
) -> None:
    # The module the run will import (in-process pytester runs may leave a stale one on the package).
    collection_size = importlib.import_module("pytest_agentopt.shell.collection_size")
    monkeypatch.setattr(collection_size, "LARGE_COLLECTION", 100)
    write_configs(pytester)
    write_suite(pytester, p_control=0.2, p_test=0.9, tasks=2)
    result = pytester.runpytest(
        "--agent-config=configs/improved.json", "--sprt", "--agent-trials=30", "--agent-seed=1", "-q", *extra
    )
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED)
    result.stdout.fnmatch_lines([f"agentopt: warning: this run plans 120 trials: {said}"])
    assert "leave --agent-trials out" not in result.stdout.str()  # 60 pairs: below the calibrated cap
