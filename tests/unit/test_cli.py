"""The agentopt command: configs, manual SPRT checks and planning."""

from __future__ import annotations

import argparse
import json
import math
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from pytest_agentopt.cli.main import COMMANDS, build_parser, main


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def run_text(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(list(args)) == 0
    return capsys.readouterr().out


@pytest.fixture
def configs(tmp_path: Path) -> Path:
    (tmp_path / "base.json").write_text(json.dumps({"experiment_id": "base", "model_id": "gpt-5-mini"}))
    (tmp_path / "exp.json").write_text(json.dumps({"experiment_id": "exp", "parent": "base", "guidelines+": ["g"]}))
    return tmp_path


def test_config_show_prints_the_resolved_config_hash_and_components(
    configs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shown = run_json(capsys, "config", "show", str(configs / "exp.json"), "--set", "temperature=0.5")
    assert shown["config"]["guidelines"] == ["g"]
    assert shown["config"]["temperature"] == 0.5
    assert len(shown["config_hash"]) == 16
    assert list(shown["prompt_components"].values()) == ["g"]
    assert main(["config", "show", str(configs / "exp.json")]) == 0
    text = capsys.readouterr().out
    assert "# config hash: " in text
    assert '"model_id": "gpt-5-mini"' in text


def test_config_diff_names_the_changed_keys(configs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "diff", str(configs / "base.json"), str(configs / "exp.json")]) == 0
    assert '  guidelines: +"g"' in capsys.readouterr().out.splitlines()


def test_a_bad_config_is_one_line_on_stderr_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "bad.json").write_text('{"model_id": 3}')
    assert main(["config", "show", str(tmp_path / "bad.json")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"agentopt: error: {tmp_path / 'bad.json'}: field 'model_id'")
    assert "Traceback" not in err


def test_sprt_with_pairs_gives_the_paired_llrs(capsys: pytest.CaptureFixture[str]) -> None:
    # Checked against a numerical maximisation of the trinomial likelihood over the discordance (scipy, bounded
    # Brent): 2.3064432949916096 and -3.587081587936993.
    from pytest_agentopt.stats.design import calibrated_design

    result = run_json(capsys, "sprt", "--control", "12/30", "--test", "20/30", "--pairs", "10,2,18")
    # The plugin's bounds: calibrated, at the observed discordance 12/30.
    design = calibrated_design(0.05, 0.10, 0.15, "both")
    assert design is not None
    assert result["boundaries"] == "calibrated"
    assert tuple(result["bounds"]) == design.bounds.at(12 / 30)
    assert result["llr"]["better"] == pytest.approx(2.306443294991614, abs=1e-12)
    assert result["llr"]["worse"] == pytest.approx(-3.587081587936991, abs=1e-12)
    # The regression test is below its lower bound (not worse is settled), the improvement test below its upper.
    assert result["states"] == {"better": "running", "worse": "accepted_h0"}
    assert result["verdict"] == "inconclusive"


def test_sprt_says_which_test_has_settled_and_which_is_still_running(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sprt", "--control", "12/30", "--test", "20/30", "--pairs", "10,2,18"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "tests    regression test: accepted H0 (not worse by 0.15); improvement test: running" in lines
    assert "verdict  inconclusive: the improvement test is still running: keep sampling" in lines


def test_sprt_reads_only_the_asked_test_for_a_one_sided_question(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_json(
        capsys, "sprt", "--control", "12/30", "--test", "20/30", "--pairs", "10,2,18", "--direction", "worse"
    )
    assert result["states"] == {"better": None, "worse": "accepted_h0"}
    assert result["verdict"] == "not_worse"
    assert main(["sprt", "--control", "12/30", "--test", "20/30", "--pairs", "10,2,18", "--direction", "better"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "tests    regression test: not run (--direction better); improvement test: running" in lines
    assert "verdict  inconclusive: no bound crossed: keep sampling" in lines


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--alpha", "0.6", "--alpha: must be in (0, 0.5), got 0.6"),
        ("--beta", "0", "--beta: must be in (0, 0.5), got 0.0"),
        ("--effect", "1.5", "--effect: must be in (0, 1), got 1.5"),
    ],
)
@pytest.mark.parametrize("command", [["sprt", "--control", "1/2", "--test", "1/2"], ["plan", "--p0", "0.3"]])
def test_sprt_and_plan_name_the_flag_of_an_out_of_range_setting(
    capsys: pytest.CaptureFixture[str], command: list[str], flag: str, value: str, message: str
) -> None:
    assert main([*command, flag, value]) == 2
    assert capsys.readouterr().err == f"agentopt: error: {message}\n"


def test_sprt_all_wins_matches_the_closed_form(capsys: pytest.CaptureFixture[str]) -> None:
    # 21 wins and nothing else: LLR = 21 log(0.575 / 0.5) = 2.935 >= 2.890
    result = run_json(capsys, "sprt", "--control", "0/21", "--test", "21/21", "--pairs", "21,0,0")
    assert result["llr"]["better"] == pytest.approx(21 * math.log(0.575 / 0.5))
    assert result["verdict"] == "better"


def test_sprt_without_pairs_uses_two_binomials(capsys: pytest.CaptureFixture[str]) -> None:
    result = run_json(capsys, "sprt", "--control", "30/100", "--test", "30/100")
    assert result["llr"]["better"] < 0
    assert result["llr"]["worse"] < 0
    assert result["method"].startswith("generalized LLR of two independent binomials")


def test_sprt_refuses_inconsistent_pairs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sprt", "--control", "12/30", "--test", "20/30", "--pairs", "1,2,3"]) == 2
    assert "--pairs 1,2,3 describes 6 pairs" in capsys.readouterr().err


def test_plan_one_sample_reproduces_the_exact_figures(capsys: pytest.CaptureFixture[str]) -> None:
    plan = run_json(capsys, "plan", "--p0", "0.5", "--effect", "0.15")
    assert plan["fixed_n"] == 92
    assert round(plan["asn_h0"], 1) == 45.7
    assert round(plan["asn_h1"], 1) == 55.6
    assert round(plan["alpha_exact"], 4) == 0.0450
    assert round(plan["beta_exact"], 4) == 0.0871
    assert round(plan["lower_bound_h0"], 1) == 42.3
    assert round(plan["lower_bound_h1"], 1) == 52.0
    assert plan["asn_h0_wald"] == pytest.approx(plan["lower_bound_h0"])


def test_plan_paired_with_cost(capsys: pytest.CaptureFixture[str]) -> None:
    plan = run_json(
        capsys,
        "plan",
        "--p0",
        "0.6",
        "--effect",
        "0.15",
        "--spread",
        "2",
        "--direction",
        "better",
        "--cost-per-trial",
        "0.05",
        "--max-trials",
        "300",
    )
    # The exact DP of the calibrated design at the cap of 300 pairs, last look included (test_stats_gsprt_dp pins
    # the DP itself); the lower bounds of any test are 54.24 / 59.75.
    assert plan["fixed_n"] == 110
    assert plan["boundaries"] == "calibrated"
    assert plan["cap"] == plan["worst_case"] == 300
    assert plan["asn_h0"] == pytest.approx(57.15236419284516, abs=1e-9)
    assert plan["asn_h1"] == pytest.approx(66.15863927490506, abs=1e-9)
    assert (plan["p95_h0"], plan["p95_h1"]) == (148, 158)
    assert plan["alpha_exact"] == pytest.approx(0.045973715751475894, abs=1e-12)
    assert plan["beta_exact"] == pytest.approx(0.09815154309465868, abs=1e-12)
    assert plan["undecided_h0"] == pytest.approx(0.0011968925023376764, abs=1e-12)
    assert plan["undecided_h1"] == pytest.approx(0.001022166290109941, abs=1e-12)
    # At the least favourable discordance, from the shipped table: what this cap delivers whatever the suite.
    assert plan["worst_alpha_at_cap"] <= 0.05
    assert plan["worst_power_at_cap"] < 0.9
    assert plan["cost"] == {
        "per_session_usd": 0.05,
        "source": "--cost-per-trial",
        "expected_usd_h0": pytest.approx(0.05 * 2 * 57.15236419284516, abs=1e-9),
        "expected_usd_h1": pytest.approx(0.05 * 2 * 66.15863927490506, abs=1e-9),
        "p95_usd": pytest.approx(0.05 * 2 * 158),
        "fixed_n_usd": pytest.approx(0.05 * 2 * 110),
    }


@pytest.mark.parametrize(("direction", "noted"), [("both", True), ("better", False)])
def test_plan_says_the_lower_bound_answers_one_question_when_the_test_asks_both(
    direction: str, noted: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["plan", "--p0", "0.6", "--effect", "0.15", "--spread", "2", "--max-trials", "200"]
    assert main([*args, "--direction", direction]) == 0
    text = capsys.readouterr().out
    assert "lower bound, any test" in text
    assert ("the lower bound is that of one question" in text) is noted


def test_plan_refuses_impossible_rates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--p0", "0.9", "--effect", "0.15"]) == 2
    assert "p0 + effect must be below 1" in capsys.readouterr().err


def test_plan_plans_the_cap_the_plugin_uses_for_the_given_tasks_and_trials(capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_agentopt.run.sequential_design import design_for

    design = design_for(0.05, 0.10, 0.15, "worse")
    assert design.required_pairs is not None
    given = run_json(capsys, "plan", "--p0", "0.6", "--direction", "worse", "--tasks", "10", "--trials", "10")
    assert given["cap"] == 100
    figures = design.at_cap(100)
    assert figures is not None
    assert given["worst_power_at_cap"] == pytest.approx(1 - figures.miss)
    derived = run_json(capsys, "plan", "--p0", "0.6", "--direction", "worse", "--tasks", "10")
    assert derived["cap"] == 10 * math.ceil(design.required_pairs / 10)  # as the plugin derives it
    assert derived["worst_power_at_cap"] >= 0.9
    alone = run_json(capsys, "plan", "--p0", "0.6", "--direction", "worse")
    assert alone["cap"] == design.required_pairs


def test_plan_asks_the_question_the_plugin_asks(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_json(capsys, "plan", "--p0", "0.6", "--tasks", "10")["direction"] == "both"
    monkeypatch.setenv("CI", "true")
    assert run_json(capsys, "plan", "--p0", "0.6", "--tasks", "10")["direction"] == "worse"


def test_sprt_evaluates_pair_counts_alone(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sprt", "--pairs", "10,2,18", "--direction", "worse"]) == 0
    out = capsys.readouterr().out
    assert "pairs    10,2,18 (W,L,D)" in out
    assert "calibrated over the discordance" in out
    assert "verdict  not_worse" in out
    assert main(["sprt"]) == 2
    assert "give --pairs W,L,D" in capsys.readouterr().err


def test_an_os_error_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_agentopt.cli.main import run

    def handler(args: argparse.Namespace) -> int:
        raise PermissionError(13, "Permission denied", ".agentopt/runs/r1/trials.jsonl")

    assert run(argparse.Namespace(handler=handler)) == 2
    assert capsys.readouterr().err == "agentopt: error: .agentopt/runs/r1/trials.jsonl: Permission denied\n"


def test_report_reads_a_damaged_summary_as_unknown_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.analysis.ledger_factory import trial, write_run

    run = write_run(tmp_path, "r1", [trial(seq=0)], summary={"settings": 0.5, "notes": 3, "arms": [1], "verdict": 7})
    assert main(["report", str(run)]) == 0
    assert main(["plan", "--p0", "0.5", "--from-run", str(run), "--agent-dir", str(tmp_path)]) == 2
    assert "the run recorded no cost" in capsys.readouterr().err


def test_report_names_the_field_that_keeps_a_summary_from_its_documented_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.analysis.ledger_factory import trial, write_run

    run = write_run(tmp_path, "r1", [trial(seq=0)], summary={"settings": 0.5, "verdict": 7})
    assert main(["report", str(run)]) == 0
    out = capsys.readouterr().out
    assert "summary.json: field 'arms': missing" in out  # the first required field it lacks
    assert "does not have the shape docs/summary.md describes" in out


def test_report_of_a_summary_the_plugin_wrote_has_no_shape_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.analysis.ledger_factory import trial, write_run
    from tests.unit.test_summary import pairs, summarize

    summary = summarize(pairs([("failure", "success")] * 12))
    run = write_run(tmp_path, "r1", [trial(seq=0)], summary=summary)
    assert main(["report", str(run)]) == 0
    assert "does not have the shape" not in capsys.readouterr().out


def _every_parser(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found.extend(_every_parser(sub))
    return found


def test_no_help_text_shows_a_doubled_percent_sign() -> None:
    parsers = _every_parser(build_parser())
    assert len(parsers) > len(COMMANDS)
    doubled = [parser.prog for parser in parsers if "%%" in parser.format_help()]
    assert not doubled, f"help texts that show a literal '%%': {doubled}"


def test_version_prints_the_installed_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"agentopt (pytest-agentopt) {metadata.version('pytest-agentopt')}"


def test_config_show_says_which_unreadable_file_it_skipped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "v1.json").write_text(json.dumps({"experiment_id": "baseline", "model_id": "m"}))
    (tmp_path / "child.json").write_text(json.dumps({"experiment_id": "child", "parent": "baseline"}))
    (tmp_path / "a_notes.json").write_bytes(b"\xff not a config")
    assert main(["config", "show", str(tmp_path / "child.json"), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["config"]["model_id"] == "m"
    assert captured.err.startswith(f"agentopt: warning: skipped {tmp_path / 'a_notes.json'}: not UTF-8 text")


def test_report_reads_a_damaged_coverage_as_none(tmp_path: Path) -> None:
    from tests.analysis.ledger_factory import trial, write_run

    run = write_run(tmp_path, "r1", [trial(seq=0)], summary={"coverage": True, "spend": [1], "arms": {"test": 3}})
    assert main(["report", str(run)]) == 0


def test_plan_for_several_candidates_tests_each_at_alpha_over_k_and_shares_the_control(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ("plan", "--p0", "0.6", "--max-trials", "300", "--direction", "both", "--sim-runs", "200")
    single = run_json(capsys, *args, "--alpha", "0.0125")
    group = run_json(capsys, *args, "--candidates", "4")
    assert group["candidates"]["alpha_per_candidate"] == pytest.approx(0.0125)
    # Per candidate: exactly the plan of one A/B test at alpha/4.
    assert group["asn_h0"] == pytest.approx(single["asn_h0"])
    figures = group["candidates"]
    assert figures["separate_sessions_h0"] == pytest.approx(8 * single["asn_h0"])
    # The run's figures are a simulation of the plugin's own candidate tests: each candidate's simulated pairs
    # agree with the exact DP within 4 Monte Carlo sd (a candidate's pairs have sd <= 150 at a cap of 300, so the
    # mean of 4 x 200 runs has sd <= 150 / sqrt(200) = 10.6; the tolerance is 4 x 10.6).
    for name in ("h0", "h1"):
        assert abs(figures[f"candidate_pairs_{name}_simulated"] - group[f"asn_{name}"]) <= 4 * 10.6
        # The shared control runs until the last candidate decides: between one candidate's average and the cap.
        assert group[f"asn_{name}"] < figures[f"control_pairs_{name}"] <= 300
        assert figures[f"sessions_{name}"] < figures[f"separate_sessions_{name}"]
        assert 0 < figures[f"sessions_{name}_se"] < 0.05 * figures[f"sessions_{name}"]
    from pytest_agentopt.cli.plan_cmd import render

    assert any("seeded simulation of the plugin's candidate tests, 200 runs each" in line for line in render(group))
    assert "candidates" not in run_json(capsys, *args)  # one candidate: the plan as before


def test_report_shows_no_figure_of_a_summary_without_the_documented_shape(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.analysis.ledger_factory import trial, write_run
    from tests.unit.test_summary import pairs, summarize

    summary = dict(summarize(pairs([("failure", "success")] * 12)))
    summary["spend"] = {"usd": "lots", "trials": 24, "unpriced": 0}  # one field damaged
    run = write_run(tmp_path, "r1", [trial(seq=0)], summary=summary)
    assert main(["report", str(run)]) == 0
    out = capsys.readouterr().out
    assert "summary.json: field 'spend.usd': expected float, got 'lots'" in out
    assert "its figures are not shown" in out
    assert "Verdict" not in out  # the verdict of a summary that does not read as documented is not shown
    assert out.count("warning: ") == 1  # said once, where the file is read


def test_plan_with_several_candidates_uses_the_cap_a_run_derives(capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_agentopt.cli.plan_cmd import DEFAULT_PAIRED_CAP_FACTOR
    from pytest_agentopt.run.sequential_design import candidate_design

    # K = 2 and 7: alpha/K has a calibrated design, whose required pairs the run takes as its cap
    for k in (2, 7):
        plan = run_json(
            capsys, "plan", "--p0", "0.6", "--candidates", str(k), "--direction", "worse", "--sim-runs", "20"
        )
        calibrated = candidate_design(k, 0.05, 0.1, 0.15, "worse")
        assert calibrated.source == "calibrated"
        assert plan["cap"] == calibrated.required_pairs
        assert plan["cap_source"].startswith(f"the pairs the calibrated design of alpha/{k} needs")
    # K = 9: Wald's bounds at alpha/9 and no derived cap, as for any setting without a calibration
    plan = run_json(capsys, "plan", "--p0", "0.6", "--candidates", "9", "--direction", "worse", "--sim-runs", "20")
    assert candidate_design(9, 0.05, 0.1, 0.15, "worse").source == "wald"
    assert plan["cap_source"] == f"{DEFAULT_PAIRED_CAP_FACTOR}x the fixed-sample n"
    assert plan["cap"] == DEFAULT_PAIRED_CAP_FACTOR * plan["fixed_n"]


def _independent_ratio_runs(ratio: float, log_sd: float, cap: int, runs: int, seed: int) -> tuple[float, float]:
    """Mean pairs and its Monte Carlo sd of the plugin's numeric test, fed here directly (not through the plan)."""
    import random
    import statistics

    from pytest_agentopt.run.metric_choice import MetricChoice
    from pytest_agentopt.run.metric_pairs import metric_pairs
    from pytest_agentopt.stats.sprt import SequentialSettings

    rng = random.Random(seed)
    used = []
    for _ in range(runs):
        pairs = metric_pairs(MetricChoice("cost", "numeric", 0.8), SequentialSettings(), "better", None)
        n = 0
        while n < cap and pairs.verdict is None:
            pairs.add_results(("success", 1.0), ("success", math.exp(rng.gauss(math.log(ratio), log_sd))))
            n += 1
        used.append(n)
    return statistics.fmean(used), statistics.stdev(used) / math.sqrt(runs)


def test_plan_of_a_numeric_metric_is_a_simulation_of_the_real_test(capsys: pytest.CaptureFixture[str]) -> None:
    args = ("plan", "--metric", "cost", "--effect-ratio", "0.8", "--log-sd", "0.5", "--max-trials", "400")
    plan = run_json(capsys, *args, "--sim-runs", "300", "--cost-per-trial", "0.01")
    assert plan["design"] == "numeric"
    for name, ratio, seed in (("h0", 1.0, 5), ("h1", 0.8, 6)):
        figure = plan["scenarios"][name]
        expected, expected_se = _independent_ratio_runs(ratio, 0.5, 400, 300, seed)
        # two independent estimates of one mean: they differ by more than 4 combined sd with probability < 1e-4
        assert abs(figure["mean_pairs"] - expected) <= 4 * math.hypot(figure["standard_error"], expected_se)
        assert figure["standard_error"] > 0
    assert plan["scenarios"]["h1"]["verdicts"]["better"] > 0.5
    assert plan["cost"]["expected_usd_h1"] == pytest.approx(0.01 * 2 * plan["asn_h1"])
    out = run_text(capsys, *args, "--sim-runs", "20")
    assert "seeded simulation of the plugin's own test, 20 runs per world" in out
    assert "+/-" in out


def test_plan_of_cheaper_same_quality_reports_its_worlds_and_the_quality_half(
    capsys: pytest.CaptureFixture[str],
) -> None:
    plan = run_json(
        capsys, "plan", "--metric", "cheaper_same_quality", "--p0", "0.75", "--log-sd", "0.3", "--tasks", "20",
        "--trials", "20", "--sim-runs", "200",
    )  # fmt: skip
    assert plan["design"] == "cheaper_same_quality"
    assert set(plan["scenarios"]) == {"h0", "h1", "quality_drop"}
    # A clear saving at equal quality is mostly claimed, a quality drop mostly found worse (binomial sd <= 0.036).
    assert plan["scenarios"]["h1"]["verdicts"]["cheaper_same_quality"] >= 0.9 - 4 * 0.036
    assert plan["scenarios"]["quality_drop"]["verdicts"]["worse_quality"] >= 0.8
    quality = plan["quality_half"]
    assert (quality["false_not_worse_level"], quality["false_worse_level"]) == (0.05, 0.05)
    assert plan["boundaries"] == "calibrated"  # the shipped table holds the quality half's setting


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--metric", "cost", "--max-trials", "100"], "give --log-sd"),
        (["--metric", "cost", "--log-sd", "1"], "give the cap"),
        (["--metric", "cost", "--log-sd", "-1", "--max-trials", "9"], "--log-sd -1.0: must be a positive number"),
        (["--metric", "cheaper_same_quality", "--log-sd", "1", "--max-trials", "9"], "needs --p0"),
        (["--metric", "cheaper_same_quality", "--effect-ratio", "1.2", "--p0", "0.5"], "needs a saving"),
        (["--metric", "cost", "--log-sd", "1", "--max-trials", "9", "--candidates", "2"], "success only"),
        (["--effect", "0.1"], "--p0: the control's success rate is needed"),
        (["--metric", "cost", "--log-sd", "1", "--max-trials", "9", "--alpha", "0.7"], "alpha"),
        (["--metric", "cost", "--log-sd", "1", "--max-trials", "0"], "--max-trials 0: must be at least 1"),
    ],
)
def test_plan_usage_errors_name_the_flag(
    capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    assert main(["plan", *arguments]) == 2
    assert message in capsys.readouterr().err


def test_plan_takes_the_log_ratio_spread_from_a_previous_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import statistics

    from tests.analysis.ledger_factory import trial, write_run

    costs = [(0.010, 0.008), (0.020, 0.030), (0.005, 0.004), (0.040, 0.010)]
    records = []
    for index, (control, test) in enumerate(costs):
        records.append(trial(arm="control", task=f"t{index}", trial_index=0, seq=2 * index, cost=control))
        records.append(trial(arm="test", task=f"t{index}", trial_index=0, seq=2 * index + 1, cost=test))
    records.append(trial(arm="test", task="t9", trial_index=0, seq=9, cost=0.01))  # no control half: left out
    run = write_run(tmp_path, "r1", records)
    plan = run_json(
        capsys, "plan", "--metric", "cost", "--from-run", str(run), "--agent-dir", str(tmp_path),
        "--max-trials", "50", "--sim-runs", "20", "--cost-per-trial", "0.01",
    )  # fmt: skip
    expected = statistics.stdev(math.log(t / c) for c, t in costs)
    assert plan["log_sd"] == pytest.approx(expected)
    assert plan["log_sd_source"] == "run r1 (4 pairs)"


def test_plan_of_cheaper_same_quality_takes_the_control_rate_and_spread_from_a_previous_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.analysis.ledger_factory import run_summary, trial, write_run

    records = []
    for index, (control, test) in enumerate([(0.01, 0.008), (0.02, 0.01), (0.01, 0.02)]):
        records.append(trial(arm="control", task=f"t{index}", trial_index=0, seq=2 * index, cost=control))
        records.append(trial(arm="test", task=f"t{index}", trial_index=0, seq=2 * index + 1, cost=test))
    summary = run_summary()
    for arm in ("control", "test"):
        summary["arms"][arm] = {**summary["arms"][arm], "success_rate": 0.7, "cost_per_trial_usd": 0.012}
    run = write_run(tmp_path, "r1", records, summary=summary)
    plan = run_json(
        capsys, "plan", "--metric", "cheaper_same_quality", "--from-run", str(run), "--agent-dir", str(tmp_path),
        "--max-trials", "40", "--sim-runs", "20",
    )  # fmt: skip
    assert plan["hypotheses"]["control"] == 0.7
    assert plan["log_sd_source"] == "run r1 (3 pairs)"
    assert plan["cost"]["per_session_usd"] == 0.012
    damaged = write_run(tmp_path, "r2", records, summary={"arms": {"control": {"success_rate": "high"}}})
    args = ["plan", "--metric", "cheaper_same_quality", "--from-run", str(damaged), "--agent-dir", str(tmp_path)]
    assert main([*args, "--max-trials", "40", "--log-sd", "1"]) == 2
    assert "no control success rate" in capsys.readouterr().err
