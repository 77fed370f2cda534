"""--agent-lookahead under xdist: the option reaches the scheduler, and the verdict is the single process's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.helpers import write_configs

# Trials of uneven length, so that workers finish out of planned order and the look-ahead matters.
UNEVEN_SUITE = """
import random
import time
import pytest

@pytest.mark.parametrize("task", [f"t{i}" for i in range(8)])
def test_task(task, agent_config, agent_trial):
    rng = random.Random(agent_trial.seed)
    time.sleep(rng.choice([0.0, 0.0, 0.0, 0.02]))
    p = 0.8 if agent_config.guidelines else 0.45
    assert rng.random() < p
"""

# Records what the controller's scheduler was given (a conftest only the controller's scheduler hook reaches).
SPY_CONFTEST = """
import json
import pytest

SEEN = {}

@pytest.hookimpl(wrapper=True, optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    scheduler = yield
    SEEN["scheduler"] = scheduler
    return scheduler

def pytest_sessionfinish(session):
    scheduler = SEEN.get("scheduler")
    if scheduler is None:
        return
    window = scheduler.window
    with open("lookahead-seen.json", "w") as out:
        json.dump({"kind": type(window).__name__, "items": window.items, "base": getattr(window, "base", None)}, out)
"""

ARGS = ("--agent-config=configs/improved.json", "--sprt", "--agent-trials=40", "--agent-seed=5", "-p", "no:randomly")


@pytest.fixture
def uneven_suite(pytester: pytest.Pytester) -> pytest.Pytester:
    write_configs(pytester)
    pytester.makepyfile(test_suite=UNEVEN_SUITE)
    pytester.makeconftest(SPY_CONFTEST)
    return pytester


def decision_of(pytester: pytest.Pytester, agent_dir: str) -> dict[str, Any]:
    (run_dir,) = (pytester.path / agent_dir / "runs").iterdir()
    summary = json.loads((run_dir / "summary.json").read_text())
    decision = json.loads((run_dir / "decision.json").read_text())
    return {"verdict": summary["verdict"], "pairs_used": summary["pairs_used"], "seq": decision["seq"]}


def seen(pytester: pytest.Pytester) -> dict[str, Any]:
    path: Path = pytester.path / "lookahead-seen.json"
    data: dict[str, Any] = json.loads(path.read_text())
    path.unlink()
    return data


def test_the_lookahead_reaches_the_scheduler_and_never_changes_the_verdict(uneven_suite: pytest.Pytester) -> None:
    single = uneven_suite.runpytest(*ARGS, "--agent-dir=single", "-p", "no:xdist")
    assert single.ret == pytest.ExitCode.OK
    reference = decision_of(uneven_suite, "single")
    assert reference["verdict"] == "better"

    auto = uneven_suite.runpytest(*ARGS, "--agent-dir=auto", "-n", "2")
    assert auto.ret == pytest.ExitCode.OK
    # auto: the base window (2 x 2 workers) plus what the test certainly reads; decided by the end, so the base.
    assert seen(uneven_suite) == {"kind": "AdaptiveLookahead", "items": 4, "base": 4}
    assert decision_of(uneven_suite, "auto") == reference

    uneven_suite.makeini("[pytest]\nagent_lookahead = 3\n")
    fixed = uneven_suite.runpytest(*ARGS, "--agent-dir=fixed", "-n", "2")
    assert fixed.ret == pytest.ExitCode.OK
    assert seen(uneven_suite) == {"kind": "FixedLookahead", "items": 3, "base": None}
    assert decision_of(uneven_suite, "fixed") == reference


def test_a_given_lookahead_holds_for_a_run_with_several_candidates(pytester: pytest.Pytester) -> None:
    """Several candidates have one test each and no single feeder: a given N still reaches the scheduler."""
    folder = pytester.path / "configs"
    folder.mkdir()
    (folder / "base.json").write_text(json.dumps({"experiment_id": "base", "model_id": "gpt-4o-mini"}))
    for name in ("one", "two"):
        (folder / f"{name}.json").write_text(
            json.dumps({"experiment_id": name, "parent": "base", "guidelines+": [name]})
        )
    pytester.makepyfile(test_suite=UNEVEN_SUITE)
    pytester.makeconftest(SPY_CONFTEST)
    args = ("--agent-config=configs/one.json", "--agent-config=configs/two.json", "--sprt", "--agent-trials=6")
    result = pytester.runpytest(*args, "--agent-seed=5", "-p", "no:randomly", "-n", "2", "--agent-lookahead=3")
    assert result.ret in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED), result.stdout.str()
    assert seen(pytester) == {"kind": "FixedLookahead", "items": 3, "base": None}
