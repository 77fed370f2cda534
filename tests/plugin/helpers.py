"""Helpers for end-to-end tests: a tiny agent suite with two configs, run through pytester."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

BASE = {"experiment_id": "base", "model_id": "gpt-4o-mini", "temperature": 0.2}
IMPROVED = {"experiment_id": "improved", "parent": "base", "guidelines+": ["Check coupon limits first"]}

# A task whose success depends on the arm: the test arm (with the guideline) succeeds with probability
# P_TEST, the control with P_CONTROL, drawn from the trial seed so both arms of a pair share randomness.
SUITE = """
import random
import pytest

P_CONTROL = {p_control}
P_TEST = {p_test}

@pytest.mark.parametrize("task", [f"t{{i}}" for i in range({tasks})])
def test_task(task, agent_config, agent_trial):
    rng = random.Random(agent_trial.seed)
    p = P_TEST if agent_config.guidelines else P_CONTROL
    agent_trial.record_usage(input_tokens=1000, output_tokens=200, cache_read_tokens=100)
    agent_trial.record(steps=3, tool_calls=2)
    assert rng.random() < p, f"{{task}} failed"
"""


def write_configs(pytester: pytest.Pytester, **extra: Any) -> None:
    (pytester.path / "configs").mkdir(exist_ok=True)
    (pytester.path / "configs" / "base.json").write_text(json.dumps({**BASE, **extra}))
    (pytester.path / "configs" / "improved.json").write_text(json.dumps(IMPROVED))


def write_suite(pytester: pytest.Pytester, *, p_control: float, p_test: float, tasks: int = 6) -> None:
    pytester.makepyfile(test_suite=SUITE.format(p_control=p_control, p_test=p_test, tasks=tasks))


def only_run(pytester: pytest.Pytester) -> Path:
    runs = sorted((pytester.path / ".agentopt" / "runs").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


def read_trials(run_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (run_dir / "trials.jsonl").read_text().splitlines() if line.strip()]
