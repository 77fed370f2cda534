"""Runs that decide on another metric than success, end to end: a binary flag, a cost ratio, cheaper at the same
quality, and a hypothesis beside the config (in process and under ``-n 2``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.plugin.helpers import only_run, write_configs

# Success is the same coin for both arms; the flag "early_stop" and the cost differ by arm. Every value is drawn
# from the trial's seed, so both arms of a pair share their randomness.
METRIC_SUITE = """
import random
import pytest

@pytest.mark.parametrize("task", [f"t{{i}}" for i in range(6)])
def test_task(task, agent_config, agent_trial):
    rng = random.Random(agent_trial.seed)
    improved = bool(agent_config.guidelines)
    flag_p = {flag_test} if improved else {flag_control}
    if {record_flag}:
        agent_trial.record(early_stop=rng.random() < flag_p)
    tokens = int(1000 * rng.lognormvariate(0, 0.5) * ({cost_ratio} if improved else 1.0))
    agent_trial.record_usage(input_tokens=tokens, output_tokens=tokens // 5)
    assert rng.random() < {p_success}
"""


def write_metric_suite(
    pytester: pytest.Pytester,
    *,
    flag_control: float = 0.3,
    flag_test: float = 0.9,
    cost_ratio: float = 1.0,
    p_success: float = 0.7,
    record_flag: bool = True,
) -> None:
    write_configs(pytester)
    pytester.makepyfile(
        test_suite=METRIC_SUITE.format(
            flag_control=flag_control,
            flag_test=flag_test,
            cost_ratio=cost_ratio,
            p_success=p_success,
            record_flag=record_flag,
        )
    )


def summary_of(pytester: pytest.Pytester) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((only_run(pytester) / "summary.json").read_text())
    return data


def test_a_binary_metric_is_decided_by_the_paired_test(pytester: pytest.Pytester) -> None:
    write_metric_suite(pytester)
    result = pytester.runpytest(
        "--agent-config=configs/improved.json", "--sprt", "--agent-metric=early_stop", "--agent-seed=3", "-q"
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    summary = summary_of(pytester)
    assert summary["verdict"] == "better"
    assert summary["metric"]["name"] == "early_stop"
    assert summary["metric"]["kind"] == "binary"
    assert summary["metric"]["pairs_missing"] == 0
    counts = summary["metric"]["counts"]
    assert counts["wins"] > counts["losses"]
    assert summary["verdict_reason"].startswith("on metric 'early_stop'")
    result.stdout.fnmatch_lines(["*verdict BETTER*early_stop*"])
