"""A secret placed in a config's params reaches the agent and nothing else: no file of the run, no report, no cache,
no terminal output (``-vv`` tracebacks included), in one process and under xdist."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_agentopt.cli.main import main as agentopt
from pytest_agentopt.configs.redaction import fingerprint

CONTROL_KEY = "sk-proj-control0123456789abcdef"
TEST_KEY = "sk-proj-test0123456789abcdefgh"
BEARER = "Bearer tok-0123456789-abcdef"
PASSWORD = "hunter2-correct-horse"
OVERRIDE_TOKEN = "ovr-token-9876543210"
SECRETS = (CONTROL_KEY, TEST_KEY, BEARER.split()[1], PASSWORD, OVERRIDE_TOKEN)

SUITE = f"""
import pytest

REAL_KEYS = {{"control": {CONTROL_KEY!r}, "test": {TEST_KEY!r}}}


def config_is_ready(config):
    return False


@pytest.mark.parametrize("task", ["a", "b"])
def test_agent_gets_the_real_values(task, agent_config, agent_trial):
    agent_trial.record_usage(input_tokens=100, output_tokens=10)
    assert agent_config.params["api_key"] == REAL_KEYS[agent_trial.arm]
    assert agent_config.params["headers"]["Authorization"] == {BEARER!r}
    assert agent_config.params["db"]["password"] == {PASSWORD!r}
    assert agent_config.params["max_tokens"] == 512
    if agent_trial.arm == "test":
        assert agent_config.params["extra_token"] == {OVERRIDE_TOKEN!r}


def test_fails_showing_the_config(agent_config, agent_trial):
    assert config_is_ready(agent_config)
"""


def write_project(pytester: pytest.Pytester) -> None:
    configs = pytester.path / "configs"
    configs.mkdir()
    params = {"api_key": CONTROL_KEY, "headers": {"Authorization": BEARER}, "db": {"password": PASSWORD}}
    (configs / "base.json").write_text(
        json.dumps({"experiment_id": "base", "model_id": "gpt-4o-mini", "params": {**params, "max_tokens": 512}})
    )
    (configs / "next.json").write_text(
        json.dumps({"experiment_id": "next", "parent": "base", "params": {"api_key": TEST_KEY}})
    )
    pytester.makepyfile(test_suite=SUITE)


def files_holding_a_secret(root: Path) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if not path.is_file() or path.parts[len(root.parts)] == "configs" or path.name == "test_suite.py":
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        found += [f"{path.relative_to(root)}: {secret}" for secret in SECRETS if secret in text]
    return found


@pytest.mark.parametrize("workers", [None, "2"])
def test_no_secret_of_a_config_is_written_or_printed(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, workers: str | None
) -> None:
    write_project(pytester)
    step_summary = pytester.path / "out" / "step_summary.md"
    step_summary.parent.mkdir()
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    args = [
        "--agent-config=configs/next.json",
        f"--agent-set=params.extra_token={OVERRIDE_TOKEN}",
        "--agent-trials=2",
        "-vv",
        "-p",
        "no:randomly",
        "--agent-json=out/summary.json",
        "--agent-md=out/report.md",
        "--agent-html=out/report.html",
        "--agent-csv=out/trials.csv",
        "--junitxml=out/junit.xml",
        *(["-n", workers] if workers else []),
    ]
    result = pytester.runpytest(*args)
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == 0, output

    summary = json.loads((pytester.path / "out" / "summary.json").read_text())
    assert summary["arms"]["test"]["successes"] == 4  # the agent had every real value
    assert summary["arms"]["control"]["successes"] == 4
    assert "config_is_ready(AgentConfig(" in output  # the failing task's traceback shows the config...
    assert fingerprint(TEST_KEY) in output  # ...and the header shows the changed key, as a fingerprint
    assert any(change["key"] == "params.api_key" for change in summary["config_diff"])
    warnings = [note for note in summary["notes"] if "secret-looking values" in note]
    assert len(warnings) == 1
    assert "params.api_key, params.headers.Authorization, params.db.password" in warnings[0]
    assert "os.environ" in warnings[0]

    run_dir = next((pytester.path / ".agentopt" / "runs").iterdir())
    manifest = json.loads((run_dir / "manifest.json").read_text())
    assert manifest["arms"]["test"]["config"]["params"]["api_key"] == fingerprint(TEST_KEY)
    assert manifest["overrides"] == [f"params.extra_token={fingerprint(OVERRIDE_TOKEN)}"]

    # The commands that print configs and runs later.
    assert agentopt(["config", "show", "configs/next.json", "--set", f"params.extra_token={OVERRIDE_TOKEN}"]) == 0
    assert agentopt(["config", "diff", "configs/base.json", "configs/next.json", "--json"]) == 0
    assert agentopt(["report", run_dir.name, "--agent-dir", ".agentopt", "--md", "out/later.md"]) == 0
    assert agentopt(["experiments", "--agent-dir", ".agentopt", "--json"]) == 0
    if workers is None:  # a second run of the same configs: the cache of validated configs must stay clean
        assert pytester.runpytest(*args).ret == 0

    leaks = [secret for secret in SECRETS if secret in output]
    assert not leaks, f"the terminal output shows {leaks}"
    assert not files_holding_a_secret(pytester.path)


def test_a_resumed_run_gives_the_agent_the_real_values_again(pytester: pytest.Pytester) -> None:
    write_project(pytester)
    args = ["--agent-config=configs/next.json", "--agent-trials=2", "-p", "no:randomly", "-k", "real_values"]
    assert pytester.runpytest(*args, f"--agent-set=params.extra_token={OVERRIDE_TOKEN}").ret == 0
    run_dir = next((pytester.path / ".agentopt" / "runs").iterdir())
    # The run was interrupted after half of its trials: keep the first half of the ledger.
    lines = (run_dir / "trials.jsonl").read_text().splitlines(keepends=True)
    (run_dir / "trials.jsonl").write_text("".join(lines[:4]))

    # The secret came from --agent-set, which the manifest keeps only as a fingerprint: resuming says so (exit 4).
    refused = pytester.runpytest("--agent-resume", run_dir.name, "-p", "no:randomly", "-k", "real_values")
    assert refused.ret == pytest.ExitCode.USAGE_ERROR
    assert "held secret values" in refused.stderr.str()

    manifest = json.loads((run_dir / "manifest.json").read_text())
    manifest["overrides"] = []  # as if the run had been started without the override
    manifest["arms"]["test"]["config_hash"] = _hash_of(pytester, "configs/next.json")
    (run_dir / "manifest.json").write_text(json.dumps(manifest))
    (pytester.path / "test_suite.py").write_text(SUITE.replace("if agent_trial.arm", "if False and agent_trial.arm"))
    resumed = pytester.runpytest(
        "--agent-resume", run_dir.name, "-p", "no:randomly", "-k", "real_values", "--agent-json=summary.json"
    )
    assert resumed.ret == 0, resumed.stdout.str()
    summary = json.loads((pytester.path / "summary.json").read_text())
    assert summary["arms"]["control"]["successes"] + summary["arms"]["test"]["successes"] == 8


def _hash_of(pytester: pytest.Pytester, path: str) -> str:
    from pytest_agentopt.configs.model import load_config

    return load_config(pytester.path / path).hash
