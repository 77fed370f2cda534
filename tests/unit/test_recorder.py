"""The agent_trial object: usage in any shape adds up per model; metrics are plain values."""

from __future__ import annotations

import pytest

from pytest_agentopt.configs.model import AgentConfig
from pytest_agentopt.recording.agent_trial import AgentTrial
from pytest_agentopt.recording.usage import TokenUsage


def recorder() -> AgentTrial:
    config = AgentConfig(experiment_id="e", model_id="gpt-5-mini")
    return AgentTrial(
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


def _recorder_for(model_id: str) -> AgentTrial:
    config = AgentConfig(experiment_id="e", model_id=model_id)
    return AgentTrial(
        arm="test", index=0, seed=1, task_id="t", task_code=None, seq=0, configs={"test": config}, model_id=model_id
    )


def _anthropic_message() -> object:
    import anthropic.types

    return anthropic.types.Message(
        id="msg_1",
        type="message",
        role="assistant",
        model="claude-sonnet-4-5",
        content=[],
        stop_reason="end_turn",
        stop_sequence=None,
        usage=anthropic.types.Usage(input_tokens=1000, output_tokens=225),
    )


def test_a_whole_anthropic_message_is_priced_as_its_model_under_a_gpt_config() -> None:
    trial = _recorder_for("gpt-4.1-mini")
    trial.record_usage(_anthropic_message())
    assert set(trial.usage_by_model) == {"claude-sonnet-4-5"}
    assert trial.warnings == []


def test_a_bare_anthropic_usage_under_a_gpt_config_warns_with_the_fix() -> None:
    trial = _recorder_for("gpt-4.1-mini")
    trial.record_usage(_anthropic_message().usage)  # type: ignore[attr-defined]
    assert set(trial.usage_by_model) == {"gpt-4.1-mini"}  # nothing else names the model
    (warning,) = trial.warnings
    assert warning.startswith(
        "record_usage() got a bare Anthropic usage object, which names no model, in a trial whose config model is "
        "'gpt-4.1-mini'"
    )
    assert "agent_trial.record_usage(response)" in warning
    assert "model=response.model" in warning
    named = _recorder_for("gpt-4.1-mini")
    named.record_usage(_anthropic_message().usage, model="claude-sonnet-4-5")  # type: ignore[attr-defined]
    assert named.warnings == []
    assert set(named.usage_by_model) == {"claude-sonnet-4-5"}


def test_a_bare_openai_usage_warns_under_a_claude_config_and_not_under_a_gpt_config() -> None:
    from openai.types import CompletionUsage

    usage = CompletionUsage(prompt_tokens=100, completion_tokens=10, total_tokens=110)
    claude = _recorder_for("claude-haiku-4-5")
    claude.record_usage(usage)
    assert len(claude.warnings) == 1
    assert "bare OpenAI Chat Completions usage object" in claude.warnings[0]
    gpt = _recorder_for("gpt-4.1-mini")
    gpt.record_usage(usage)
    gpt.record_usage({"input_tokens": 5, "output_tokens": 1})  # no provider-specific shape: nothing to say
    assert gpt.warnings == []


class _RunResult:
    """What record_usage reads of a pydantic-ai run result: this run's messages (``new_messages()``)."""

    def __init__(self, messages: list[object]) -> None:
        self._messages = messages

    def new_messages(self) -> list[object]:
        return self._messages


def test_a_pydantic_ai_result_is_priced_model_by_model_with_the_provider_that_served_each() -> None:
    from pydantic_ai.messages import ModelRequest, ModelResponse, TextPart, UserPromptPart
    from pydantic_ai.usage import RequestUsage

    result = _RunResult(
        [
            ModelRequest(parts=[UserPromptPart("hi")]),
            ModelResponse(
                parts=[TextPart("a")],
                usage=RequestUsage(input_tokens=300, output_tokens=30, cache_read_tokens=100),
                model_name="gpt-4.1-mini",
                provider_name="openai",
            ),
            ModelResponse(
                parts=[TextPart("b")],
                usage=RequestUsage(input_tokens=500, output_tokens=50),
                model_name="claude-haiku-4-5",
                provider_name="anthropic",
            ),
        ]
    )
    trial = _recorder_for("gpt-4.1-mini")
    trial.record_usage(result)
    by_model = trial.usage_by_model
    assert by_model == {
        "gpt-4.1-mini": TokenUsage(300, 30, cache_read_tokens=100, model="gpt-4.1-mini", provider="openai"),
        "claude-haiku-4-5": TokenUsage(500, 50, model="claude-haiku-4-5", provider="anthropic"),
    }


def test_a_langchain_message_names_its_model_and_provider() -> None:
    from types import SimpleNamespace

    message = SimpleNamespace(
        content="ok",
        usage_metadata={"input_tokens": 40, "output_tokens": 4, "input_token_details": {"cache_read": 10}},
        response_metadata={"model_name": "claude-haiku-4-5", "model_provider": "anthropic"},
    )
    trial = _recorder_for("gpt-4.1-mini")
    trial.record_usage(message)
    assert trial.usage_by_model == {
        "claude-haiku-4-5": TokenUsage(40, 4, cache_read_tokens=10, model="claude-haiku-4-5", provider="anthropic")
    }
    assert trial.warnings == []
