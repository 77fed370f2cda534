"""Real SDKs against the fake_llm server: usage capture, infrastructure retries, budget, no leaked keys."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.plugin.helpers import only_run, read_trials, write_configs

API_KEY = "sk-test-4f1d9c2b7a6e5d0c"

OPENAI_TASK = """
import openai
import pytest
from pytest_agentopt.fake_llm import FakeUsage

@pytest.mark.parametrize("task", ["a", "b"])
def test_task(task, agent_config, agent_trial, fake_llm):
    fake_llm.default_reply("done")
    fake_llm.reply("done", usage=FakeUsage(input=1200, output=300, cache_read=200, reasoning=50))
    client = openai.OpenAI(base_url=fake_llm.base_url, api_key="{key}", max_retries=0)
    response = client.chat.completions.create(
        model=agent_config.model_id, messages=[{{"role": "user", "content": "buy a gpu"}}]
    )
    agent_trial.record_usage(response)
    assert response.choices[0].message.content == "done"
"""

ANTHROPIC_TASK = """
import anthropic
from pytest_agentopt.fake_llm import FakeUsage

def test_task(agent_config, agent_trial, fake_llm):
    fake_llm.reply("ok", usage=FakeUsage(input=1000, output=100, cache_read=600, cache_write=100))
    client = anthropic.Anthropic(base_url=fake_llm.anthropic_base_url, api_key="test", max_retries=0)
    message = client.messages.create(
        model=agent_config.model_id, max_tokens=50, messages=[{"role": "user", "content": "hi"}]
    )
    agent_trial.record_usage(message)
"""

RETRY_TASK = """
import openai
import pytest
from pytest_agentopt.fake_llm import ErrorReply

@pytest.mark.parametrize("task", ["flaky", "down"])
def test_task(task, agent_trial, fake_llm):
    if task == "flaky":
        fake_llm.fail(429, times=2, retry_after=0.001)
        fake_llm.reply("ok")
    else:
        fake_llm.default_reply(ErrorReply(500))
    client = openai.OpenAI(base_url=fake_llm.base_url, api_key="test", max_retries=0)
    client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    agent_trial.record(requests=len(fake_llm.requests))
"""


def test_openai_usage_is_recorded_exactly_and_priced_by_genai_prices(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    pytester.makepyfile(test_openai=OPENAI_TASK.format(key=API_KEY))
    result = pytester.runpytest("--agent-config=configs/improved.json", "--agent-trials=2", "-n", "2")
    assert result.ret == pytest.ExitCode.OK
    records = read_trials(only_run(pytester))
    assert len(records) == 8
    for record in records:
        assert record["outcome"] == "success"
        assert record["tokens"] == {"input": 1200, "output": 300, "cache_read": 200, "cache_write": 0, "reasoning": 50}
        # gpt-4o-mini: 1000 uncached x $0.15 + 200 cached x $0.075 + 300 output x $0.60, per million
        assert record["cost_usd"] == pytest.approx((1000 * 0.15 + 200 * 0.075 + 300 * 0.60) / 1e6, rel=1e-9)
    # the key appears nowhere in what the run wrote
    hits = subprocess.run(["grep", "-r", API_KEY, str(pytester.path / ".agentopt")], capture_output=True)
    assert hits.returncode == 1, hits.stdout


def test_anthropic_usage_is_normalised_to_total_input(pytester: pytest.Pytester) -> None:
    write_configs(pytester, model_id="claude-haiku-4-5")
    pytester.makepyfile(test_anthropic=ANTHROPIC_TASK)
    result = pytester.runpytest("--agent-config=configs/improved.json", "--agent-trials=1", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.OK
    record = read_trials(only_run(pytester))[0]
    assert record["tokens"] == {"input": 1000, "output": 100, "cache_read": 600, "cache_write": 100, "reasoning": 0}
    # claude-haiku-4-5: $1 input, $0.10 cache read, $1.25 cache write, $5 output per million
    assert record["cost_usd"] == pytest.approx((300 * 1.0 + 600 * 0.10 + 100 * 1.25 + 100 * 5.0) / 1e6, rel=1e-9)


def test_rate_limits_are_retried_and_a_persistent_500_is_an_infra_error(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    pytester.makepyfile(test_retry=RETRY_TASK)
    result = pytester.runpytest(
        "--agent-config=configs/improved.json",
        "--agent-trials=2",
        "--sprt",
        "--agent-infra-backoff=0.001",
        "--agent-infra-max-share=1",
        "-p",
        "no:randomly",
    )
    assert result.ret == pytest.ExitCode.OK
    records = read_trials(only_run(pytester))
    flaky = [r for r in records if "flaky" in r["task_id"]]
    down = [r for r in records if "down" in r["task_id"]]
    assert [r["outcome"] for r in flaky] == ["success"] * 4  # counted once each, as a success
    assert all(r["attempts"] == 3 and r["metrics"]["requests"] == 3 for r in flaky)
    assert [r["outcome"] for r in down] == ["infra_error"] * 4
    assert all(r["attempts"] == 3 and r["error_type"] == "openai.InternalServerError" for r in down)
    summary = json.loads((only_run(pytester) / "summary.json").read_text())
    assert summary["pairs_used"] == 2  # only the flaky task's pairs moved the sequential test
    assert summary["arms"]["test"]["infra_errors"] == 2


def test_too_many_infra_errors_fail_the_run_with_a_clear_message(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    pytester.makepyfile(test_retry=RETRY_TASK)
    result = pytester.runpytest(
        "--agent-config=configs/improved.json", "--agent-trials=1", "--agent-infra-retries=0", "-p", "no:randomly"
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["agentopt: FAILED: *% of trials hit infrastructure errors*"])


def test_the_budget_stops_new_trials_and_the_verdict_is_inconclusive(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    pytester.makepyfile(test_openai=OPENAI_TASK.format(key="k"))
    cost = (1000 * 0.15 + 200 * 0.075 + 300 * 0.60) / 1e6
    result = pytester.runpytest(
        "--agent-config=configs/improved.json",
        "--agent-trials=10",
        f"--agent-budget={cost * 10.5}",
        "-p",
        "no:randomly",
    )
    assert result.ret == pytest.ExitCode.OK
    records = read_trials(only_run(pytester))
    # one process, nothing in flight: after 10 trials (10 x cost spent) the 11th would exceed 10.5 x cost
    assert len(records) == 10
    summary = json.loads((only_run(pytester) / "summary.json").read_text())
    assert summary["verdict"] == "inconclusive"
    assert "budget" in summary["verdict_reason"]
    assert summary["budget"]["exhausted"] is True
    assert summary["trials_skipped"] == 40 - 10
    result.stdout.fnmatch_lines(["budget   $*, estimated spend $* (exhausted: no new trials were started)"])


PYDANTIC_AI_TASK = """
from pydantic_ai import Agent
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider
from pytest_agentopt.fake_llm import FakeUsage

def test_task(agent_config, agent_trial, fake_llm):
    fake_llm.reply("first", usage=FakeUsage(input=400, output=40, cache_read=100))
    model = OpenAIChatModel(agent_config.model_id, provider=OpenAIProvider(base_url=fake_llm.base_url, api_key="k"))
    result = Agent(model).run_sync("hello")
    assert result.output == "first"
"""


def test_usage_is_captured_from_opentelemetry_when_the_task_records_none(pytester: pytest.Pytester) -> None:
    pytest.importorskip("pydantic_ai")
    pytest.importorskip("opentelemetry.sdk")
    write_configs(pytester)
    pytester.makepyfile(test_pai=PYDANTIC_AI_TASK)
    result = pytester.runpytest_subprocess("--agent-config=configs/improved.json", "--agent-trials=1")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    records = read_trials(only_run(pytester))
    assert len(records) == 2
    for record in records:
        assert record["tokens"] == {"input": 400, "output": 40, "cache_read": 100, "cache_write": 0, "reasoning": 0}
        assert record["cost_usd"] is not None


def test_a_trial_without_usage_records_unknown_not_zero(tmp_path: Path, pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    pytester.makepyfile(test_plain="def test_task(agent_trial):\n    pass\n")
    pytester.runpytest("--agent-config=configs/improved.json", "--agent-trials=1", "-p", "no:randomly")
    assert all(r["tokens"] is None and r["cost_usd"] is None for r in read_trials(only_run(pytester)))
