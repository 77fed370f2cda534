"""The OpenAI-compatible backend, driven by the real ``openai`` SDK against the plugin's fake LLM server."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from benchmarks.storeagent import TASKS_BY_CODE, NextStep, run_agent
from benchmarks.storeagent.actions import describe_action
from benchmarks.storeagent.openai_backend import (
    BackendError,
    MissingApiKeyError,
    OpenAIChatClient,
    strict_json_schema,
)
from pytest_agentopt.configs.model import AgentConfig
from pytest_agentopt.fake_llm import FakeLLM, FakeUsage, RecordedRequest, TextReply

SECRET = "sk-test-0123456789abcdef"
TASK = TASKS_BY_CODE["coupon_used_up"]


def _config(base_url: str, model_id: str = "gpt-4.1-mini", **params: Any) -> AgentConfig:
    return AgentConfig.model_validate(
        {
            "experiment_id": "real",
            "model_id": model_id,
            "temperature": 0.3,
            "params": {"backend": "openai", "base_url": base_url, "api_key_env": "STORE_AGENT_KEY", **params},
        }
    )


def _policy_player(usage: FakeUsage) -> Any:
    """A default reply that plays the task's reference policy, one step per request."""

    def reply(request: RecordedRequest) -> TextReply:
        step = sum(1 for m in request.json["messages"] if m["role"] == "assistant")
        action = TASK.policy[step]
        text = NextStep(state=f"step {step}", plan=[describe_action(action)], action=action).model_dump_json()
        return TextReply(text, usage)

    return reply


@pytest.fixture
def api_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("STORE_AGENT_KEY", SECRET)
    return SECRET


@pytest.mark.usefixtures("api_key")
def test_the_loop_runs_a_task_against_an_openai_compatible_server_and_sums_its_usage() -> None:
    usage = FakeUsage(input=1200, output=80, cache_read=1024, reasoning=30)
    with FakeLLM() as llm:
        llm.default_reply(_policy_player(usage))
        result = run_agent(TASK, _config(llm.base_url), seed=5)
        requests = llm.requests
    assert result.success, result.failure_reason
    assert result.steps == TASK.optimal_steps == len(requests)
    assert result.usage is not None
    steps = TASK.optimal_steps
    assert (result.usage.input_tokens, result.usage.output_tokens) == (1200 * steps, 80 * steps)
    assert (result.usage.cache_read_tokens, result.usage.reasoning_tokens) == (1024 * steps, 30 * steps)
    assert result.usage.model == "gpt-4.1-mini"
    assert SECRET not in repr(result)


@pytest.mark.usefixtures("api_key")
def test_it_asks_for_strict_json_schema_output_with_seed_and_temperature() -> None:
    with FakeLLM() as llm:
        llm.default_reply(_policy_player(FakeUsage(input=10, output=5)))
        run_agent(TASK, _config(llm.base_url), seed=5)
        body = llm.requests[0].json
    assert body["model"] == "gpt-4.1-mini"
    assert (body["seed"], body["temperature"]) == (5, 0.3)
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["name"] == "NextStep"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert [m["role"] for m in body["messages"]] == ["system", "user"]


@pytest.mark.usefixtures("api_key")
def test_reasoning_models_get_no_temperature_and_json_object_mode_is_available() -> None:
    with FakeLLM() as llm:
        llm.default_reply(_policy_player(FakeUsage(input=10, output=5)))
        run_agent(TASK, _config(llm.base_url, model_id="gpt-5", json_mode="json_object"), seed=5)
        body = llm.requests[0].json
    assert "temperature" not in body
    assert body["response_format"] == {"type": "json_object"}


def test_a_missing_api_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STORE_AGENT_KEY", raising=False)
    with pytest.raises(MissingApiKeyError, match="environment variable STORE_AGENT_KEY"):
        run_agent(TASK, _config("http://127.0.0.1:9/v1"), seed=0)


@pytest.mark.usefixtures("api_key")
def test_provider_errors_propagate_with_their_type_for_infra_classification() -> None:
    with FakeLLM() as llm:
        llm.fail(429, retry_after=0.001)
        with pytest.raises(openai.RateLimitError):
            run_agent(TASK, _config(llm.base_url, max_retries=0), seed=0)


@pytest.mark.usefixtures("api_key")
def test_an_error_message_that_echoes_the_key_is_masked() -> None:
    with FakeLLM() as llm:
        llm.fail(401, message=f"Incorrect API key provided: {SECRET}")
        with pytest.raises(BackendError) as caught:
            run_agent(TASK, _config(llm.base_url, max_retries=0), seed=0)
    assert SECRET not in str(caught.value)
    assert "***" in str(caught.value)


@pytest.mark.usefixtures("api_key")
@pytest.mark.parametrize("fails", [False, True])
def test_the_client_a_run_made_is_closed_when_the_run_ends(monkeypatch: pytest.MonkeyPatch, fails: bool) -> None:
    closed: list[OpenAIChatClient] = []
    original_close = OpenAIChatClient.close

    def recording_close(self: OpenAIChatClient) -> None:
        closed.append(self)
        original_close(self)

    monkeypatch.setattr(OpenAIChatClient, "close", recording_close)
    with FakeLLM() as llm:
        if fails:
            llm.fail(500)
            with pytest.raises(openai.InternalServerError):
                run_agent(TASK, _config(llm.base_url, max_retries=0), seed=0)
        else:
            llm.default_reply(_policy_player(FakeUsage(input=10, output=5)))
            run_agent(TASK, _config(llm.base_url), seed=0)
    assert len(closed) == 1


def test_the_client_repr_names_the_endpoint_not_the_key() -> None:
    client = OpenAIChatClient(model="gpt-4.1-mini", api_key=SECRET, base_url="http://127.0.0.1:9/v1")
    assert SECRET not in repr(client)
    assert SECRET not in json.dumps(vars(client), default=repr)


def _objects(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if node.get("type") == "object":
            found.append(node)
        for value in node.values():
            found.extend(_objects(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(_objects(item))
    return found


def test_the_strict_schema_closes_every_object_and_uses_only_supported_keywords() -> None:
    schema = strict_json_schema(NextStep.model_json_schema())
    objects = _objects(schema)
    assert len(objects) >= 14  # NextStep and its 13 actions
    for node in objects:
        assert node["additionalProperties"] is False
        assert sorted(node["required"]) == sorted(node["properties"])
    text = json.dumps(schema)
    for unsupported in ('"oneOf"', '"discriminator"', '"const"', '"default"'):
        assert unsupported not in text
