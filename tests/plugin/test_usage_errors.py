"""Bad configs and options are pytest usage errors: exit 4, one message naming file and field, no traceback."""

from __future__ import annotations

import json

import pytest

from tests.plugin.helpers import write_configs, write_suite


def usage_error(pytester: pytest.Pytester, *args: str) -> str:
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stdout.str() + result.stderr.str()
    assert "Traceback" not in output
    assert not (pytester.path / ".agentopt").exists()  # nothing written, nothing lost
    errors = [line for line in result.stderr.lines if line.startswith("ERROR: ")]
    assert len(errors) == 1, output
    return errors[0].removeprefix("ERROR: ")


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    write_configs(pytester)
    write_suite(pytester, p_control=0.5, p_test=0.5, tasks=1)
    return pytester


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"model_id": "m",}', "configs/bad.json: invalid JSON at line 1, column 18"),
        ('{"model_id": "m", "tempreature": 0.3}', "configs/bad.json: field 'tempreature': unknown key"),
        ('{"model_id": "m", "temperature": "warm"}', "configs/bad.json: field 'temperature': Input should be"),
        ('{"model_id": "m", "parent": "nowhere"}', "configs/bad.json: field 'parent': no config with experiment_id"),
        ('{"model_id": "m", "parent": "bad"}', "configs/bad.json: field 'parent': inheritance cycle"),
        ('{"experiment_id": "bad", "parent": "base", "guidelines-": ["absent"]}', "field 'guidelines-': cannot remove"),
        ('{"experiment_id": "x y", "model_id": "m"}', "configs/bad.json: field 'experiment_id': String should match"),
    ],
    ids=["json", "unknown-key", "type", "missing-parent", "cycle", "remove-absent", "bad-id"],
)
def test_a_malformed_config_is_a_usage_error_naming_file_and_field(
    suite: pytest.Pytester, content: str, expected: str
) -> None:
    (suite.path / "configs" / "bad.json").write_text(content)
    message = usage_error(suite, "--agent-config=configs/bad.json")
    assert expected in message


def test_a_missing_config_file_is_named(suite: pytest.Pytester) -> None:
    assert "configs/nope.json: no such config file" in usage_error(suite, "--agent-config=configs/nope.json")


def test_a_config_without_parent_needs_a_control(suite: pytest.Pytester) -> None:
    message = usage_error(suite, "--agent-config=configs/base.json")
    assert "no 'parent'" in message
    assert "--agent-control" in message


def test_a_bad_override_names_the_option(suite: pytest.Pytester) -> None:
    message = usage_error(suite, "--agent-config=configs/improved.json", "--agent-set", "max_steps=-1")
    assert message.startswith("--agent-set max_steps=-1: field 'max_steps'")


def test_an_ini_config_error_is_a_usage_error_too(suite: pytest.Pytester) -> None:
    suite.makeini("[pytest]\nagent_config = configs/improved.json\nagent_trials = zero\n")
    assert usage_error(suite) == "agent_trials = zero (tox.ini): must be an integer"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--agent-trials=0"], "--agent-trials=0: must be from 1 to 10,000"),
        (["--agent-trials=10000000000"], "--agent-trials=10000000000: must be from 1 to 10,000"),
        (["--agent-alpha=0.7"], "--agent-alpha=0.7: must be between 0 and 0.5"),
        (["--agent-beta=0"], "--agent-beta=0.0: must be between 0 and 0.5"),
        (["--agent-effect=1.5"], "--agent-effect=1.5: must be between 0 and 1"),
        (["--agent-target=0.8"], "--agent-target=0.8 needs --sprt"),
        (["--sprt", "--agent-target=0.1"], "the null rate target - effect"),
        (["--sprt", "--agent-target=1"], "--agent-target=1.0: must be a success rate in (0, 1)"),
        (["--sprt", "--agent-target=0.8", "--agent-control=base"], "cannot be combined with --agent-control=base"),
        (["--agent-direction=worse"], "--agent-direction=worse needs --sprt"),
        (["--sprt", "--agent-control=none"], "--sprt with --agent-control=none needs --agent-target=P"),
        (["--agent-control=configs/nope.json"], "--agent-control=configs/nope.json: no config file configs/nope.json"),
        (["--sprt", "--agent-direction=sideways"], "must be one of both, better, worse"),
        (["--agent-budget=-2"], "--agent-budget=-2.0: must be a positive number"),
        (["--agent-seed=-1"], "--agent-seed=-1: must be a non-negative integer"),
        (["--agent-resume=nope"], "nope: no run with that id or path"),
        (["--sprt", "-n", "2", "--dist", "loadscope"], "--dist loadscope puts all trials of one test on one worker"),
        (["-n", "2", "--dist", "each"], "--dist each cannot run agent trials"),
    ],
)
def test_contradictory_or_out_of_range_options_are_usage_errors(
    suite: pytest.Pytester, args: list[str], expected: str
) -> None:
    assert expected in usage_error(suite, "--agent-config=configs/improved.json", *args)


def test_resume_refuses_a_different_seed(suite: pytest.Pytester) -> None:
    suite.runpytest("--agent-config=configs/improved.json", "--agent-trials=1", "--agent-seed=3")
    run_id = next((suite.path / ".agentopt" / "runs").iterdir()).name
    result = suite.runpytest(f"--agent-resume={run_id}", "--agent-seed=4")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"ERROR: --agent-seed=4 conflicts with the resumed run {run_id} (seed = 3)*"])
    manifest = json.loads((suite.path / ".agentopt" / "runs" / run_id / "manifest.json").read_text())
    assert manifest["resumes"] == []


def test_ini_keys_configure_a_run(suite: pytest.Pytester) -> None:
    suite.makeini(
        "[pytest]\nagent_config = configs/improved.json\nagent_trials = 2\nagent_sprt = true\n"
        "agent_seed = 4\nagent_json = out.json\n"
    )
    result = suite.runpytest()
    assert result.ret == pytest.ExitCode.OK
    summary = json.loads((suite.path / "out.json").read_text())
    assert summary["settings"]["sprt"] is True
    assert summary["settings"]["seed"] == 4
    assert summary["settings"]["trials_per_task_per_arm"] == 2
