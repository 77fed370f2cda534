"""Start-up: configs validated by an earlier run come from pytest's cache, without importing pydantic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.plugin.helpers import write_configs

ARGS = ["--agent-config=configs/improved.json", "--agent-trials=2", "--agent-seed=3", "-p", "no:randomly"]
# A suite that never asks for agent_config: nothing but start-up could import pydantic.
SUITE = """
import pytest

@pytest.mark.agent_task
@pytest.mark.parametrize("task", ["a", "b"])
def test_task(task):
    pass
"""
CONFTEST = """
import sys

def pytest_unconfigure(config):
    with open("imported.txt", "a") as handle:
        handle.write(str("pydantic" in sys.modules) + "\\n")
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    write_configs(pytester)
    pytester.makepyfile(test_suite=SUITE)
    pytester.makeconftest(CONFTEST)
    return pytester


def runs(pytester: pytest.Pytester) -> list[Path]:
    return sorted((pytester.path / ".agentopt" / "runs").iterdir())


def manifest_arms(run: Path) -> dict[str, Any]:
    arms: dict[str, Any] = json.loads((run / "manifest.json").read_text())["arms"]
    return arms


def test_a_second_run_of_the_same_configs_does_not_import_pydantic(suite: pytest.Pytester) -> None:
    first = suite.runpytest_subprocess(*ARGS)
    second = suite.runpytest_subprocess(*ARGS)
    assert first.ret == second.ret == pytest.ExitCode.OK
    assert (suite.path / "imported.txt").read_text().split() == ["True", "False"]
    one, two = runs(suite)
    assert manifest_arms(one) == manifest_arms(two)
    summaries = [json.loads((run / "summary.json").read_text()) for run in (one, two)]
    assert summaries[0]["config_diff"] == summaries[1]["config_diff"] != []
    assert summaries[0]["arms"]["test"]["config_hash"] == summaries[1]["arms"]["test"]["config_hash"]


def test_an_edited_config_is_validated_again(suite: pytest.Pytester) -> None:
    assert suite.runpytest_subprocess(*ARGS).ret == pytest.ExitCode.OK
    (suite.path / "configs" / "base.json").write_text(json.dumps({"experiment_id": "base", "model_id": ""}))
    result = suite.runpytest_subprocess(*ARGS)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*base.json: field 'model_id'*"])
    assert "Traceback" not in result.stderr.str()


def test_without_the_cacheprovider_every_run_validates(suite: pytest.Pytester) -> None:
    for _ in range(2):
        assert suite.runpytest_subprocess(*ARGS, "-p", "no:cacheprovider").ret == pytest.ExitCode.OK
    assert (suite.path / "imported.txt").read_text().split() == ["True", "True"]
