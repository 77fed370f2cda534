"""Several candidates against one control, end to end: per-candidate tests, early skips, verdicts, the gate."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.plugin.helpers import only_run, read_trials

# The arms share the trial seed, so one uniform draw decides every arm of a pair: ``equal`` has exactly the
# control's outcomes (only ties), ``better`` solves whatever the control solves and more, ``worse`` less.
SUITE = """
import random
import pytest

RATES = {"better": 0.99, "equal": 0.6, "worse": 0.1}

@pytest.mark.parametrize("task", [f"t{i}" for i in range(10)])
def test_task(task, agent_config, agent_trial):
    draw = random.Random(agent_trial.seed).random()
    rate = RATES.get(agent_config.guidelines[0], 0.6) if agent_config.guidelines else 0.6
    assert draw < rate
"""


def write_candidates(pytester: pytest.Pytester, names: tuple[str, ...] = ("better", "equal", "worse")) -> None:
    folder = pytester.path / "configs"
    folder.mkdir(exist_ok=True)
    (folder / "base.json").write_text(json.dumps({"experiment_id": "base", "model_id": "gpt-4o-mini"}))
    for name in names:
        config = {"experiment_id": name, "parent": "base", "guidelines+": [name]}
        (folder / f"{name}.json").write_text(json.dumps(config))
    pytester.makepyfile(test_suite=SUITE)


def candidates_by_id(summary: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {candidate["experiment_id"]: candidate for candidate in summary["candidates"]}


@pytest.mark.parametrize("workers", [["-n", "4"], []], ids=["xdist", "single-process"])
def test_three_candidates_are_each_decided_and_skipped_once_decided(
    pytester: pytest.Pytester, workers: list[str]
) -> None:
    write_candidates(pytester)
    result = pytester.runpytest(
        "--agent-config=configs/better.json",
        "--agent-config=configs/equal.json",
        "--agent-config=configs/worse.json",
        "--sprt",
        "--agent-trials=10",
        "--agent-seed=3",
        "--agent-json=out.json",
        "-rs",
        *workers,
    )
    summary = json.loads((pytester.path / "out.json").read_text())
    candidates = candidates_by_id(summary)
    assert {name: c["verdict"] for name, c in candidates.items()} == {
        "better": "better",
        "equal": "no_difference",
        "worse": "worse",
    }
    for candidate in candidates.values():
        assert candidate["decided_by"] == "sprt"
        assert candidate["alpha"] == pytest.approx(0.05 / 3)
        assert set(candidate["llr"]) == {"better", "worse"}
        lower, upper = candidate["bounds"]
        assert lower < 0 < upper
        assert 0 < candidate["pairs_used"] <= candidate["trials_started"] < 100
        assert candidate["effect"] is not None
    assert candidates["better"]["llr"]["better"] >= candidates["better"]["bounds"][1]
    assert candidates["worse"]["llr"]["worse"] >= candidates["worse"]["bounds"][1]
    # The default gate: a candidate proven worse fails the run.
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    assert summary["gate"]["passed"] is False
    assert "worse" in summary["gate"]["reason"]
    records = read_trials(only_run(pytester))
    by_arm: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_arm.setdefault(record["experiment_id"], []).append(record)
    # Each candidate stopped at its own decision: it started fewer trials than the control, which ran on until
    # the last candidate decided.
    control = len(by_arm["base"])
    assert control < 100
    decided_first = min(candidates.values(), key=lambda c: c["pairs_used"])
    assert len(by_arm[decided_first["experiment_id"]]) < control
    for name, candidate in candidates.items():
        assert len(by_arm[name]) == candidate["trials_started"]
        assert candidate["trials_after_decision"] <= (4 if workers else 0)
    decisions = json.loads((only_run(pytester) / "decision.json").read_text())["candidates"]
    assert {d["experiment_id"]: d["verdict"] for d in decisions.values()} == {
        "better": "better",
        "equal": "no_difference",
        "worse": "worse",
    }
    result.stdout.fnmatch_lines(
        [
            "*SKIPPED * test_suite.py:*: agentopt: candidate * decided '*' after * pairs",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "agentopt: candidate better: verdict BETTER (sprt):*",
            "agentopt: candidate equal: verdict NO DIFFERENCE (sprt):*",
            "agentopt: candidate worse: verdict WORSE (sprt):*",
        ]
    )
