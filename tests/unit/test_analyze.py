"""agentopt analyze: failure clusters, the prompt it would send, and suggestions from a model (fake_llm)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pytest_agentopt.cli.main import main
from pytest_agentopt.fake_llm import FakeLLM, FakeUsage
from pytest_agentopt.storage.ledger import LedgerWriter, write_json_atomic

SECRET = "sk-analyze-0123456789abcdef"


def record(seq: int, outcome: str, message: str | None, task: str) -> dict[str, Any]:
    return {
        "schema": 1, "run_id": "r1", "experiment_id": "exp_042", "arm": "test", "config_hash": "h",
        "task_id": f"t::{task}", "task_code": task, "category": "discriminative", "optimal_steps": 4,
        "impossible": False, "trial": seq, "seq": seq, "seed": seq, "outcome": outcome,
        "error_type": None if outcome == "success" else "AssertionError", "message": message, "tokens": None,
        "model": "gpt-5-mini", "cost_usd": None, "price_source": None, "latency_s": 0.1, "steps": 5,
        "tool_calls": 3, "metrics": {}, "attempts": 1, "worker": "main", "started_at": "2026-11-23T10:00:00Z",
        "finished_at": "2026-11-23T10:00:01Z", "after_decision": False,
    }  # fmt: skip


@pytest.fixture
def history(tmp_path: Path) -> Path:
    run = tmp_path / "runs" / "r1"
    config = {"experiment_id": "exp_042", "model_id": "gpt-5-mini", "guidelines": ["Check coupon limits first"]}
    write_json_atomic(
        run / "manifest.json",
        {
            "schema": 1, "run_id": "r1", "created_at": "2026-11-23T10:00:00Z", "experiment_id": "exp_042",
            "control_experiment_id": None, "prompt_components": {}, "overrides": [], "options": {}, "versions": {},
            "run": {"seed": 1, "trials": 9, "arms": ["test"], "sprt": False, "alpha": 0.05, "beta": 0.1,
                    "effect": 0.15, "target": None, "direction": "both"},
            "arms": {"test": {"experiment_id": "exp_042", "config_hash": "h", "source": None, "config": config,
                              "prompt_components": []}},
            "resumes": [],
        },
    )  # fmt: skip
    with LedgerWriter(run / "trials.jsonl") as ledger:
        for seq in range(6):
            ledger.append(record(seq, "failure", f"wrong coupon on order {seq}: used SAVE{seq}0", "coupon_used_up"))
        for seq in range(6, 9):
            ledger.append(record(seq, "failure", "placed an order although the task is impossible", "rtx_sold_out"))
        ledger.append(record(9, "success", None, "coupon_used_up"))
    return tmp_path


def test_without_llm_it_prints_the_clusters(
    history: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # the table wraps long messages to the terminal's width
    assert main(["analyze", "--agent-dir", str(history)]) == 0
    out = capsys.readouterr().out
    assert "wrong coupon on order <n>: used <id>" in out
    assert "add --llm --llm-model NAME" in out


def test_show_prompt_prints_exactly_what_would_be_sent(history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--agent-dir", str(history), "--show-prompt"]) == 0
    messages = json.loads(capsys.readouterr().out)
    payload = json.loads(messages[1]["content"])
    assert payload["existing_guidelines"] == ["Check coupon limits first"]
    assert [c["count"] for c in payload["failure_clusters"]] == [6, 3]
    assert payload["failure_clusters"][0]["tasks"] == ["coupon_used_up"]


def test_with_llm_it_prints_suggestions_with_their_evidence(
    history: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AGENTOPT_TEST_KEY", SECRET)
    monkeypatch.setenv("COLUMNS", "200")
    with FakeLLM() as llm:
        llm.reply_json(
            {
                "suggestions": [
                    {"guideline": "Read a coupon's remaining uses before applying it", "clusters": [1],
                     "rationale": "6 failures used exhausted coupons"},
                    {"guideline": "Refuse when no product is in stock", "clusters": [2], "rationale": "impossible"},
                ]
            },
            usage=FakeUsage(input=500, output=80),
        )  # fmt: skip
        code = main(
            ["analyze", "--agent-dir", str(history), "--llm", "--llm-model", "gpt-5-mini",
             "--llm-base-url", llm.base_url, "--llm-api-key-env", "AGENTOPT_TEST_KEY"]
        )  # fmt: skip
        sent = llm.requests
    out = capsys.readouterr().out
    assert code == 0
    assert "1. Read a coupon's remaining uses before applying it" in out
    assert "   evidence: cluster 1: 6 trials, AssertionError: wrong coupon on order <n>: used <id>" in out
    assert "   evidence: cluster 2: 3 trials" in out
    assert len(sent) == 1
    assert sent[0].api_key_present
    body = json.dumps(sent[0].json)
    assert SECRET not in body
    assert "Check coupon limits first" in body
    assert sent[0].json["response_format"] == {"type": "json_object"}
    assert SECRET not in out


def test_a_model_that_answers_nonsense_is_a_clear_error(history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeLLM() as llm:
        llm.reply("I think you should try harder.")
        code = main(
            ["analyze", "--agent-dir", str(history), "--llm", "--llm-model", "m", "--llm-base-url", llm.base_url]
        )
    assert code == 2
    assert "the model's answer is not the expected JSON" in capsys.readouterr().err


def test_llm_needs_a_model_and_a_key_for_remote_endpoints(
    history: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["analyze", "--agent-dir", str(history), "--llm"]) == 2
    assert "--llm needs --llm-model NAME" in capsys.readouterr().err
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    args = ["analyze", "--agent-dir", str(history), "--llm", "--llm-model", "m"]
    assert main([*args, "--llm-base-url", "https://example.invalid/v1", "--llm-api-key-env", "NO_SUCH_KEY_VAR"]) == 2
    assert "the environment variable NO_SUCH_KEY_VAR is not set" in capsys.readouterr().err


def test_json_without_llm_prints_the_clusters_and_the_prompt(history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--agent-dir", str(history), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {"clusters", "prompt"}
    assert [(c["count"], c["tasks"]) for c in printed["clusters"]] == [(6, ["coupon_used_up"]), (3, ["rtx_sold_out"])]
    assert main(["analyze", "--agent-dir", str(history), "--show-prompt"]) == 0
    assert printed["prompt"] == json.loads(capsys.readouterr().out)  # exactly what --llm would send


def test_json_with_nothing_to_analyse_is_still_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", "--agent-dir", str(tmp_path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"clusters": [], "prompt": None}


def test_json_with_llm_adds_the_suggestions(history: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with FakeLLM() as llm:
        llm.reply_json({"suggestions": [{"guideline": "Refuse sold-out orders", "clusters": [2], "rationale": "r"}]})
        code = main(
            ["analyze", "--agent-dir", str(history), "--json", "--llm", "--llm-model", "m",
             "--llm-base-url", llm.base_url]
        )  # fmt: skip
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert [s["guideline"] for s in printed["suggestions"]] == ["Refuse sold-out orders"]
    assert len(printed["clusters"]) == 2
    assert printed["prompt"][1]["role"] == "user"


def test_run_directory_needs_no_agent_dir(
    history: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # no ./.agentopt here
    assert main(["analyze", "--run", str(history / "runs" / "r1"), "--json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert [c["count"] for c in printed["clusters"]] == [6, 3]
    payload = json.loads(printed["prompt"][1]["content"])
    assert payload["existing_guidelines"] == ["Check coupon limits first"]  # the run's own configs
    assert main(["analyze", "--run", "no-such-run"]) == 2
    assert "no-such-run: no run with that id or path" in capsys.readouterr().err
