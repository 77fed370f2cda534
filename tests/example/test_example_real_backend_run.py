"""The embedded example run by the plugin against an OpenAI-compatible server, with an API key set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from benchmarks.storeagent import TASKS_BY_CODE, NextStep
from benchmarks.storeagent.actions import describe_action
from pytest_agentopt.fake_llm import FakeLLM, FakeUsage, RecordedRequest, TextReply

ROOT = Path(__file__).resolve().parents[2]
SECRET = "sk-live-run-9f8e7d6c5b4a3f2e1d"
TASK = TASKS_BY_CODE["coupon_used_up"]


def policy_player(request: RecordedRequest) -> TextReply:
    step = sum(1 for m in request.json["messages"] if m["role"] == "assistant")
    action = TASK.policy[step]
    text = NextStep(state=f"step {step}", plan=[describe_action(action)], action=action).model_dump_json()
    return TextReply(text, FakeUsage(input=900, output=60, cache_read=512))


def test_a_real_backend_run_records_usage_and_leaves_no_trace_of_the_key(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("STORE_AGENT_KEY", SECRET)
    agent_dir = tmp_path / "agentopt"
    with FakeLLM() as llm:
        llm.default_reply(policy_player)
        result = pytester.runpytest(
            str(ROOT / "benchmarks" / "test_store_tasks.py"),
            f"--agent-config={ROOT / 'configs' / 'exp_042.json'}",
            "--agent-control=none",
            "--agent-trials=2",
            f"--agent-dir={agent_dir}",
            "--agent-set=params.backend=openai",
            f"--agent-set=params.base_url={llm.base_url}",
            "--agent-set=params.api_key_env=STORE_AGENT_KEY",
            f"--agent-html={agent_dir / 'report.html'}",
            "-k",
            f"{TASK.code} and not desk_",  # desk_coupon_used_up would match the code too
            "-p",
            "no:randomly",
        )
        requests = llm.requests
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    (run_dir,) = (agent_dir / "runs").iterdir()
    records: list[dict[str, Any]] = [json.loads(line) for line in (run_dir / "trials.jsonl").read_text().splitlines()]
    assert [r["outcome"] for r in records] == ["success", "success"]
    steps = TASK.optimal_steps
    for record in records:
        assert record["tokens"] == {
            "input": 900 * steps,
            "output": 60 * steps,
            "cache_read": 512 * steps,
            "cache_write": 0,
            "reasoning": 0,
        }
        assert record["cost_usd"] is not None
    assert all(r.api_key_present for r in requests)
    # The key was used for every request, and is nowhere in what the run wrote.
    for path in agent_dir.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(encoding="utf-8", errors="replace"), path
    assert SECRET not in result.stdout.str()
