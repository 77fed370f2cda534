"""Acceptance: real openai, anthropic and pydantic-ai clients against fake_llm, priced to the figure computed by hand.

Two models per trial (gpt-4.1-mini and claude-haiku-4-5) under configs whose ``provider`` is ``"openai"``: the
Claude calls must still get Anthropic's price. The clients are imported at module top in one suite and inside the
task in the other (the second records nothing by hand: its usage comes from pydantic-ai's spans, which must be on
from the first trial). Every trial's cost, and the figure the terminal, ``--agent-json``, ``--agent-csv`` and
``--agent-html`` show, is the hand-computed one.
"""

from __future__ import annotations

import csv
import json
from typing import Any

import pytest

from pytest_agentopt.number_format import usd
from tests.plugin.helpers import only_run, read_trials

# Per million tokens, from genai-prices' tables (input / cache read / cache write / output):
# gpt-4.1-mini: $0.40 / $0.10 / - / $1.60; claude-haiku-4-5: $1.00 / $0.10 / $1.25 / $5.00.
GPT_CALL = (1000 * 0.40 + 200 * 0.10 + 300 * 1.60) / 1e6  # FakeUsage(input=1200, output=300, cache_read=200)
CLAUDE_CALL = (300 * 1.00 + 600 * 0.10 + 100 * 1.25 + 100 * 5.00) / 1e6  # input 1000 = 300 + 600 read + 100 write
CLAUDE_AGENT_CALL = (500 * 1.00 + 50 * 5.00) / 1e6  # FakeUsage(input=500, output=50)

BASE = {"experiment_id": "base", "model_id": "gpt-4.1-mini", "provider": "openai", "temperature": 0.2}
IMPROVED = {"experiment_id": "improved", "parent": "base", "guidelines+": ["Check coupon limits first"]}

CLIENTS_AT_MODULE_TOP = """
import anthropic
import openai
import pytest
from pydantic_ai import Agent
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.providers.anthropic import AnthropicProvider

from pytest_agentopt.fake_llm import FakeUsage


@pytest.mark.parametrize("task", ["a", "b"])
def test_task(task, agent_config, agent_trial, fake_llm):
    fake_llm.reply("done", usage=FakeUsage(input=1200, output=300, cache_read=200))
    fake_llm.reply("ok", usage=FakeUsage(input=1000, output=100, cache_read=600, cache_write=100))
    fake_llm.reply("agent", usage=FakeUsage(input=500, output=50))
    chat = openai.OpenAI(base_url=fake_llm.base_url, api_key="k", max_retries=0)
    response = chat.chat.completions.create(model=agent_config.model_id, messages=[{"role": "user", "content": "go"}])
    agent_trial.record_usage(response)
    claude = anthropic.Anthropic(base_url=fake_llm.anthropic_base_url, api_key="k", max_retries=0)
    message = claude.messages.create(
        model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "check"}]
    )
    agent_trial.record_usage(message)
    provider = AnthropicProvider(base_url=fake_llm.anthropic_base_url, api_key="k")
    model = AnthropicModel("claude-haiku-4-5", provider=provider)
    result = Agent(model).run_sync("summarise")
    agent_trial.record_usage(result)
    assert result.output == "agent"
"""

# OpenTelemetry imported at module top: the plugin installs its span processor at the first trial, before the
# task imports pydantic-ai (the order in which instrumentation used to be missed on every trial).
CLIENTS_INSIDE_THE_TASK = """
import opentelemetry.trace  # noqa: F401
import pytest


@pytest.mark.parametrize("task", ["a", "b"])
def test_task(task, agent_config, fake_llm):
    from pydantic_ai import Agent
    from pydantic_ai.models.anthropic import AnthropicModel
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.anthropic import AnthropicProvider
    from pydantic_ai.providers.openai import OpenAIProvider

    from pytest_agentopt.fake_llm import FakeUsage

    fake_llm.reply("first", usage=FakeUsage(input=1200, output=300, cache_read=200))
    fake_llm.reply("second", usage=FakeUsage(input=1000, output=100, cache_read=600, cache_write=100))
    gpt = OpenAIChatModel(agent_config.model_id, provider=OpenAIProvider(base_url=fake_llm.base_url, api_key="k"))
    claude = AnthropicModel(
        "claude-haiku-4-5", provider=AnthropicProvider(base_url=fake_llm.anthropic_base_url, api_key="k")
    )
    assert Agent(gpt).run_sync("plan").output == "first"
    assert Agent(claude).run_sync("check").output == "second"
"""


def _write_configs(pytester: pytest.Pytester) -> None:
    (pytester.path / "configs").mkdir()
    (pytester.path / "configs" / "base.json").write_text(json.dumps(BASE))
    (pytester.path / "configs" / "improved.json").write_text(json.dumps(IMPROVED))


def _run(pytester: pytest.Pytester, *extra: str, fresh: bool = False) -> tuple[pytest.RunResult, dict[str, Any]]:
    """Under xdist the workers are fresh processes whatever runs the controller; without it, ``fresh`` runs pytest
    in a new interpreter (pydantic-ai must not have been imported before the task imports it)."""
    run = pytester.runpytest_subprocess if fresh else pytester.runpytest
    result = run(
        "--agent-config=configs/improved.json",
        "--agent-trials=2",
        "--agent-json=summary.json",
        "--agent-csv=trials.csv",
        "--agent-html=report.html",
        "-p",
        "no:randomly",
        *extra,
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    return result, json.loads((pytester.path / "summary.json").read_text())


def _assert_every_output_shows(
    pytester: pytest.Pytester, result: pytest.RunResult, summary: dict[str, Any], per_trial: float
) -> None:
    records = read_trials(only_run(pytester))
    assert len(records) == 8
    for record in records:
        assert record["cost_usd"] == pytest.approx(per_trial, rel=1e-9), record
    with (pytester.path / "trials.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8
    for row in rows:
        assert float(row["cost_usd"]) == pytest.approx(per_trial, rel=1e-9)
    html = (pytester.path / "report.html").read_text()
    shown = usd(per_trial)
    for arm in ("control", "test"):
        figures = summary["arms"][arm]
        assert figures["cost_per_trial_usd"] == pytest.approx(per_trial, rel=1e-9)
        assert (figures["trials_with_cost"], figures["trials"]) == (4, 4)
        line = next(text for text in result.stdout.lines if text.startswith(f"{arm} "))
        assert shown in line.split(), line
    assert html.count(f">{shown}<") >= 2  # the est. $/trial cell of both arms
    assert summary["coverage"] == []
    assert not [line for line in result.stdout.lines if "no price" in line or "cost covers" in line]


def test_sdks_imported_at_module_top_price_both_models_of_every_trial(pytester: pytest.Pytester) -> None:
    _write_configs(pytester)
    pytester.makepyfile(test_agents=CLIENTS_AT_MODULE_TOP)
    result, summary = _run(pytester, "-n", "2")
    _assert_every_output_shows(pytester, result, summary, GPT_CALL + CLAUDE_CALL + CLAUDE_AGENT_CALL)
    models = {record["model"] for record in read_trials(only_run(pytester))}
    assert models == {"claude-haiku-4-5,gpt-4.1-mini"}


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_pydantic_ai_imported_inside_the_task_is_captured_and_priced_from_the_first_trial(
    pytester: pytest.Pytester, workers: list[str]
) -> None:
    _write_configs(pytester)
    pytester.makepyfile(test_agents=CLIENTS_INSIDE_THE_TASK)
    result, summary = _run(pytester, *workers, fresh=not workers)
    _assert_every_output_shows(pytester, result, summary, GPT_CALL + CLAUDE_CALL)
    for record in read_trials(only_run(pytester)):
        assert record["tokens"] == {"input": 2200, "output": 400, "cache_read": 800, "cache_write": 100, "reasoning": 0}
