"""The agent_trial object: usage in any shape adds up per model; metrics are plain values."""

from __future__ import annotations

import pytest

from pytest_agentopt.configs import AgentConfig
from pytest_agentopt.recorder import TrialRecorder
from pytest_agentopt.usage import TokenUsage


def recorder() -> TrialRecorder:
    config = AgentConfig(experiment_id="e", model_id="gpt-5-mini")
    return TrialRecorder(
        arm="test", index=0, seed=1, task_id="t", task_code=None, seq=0, configs={"test": config}, model_id="gpt-5-mini"
    )


def test_usage_adds_up_per_model_and_defaults_to_the_config_model() -> None:
    trial = recorder()
    assert trial.usage is None  # unknown until something is recorded
    trial.record_usage(input_tokens=100, output_tokens=10, cache_read_tokens=40)
    trial.record_usage({"prompt_tokens": 50, "completion_tokens": 5})
    trial.record_usage(input_tokens=7, output_tokens=3, model="claude-haiku-4-5")
    by_model = trial.usage_by_model
    assert set(by_model) == {"gpt-5-mini", "claude-haiku-4-5"}
    assert (by_model["gpt-5-mini"].input_tokens, by_model["gpt-5-mini"].cache_read_tokens) == (150, 40)
    total = trial.usage
    assert total is not None
    assert (total.input_tokens, total.output_tokens) == (157, 18)


def test_record_usage_needs_something_to_record() -> None:
    with pytest.raises(TypeError, match="needs a usage object or keywords"):
        recorder().record_usage()
    with pytest.raises(TypeError, match="not both"):
        recorder().record_usage({"prompt_tokens": 1, "completion_tokens": 1}, input_tokens=3)


def test_metrics_must_be_plain_values() -> None:
    trial = recorder()
    trial.record(steps=4, claimed_done=True, label="x")
    assert trial.metrics == {"steps": 4, "claimed_done": True, "label": "x"}
    with pytest.raises(TypeError, match=r"record\(items=\.\.\.\)"):
        trial.record(items=[1, 2])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="finite"):
        trial.record(score=float("nan"))


def test_captured_usage_is_used_only_when_nothing_was_recorded_by_hand() -> None:
    trial = recorder()
    trial.adopt_captured_usage({"": TokenUsage(input_tokens=9, output_tokens=1)})
    assert set(trial.usage_by_model) == {"gpt-5-mini"}
    manual = recorder()
    manual.record_usage(input_tokens=1, output_tokens=1)
    manual.adopt_captured_usage({"": TokenUsage(input_tokens=9, output_tokens=1)})
    assert manual.usage is not None
    assert manual.usage.input_tokens == 1
