"""What a run says about its usage and cost: a mispriced bare usage, partial cost coverage, a provider hint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from genai_prices import Usage, calc_price

from tests.plugin.helpers import only_run, read_trials, write_configs

ROOT = Path(__file__).resolve().parents[2]

BARE_ANTHROPIC_USAGE = """
import anthropic
import pytest

from pytest_agentopt.fake_llm import FakeUsage


@pytest.mark.parametrize("task", ["a", "b", "c"])
def test_task(task, agent_trial, fake_llm):
    fake_llm.reply("ok", usage=FakeUsage(input=1000, output=225))
    client = anthropic.Anthropic(base_url=fake_llm.anthropic_base_url, api_key="k", max_retries=0)
    message = client.messages.create(
        model="claude-sonnet-4-5", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
    )
    agent_trial.record_usage(message.usage)
"""

SOME_TRIALS_WITHOUT_USAGE = """
import pytest


@pytest.mark.parametrize("task", ["a", "b", "c"])
def test_task(task, agent_config, agent_trial):
    if task != "c" or agent_trial.arm == "control":
        agent_trial.record_usage(input_tokens=1000, output_tokens=100)
"""


def test_a_bare_anthropic_usage_under_a_gpt_config_warns_once_on_the_controller_under_xdist(
    pytester: pytest.Pytester,
) -> None:
    write_configs(pytester, model_id="gpt-4.1-mini")
    pytester.makepyfile(test_bare=BARE_ANTHROPIC_USAGE)
    result = pytester.runpytest("--agent-config=configs/improved.json", "--agent-trials=2", "-n", "2", "-q")
    assert result.ret == pytest.ExitCode.OK
    warnings = [line for line in result.stdout.lines if "bare Anthropic usage object" in line]
    assert len(warnings) == 1, result.stdout.str()
    assert warnings[0].startswith("agentopt: warning: record_usage() got a bare Anthropic usage object")
    assert "agent_trial.record_usage(response)" in warnings[0]
    summary = json.loads((only_run(pytester) / "summary.json").read_text())
    assert sum("bare Anthropic usage object" in note for note in summary["notes"]) == 1


def test_an_arm_whose_cost_covers_some_trials_says_so_under_q_in_json_and_reports(pytester: pytest.Pytester) -> None:
    write_configs(pytester)
    pytester.makepyfile(test_partial=SOME_TRIALS_WITHOUT_USAGE)
    result = pytester.runpytest(
        "--agent-config=configs/improved.json",
        "--agent-trials=2",
        "-q",
        "-p",
        "no:randomly",
        "--agent-json=summary.json",
        "--agent-md=report.md",
        "--agent-html=report.html",
    )
    assert result.ret == pytest.ExitCode.OK
    statement = (
        "test arm: cost covers 4 of 6 trials (2 recorded no usage); est. $/trial is the mean over those 4 and "
        "est. $/success extrapolates it to all 6; record usage with agent_trial.record_usage(response)"
    )
    assert f"agentopt: {statement}" in result.stdout.lines
    assert not [line for line in result.stdout.lines if line.startswith("agentopt: control arm")]
    summary = json.loads((pytester.path / "summary.json").read_text())
    assert summary["coverage"] == [statement]
    assert (summary["arms"]["test"]["trials_with_cost"], summary["arms"]["test"]["trials"]) == (4, 6)
    assert "cost covers 4 of 6 trials" in (pytester.path / "report.md").read_text()
    assert "cost covers 4 of 6 trials" in (pytester.path / "report.html").read_text()


def test_the_example_with_a_claude_model_under_an_openai_provider_is_priced_as_claude(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "pytest",
        "benchmarks",
        "-p",
        "no:randomly",
        "-p",
        "no:cacheprovider",
        "--agent-config=configs/exp_042.json",
        "--agent-control=none",
        "--agent-set",
        "model_id=claude-sonnet-4-5",
        "--agent-trials=1",
        f"--agent-dir={tmp_path / '.agentopt'}",
        f"--agent-json={tmp_path / 'summary.json'}",
        "-k",
        "gpu or coupon",
    ]
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "no price" not in completed.stdout
    assert "estimated cost unknown" not in completed.stdout
    runs = list((tmp_path / ".agentopt" / "runs").iterdir())
    records = read_trials(runs[0])
    assert records
    for record in records:
        tokens = record["tokens"]
        usage = Usage(
            input_tokens=tokens["input"],
            output_tokens=tokens["output"],
            cache_read_tokens=tokens["cache_read"],
            cache_write_tokens=tokens["cache_write"],
            output_reasoning_tokens=tokens["reasoning"],
        )
        expected = float(calc_price(usage, "claude-sonnet-4-5", provider_id="anthropic").total_price)
        assert record["model"] == "claude-sonnet-4-5"
        assert record["cost_usd"] == pytest.approx(expected, rel=1e-9)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["arms"]["test"]["trials_with_cost"] == len(records)
    (note,) = [note for note in summary["notes"] if "claude-sonnet-4-5" in note]
    assert note.startswith("model 'claude-sonnet-4-5' is not listed under provider 'openai'")
    assert "priced as anthropic's 'claude-sonnet-4-5'" in note
