"""Planned trials that never ran because the run stopped: deselected in one call, never a report each.

With and without xdist, with trials made on demand and with every trial collected (``--deselect``), a resumed run
whose decision is in its ledger, ``-q``, ``-v`` and ``--junitxml``: pytest counts the never-run trials as
deselected, the plugin's line says how many and why, and the progress ends at 100 %.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from tests.plugin.helpers import only_run, read_trials, write_configs, write_suite

HOOK_COUNTING_CONFTEST = """
import json

import pytest

COUNTS = {"logstart": 0, "skipped_reports": 0, "deselected_calls": 0, "deselected": 0, "bad_ids": 0}


def pytest_runtest_logstart(nodeid, location):
    COUNTS["logstart"] += 1


def pytest_runtest_logreport(report):
    if report.skipped:
        COUNTS["skipped_reports"] += 1


def pytest_deselected(items):
    COUNTS["deselected_calls"] += 1
    COUNTS["deselected"] += len(items)
    # every deselected item reads as the trial it stands for
    COUNTS["bad_ids"] += sum(1 for item in items if not item.nodeid.startswith("test_suite.py::test_task["))


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session):
    if not hasattr(session.config, "workerinput"):  # the controller (or the single process)
        (session.config.rootpath / "hook-counts.json").write_text(json.dumps(COUNTS))
"""

ARGS = ("--agent-config=configs/improved.json", "--sprt", "--agent-trials=100", "--agent-seed=3", "-p", "no:randomly")
PLANNED = 6 * 100 * 2


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    write_configs(pytester)
    write_suite(pytester, p_control=0.2, p_test=0.95)
    pytester.makeconftest(HOOK_COUNTING_CONFTEST)
    return pytester


def counts(pytester: pytest.Pytester) -> dict[str, int]:
    data: dict[str, int] = json.loads((pytester.path / "hook-counts.json").read_text())
    return data


def summary_of(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((only_run(pytester) / "summary.json").read_text())
    return data


@pytest.mark.parametrize(
    ("workers", "extra"),
    [([], []), ([], ["--deselect=test_suite.py::no_such_test"]), (["-n", "2"], [])],
    ids=["single-process", "every-trial-collected", "xdist-2"],
)
def test_never_run_trials_are_deselected_once_not_reported_one_by_one(
    suite: pytest.Pytester, workers: list[str], extra: list[str]
) -> None:
    result = suite.runpytest(*ARGS, *workers, *extra, "-q")
    assert result.ret == pytest.ExitCode.OK
    summary = summary_of(suite)
    assert summary["verdict"] == "better"
    started = len(read_trials(only_run(suite)))
    never_ran = PLANNED - started
    assert summary["trials_skipped"] == never_ran > PLANNED // 2
    hooks = counts(suite)
    # No report (nor log start) per never-run trial: a worker may skip the few items it held at the stop.
    held = hooks["skipped_reports"]
    assert held <= (0 if not workers else 2 * 8), hooks
    assert hooks["logstart"] <= started + held, hooks
    assert hooks["deselected_calls"] == 1
    assert hooks["deselected"] == never_ran - held
    assert hooks["bad_ids"] == 0
    outcomes = result.parseoutcomes()
    assert outcomes["deselected"] == never_ran - held
    assert outcomes.get("skipped", 0) == held
    # under -q too: how many planned trials never ran, and why
    result.stdout.fnmatch_lines(
        [
            f"agentopt: {never_ran - held:,} planned trials never ran (pytest counts them as deselected): "
            "sequential test decided 'better' after * pairs",
            f"*{never_ran - held} deselected*",
        ]
    )


def test_the_progress_ends_at_100_percent_and_verbose_prints_no_line_per_never_run_trial(
    suite: pytest.Pytester,
) -> None:
    result = suite.runpytest(*ARGS)
    assert result.ret == pytest.ExitCode.OK
    progress = [line.split()[-1] for line in result.outlines if line.rstrip().endswith("%]")]
    assert progress[-1] == "[100%]", progress
    started = len(read_trials(only_run(suite)))
    verbose = suite.runpytest(*ARGS, "-v", "--agent-dir=verbose")
    assert verbose.ret == pytest.ExitCode.OK
    # one line per trial that ran (the same seed decides after the same trials), none for the never-run ones;
    # each line's figure is the share of the planned trials reached when it ran
    lines = [line for line in verbose.outlines if line.startswith("test_suite.py::test_task[") and "%]" in line]
    assert len(lines) == started
    assert not any("SKIPPED" in line for line in verbose.outlines)


def test_junit_xml_has_a_test_case_per_trial_that_ran_and_none_for_the_never_run_ones(
    suite: pytest.Pytester,
) -> None:
    result = suite.runpytest(*ARGS, "--junitxml=junit.xml")
    assert result.ret == pytest.ExitCode.OK
    suite_element = ET.parse(suite.path / "junit.xml").getroot().find("testsuite")
    assert suite_element is not None
    started = len(read_trials(only_run(suite)))
    assert suite_element.get("skipped") == "0"
    assert int(suite_element.get("tests", "-1")) == started
    assert len(suite_element.findall("testcase")) == started


def test_a_resumed_run_whose_decision_is_in_its_ledger_deselects_the_rest_and_exits_zero(
    suite: pytest.Pytester,
) -> None:
    first = suite.runpytest(*ARGS)
    assert first.ret == pytest.ExitCode.OK
    run_dir = only_run(suite)
    started = len(read_trials(run_dir))
    resumed = suite.runpytest(*ARGS, f"--agent-resume={run_dir.name}", "-q")
    assert resumed.ret == pytest.ExitCode.OK  # not 5: nothing ran, but the run is complete
    assert len(read_trials(run_dir)) == started  # nothing ran again
    outcomes = resumed.parseoutcomes()
    # the ledger's trials (deselected at collection) and the never-run rest (deselected at the end)
    assert outcomes["deselected"] == PLANNED
    assert "skipped" not in outcomes
    resumed.stdout.fnmatch_lines([f"agentopt: {PLANNED - started:,} planned trials never ran *"])
    assert summary_of(suite)["trials_skipped"] == PLANNED - started
