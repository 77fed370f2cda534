"""The agentopt command: configs, manual SPRT checks and planning."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from pytest_agentopt.cli.main import main


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> Any:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


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
    result = run_json(capsys, "sprt", "--control", "12/30", "--test", "20/30", "--pairs", "10,2,18")
    lower, upper = result["bounds"]
    assert lower == pytest.approx(math.log(0.1 / 0.95))
    assert upper == pytest.approx(math.log(0.9 / 0.05))
    assert set(result["llr"]) == {"better", "worse"}
    assert result["verdict"] in {"better", "inconclusive"}
    assert (result["verdict"] == "better") == (result["llr"]["better"] >= upper)


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
    assert plan["fixed_n"] == 110
    assert 54.2 <= plan["asn_h0"] <= 1.1 * 54.24
    assert 59.7 <= plan["asn_h1"] <= 1.1 * 59.75
    assert plan["cost"]["expected_usd_h1"] == pytest.approx(0.05 * 2 * plan["asn_h1"])


def test_plan_refuses_impossible_rates(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--p0", "0.9", "--effect", "0.15"]) == 2
    assert "p0 + effect must be below 1" in capsys.readouterr().err
