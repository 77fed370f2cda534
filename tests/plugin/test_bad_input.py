"""Hostile or damaged input is a usage error naming the file and the field (exit 4), or a line skipped with a note.

Never an INTERNALERROR (exit 3), never a traceback, never a hang, and no data lost.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.helpers import only_run, read_trials, write_configs, write_suite

ARGS = ["--agent-config=configs/improved.json", "-p", "no:randomly", "-p", "no:cacheprovider"]


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    write_configs(pytester)
    write_suite(pytester, p_control=0.5, p_test=0.5, tasks=2)
    return pytester


def usage_error(result: pytest.RunResult) -> str:
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.USAGE_ERROR, output
    assert "Traceback" not in output
    assert "INTERNALERROR" not in output
    errors = [line for line in result.stderr.lines if line.startswith("ERROR: ")]
    assert len(errors) == 1, output
    return errors[0].removeprefix("ERROR: ")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"experiment_id": "bad", "parent": "base", "model_id": "\xff"}', "not UTF-8 text (byte 0xff at offset 56)"),
        (b"[" * 100_000, "nested too deeply"),
        (
            b'{"experiment_id": "bad", "parent": "base", "max_steps": ' + b"9" * 5000 + b"}",
            "field 'max_steps': an integer",
        ),
        (
            b'{"experiment_id": "bad", "parent": "base", "guidelines+": ["\\ud800"]}',
            "field 'guidelines+[0]': contains a lone",
        ),
        (
            b'{"experiment_id": "bad", "parent": "base", "temperature": 0.1, "temperature": 0.9}',
            "field 'temperature': duplicate key",
        ),
        (
            b'{"experiment_id": "bad", "parent": "base", "params": {"x": NaN}}',
            "field 'params.x': NaN is not a JSON number",
        ),
        (b'{"experiment_id": "bad", "parent": "base", "params": {"x": 1e999}}', "field 'params.x': 1e999 is too large"),
    ],
    ids=["not-utf8", "deep", "long-int", "surrogate", "duplicate-key", "nan-in-params", "overflow"],
)
def test_a_config_that_is_not_json_text_is_a_usage_error_naming_file_and_field(
    suite: pytest.Pytester, content: bytes, expected: str
) -> None:
    (suite.path / "configs" / "bad.json").write_bytes(content)
    message = usage_error(suite.runpytest("--agent-config=configs/bad.json", "-p", "no:cacheprovider"))
    assert message.startswith(f"{suite.path / 'configs' / 'bad.json'}: ")
    assert expected in message
    assert not (suite.path / ".agentopt").exists()


@pytest.mark.skipif(sys.platform == "win32", reason="no FIFOs or /dev/zero")
@pytest.mark.parametrize("kind", ["fifo", "dev-zero"])
def test_a_config_that_is_a_fifo_or_a_device_is_refused_without_hanging(suite: pytest.Pytester, kind: str) -> None:
    path = suite.path / "configs" / "pipe.json"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        path = Path("/dev/zero")
    # A subprocess with a timeout: reading a FIFO or /dev/zero blocks (or grows) forever in the code this replaced.
    result = suite.runpytest_subprocess(f"--agent-config={path}", "-p", "no:cacheprovider", timeout=60)
    assert f"{path}: not a regular file" in usage_error(result)


def test_a_stray_unreadable_json_file_is_skipped_with_a_note_when_a_parent_is_looked_up_by_id(
    pytester: pytest.Pytester,
) -> None:
    configs = pytester.path / "configs"
    configs.mkdir()
    (configs / "v1.json").write_text(json.dumps({"experiment_id": "baseline", "model_id": "m"}))
    (configs / "child.json").write_text(json.dumps({"experiment_id": "child", "parent": "baseline", "temperature": 1}))
    (configs / "a_notes.json").write_bytes(b"\xff\xfe not a config")
    write_suite(pytester, p_control=0.5, p_test=0.5, tasks=1)
    result = pytester.runpytest("--agent-config=configs/child.json", "--agent-trials=1", "-q", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        [
            "agentopt: warning: skipped *a_notes.json: not UTF-8 text (byte 0xff at offset 0)*"
            "(while looking for experiment id 'baseline')"
        ]
    )


def test_resume_refuses_a_conflicting_control_and_accepts_the_same_one(suite: pytest.Pytester) -> None:
    suite.runpytest(*ARGS, "--agent-trials=1")
    run = only_run(suite)
    (suite.path / "configs" / "other.json").write_text(json.dumps({"experiment_id": "other", "model_id": "gpt-5"}))
    before = (run / "trials.jsonl").read_bytes(), (run / "manifest.json").read_bytes()
    message = usage_error(suite.runpytest(f"--agent-resume={run.name}", "--agent-control=configs/other.json"))
    assert message.startswith(f"--agent-control=configs/other.json conflicts with the resumed run {run.name}")
    assert "its control is base" in message
    assert ((run / "trials.jsonl").read_bytes(), (run / "manifest.json").read_bytes()) == before
    assert usage_error(suite.runpytest(f"--agent-resume={run.name}", "--agent-control=none")).startswith(
        "--agent-control=none conflicts"
    )
    same = suite.runpytest(f"--agent-resume={run.name}", "--agent-control=base", "-p", "no:randomly")
    assert same.ret == pytest.ExitCode.OK


def test_resume_ignores_a_conflicting_ini_control_with_a_note(suite: pytest.Pytester) -> None:
    suite.runpytest(*ARGS, "--agent-trials=1")
    run = only_run(suite)
    (suite.path / "configs" / "other.json").write_text(json.dumps({"experiment_id": "other", "model_id": "gpt-5"}))
    suite.makeini("[pytest]\nagent_control = configs/other.json\n")
    result = suite.runpytest(f"--agent-resume={run.name}", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["note: agent_control = configs/other.json (tox.ini) is ignored: the resumed run *"])


def _edit_manifest(run: Path, edit: Any) -> None:
    manifest = json.loads((run / "manifest.json").read_text())
    edit(manifest)
    (run / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda m: m.pop("run"), "field 'run': missing (must be an object)"),
        (lambda m: m["run"].pop("seed"), "field 'run.seed': missing"),
        (lambda m: m["run"].update(alpha="0.05"), "field 'run.alpha': must be in (0, 0.5), got '0.05'"),
        (lambda m: m["run"].update(trials=10**12), "field 'run.trials': must be an integer from 1 to 10000"),
        (lambda m: m["arms"].pop("control"), "field 'arms': must hold exactly the arms control, test"),
        (lambda m: m["arms"]["test"].pop("config_hash"), "field 'arms.test.config_hash': missing"),
        (lambda m: m["arms"]["test"]["config"].update(temperature=9), "field 'arms.test.config': field 'temperature'"),
        (lambda m: m["arms"]["control"]["config"].pop("model_id"), "field 'arms.control.config': field 'model_id'"),
        (lambda m: m.update(schema=None), "field 'schema': expected the manifest's schema number"),
    ],
    ids=["no-run", "no-seed", "alpha-text", "huge-cap", "no-control", "no-hash", "bad-config", "no-model", "no-schema"],
)
def test_resume_refuses_a_damaged_manifest_naming_the_field(suite: pytest.Pytester, edit: Any, expected: str) -> None:
    suite.runpytest(*ARGS, "--agent-trials=1")
    run = only_run(suite)
    _edit_manifest(run, edit)
    before = {path.name: path.read_bytes() for path in run.iterdir()}
    message = usage_error(suite.runpytest(f"--agent-resume={run.name}"))
    assert message.startswith(f"{run.relative_to(suite.path) / 'manifest.json'}: ")
    assert expected in message
    assert {path.name: path.read_bytes() for path in run.iterdir()} == before  # nothing written, nothing lost


def test_resume_skips_ledger_lines_with_wrong_types_with_a_note_and_runs_those_trials_again(
    suite: pytest.Pytester,
) -> None:
    suite.runpytest(*ARGS, "--agent-trials=2", "--agent-seed=5")
    run = only_run(suite)
    lines = (run / "trials.jsonl").read_text().splitlines()
    damaged = [json.loads(line) for line in lines[:3]]
    damaged[0]["task_id"] = ["not", "a", "string"]
    damaged[1]["seq"] = None
    damaged[2]["trial"] = {"x": 1}
    (run / "trials.jsonl").write_text("\n".join([*(json.dumps(r) for r in damaged), *lines[3:]]) + "\n")
    result = suite.runpytest(f"--agent-resume={run.name}", "-p", "no:randomly", "-q")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    ledger = run.relative_to(suite.path) / "trials.jsonl"
    result.stdout.fnmatch_lines(
        [f"agentopt: warning: {ledger}:{n}: skipped an unreadable line (*" for n in (1, 2, 3)]
    )  # under -q too: they are missing data
    valid = [
        r
        for r in read_trials(run)
        if all(isinstance(r[k], t) for k, t in (("seq", int), ("task_id", str), ("trial", int)))
    ]
    assert len(valid) == len(lines)  # the three trials ran again
    assert len({(r["task_id"], r["arm"], r["trial"]) for r in valid}) == len(lines)  # and none twice


def test_an_agent_message_with_a_lone_surrogate_is_recorded_with_a_replacement_character(
    pytester: pytest.Pytester,
) -> None:
    write_configs(pytester)
    pytester.makepyfile(
        test_suite="""
        def test_task(agent_config, agent_trial):
            agent_trial.record(label="caf\\udce9")
            raise ValueError("page said \\udcff")
        """
    )
    result = pytester.runpytest(*ARGS, "--agent-trials=1", "--agent-csv=trials.csv", "--agent-md=report.md")
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.OK, output
    assert "INTERNALERROR" not in output
    records = read_trials(only_run(pytester))
    assert {r["message"] for r in records} == {"page said \N{REPLACEMENT CHARACTER}"}
    assert {r["metrics"]["label"] for r in records} == {"caf\N{REPLACEMENT CHARACTER}"}
    assert "page said \N{REPLACEMENT CHARACTER}" in (pytester.path / "trials.csv").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("assignment", "expected"),
    [
        ('params={"x": NaN}', "--agent-set params={\"x\": NaN}: field 'x': NaN is not a JSON number"),
        ("temperature=1e999", "--agent-set temperature=1e999: 1e999 is too large for a number"),
        ('params={"a": 1, "a": 2}', '--agent-set params={"a": 1, "a": 2}: field \'a\': duplicate key'),
    ],
    ids=["nan-inside", "overflow", "duplicate"],
)
def test_an_override_is_read_as_strictly_as_a_config(suite: pytest.Pytester, assignment: str, expected: str) -> None:
    message = usage_error(suite.runpytest(*ARGS, "--agent-set", assignment))
    assert message.startswith(expected)
