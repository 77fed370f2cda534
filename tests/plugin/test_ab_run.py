"""A fixed-sample A/B run end to end: expansion, order, outcomes, ledger, manifest, summary, report."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from tests.plugin.helpers import only_run, read_trials

REQUIRED_ARM_KEYS = {
    "experiment_id",
    "config_hash",
    "trials",
    "successes",
    "failures",
    "errors",
    "infra_errors",
    "success_rate",
    "success_ci",
    "tokens",
    "cost_usd",
    "cost_per_success_usd",
    "mean_latency_s",
}
LEDGER_FIELDS = {
    "schema",
    "run_id",
    "experiment_id",
    "arm",
    "config_hash",
    "task_id",
    "trial",
    "seq",
    "seed",
    "outcome",
    "error_type",
    "message",
    "tokens",
    "model",
    "cost_usd",
    "price_source",
    "latency_s",
    "metrics",
    "worker",
    "started_at",
    "finished_at",
    "after_decision",
}


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest(
        "--agent-config=configs/improved.json", "--agent-trials=3", "--agent-seed=7", "--agent-json=out.json", *args
    )


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["single-process", "xdist-2"])
def test_it_runs_both_arms_of_every_task_and_records_every_trial(
    agent_suite: pytest.Pytester, workers: list[str]
) -> None:
    agent_suite.makepyfile(test_other="def test_ordinary():\n    assert True\n")
    result = run(agent_suite, *workers)
    assert result.ret == pytest.ExitCode.OK  # agent failures are data, not a failed session
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed", 0) + outcomes.get("agent_failed", 0) == 6 * 3 * 2 + 1
    assert outcomes.get("agent_failed", 0) > 0
    result.stdout.fnmatch_lines(
        [
            '*agentopt: control base vs test improved (guidelines: +"Check coupon limits first")*seed 7*',
            "*= agentopt =*",
            "agentopt: verdict *",
        ]
    )

    run_dir = only_run(agent_suite)
    trials = read_trials(run_dir)
    assert len(trials) == 36
    assert all(set(record) >= LEDGER_FIELDS for record in trials)
    assert sorted(record["seq"] for record in trials) == list(range(36))
    by_seq = {record["seq"]: record for record in trials}
    for seq in range(0, 36, 2):
        control, test = by_seq[seq], by_seq[seq + 1]
        assert (control["arm"], test["arm"]) == ("control", "test")
        assert (control["task_id"], control["trial"]) == (test["task_id"], test["trial"])
        assert control["seed"] == test["seed"]
        assert control["task_id"].startswith("test_suite.py::test_task[t")
    # trial-major: every task's trial k comes before any task's trial k+1
    assert [by_seq[seq]["trial"] for seq in range(36)] == sorted(by_seq[seq]["trial"] for seq in range(36))
    assert Counter(record["experiment_id"] for record in trials) == {"base": 18, "improved": 18}
    if workers:
        assert {record["worker"] for record in trials} <= {"gw0", "gw1"}

    summary = json.loads((agent_suite.path / "out.json").read_text())
    assert summary == json.loads((run_dir / "summary.json").read_text())
    assert summary["schema"] == 1
    assert summary["run_id"] == run_dir.name
    assert summary["decided_by"] == "fixed"
    # Seed 7: the test arm (0.9) solved 9 pairs the control (0.3) failed, never the other way round.
    assert summary["verdict"] == "better"
    assert summary["pairs"] == {"both": 6, "test_only": 9, "control_only": 0, "neither": 3}
    assert summary["mcnemar_p"] == 1 / 2**9  # one-sided: --agent-alpha is the rate of each directional claim
    assert summary["mcnemar_direction"] == "better"
    assert summary["pairs_used"] == 18
    for arm in ("control", "test"):
        assert set(summary["arms"][arm]) >= REQUIRED_ARM_KEYS
        assert summary["arms"][arm]["trials"] == 18
    successes = {arm: sum(r["outcome"] == "success" for r in trials if r["arm"] == arm) for arm in ("control", "test")}
    assert {arm: summary["arms"][arm]["successes"] for arm in successes} == successes


def test_usage_is_priced_and_tokens_are_kept_by_class(agent_suite: pytest.Pytester) -> None:
    run(agent_suite, "-p", "no:randomly")
    record = read_trials(only_run(agent_suite))[0]
    assert record["tokens"] == {"input": 1000, "output": 200, "cache_read": 100, "cache_write": 0, "reasoning": 0}
    assert record["model"] == "gpt-4o-mini"
    # genai-prices: gpt-4o-mini $0.15 / $0.60 per million, cache reads $0.075: 900*0.15 + 100*0.075 + 200*0.60
    assert record["cost_usd"] == pytest.approx(262.5e-6, rel=1e-9)
    assert record["price_source"].startswith("genai-prices ")
    assert record["steps"] == 3
    assert record["tool_calls"] == 2


def test_the_manifest_holds_configs_hashes_and_prompt_components(agent_suite: pytest.Pytester) -> None:
    run(agent_suite)
    manifest = json.loads((only_run(agent_suite) / "manifest.json").read_text())
    assert manifest["arms"]["test"]["config"]["guidelines"] == ["Check coupon limits first"]
    assert manifest["arms"]["control"]["config"]["guidelines"] == []
    assert manifest["arms"]["test"]["config_hash"] != manifest["arms"]["control"]["config_hash"]
    assert "Check coupon limits first" in manifest["prompt_components"].values()
    assert manifest["run"]["seed"] == 7
    assert manifest["versions"]["pytest-agentopt"]
    project_hashes = json.loads((agent_suite.path / ".agentopt" / "hashes.json").read_text())
    assert manifest["prompt_components"].items() <= project_hashes.items()


OUTCOME_SUITE = """
import pytest

@pytest.mark.parametrize("kind", ["ok", "assert", "crash", "network"])
def test_kind(kind, agent_trial):
    if kind == "assert":
        assert False, "wrong coupon"
    if kind == "crash":
        raise KeyError("basket")
    if kind == "network":
        raise ConnectionError("provider unreachable")
"""


def test_outcomes_are_classified_and_kept_out_of_the_session_status(pytester: pytest.Pytester) -> None:
    from tests.plugin.helpers import write_configs

    write_configs(pytester)
    pytester.makepyfile(test_kinds=OUTCOME_SUITE)
    result = pytester.runpytest(
        "--agent-config=configs/improved.json",
        "--agent-trials=1",
        "--agent-infra-retries=0",
        "--agent-infra-max-share=0.5",
        "-p",
        "no:randomly",
    )
    assert result.ret == pytest.ExitCode.OK
    outcomes = {r["task_id"].split("[")[1].rstrip("]"): r for r in read_trials(only_run(pytester))}
    assert outcomes["ok"]["outcome"] == "success"
    assert outcomes["assert"]["outcome"] == "failure"
    assert outcomes["assert"]["message"] == "wrong coupon"
    assert outcomes["assert"]["error_type"] == "AssertionError"
    assert outcomes["crash"]["outcome"] == "error"
    assert outcomes["crash"]["error_type"] == "KeyError"
    assert outcomes["crash"]["message"] == "'basket'"
    assert outcomes["network"]["outcome"] == "infra_error"
    assert outcomes["network"]["tokens"] is None  # nothing recorded: unknown, not zero
    summary = json.loads((only_run(pytester) / "summary.json").read_text())
    assert summary["arms"]["test"]["infra_errors"] == 1
    assert summary["arms"]["test"]["trials"] == 3  # the infra error is not a scored trial
    assert "Traceback" not in result.stdout.str()


def test_an_unknown_model_gives_unknown_cost_and_one_warning(pytester: pytest.Pytester) -> None:
    from tests.plugin.helpers import write_configs, write_suite

    write_configs(pytester, model_id="my-private-model")
    write_suite(pytester, p_control=0.5, p_test=0.5, tasks=2)
    result = pytester.runpytest("--agent-config=configs/improved.json", "--agent-trials=2")
    assert result.ret == pytest.ExitCode.OK
    assert all(record["cost_usd"] is None for record in read_trials(only_run(pytester)))
    warnings = [line for line in result.stdout.lines if "estimated cost unknown" in line]
    assert len(warnings) == 1
    assert "my-private-model" in warnings[0]


def test_config_prices_override_genai_prices(pytester: pytest.Pytester) -> None:
    from tests.plugin.helpers import write_configs, write_suite

    write_configs(pytester, prices={"gpt-4o-mini": {"input": 1.0, "output": 2.0}})
    write_suite(pytester, p_control=0.5, p_test=0.5, tasks=1)
    pytester.runpytest("--agent-config=configs/improved.json", "--agent-trials=1")
    record: dict[str, Any] = read_trials(only_run(pytester))[0]
    # cache reads default to the input price: 1000 * 1.0 + 200 * 2.0 per million
    assert record["cost_usd"] == pytest.approx(1400e-6, rel=1e-9)
    assert record["price_source"] == "config prices"


def test_agent_set_overrides_the_test_arm_and_its_hash(agent_suite: pytest.Pytester) -> None:
    run(agent_suite, "--agent-set", "temperature=0.9", "--agent-set", 'params.style="terse"')
    manifest = json.loads((only_run(agent_suite) / "manifest.json").read_text())
    assert manifest["arms"]["test"]["config"]["temperature"] == 0.9
    assert manifest["arms"]["test"]["config"]["params"] == {"style": "terse"}
    assert manifest["arms"]["control"]["config"]["temperature"] == 0.2
    assert manifest["overrides"] == ["temperature=0.9", 'params.style="terse"']


def test_single_config_mode_runs_one_arm_and_has_no_verdict(agent_suite: pytest.Pytester) -> None:
    result = run(agent_suite, "--agent-control=none")
    assert result.ret == pytest.ExitCode.OK
    trials = read_trials(only_run(agent_suite))
    assert {record["arm"] for record in trials} == {"test"}
    assert len(trials) == 18
    summary = json.loads((agent_suite.path / "out.json").read_text())
    assert summary["verdict"] is None
    assert set(summary["arms"]) == {"test"}


def test_verbose_shows_the_per_task_table_and_failure_details(agent_suite: pytest.Pytester) -> None:
    result = run(agent_suite, "-v")
    result.stdout.fnmatch_lines(
        [
            "per task (solved/trials):",
            "agent failures*",
            "  test_suite.py::test_task[[]t*[]] [[]* *[]] AssertionError: t* failed (test_suite.py:*)",
        ]
    )


def test_quiet_prints_only_the_verdict(agent_suite: pytest.Pytester) -> None:
    result = run(agent_suite, "-qq")
    assert not any("= agentopt =" in line for line in result.stdout.lines)
    result.stdout.fnmatch_lines(["agentopt: verdict *"])
