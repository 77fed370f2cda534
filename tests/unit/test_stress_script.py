"""The stress script's accounting and reference on hand-made inputs (the scenarios themselves run only from it)."""

from __future__ import annotations

import importlib.util
import random
import sys
from pathlib import Path
from types import ModuleType

from pytest_agentopt.run.trial_order import ARMS_AB, build_plan

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "stress.py"


def _load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stress", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is created
    spec.loader.exec_module(module)
    return module


stress = _load_script()


def test_lost_and_duplicated_trials_are_counted_against_what_the_run_needed() -> None:
    a, b, c = ("t", "control", 0), ("t", "test", 0), ("u", "control", 0)
    assert stress.account([a, b, b, b], needed=[a, b, c]) == (1, 2)
    assert stress.account([a, b, c], needed=[a, b]) == (0, 0)  # more than needed (after the decision) is fine


def test_the_reference_is_the_sequential_test_on_the_suite_s_outcomes_in_planned_order() -> None:
    ref = stress.reference(1, {})
    assert ref.verdict == "better"  # 0.8 against 0.35: the test arm is clearly better
    plan = build_plan(stress.task_ids(), ARMS_AB, stress.TRIALS, 1)
    needed = [entry.key for entry in plan[: len(ref.needed)]]
    assert set(needed) == ref.needed  # a prefix of the plan, up to the decision
    assert len(ref.needed) < len(plan)


def test_injected_faults_are_crashes_or_timeouts_in_the_reference() -> None:
    task_id = stress.task_ids()[0]
    faults = {("t0", "test", 0): "kill", ("t0", "control", 0): "stubborn"}
    assert stress.planned_outcome(1, task_id, "test", 0, faults) == "worker_crash"
    assert stress.planned_outcome(1, task_id, "control", 0, faults) == "timeout"
    assert stress.planned_outcome(1, task_id, "test", 1, faults) in ("success", "failure")
    with_faults = stress.reference(1, faults)
    assert with_faults.verdict in ("better", "inconclusive", "no_difference")


def test_faults_are_fixed_by_the_seed_and_land_in_the_first_rounds() -> None:
    first = stress.pick_faults(random.Random(5), 3, ("exit", "kill"))
    assert first == stress.pick_faults(random.Random(5), 3, ("exit", "kill"))
    assert len(first) == 3
    assert all(trial < 2 and kind in ("exit", "kill") for (_, _, trial), kind in first.items())


def test_an_outcome_is_on_target_only_with_nothing_lost_or_duplicated_and_the_same_verdict() -> None:
    good = stress.Outcome("crash-n2", 1, True, 0, 0, "better", "better")
    assert good.ok
    assert good.row()[2:6] == ["yes", "0", "0", "yes"]
    assert not stress.Outcome("crash-n2", 1, True, 0, 1, "better", "better").ok
    assert not stress.Outcome("crash-n2", 1, False, 0, 0, "better", "better").ok
    assert not stress.Outcome("crash-n2", 1, True, 0, 0, "inconclusive", "better").ok
    skipped = stress.Outcome("full-disk", 1, False, 0, 0, None, "better", skipped="needs root")
    assert skipped.ok
    assert skipped.row()[2] == "skipped"


def test_a_session_that_stopped_on_its_own_must_say_why_and_how_to_continue() -> None:
    line = "agentopt: ERROR: cannot write x: No space left on device (ENOSPC); the run stopped (exit 2); free space, "
    told = stress.Run(2, f"...\n{line}then continue it with pytest --agent-resume r1 -n 2\n== 3 passed ==\n", 1.0)
    assert stress.stopped_with_one_line(told, "r1")
    assert not stress.stopped_with_one_line(told, "r2")  # another run's command
    assert not stress.stopped_with_one_line(stress.Run(1, told.output, 1.0), "r1")  # not exit 2
    verdict_only = "agentopt: verdict INCONCLUSIVE (sprt): ...; continue it with pytest --agent-resume r1\n"
    assert not stress.stopped_with_one_line(stress.Run(2, verdict_only, 1.0), "r1")  # no line of its own


def test_the_page_shows_an_earlier_run_for_comparison(tmp_path: Path) -> None:
    earlier = tmp_path / "older.txt"
    earlier.write_text("interrupt | 1 | NO\n\nCommand: python scripts/stress.py\n- date: x\n| a |\nResult: short.\n")
    compared = stress.compared_lines(earlier)
    assert compared == [
        "## Compared with an earlier run (`older.txt`)",
        "",
        "Command: python scripts/stress.py",
        "- date: x",
        "",
        "| a |",
        "",
        "Result: short.",
    ]
    page = stress.render_doc("python scripts/stress.py", 3.0, ["- date: y"], ["| b |"], compared)
    assert page.index("| b |") < page.index("## Compared with an earlier run")
