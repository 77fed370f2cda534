"""A small agent suite for the reports' end-to-end tests: varied usage (some trials record none), errors, metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

SUITE = """
import random
import pytest

P_CONTROL = 0.35
P_TEST = 0.85

TASKS = [
    ("alpha", "discriminative", False),
    ("beta", "discriminative", False),
    ("gamma", "trivial", False),
    ("delta", "challenging", False),
    ("epsilon", "refusal", True),
]
PARAMS = [
    pytest.param(code, marks=pytest.mark.agent_task(code=code, category=kind, optimal_steps=3, impossible=refuse))
    for code, kind, refuse in TASKS
]

@pytest.mark.parametrize("task", PARAMS)
def test_task(task, agent_config, agent_trial):
    rng = random.Random(agent_trial.seed)
    p = P_TEST if agent_config.guidelines else P_CONTROL
    scale = 8 if agent_config.model_id == "gpt-4o" else 1
    if rng.random() < 0.85:  # the others record no usage: unknown tokens and cost
        agent_trial.record_usage(
            input_tokens=scale * rng.randint(500, 5000),
            output_tokens=rng.randint(50, 900),
            cache_read_tokens=rng.randint(0, 400),
        )
    agent_trial.record(steps=rng.randint(2, 9), tool_calls=rng.randint(1, 8), claimed_done=rng.random() < 0.7)
    if rng.random() < 0.06:
        raise KeyError("order 1234 has no field 'total'")
    assert rng.random() < p, f"{task}: wrong item | expected <b>the cheap one</b>"
"""

CONFIGS = {
    "base": {"experiment_id": "base", "model_id": "gpt-4o-mini", "temperature": 0.2},
    "improved": {"experiment_id": "improved", "parent": "base", "guidelines+": ["Check coupon limits first"]},
    "pricey": {"experiment_id": "pricey", "model_id": "gpt-4o", "temperature": 0.2},
    "pricey_improved": {
        "experiment_id": "pricey_improved",
        "parent": "pricey",
        "guidelines+": ["Check coupon limits first"],
    },
}


def write_suite(pytester: pytest.Pytester) -> None:
    (pytester.path / "configs").mkdir(exist_ok=True)
    for name, config in CONFIGS.items():
        (pytester.path / "configs" / f"{name}.json").write_text(json.dumps(config))
    pytester.makepyfile(test_suite=SUITE)


def run_suite(pytester: pytest.Pytester, config: str, *args: str) -> pytest.RunResult:
    return pytester.runpytest("-p", "no:randomly", f"--agent-config=configs/{config}.json", *args)


def runs(pytester: pytest.Pytester) -> list[Path]:
    """The run directories in the order they were created (two runs in the same second have run ids that sort by
    their random suffix, so the manifest's millisecond timestamp decides)."""

    def created(run_dir: Path) -> tuple[str, str]:
        manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
        return (str(manifest["created_at"]), run_dir.name)

    return sorted((pytester.path / ".agentopt" / "runs").iterdir(), key=created)


def summary(run_dir: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    return loaded
