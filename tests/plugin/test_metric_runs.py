"""Runs that decide on another metric than success, end to end: a binary flag, a cost ratio, cheaper at the same
quality, and a hypothesis beside the config (in process and under ``-n 2``)."""

from __future__ import annotations

import json
import sys
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

AGENTOPT = "import sys; from pytest_agentopt.cli.main import main; sys.exit(main(sys.argv[1:]))"
"""The agentopt command of this interpreter (the console script need not be on PATH)."""


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


def test_missing_values_are_reported_never_scored(pytester: pytest.Pytester) -> None:
    write_metric_suite(pytester, record_flag=False)
    result = pytester.runpytest(
        "--agent-config=configs/improved.json",
        "--sprt",
        "--agent-metric=early_stop",
        "--agent-trials=3",
        "--agent-seed=3",
        "-q",
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    summary = summary_of(pytester)
    assert summary["verdict"] == "inconclusive"
    assert summary["metric"]["pairs_used"] == 0
    assert summary["metric"]["pairs_missing"] == 18
    # the missing figure says so under -q
    result.stdout.fnmatch_lines(["*metric 'early_stop': 18 pairs had a trial without a value*not scored*"])


def test_a_cost_ratio_is_decided_by_the_median_ratio_test(pytester: pytest.Pytester) -> None:
    write_metric_suite(pytester, cost_ratio=0.5)
    result = pytester.runpytest(
        "--agent-config=configs/improved.json",
        "--sprt",
        "--agent-metric=tokens",
        "--agent-effect-ratio=0.8",
        "--agent-trials=20",
        "--agent-seed=5",
        "--agent-md=report.md",
        "--agent-html=report.html",
        "--agent-csv=report.csv",
        "--agent-json=summary.json",
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    summary = summary_of(pytester)
    metric = summary["metric"]
    assert summary["verdict"] == "better"
    assert metric["kind"] == "numeric"
    assert metric["lower_is_better"] is True
    assert metric["upper"] < 1.0
    assert metric["lower"] <= metric["estimate"] <= metric["upper"]
    assert 0.4 < metric["estimate"] < 0.6  # the suite halves the tokens
    assert summary["trials_skipped"] > 0  # stopped early
    assert "'tokens'" in (pytester.path / "report.md").read_text()
    result.stdout.fnmatch_lines(["*verdict BETTER*'tokens'*"])


def test_cheaper_same_quality_end_to_end(pytester: pytest.Pytester) -> None:
    write_metric_suite(pytester, cost_ratio=0.5, p_success=0.8)
    result = pytester.runpytest(
        "--agent-config=configs/improved.json",
        "--sprt",
        "--agent-metric=cheaper_same_quality",
        "--agent-effect-ratio=0.8",
        "--agent-seed=7",
        "-q",
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    summary = summary_of(pytester)
    assert summary["verdict"] == "cheaper_same_quality"
    components = summary["metric"]["components"]
    assert components["quality"]["verdict"] == "not_worse"
    assert components["cost"]["verdict"] == "better"
    assert summary["settings"]["direction"] == "worse"
    result.stdout.fnmatch_lines(["*verdict*CHEAPER SAME QUALITY*"])
    # The quality half runs at a false not_worse <= alpha and a false worse <= beta/2: the calibrated design for
    # those settings ships, so no start-up warning about Wald's bounds.
    assert summary["design"]["boundaries"] == "calibrated"
    assert "its quality test must keep a false not_worse" not in result.stdout.str()
    assert "a false claim at most 0.05" in summary["verdict_reason"]


def test_worse_quality_fails_the_gate_under_xdist(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    write_metric_suite(pytester, cost_ratio=0.5)
    # the candidate is cheaper but fails far more often
    (pytester.path / "test_suite.py").write_text(
        (pytester.path / "test_suite.py")
        .read_text()
        .replace("assert rng.random() < 0.7", "assert rng.random() < (0.2 if improved else 0.9)")
    )
    result = pytester.runpytest(
        "--agent-config=configs/improved.json",
        "--sprt",
        "--agent-metric=cheaper_same_quality",
        "--agent-effect-ratio=0.8",
        "--agent-seed=7",
        "-n",
        "2",
        "-q",
    )
    summary = summary_of(pytester)
    assert summary["verdict"] == "worse_quality"
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--agent-metric=cost"], "*--agent-metric=cost is a numeric metric*needs --agent-effect-ratio*"),
        (["--agent-effect-ratio=0.8"], "*--agent-effect-ratio=0.8 needs a numeric metric*"),
        (["--agent-metric=cost", "--agent-effect-ratio=1"], "*--agent-effect-ratio=1*positive ratio other than 1*"),
        (["--agent-metric=cheaper_same_quality", "--agent-effect-ratio=1.5"], "*needs --agent-effect-ratio below 1*"),
        (["--agent-metric=not a name"], "*--agent-metric=not a name: must be success*"),
    ],
)
def test_bad_metric_options_are_usage_errors(pytester: pytest.Pytester, arguments: list[str], message: str) -> None:
    write_metric_suite(pytester)
    result = pytester.runpytest("--agent-config=configs/improved.json", "--sprt", *arguments)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([message])
    assert not (pytester.path / ".agentopt" / "runs").exists()


def test_a_metric_needs_sprt(pytester: pytest.Pytester) -> None:
    write_metric_suite(pytester)
    result = pytester.runpytest("--agent-config=configs/improved.json", "--agent-metric=early_stop")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--agent-metric=early_stop needs --sprt and a control config*"])


def test_a_hypothesis_beside_the_config_sets_metric_and_effect(pytester: pytest.Pytester) -> None:
    write_metric_suite(pytester)
    hypothesis = {
        "id": "h_2024_01",
        "description": "Early termination rule",
        "guideline": "Check coupon limits first",
        "metric": "early_stop_rate",
        "method": "SPRT",
        "expected_improvement": 0.15,
    }
    (pytester.path / "configs" / "improved.hypothesis.json").write_text(json.dumps(hypothesis))
    result = pytester.runpytest("--agent-config=configs/improved.json", "--sprt", "--agent-seed=3")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    summary = summary_of(pytester)
    assert summary["metric"]["name"] == "early_stop"
    assert summary["verdict"] == "better"
    assert summary["hypothesis"]["id"] == "h_2024_01"
    assert summary["hypothesis"]["status"] == "accepted"
    result.stdout.fnmatch_lines(["agentopt: *deciding on the binary metric 'early_stop', hypothesis h_2024_01;*"])
    manifest = json.loads((only_run(pytester) / "manifest.json").read_text())
    assert manifest["run"]["hypothesis"]["id"] == "h_2024_01"
    assert manifest["run"]["metric"]["name"] == "early_stop"
    listing = pytester.run(
        sys.executable, "-c", AGENTOPT, "hypotheses", "--agent-dir", str(pytester.path / ".agentopt"), "--json"
    )
    assert listing.ret == 0, listing.stderr.str()
    (entry,) = json.loads(listing.stdout.str())["hypotheses"]
    assert entry["id"] == "h_2024_01"
    assert entry["status"] == "accepted"
    assert entry["runs"] == 1
    assert entry["time_to_decision_s"] >= 0
    assert entry["effect"]["kind"] == "rate difference"


def test_a_bad_hypothesis_file_is_a_usage_error_naming_the_field(pytester: pytest.Pytester) -> None:
    write_metric_suite(pytester)
    (pytester.path / "configs" / "improved.hypothesis.json").write_text(
        json.dumps({"id": "h1", "expected_improvement": 2})
    )
    result = pytester.runpytest("--agent-config=configs/improved.json", "--sprt")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*improved.hypothesis.json: field 'expected_improvement' must be a number*"])


def test_a_binary_metric_under_xdist(pytester: pytest.Pytester) -> None:
    pytest.importorskip("xdist")
    write_metric_suite(pytester)
    result = pytester.runpytest(
        "--agent-config=configs/improved.json", "--sprt", "--agent-metric=early_stop", "--agent-seed=3", "-n", "2"
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    summary = summary_of(pytester)
    assert summary["verdict"] == "better"
    assert summary["metric"]["pairs_used"] == summary["pairs_used"]
    assert summary["trials_skipped"] > 0  # the decided run skipped the rest on every worker
    result.stdout.fnmatch_lines(["metric   early_stop: rate test - control +*over * pairs"])


def test_a_resumed_metric_run_keeps_its_metric(pytester: pytest.Pytester) -> None:
    write_metric_suite(pytester)
    first = pytester.runpytest(
        "--agent-config=configs/improved.json", "--sprt", "--agent-metric=early_stop", "--agent-seed=3", "-q"
    )
    assert first.ret == pytest.ExitCode.OK
    run_dir = only_run(pytester)
    before = summary_of(pytester)
    resumed = pytester.runpytest(f"--agent-resume={run_dir.name}", "-q")
    assert resumed.ret == pytest.ExitCode.OK, resumed.stdout.str()
    after = summary_of(pytester)
    assert after["metric"]["name"] == "early_stop"
    assert after["verdict"] == before["verdict"] == "better"
    assert after["pairs_used"] == before["pairs_used"]
